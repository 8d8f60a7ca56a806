"""A local dry run of kube-scheduler's structured DRA allocator.

The search is upstream's (``structured/internal/*/allocator_*.go``), step by step:

1. Gather the pools the node can use (see :mod:`kubectl_dra.allocator.pools`
   for relevance, generations, incomplete / invalid pools and the order of
   pools, slices and devices).
2. Validate every claim in order, every request in order (every subrequest of
   a ``firstAvailable`` list): feature gates (subrequests need
   DRAPrioritizedList, capacity requests DRAConsumableCapacity, adminAccess
   DRAAdminAccess), selectors must be CEL, the DeviceClass must exist, the
   allocation mode must be known.  ``All`` collects every selectable device
   of every pool now and fails with an error if a pool is incomplete or
   invalid.  The minimum number of devices of a claim must not exceed 32.
   Constraints are built (``distinctAttribute`` only in the experimental
   implementation; the stable one rejects it as an unknown constraint).
3. Depth-first search, first solution wins: for claim after claim, request
   after request (for a request with subrequests: subrequest after subrequest,
   the first one that leads to a full solution is kept), device slot after
   device slot, it walks pools -> slices -> devices and takes the first device
   that is not in use (admin access: not already taken by the same claim),
   matches the class selectors then the request selectors (and the node, for
   per-device node selection), has room for the requested capacity, has
   enough shared counters left, has no untolerated NoSchedule/NoExecute
   taint and keeps every claim constraint satisfied; then it recurses to the
   next slot and backtracks to the next candidate when that fails.  ``All``
   takes its precomputed devices in order and fails (no backtracking into
   other devices) if one of them cannot be taken; a constraint violated by
   an ``All`` device is an error.  More than 32 results for one claim make
   the current branch fail (subrequests needing fewer devices are still tried).
4. Build results: device results in allocation order, class configs (once per
   class, listing the requests using it) then claim configs, and the node
   selector (pinned to the node if any device is node-local or binds to the
   node, else the union of the slices' single-term node selectors, else none).

Devices already allocated by claims in the snapshot are in use, except
results with ``adminAccess`` (never in use) and results with a ``shareID``
(consumable capacity: their consumed capacity counts instead).  Counters
consumed by in-use devices are subtracted from their pool's counter sets.

Differences from upstream, on purpose: shareIDs are deterministic UUIDs
(upstream uses random ones); DeviceTaintRules are not read (only taints in
the slices count).
"""

from __future__ import annotations

import gc
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Callable, Mapping

from kubectl_dra.allocator.capacity import CapacityError, amount_str, fits as capacity_fits
from kubectl_dra.allocator.pools import PoolIndex, PoolView, SliceInfo, _q, node_matches
from kubectl_dra.allocator.trace import AllocationTrace, RequestTrace
from kubectl_dra.features import FeatureGates, defaults_for_version
from kubectl_dra.nodeselector import node_matches_selector
from kubectl_dra.selection import MATCH, NO_MATCH, Kind, SelectorEvaluator, attribute_key, for_snapshot, lookup_attribute

ALLOCATION_RESULTS_MAX_SIZE = 32
_SHARE_NS = uuid.UUID("6f1f6a52-6b7e-4d1e-9a3c-2f0d5e6b7a10")

DeviceId = tuple  # (driver, pool, device)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector around allocation-heavy work.

    The search allocates many small, acyclic objects (freed by reference counting); with a big
    snapshot in memory every young-generation collection that promotes them also walks towards
    full collections over the snapshot's millions of dicts, which cost more than the search itself.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_gc_paused = gc_paused
_UNCHECKED = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Fatal(Exception):
    """Upstream returns an error: allocation aborts."""


class _MaxSize(Exception):
    """errAllocationResultMaxSizeExceeded."""


def _kobj(claim: Mapping[str, Any]) -> str:
    meta = claim.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else meta.get("name", "")


def _dev_str(key: DeviceId) -> str:
    return f"{key[0]}/{key[1]}/{key[2]}"


# --------------------------------------------------------------------------
# results


@dataclass
class DeviceResult:
    request: str
    driver: str
    pool: str
    device: str
    admin_access: bool | None = None
    tolerations: list | None = None
    share_id: str | None = None
    consumed_capacity: dict | None = None          # name -> quantity string
    binding_conditions: list | None = None
    binding_failure_conditions: list | None = None

    def to_v1(self) -> dict:
        out: dict[str, Any] = {"request": self.request, "driver": self.driver, "pool": self.pool, "device": self.device}
        if self.admin_access is not None:
            out["adminAccess"] = self.admin_access
        if self.tolerations:
            out["tolerations"] = self.tolerations
        if self.share_id is not None:
            out["shareID"] = self.share_id
        if self.consumed_capacity:
            out["consumedCapacity"] = dict(self.consumed_capacity)
        if self.binding_conditions:
            out["bindingConditions"] = list(self.binding_conditions)
        if self.binding_failure_conditions:
            out["bindingFailureConditions"] = list(self.binding_failure_conditions)
        return out

    @property
    def key(self) -> DeviceId:
        return (self.driver, self.pool, self.device)


@dataclass
class Outcome:
    fits: bool
    results: dict = field(default_factory=dict)        # (ns, name) -> [DeviceResult]
    allocations: dict = field(default_factory=dict)    # (ns, name) -> v1 AllocationResult dict
    error: str | None = None                           # fatal: upstream aborts scheduling
    unschedulable_reason: str | None = None            # node-local failure text (e.g. invalid pools)
    trace: AllocationTrace | None = None


# --------------------------------------------------------------------------
# requests


class _ReqInfo:
    """Node-independent facts about one request / subrequest of one claim (validated once)."""

    __slots__ = ("ri", "si", "name", "parent", "spec", "class_obj", "class_name", "mode", "count", "full_name",
                 "admin_access", "has_admin_access", "selectors", "tolerations", "capacity_requests", "claim_label",
                 "class_exprs", "request_exprs")

    def __init__(self, ri: int, si: int, name: str, parent: str | None, spec: Mapping[str, Any], claim_label: str):
        self.ri, self.si, self.name, self.parent, self.spec = ri, si, name, parent, spec
        self.claim_label = claim_label
        self.full_name = f"{parent}/{name}" if parent else name
        self.class_name = spec.get("deviceClassName", "") or ""
        self.mode = spec.get("allocationMode") or "ExactCount"
        self.admin_access = bool(parent is None and spec.get("adminAccess"))
        self.has_admin_access = parent is None and spec.get("adminAccess") is not None
        self.selectors = list(spec.get("selectors") or [])
        self.tolerations = list(spec.get("tolerations") or [])
        cap = spec.get("capacity")
        self.capacity_requests = (cap or {}).get("requests") if cap is not None else None
        self.class_obj: Mapping[str, Any] | None = None
        self.count = 0
        # [(selector index, expression text, "class X" / "claim ns/name")] per source, set by the plan
        self.class_exprs: list = []
        self.request_exprs: list = []


class _Req:
    """One request / subrequest in one run (per node): the shared facts plus search state."""

    __slots__ = ("info", "ci", "ri", "si", "name", "parent", "spec", "class_obj", "class_name", "mode", "full_name",
                 "admin_access", "selectors", "tolerations", "capacity_requests",
                 "num_devices", "all_devices", "trace", "rejections")

    def __init__(self, ci: int, info: _ReqInfo):
        self.info = info
        self.ci, self.ri, self.si, self.name, self.parent, self.spec = ci, info.ri, info.si, info.name, info.parent, info.spec
        self.class_obj, self.class_name, self.mode, self.full_name = info.class_obj, info.class_name, info.mode, info.full_name
        self.admin_access, self.selectors, self.tolerations = info.admin_access, info.selectors, info.tolerations
        self.capacity_requests = info.capacity_requests
        self.num_devices = info.count
        self.all_devices: list | None = None
        self.trace = RequestTrace(claim=info.claim_label, request=info.full_name, device_class=info.class_name,
                                  mode=info.mode, count=info.count)
        self.rejections: dict = {}


class _Constraint:
    def __init__(self, index: int, requests: list, attribute: str, kind: str):
        self.index = index
        self.request_names = set(requests or [])
        self.attribute = attribute
        self.kind = kind
        self.value = None
        self.count = 0
        self.values: dict = {}

    def applies(self, base: str, sub: str | None) -> bool:
        if not self.request_names:
            return True
        if sub is None:
            return base in self.request_names
        return base in self.request_names or f"{base}/{sub}" in self.request_names

    def add(self, base: str, sub: str | None, device: Mapping[str, Any], key: DeviceId):
        """None when added, else a description of the violation."""
        if not self.applies(base, sub):
            return None
        attr = lookup_attribute(device, key[0], self.attribute)
        if attr is None:
            return {"value": None, "seen": self._seen(), "why": "attribute not set"}
        typed = attribute_key(attr)
        if self.kind == "matchAttribute":
            if self.count == 0:
                self.value, self.count = typed, 1
                return None
            if typed is None or typed != self.value:
                return {"value": _show(typed), "seen": self._seen(), "why": "values differ"}
            self.count += 1
            return None
        # distinctAttribute
        for other in self.values.values():
            if typed == other:
                return {"value": _show(typed), "seen": self._seen(), "why": "value already used"}
        self.values[key] = typed
        return None

    def remove(self, base: str, sub: str | None, device: Mapping[str, Any], key: DeviceId) -> None:
        if not self.applies(base, sub):
            return
        if self.kind == "matchAttribute":
            self.count -= 1
        else:
            self.values.pop(key, None)

    def _seen(self):
        if self.kind == "matchAttribute":
            return [_show(self.value)] if self.count else []
        return [_show(v) for v in self.values.values()]


def _show(typed) -> Any:
    return None if typed is None else typed[1]


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """resourceclaim.ToleratesTaint."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def allocation_allows_node(claim: Mapping[str, Any], node: Mapping[str, Any] | None) -> bool:
    """Whether an already-allocated claim can be used on ``node`` (its allocation's nodeSelector)."""
    alloc = (claim.get("status") or {}).get("allocation")
    if not alloc:
        return True
    selector = alloc.get("nodeSelector")
    if selector is None:
        return True
    return node is not None and node_matches_selector(node, selector)


# --------------------------------------------------------------------------


class Allocator:
    """Precomputes per snapshot; :meth:`allocate` runs upstream's search for one node."""

    def __init__(self, snapshot, gates: FeatureGates | None = None, *, cel_compile: Callable | None = None):
        self.snapshot = snapshot
        self.gates = gates or defaults_for_version(None)
        self.implementation = self.gates.implementation
        self._index: PoolIndex | None = None
        # Selector verdicts, shared with every allocator of the snapshot (a test's cel_compile: its own).
        if cel_compile is None:
            self.selection = for_snapshot(snapshot, strict_inputs=True)
        else:
            self.selection = SelectorEvaluator(cel_compile, strict_inputs=True)
        with gc_paused():
            self._init_allocated(snapshot)
        self._available_counters: dict = {}
        self._whole_cap: dict = {}      # id(device) -> whole capacity, or None when policies apply
        self._select_cache: dict = {}   # (_ReqInfo, id(device)) -> True | "class" | "selector" | error
        self._plan_cache: tuple | None = None
        if sys.getrecursionlimit() < 10000:
            sys.setrecursionlimit(10000)

    def _init_allocated(self, snapshot) -> None:
        # Devices in use, capacity consumed by shared allocations, and (for the trace) which claims
        # hold each device: one pass over the allocated claims, without building Snapshot.holders.
        self.in_use: set = set()
        self.shared_capacity: dict = {}
        self._holder_names: dict = {}
        for claim in snapshot.allocated_claims:
            results = (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
            if not results:
                continue
            meta = claim.get("metadata") or {}
            label = f"{meta.get('namespace') or 'default'}/{meta.get('name', '')}"
            for r in results:
                key = (r.get("driver", ""), r.get("pool", ""), r.get("device", ""))
                if r.get("adminAccess"):
                    continue
                self._holder_names.setdefault(key, []).append(label)
                if r.get("shareID") is not None:
                    used = self.shared_capacity.setdefault(key, {})
                    for name, q in (r.get("consumedCapacity") or {}).items():
                        used[name] = used.get(name, 0) + _q(q)
                    continue
                self.in_use.add(key)

    @property
    def index(self) -> PoolIndex:
        """Slices indexed by node (built on first use)."""
        if self._index is None:
            with gc_paused():
                self._index = PoolIndex(self.snapshot.resource_slices)
        return self._index

    @property
    def holders(self):
        """Snapshot.holders (built on first use; the search itself does not need it)."""
        return self.snapshot.holders

    def holder_names(self, key: DeviceId) -> list:
        """"ns/name" of the allocated claims (not admin access) holding a device, in snapshot order."""
        return list(self._holder_names.get(key, ()))

    def _trace_holders(self, key: DeviceId) -> list:
        if key in self.in_use:
            return list(self._holder_names.get(key, ()))
        return []  # taken by another claim of this pod during the run

    # -- node-independent validation of the claims, cached for the last claim list ---------
    def _plan(self, claims: list) -> list:
        """Per claim: (groups, constraints).  A group is (has subrequests, items) where an item is
        a validated :class:`_ReqInfo` or the text of the error upstream would return at that point
        (so errors keep upstream's order against the node-dependent checks of ``All`` requests).
        ``constraints`` is a list of _Constraint arguments, or an error text."""
        hit = self._plan_cache
        if hit is not None and len(hit[0]) == len(claims) and all(a is b for a, b in zip(hit[0], claims)):
            return hit[1]
        plan = [self._plan_claim(c) for c in claims]
        self._plan_cache = (tuple(claims), plan)
        return plan

    def _plan_claim(self, claim: Mapping[str, Any]):
        g = self.gates
        label = _kobj(claim)
        devices = (claim.get("spec") or {}).get("devices") or {}
        groups: list = []
        for ri, request in enumerate(devices.get("requests") or []):
            name = request.get("name", "")
            subs = request.get("firstAvailable") or []
            items: list = []
            groups.append((bool(subs), items))
            if subs and not g.prioritized_list:
                items.append(f"claim {label}, request {name}: has subrequests, but the DRAPrioritizedList feature is disabled")
                return groups, []
            if not g.consumable_capacity:
                if (request.get("exactly") or {}).get("capacity") is not None:
                    items.append(f"claim {label}, request {name}: has capacity requests, but the DRAConsumableCapacity feature is disabled")
                    return groups, []
                bad = next((sub for sub in subs if sub.get("capacity") is not None), None)
                if bad is not None:
                    items.append(f"claim {label}, subrequest {bad.get('name', '')}: has capacity requests, but the DRAConsumableCapacity feature is disabled")
                    return groups, []
            if subs:
                entries = [_ReqInfo(ri, si, sub.get("name", ""), name, sub, label) for si, sub in enumerate(subs)]
            else:
                entries = [_ReqInfo(ri, 0, name, None, request.get("exactly") or {}, label)]
            for info in entries:
                err = self._check_request(info)
                items.append(err if err is not None else info)
                if err is not None:
                    return groups, []
        constraints: list = []
        for i, c in enumerate(devices.get("constraints") or []):
            if c.get("matchAttribute"):
                constraints.append((i, c.get("requests"), c["matchAttribute"], "matchAttribute"))
            elif c.get("distinctAttribute") and self.implementation != "stable":
                constraints.append((i, c.get("requests"), c["distinctAttribute"], "distinctAttribute"))
            else:
                return groups, f"claim {label}, constraint #{i}: empty constraint (unsupported constraint type?)"
        return groups, constraints

    def _check_request(self, info: _ReqInfo) -> str | None:
        label = info.claim_label
        for i, sel in enumerate(info.selectors):
            if not (sel or {}).get("cel"):
                return f"claim {label}, request {info.name}, selector #{i}: CEL expression empty (unsupported selector type?)"
        if not self.gates.admin_access and info.has_admin_access:
            return f"claim {label}, request {info.name}: admin access is requested, but the feature is disabled"
        if not info.class_name:
            return f"claim {label}, request {info.name}: missing device class name (unsupported request type?)"
        cls = self.snapshot.device_classes.get(info.class_name)
        if cls is None:
            return (f"claim {label}, request {info.name}: could not retrieve device class {info.class_name}: "
                    f"deviceclass.resource.k8s.io \"{info.class_name}\" not found")
        info.class_obj = cls
        where = f"class {(cls.get('metadata') or {}).get('name', '')}"
        info.class_exprs = [(i, ((sel or {}).get("cel") or {}).get("expression", ""), where)
                            for i, sel in enumerate(((cls.get("spec") or {}).get("selectors") or []))]
        where = f"claim {label}"
        info.request_exprs = [(i, ((sel or {}).get("cel") or {}).get("expression", ""), where)
                              for i, sel in enumerate(info.selectors)]
        if info.mode == "ExactCount":
            count = info.spec.get("count")
            info.count = int(1 if count is None else count)
        elif info.mode != "All":
            return f"claim {label}, request {info.name}: unsupported count mode {info.mode}"
        return None

    def _whole_capacity(self, device: Mapping[str, Any]) -> dict | None:
        """{capacity: value} of a device without requestPolicies or negative values (else None); cached."""
        hit = self._whole_cap.get(id(device), _UNCHECKED)
        if hit is _UNCHECKED:
            hit = {}
            for name, cap in (device.get("capacity") or {}).items():
                if (cap or {}).get("requestPolicy"):
                    hit = None
                    break
                value = _q((cap or {}).get("value", "0"))
                if value < 0:
                    hit = None
                    break
                hit[name] = value
            self._whole_cap[id(device)] = hit
        return hit

    # -- selectors, for why-pending's funnel (verdicts shared with the search) ---------------
    def selectors_pass(self, expressions, driver: str, device: Mapping[str, Any]) -> bool:
        """Whether every selector matches a device of the snapshot (stops at the first that does
        not); raises the first compile or runtime error met."""
        verdict = self.selection.evaluate_all(expressions, driver, device)
        if verdict is MATCH:
            return True
        if verdict is NO_MATCH:
            return False
        raise verdict.error

    def selector_flags(self, class_expressions, request_expressions, entries) -> list[int] | None:
        """:meth:`kubectl_dra.selection.SelectorEvaluator.selector_flags` with the search's verdicts."""
        return self.selection.selector_flags(class_expressions, request_expressions, entries)

    # -- counters available per pool (cached for the snapshot) --------------
    def available_counters(self, pool: PoolView) -> dict:
        hit = self._available_counters.get(pool.key)
        if hit is not None:
            return hit
        avail = {cs: dict(cnt) for cs, cnt in pool.counter_sets.items()}
        for s in list(pool.slices) + list(pool.other_slices):
            for d in s.devices:
                key = (s.driver, s.pool, d.get("name", ""))
                if key not in self.in_use:
                    continue
                for cc in d.get("consumesCounters") or []:
                    cset = avail.get(cc.get("counterSet", ""))
                    if cset is None:
                        continue
                    for cname, c in (cc.get("counters") or {}).items():
                        if cname in cset:
                            cset[cname] -= _q(c)
        self._available_counters[pool.key] = avail
        return avail

    def node_object(self, node_name: str | None) -> dict | None:
        if node_name is None:
            return None
        node = self.snapshot.nodes.get(node_name)
        if node is None:
            node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name}}
        return node

    def gather_pools(self, node_name: str | None) -> list[PoolView]:
        return self.index.gather(self.node_object(node_name), node_name,
                                 partitionable=self.gates.partitionable_devices,
                                 binding_last=self.implementation != "stable")

    def allocate(self, node_name: str | None, claims: list[Mapping[str, Any]]) -> Outcome:
        with gc_paused():
            run = _Run(self, node_name, list(claims))
            return run.execute()


class _Run:
    def __init__(self, alloc: Allocator, node_name: str | None, claims: list):
        self.a = alloc
        self.g = alloc.gates
        self.node_name = node_name
        self.node = alloc.node_object(node_name)
        self.claims = claims
        self.reqs: dict[tuple, _Req] = {}
        self.constraints: list[list[_Constraint]] = []
        self.results: list[list[dict]] = [[] for _ in claims]
        self.allocating: dict = {}            # key -> set(claim index)
        self.allocating_capacity: dict = {}   # key -> {name: Fraction}
        self.consumed_counters: dict = {}     # pool key -> {set: {counter: Fraction}}
        self.selected_sub: dict = {}
        self.trace = AllocationTrace(node=node_name, implementation=alloc.implementation)
        self.pools: list[PoolView] = []

    # -- driver --------------------------------------------------------------
    def execute(self) -> Outcome:
        try:
            self.pools = self.a.gather_pools(self.node_name)
            self.trace.pools = [p.trace_entry() for p in self.pools]
            self._validate()
            done = self._allocate_one(0, 0, 0, 0, False)
        except _Fatal as e:
            self.trace.error = str(e)
            self._finish_trace(False)
            return Outcome(fits=False, error=str(e), trace=self.trace)
        except _MaxSize:  # pragma: no cover - handled inside the search
            done = False
        if not done:
            self._finish_trace(False)
            reason = None
            if any(p.invalid for p in self.pools):
                reason = "invalid resource pools were encountered"
            return Outcome(fits=False, unschedulable_reason=reason, trace=self.trace)
        self._finish_trace(True)
        try:
            return self._build()
        except _Fatal as e:
            self.trace.error = str(e)
            return Outcome(fits=False, error=str(e), trace=self.trace)

    def _finish_trace(self, success: bool) -> None:
        pools = [p for p in self.pools if not (p.incomplete or p.invalid)]
        entries = pools[0].entries() if len(pools) == 1 else [e for p in pools for e in p.entries()]
        chosen_by_req: dict = {}
        if success:
            for devs in self.results:
                for r in devs:
                    chosen_by_req.setdefault(id(r["rd"]), []).append(_dev_str(r["key"]))
        holders = self.a._trace_holders
        requests = self.trace.requests
        for rd in self.reqs.values():
            t = rd.trace
            if t is None:
                continue
            t.reachable_entries = entries
            t.reachable = None  # formatted from reachable_entries on first access
            if rd.rejections:
                t.defer(rd.rejections, holders)
            if success:
                t.chosen = chosen_by_req.get(id(rd), [])
                t.failed = t.tried and not t.chosen and rd.num_devices > 0
            else:
                t.failed = t.tried
            requests.append(t)

    # -- validation ------------------------------------------------------------
    def _validate(self) -> None:
        for ci, (groups, constraints) in enumerate(self.a._plan(self.claims)):
            min_devices = 0
            for subs, items in groups:
                least = None
                for info in items:
                    if type(info) is str:
                        raise _Fatal(info)
                    rd = _Req(ci, info)
                    if info.mode == "All":
                        self._collect_all(rd)
                    self.reqs[(ci, info.ri, info.si)] = rd
                    least = rd.num_devices if least is None else min(least, rd.num_devices)
                min_devices += least or 0
            if min_devices > ALLOCATION_RESULTS_MAX_SIZE:
                raise _Fatal(f"claim {_kobj(self.claims[ci])}: number of requested devices {min_devices} exceeds the claim limit of {ALLOCATION_RESULTS_MAX_SIZE}")
            if type(constraints) is str:
                raise _Fatal(constraints)
            self.constraints.append([_Constraint(*c) for c in constraints])

    def _collect_all(self, rd: _Req) -> None:
        """allocationMode All: every selectable device of every pool on this node, now."""
        rd.all_devices = []
        label = rd.info.claim_label
        for pool in self.pools:
            if pool.incomplete:
                raise _Fatal(f"claim {label}, request {rd.name}: asks for all devices, but resource pool {pool.id} is currently being updated")
            if pool.invalid:
                raise _Fatal(f"claim {label}, request {rd.name}: asks for all devices, but resource pool {pool.id} is currently invalid")
            for key, d, s in pool.entries():
                if not self._selectable(rd, key, d, s):
                    continue
                if self.g.consumable_capacity and not self._capacity_ok(rd, key, d):
                    continue
                rd.all_devices.append((key, d, s, pool))
        rd.num_devices = len(rd.all_devices)
        rd.trace.count = rd.num_devices

    # -- checks ------------------------------------------------------------------
    def _reject(self, rd: _Req, key: DeviceId, kind: str, info: dict | None = None) -> None:
        if key not in rd.rejections:
            rd.rejections[key] = (kind, info or {})

    def _selectable(self, rd: _Req, key: DeviceId, device: Mapping[str, Any], s: SliceInfo) -> bool:
        if not self.g.device_binding and device.get("bindingConditions"):
            self._reject(rd, key, "binding")
            return False
        # Class and request selectors do not depend on the node: cached for the snapshot.
        ck = (rd.info, id(device))
        hit = self.a._select_cache.get(ck)
        if hit is None:
            hit = self._select_uncached(rd, key, device, ck)
        if hit is True:
            if s.per_device_on and not node_matches(self.node, device.get("nodeName"), bool(device.get("allNodes")),
                                                    device.get("nodeSelector")):
                self._reject(rd, key, "node")
                return False
            return True
        if type(hit) is tuple:  # a CEL error met before for this request and device
            rd.trace.cel_errors.append(dict(hit[0]))
            raise _Fatal(hit[1])
        if key not in rd.rejections:
            rd.rejections[key] = (hit, {})
        return False

    def _select_uncached(self, rd: _Req, key: DeviceId, device: Mapping[str, Any], ck: tuple):
        info = rd.info
        try:
            if not self._selectors_match(rd, key, device, info.class_exprs):
                hit = "class"
            elif not self._selectors_match(rd, key, device, info.request_exprs):
                hit = "selector"
            else:
                hit = True
        except _Fatal as e:
            self.a._select_cache[ck] = (rd.trace.cel_errors[-1], str(e))
            raise
        self.a._select_cache[ck] = hit
        return hit

    def _selectors_match(self, rd: _Req, key: DeviceId, device: Mapping[str, Any], exprs: list) -> bool:
        evaluate = self.a.selection.evaluate
        for i, expr_text, where in exprs:
            verdict = evaluate(expr_text, key[0], device)
            if verdict is MATCH:
                continue
            if verdict is NO_MATCH:
                return False
            rd.trace.cel_errors.append({"expression": expr_text, "device": _dev_str(key), "message": verdict.message,
                                        "source": where})
            what = "compile" if verdict.kind is Kind.COMPILE_ERROR else "runtime"
            raise _Fatal(f"{where}: selector #{i}: CEL {what} error: {verdict.message}")
        return True

    def a_eval(self, expr, key: DeviceId, device: Mapping[str, Any]) -> bool:
        return self.a._evaluate(expr, key[0], device)

    def _capacity_ok(self, rd: _Req, key: DeviceId, device: Mapping[str, Any]):
        if not rd.capacity_requests and key not in self.a.shared_capacity and key not in self.allocating_capacity:
            # Nothing requested, nothing consumed yet: the device's whole capacity is consumed and fits
            # unless a requestPolicy or a negative value needs the full check.
            whole = self.a._whole_capacity(device)
            if whole is not None:
                return dict(whole)
        try:
            ok, why, consumed = capacity_fits(rd.capacity_requests, key[0], device.get("capacity") or {},
                                              self.a.shared_capacity.get(key), self.allocating_capacity.get(key))
        except CapacityError as e:
            self._reject(rd, key, "capacity", {"reason": str(e)})
            return None
        if not ok:
            self._reject(rd, key, "capacity", {"reason": why})
            return None
        return consumed

    def _in_use(self, key: DeviceId) -> bool:
        return key in self.a.in_use or bool(self.allocating.get(key))

    def _reject_in_use(self, rd: _Req, key: DeviceId) -> None:
        if key not in rd.rejections:
            # taken earlier in this very search by the same claim: not a competing holder
            mine = key not in self.a.in_use and rd.ci in self.allocating.get(key, ())
            rd.rejections[key] = ("allocated", {"self": True} if mine else None)

    def _holders(self, key: DeviceId) -> list:
        if key in self.a.in_use:
            return self.a.holder_names(key)
        return []  # taken by another claim of this pod during this run

    # -- search ------------------------------------------------------------------
    def _allocate_one(self, ci: int, ri: int, si: int, di: int, in_sub: bool) -> bool:
        if ci >= len(self.claims):
            return True
        claim = self.claims[ci]
        requests = ((claim.get("spec") or {}).get("devices") or {}).get("requests") or []
        if ri >= len(requests):
            try:
                return self._allocate_one(ci + 1, 0, 0, 0, False)
            except _MaxSize:
                return False
        rd = self.reqs[(ci, ri, si)]
        if not in_sub and rd.parent is not None:
            all_exceeded = True
            sub = 0
            while (ci, ri, sub) in self.reqs:
                try:
                    ok = self._allocate_one(ci, ri, sub, di, True)
                except _MaxSize:
                    sub += 1
                    continue
                all_exceeded = False
                if ok:
                    self.selected_sub[(ci, ri)] = sub
                    return True
                sub += 1
            if all_exceeded:
                raise _MaxSize()
            return False

        rd.trace.tried = True
        do_all = rd.mode == "All"
        if do_all and not rd.all_devices:
            return False
        if di >= rd.num_devices:
            return self._allocate_one(ci, ri + 1, 0, 0, False)
        if len(self.results[ci]) + rd.num_devices - di > ALLOCATION_RESULTS_MAX_SIZE:
            raise _MaxSize()

        if do_all:
            key, device, s, pool = rd.all_devices[di]
            undo = self._allocate_device(rd, key, device, s, pool, must=True)
            if undo is None:
                return False
            try:
                done = self._allocate_one(ci, ri, si, di + 1, in_sub)
            except BaseException:
                undo()
                raise
            if not done:
                undo()
            return done

        admin = rd.admin_access
        in_use = self.a.in_use
        allocating = self.allocating
        rejections = rd.rejections
        capacity_on = self.g.consumable_capacity
        for pool in self.pools:
            if pool.incomplete or pool.invalid:
                continue
            for key, device, s in pool.entries():
                if admin:
                    if ci in allocating.get(key, ()):
                        self._reject_in_use(rd, key)
                        continue
                elif key in in_use or allocating.get(key):
                    if key not in rejections:
                        self._reject_in_use(rd, key)
                    continue
                if not self._selectable(rd, key, device, s):
                    continue
                if capacity_on and self._capacity_ok(rd, key, device) is None:
                    continue
                undo = self._allocate_device(rd, key, device, s, pool, must=False)
                if undo is None:
                    continue
                try:
                    done = self._allocate_one(ci, ri, si, di + 1, in_sub)
                except BaseException:
                    undo()
                    raise
                if done:
                    return True
                undo()
        return False

    def _allocate_device(self, rd: _Req, key: DeviceId, device: Mapping[str, Any], s: SliceInfo,
                         pool: PoolView, must: bool):
        """Returns an undo callable when the device was taken, else None."""
        ci = rd.ci
        multi = bool(self.g.consumable_capacity and device.get("allowMultipleAllocations"))
        if not multi and rd.admin_access and ci in self.allocating.get(key, ()):
            self._reject_in_use(rd, key)
            return None
        if not rd.admin_access and self._in_use(key):
            self._reject_in_use(rd, key)
            return None
        consumes = device.get("consumesCounters") or []
        if not self.g.partitionable_devices and consumes:
            self._reject(rd, key, "counters", {"counter_set": None, "counter": None, "needed": None, "left": None,
                                               "reason": "device consumes counters, DRAPartitionableDevices is disabled"})
            return None
        skip_counters = multi and (key in self.a.shared_capacity or key in self.allocating_capacity)
        counters_taken = False
        if not skip_counters and consumes:
            if not self._take_counters(rd, key, consumes, pool):
                return None
            counters_taken = True
        base, sub = (rd.parent, rd.name) if rd.parent else (rd.name, None)
        if self.g.device_taints:
            for taint in device.get("taints") or []:
                if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                    continue
                if not any(tolerates(t, taint) for t in rd.tolerations):
                    self._reject(rd, key, "taint", {"key": taint.get("key"), "value": taint.get("value"),
                                                    "effect": taint.get("effect")})
                    if counters_taken:
                        self._release_counters(consumes, pool)
                    return None
        added = []
        for c in self.constraints[ci]:
            bad = c.add(base, sub, device, key)
            if bad is not None:
                for prev in added:
                    prev.remove(base, sub, device, key)
                if counters_taken:
                    self._release_counters(consumes, pool)
                if must:
                    raise _Fatal(f"claim {_kobj(self.claims[ci])}, request {rd.name}: cannot add device {_dev_str(key)} because a claim constraint would not be satisfied")
                self._reject(rd, key, "constraint", {"constraint": c.index, "kind": c.kind, "attribute": c.attribute,
                                                     "value": bad["value"], "seen": bad["seen"]})
                return None
            added.append(c)
        consumed = None
        share_id = None
        if self.g.consumable_capacity:
            consumed = self._capacity_ok(rd, key, device)
            if consumed is None:
                for c in added:
                    c.remove(base, sub, device, key)
                if counters_taken:
                    self._release_counters(consumes, pool)
                return None
        holders = self.allocating.setdefault(key, set())
        if not multi:
            holders.add(ci)
        if multi:
            n = len(self.results[ci])
            share_id = str(uuid.uuid5(_SHARE_NS, f"{_kobj(self.claims[ci])}/{rd.full_name}/{_dev_str(key)}/{n}"))
            acc = self.allocating_capacity.setdefault(key, {})
            for name, v in consumed.items():
                acc[name] = acc.get(name, 0) + v
        else:
            consumed = None
        result = {"rd": rd, "key": key, "device": device, "slice": s, "share_id": share_id,
                  "consumed": consumed if multi else None, "req_key": (rd.ri, rd.si)}
        self.results[ci].append(result)

        def undo() -> None:
            for c in self.constraints[ci]:
                c.remove(base, sub, device, key)
            self.allocating.get(key, set()).discard(ci)
            if multi:
                acc = self.allocating_capacity.get(key)
                if acc is not None and consumed:
                    for name, v in consumed.items():
                        if name in acc:
                            acc[name] -= v
                    if all(v == 0 for v in acc.values()):
                        del self.allocating_capacity[key]
            elif counters_taken:
                # upstream releases counters only for devices without multiple allocations
                self._release_counters(consumes, pool)
            self.results[ci].pop()
        return undo

    def _take_counters(self, rd: _Req, key: DeviceId, consumes: list, pool: PoolView) -> bool:
        avail = self.a.available_counters(pool)
        used = self.consumed_counters.setdefault(pool.key, {})
        for cc in consumes:
            cset = used.setdefault(cc.get("counterSet", ""), {})
            for cname, c in (cc.get("counters") or {}).items():
                cset[cname] = cset.get(cname, 0) + _q(c)
        for set_name, counters in avail.items():
            consumed = used.get(set_name, {})
            for cname, have in counters.items():
                if have < consumed.get(cname, 0):
                    needed = Fraction(0)
                    for cc in consumes:
                        if cc.get("counterSet") == set_name:
                            needed += _q((cc.get("counters") or {}).get(cname, 0))
                    left = have - consumed.get(cname, 0) + needed
                    self._release_counters(consumes, pool)
                    self._reject(rd, key, "counters", {"counter_set": set_name, "counter": cname,
                                                       "needed": amount_str(needed), "left": amount_str(left)})
                    return False
        return True

    def _release_counters(self, consumes: list, pool: PoolView) -> None:
        used = self.consumed_counters.get(pool.key, {})
        for cc in consumes:
            cset = used.get(cc.get("counterSet", ""), {})
            for cname, c in (cc.get("counters") or {}).items():
                cset[cname] = cset.get(cname, 0) - _q(c)

    # -- results -----------------------------------------------------------------
    def _build(self) -> Outcome:
        out = Outcome(fits=True, trace=self.trace)
        for ci, claim in enumerate(self.claims):
            meta = claim.get("metadata") or {}
            ck = (meta.get("namespace") or "default", meta.get("name", ""))
            dev_results = []
            for r in self.results[ci]:
                rd: _Req = r["rd"]
                d = r["device"]
                key = r["key"]
                res = DeviceResult(
                    request=rd.full_name, driver=key[0], pool=key[1], device=key[2],
                    admin_access=True if rd.admin_access else None,
                    tolerations=rd.tolerations or None,
                    share_id=r["share_id"],
                    consumed_capacity={n: amount_str(v) for n, v in r["consumed"].items()} if r["consumed"] else None,
                )
                if self.g.device_binding:
                    res.binding_conditions = list(d.get("bindingConditions") or []) or None
                    res.binding_failure_conditions = list(d.get("bindingFailureConditions") or []) or None
                dev_results.append(res)
            out.results[ck] = dev_results
            out.allocations[ck] = {
                "devices": {"results": [r.to_v1() for r in dev_results], **self._configs(ci, claim)},
            }
            ns = self._node_selector(self.results[ci])
            if ns is not None:
                out.allocations[ck]["nodeSelector"] = ns
        return out

    def _configs(self, ci: int, claim: Mapping[str, Any]) -> dict:
        devices = (claim.get("spec") or {}).get("devices") or {}
        requests = devices.get("requests") or []
        config: list = []
        class_ranges: dict = {}
        for ri, request in enumerate(requests):
            si = self.selected_sub.get((ci, ri), 0)
            rd = self.reqs.get((ci, ri, si))
            if rd is None or rd.class_obj is None:
                continue
            cname = rd.class_name
            if cname in class_ranges:
                start, end = class_ranges[cname]
                for i in range(start, end):
                    config[i]["requests"].append(rd.full_name)
                continue
            start = len(config)
            for c in ((rd.class_obj.get("spec") or {}).get("config") or []):
                entry = {"source": "FromClass", "requests": [rd.full_name]}
                entry.update({k: v for k, v in c.items() if k != "requests"})
                config.append(entry)
            class_ranges[cname] = (start, len(config))
        for c in devices.get("config") or []:
            names = c.get("requests") or []
            body = {k: v for k, v in c.items() if k != "requests"}
            if not names:
                config.append({"source": "FromClaim", **body})
                continue
            for ri, request in enumerate(requests):
                if request.get("name") in names:
                    config.append({"source": "FromClaim", "requests": list(names), **body})
                    continue
                if (ci, ri, 0) in self.reqs and self.reqs[(ci, ri, 0)].parent is not None:
                    si = self.selected_sub.get((ci, ri), 0)
                    if self.reqs[(ci, ri, si)].full_name in names:
                        config.append({"source": "FromClaim", "requests": list(names), **body})
        return {"config": config} if config else {}

    def _node_selector(self, results: list) -> dict | None:
        exprs: list = []
        fields_: list = []
        for r in results:
            s: SliceInfo = r["slice"]
            d = r["device"]
            src = d if s.per_device_enabled else (s.obj.get("spec") or {})
            if src.get("nodeName") or d.get("bindsToNode"):
                return {"nodeSelectorTerms": [{"matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": [self.node_name]}]}]}
            sel = src.get("nodeSelector")
            if sel is not None:
                terms = sel.get("nodeSelectorTerms") or []
                if len(terms) == 1:
                    for req in terms[0].get("matchFields") or []:
                        if not _contains_req(fields_, req):
                            fields_.append(req)
                    for req in terms[0].get("matchExpressions") or []:
                        if not _contains_req(exprs, req):
                            exprs.append(req)
                elif len(terms) > 1:
                    raise _Fatal(f"create NodeSelector for claim: unsupported ResourceSlice.NodeSelector with {len(terms)} terms")
        if not exprs and not fields_:
            return None
        term: dict = {}
        if exprs:
            term["matchExpressions"] = exprs
        if fields_:
            term["matchFields"] = fields_
        return {"nodeSelectorTerms": [term]}


def _contains_req(reqs: list, req: Mapping[str, Any]) -> bool:
    values = set(req.get("values") or [])
    return any(r.get("key") == req.get("key") and r.get("operator") == req.get("operator")
               and set(r.get("values") or []) == values for r in reqs)
