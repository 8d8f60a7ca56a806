"""A local dry run of kube-scheduler's structured DRA allocator: the search.

Mirrors upstream ``structured/internal/experimental/allocator_experimental.go`` (``Allocator``,
``Allocate``, and the per-call ``allocator`` with ``allocateOne`` / ``isSelectable`` /
``selectorsMatch`` / ``allocateDevice`` / ``checkAvailableCounters``), step by step:

1. Gather the pools the node can use (:mod:`kubectl_dra.allocator.pools`: relevance,
   generations, incomplete / invalid pools, and the order of pools, slices and devices).
2. Validate every claim (:mod:`kubectl_dra.allocator.requests`, made once for all nodes), then
   on the node: ``All`` collects every selectable device of every pool now and fails with an
   error if a pool is incomplete or invalid; the minimum number of devices of a claim must not
   exceed 32.
3. Depth-first search, first solution wins: for claim after claim, request after request (for a
   request with subrequests: subrequest after subrequest, the first one that leads to a full
   solution is kept), device slot after device slot, it walks pools -> slices -> devices (incubating
   and experimental: from just after the device the request's previous slot took, upstream
   ``allocateOne``'s ``startLocation``; stable: from the first device) and takes
   the first device that is not in use (admin access: not already taken by the same claim),
   matches the class selectors then the request selectors (:mod:`kubectl_dra.selection`; and the
   node, for per-device node selection), has room for the requested capacity
   (:mod:`kubectl_dra.allocator.capacity`), has enough shared counters left, has no untolerated
   NoSchedule/NoExecute taint (:mod:`kubectl_dra.allocator.tolerations`) and keeps every claim
   constraint satisfied (:mod:`kubectl_dra.allocator.constraints`); then it recurses to the next
   slot and backtracks to the next candidate when that fails.  ``All`` takes its precomputed
   devices in order and fails (no backtracking into other devices) if one of them cannot be
   taken; a constraint violated by an ``All`` device is an error.  More than 32 results for one
   claim make the current branch fail (subrequests needing fewer devices are still tried).
4. Build results (:mod:`kubectl_dra.allocator.results`).

Devices already allocated by claims in the snapshot are in use (:class:`AllocatedState`), except
results with ``adminAccess`` (never in use) and results with a ``shareID`` (consumable capacity:
their consumed capacity counts instead).  Counters consumed by in-use devices are subtracted from
their pool's counter sets.  Every run records its decisions in an
:class:`~kubectl_dra.allocator.trace.AllocationTrace` (for why-pending).

Differences from upstream, on purpose: shareIDs are deterministic UUIDs (upstream uses random
ones); DeviceTaintRules are not read (only taints in the slices count).
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Callable, Mapping

from kubectl_dra.allocator.capacity import CapacityError, amount_str, fits as capacity_fits, whole_capacity
from kubectl_dra.allocator.pools import PoolIndex, PoolView, SliceInfo, node_matches
from kubectl_dra.allocator.requests import ClaimPlanner, RequestData
from kubectl_dra.allocator.results import InternalDeviceResult, Outcome, build_outcome
from kubectl_dra.allocator.tolerations import untolerated_taint
from kubectl_dra.allocator.trace import AllocationTrace
from kubectl_dra.allocator.types import (
    ALLOCATION_RESULTS_MAX_SIZE, AllocatedState, AllocationError, DeviceId, ResultsMaxSizeExceeded, device_id_str,
    object_name, quantity_value, share_id,
)
from kubectl_dra.features import FeatureGates, defaults_for_version
from kubectl_dra.selection import MATCH, NO_MATCH, Kind, SelectorEvaluator, for_snapshot


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


_UNCHECKED = object()


class Allocator:
    """Precomputes per snapshot; :meth:`allocate` runs upstream's search for one node.

    One Allocator answers any number of nodes (why-pending asks every node with the same claims):
    the pools index, the claims' plan, selector verdicts, whole capacities and available counters
    are cached across nodes.
    """

    def __init__(self, snapshot, gates: FeatureGates | None = None, *, cel_compile: Callable | None = None):
        self.snapshot = snapshot
        self.gates = gates or defaults_for_version(None)
        self.implementation = self.gates.implementation
        self._index: PoolIndex | None = None
        # Selector verdicts, shared with everything that evaluates selectors on this snapshot (a
        # test's cel_compile: its own); the allocator asks with upstream's input conversion.
        lists = self.gates.list_type_attributes  # DRAListTypeAttributes: list values decode (CEL, constraints)
        self.selection = (for_snapshot(snapshot, lists) if cel_compile is None
                          else SelectorEvaluator(cel_compile, lists=lists))
        with gc_paused():
            self.allocated = AllocatedState(snapshot.allocated_claims)
        self.planner = ClaimPlanner(self.gates, snapshot.device_classes)
        self._available_counters: dict = {}      # pool key -> {counter set: {counter: Fraction}}
        self._whole_capacity: dict = {}          # id(device) -> whole capacity, or None when policies apply
        # (RequestInfo, id(device)) -> True | "class" | "selector" | (trace entry, error text): the
        # class and request selectors do not depend on the node (upstream deviceMatchesRequest, per run)
        self._device_matches_request: dict = {}
        if sys.getrecursionlimit() < 10000:
            sys.setrecursionlimit(10000)

    @property
    def index(self) -> PoolIndex:
        """Slices indexed by node (built on first use)."""
        if self._index is None:
            with gc_paused():
                self._index = PoolIndex(self.snapshot.resource_slices)
        return self._index

    def holder_names(self, device_id: DeviceId) -> list:
        """"ns/name" of the allocated claims (not admin access) holding a device, in snapshot order."""
        return self.allocated.holder_names(device_id)

    def _trace_holders(self, device_id: DeviceId) -> list:
        if device_id in self.allocated.devices:
            return self.allocated.holder_names(device_id)
        return []  # taken by another claim of this pod during the run

    def whole_capacity(self, device: Mapping[str, Any]) -> dict | None:
        """:func:`kubectl_dra.allocator.capacity.whole_capacity`, cached per device."""
        hit = self._whole_capacity.get(id(device), _UNCHECKED)
        if hit is _UNCHECKED:
            hit = self._whole_capacity[id(device)] = whole_capacity(device)
        return hit

    # -- selectors, for why-pending's funnel (verdicts shared with the search) ---------------
    def selectors_pass(self, expressions, driver: str, device: Mapping[str, Any]) -> bool:
        """Whether every selector matches a device of the snapshot (stops at the first that does
        not); raises the first compile or runtime error met."""
        verdict = self.selection.evaluate_all(expressions, driver, device, strict_inputs=True)
        if verdict is MATCH:
            return True
        if verdict is NO_MATCH:
            return False
        raise verdict.error

    def selector_flags(self, class_expressions, request_expressions, entries) -> list[int] | None:
        """:meth:`kubectl_dra.selection.SelectorEvaluator.selector_flags` with the search's verdicts
        (upstream's input conversion included)."""
        return self.selection.selector_flags(class_expressions, request_expressions, entries, strict_inputs=True)

    # -- counters available per pool (cached for the snapshot) --------------
    def available_counters(self, pool: PoolView) -> dict:
        """The pool's counter sets minus what the devices already in use consume.

        A device held only through shared allocations (results with a ``shareID``, consumable capacity) is in
        use for its counters too, once however many claims share it, as within one run (where only its first
        allocation takes counters); upstream's checkAvailableCounters counts both the allocated devices and the
        devices behind allocated shared ids (upstream test "allow-multiple-allocations-with-shared-device-
        counter-cross-cycle")."""
        hit = self._available_counters.get(pool.key)
        if hit is not None:
            return hit
        available = {name: dict(counters) for name, counters in pool.counter_sets.items()}
        in_use = self.allocated.devices
        shared = self.allocated.consumed_capacity
        for slice_ in list(pool.slices) + list(pool.other_slices):
            for device in slice_.devices:
                device_id = (slice_.driver, slice_.pool, device.get("name", ""))
                if device_id not in in_use and device_id not in shared:
                    continue
                for consumption in device.get("consumesCounters") or []:
                    counter_set = available.get(consumption.get("counterSet", ""))
                    if counter_set is None:
                        continue
                    for counter, amount in (consumption.get("counters") or {}).items():
                        if counter in counter_set:
                            counter_set[counter] -= quantity_value(amount)
        self._available_counters[pool.key] = available
        return available

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
            return _AllocationRun(self, node_name, list(claims)).run()


class _AllocationRun:
    """One :meth:`Allocator.allocate` call: one node, one list of claims (upstream ``allocator``)."""

    def __init__(self, allocator: Allocator, node_name: str | None, claims: list):
        self.allocator = allocator
        self.gates = allocator.gates
        self.in_use = allocator.allocated.devices                      # device ids held by allocated claims
        self.shared_capacity = allocator.allocated.consumed_capacity   # device id -> {capacity: Fraction}
        self.node_name = node_name
        self.node = allocator.node_object(node_name)
        self.claims = claims
        self.request_data: dict[tuple, RequestData] = {}  # (claim, request, subrequest index) -> RequestData
        self.constraints: list[list] = []                 # per claim
        self.results: list[list[InternalDeviceResult]] = [[] for _ in claims]
        self.allocating_devices: dict = {}    # device id -> {claim index}
        self.allocating_capacity: dict = {}   # device id -> {capacity: Fraction}
        self.consumed_counters: dict = {}     # pool key -> {counter set: {counter: Fraction}}
        self.selected_subrequests: dict = {}  # (claim, request index) -> the subrequest index kept
        self.trace = AllocationTrace(node=node_name, implementation=allocator.implementation)
        self.pools: list[PoolView] = []

    # -- driver --------------------------------------------------------------
    def run(self) -> Outcome:
        try:
            self.pools = self.allocator.gather_pools(self.node_name)
            self.trace.pools = [p.trace_entry() for p in self.pools]
            self._validate()
            done = self._allocate_one(0, 0, 0, 0, False)
        except AllocationError as e:
            self.trace.error = str(e)
            self._finish_trace(False)
            return Outcome(fits=False, error=str(e), trace=self.trace)
        except ResultsMaxSizeExceeded:  # pragma: no cover - handled inside the search
            done = False
        if not done:
            self._finish_trace(False)
            reason = None
            if any(p.invalid for p in self.pools):
                reason = "invalid resource pools were encountered"
            return Outcome(fits=False, unschedulable_reason=reason, trace=self.trace)
        self._finish_trace(True)
        try:
            return build_outcome(self.claims, self.results, self.request_data, self.selected_subrequests,
                                 self.node_name, self.gates.device_binding, self.trace)
        except AllocationError as e:
            self.trace.error = str(e)
            return Outcome(fits=False, error=str(e), trace=self.trace)

    def _finish_trace(self, success: bool) -> None:
        pools = [p for p in self.pools if not (p.incomplete or p.invalid)]
        entries = pools[0].entries() if len(pools) == 1 else [e for p in pools for e in p.entries()]
        chosen_by_request: dict = {}
        if success:
            for claim_results in self.results:
                for r in claim_results:
                    chosen_by_request.setdefault(id(r.request), []).append(device_id_str(r.device_id))
        holders = self.allocator._trace_holders
        requests = self.trace.requests
        for request in self.request_data.values():
            t = request.trace
            if t is None:
                continue
            t.reachable_entries = entries
            t.reachable = None  # formatted from reachable_entries on first access
            if request.rejections:
                t.defer(request.rejections, holders)
            if success:
                t.chosen = chosen_by_request.get(id(request), [])
                t.failed = t.tried and not t.chosen and request.num_devices > 0
            else:
                t.failed = t.tried
            requests.append(t)

    # -- validation ------------------------------------------------------------
    def _validate(self) -> None:
        for claim_index, (groups, constraints) in enumerate(self.allocator.planner.plan(self.claims)):
            min_devices = 0
            for _, items in groups:
                least = None
                for info in items:
                    if type(info) is str:
                        raise AllocationError(info)
                    request = RequestData(claim_index, info)
                    if info.mode == "All":
                        self._collect_all_devices(request)
                    self.request_data[(claim_index, info.request_index, info.sub_index)] = request
                    least = request.num_devices if least is None else min(least, request.num_devices)
                min_devices += least or 0
            if min_devices > ALLOCATION_RESULTS_MAX_SIZE:
                raise AllocationError(f"claim {object_name(self.claims[claim_index])}: number of requested devices "
                                      f"{min_devices} exceeds the claim limit of {ALLOCATION_RESULTS_MAX_SIZE}")
            if type(constraints) is str:
                raise AllocationError(constraints)
            lists = self.allocator.gates.list_type_attributes
            self.constraints.append([kind(index, names, attribute, lists) for kind, index, names, attribute in constraints])

    def _collect_all_devices(self, request: RequestData) -> None:
        """allocationMode All: every selectable device of every pool on this node, now."""
        request.all_devices = []
        label = request.info.claim_label
        for pool in self.pools:
            if pool.incomplete:
                raise AllocationError(f"claim {label}, request {request.name}: asks for all devices, but resource pool "
                                      f"{pool.id} is currently being updated")
            if pool.invalid:
                raise AllocationError(f"claim {label}, request {request.name}: asks for all devices, but resource pool "
                                      f"{pool.id} is currently invalid")
            for device_id, device, slice_ in pool.entries():
                if not self._is_selectable(request, device_id, device, slice_):
                    continue
                # None means 'does not fit'; an empty dict (a device without a capacity map consumes nothing) fits
                if (self.gates.consumable_capacity
                        and self._cmp_request_over_capacity(request, device_id, device) is None):
                    continue
                request.all_devices.append((device_id, device, slice_, pool))
        request.num_devices = len(request.all_devices)
        request.trace.count = request.num_devices

    # -- checks ------------------------------------------------------------------
    def _reject(self, request: RequestData, device_id: DeviceId, kind: str, details: dict | None = None) -> None:
        """Record why a device was not taken for a request (the first reason only, for the trace)."""
        if device_id not in request.rejections:
            request.rejections[device_id] = (kind, details or {})

    def _is_selectable(self, request: RequestData, device_id: DeviceId, device: Mapping[str, Any],
                       slice_: SliceInfo) -> bool:
        if not self.gates.device_binding and device.get("bindingConditions"):
            self._reject(request, device_id, "binding")
            return False
        # Class and request selectors do not depend on the node: cached for the snapshot.
        cache_key = (request.info, id(device))
        hit = self.allocator._device_matches_request.get(cache_key)
        if hit is None:
            hit = self._device_matches_request(request, device_id, device, cache_key)
        if hit is True:
            if slice_.per_device_on and not node_matches(self.node, device.get("nodeName"),
                                                         bool(device.get("allNodes")), device.get("nodeSelector")):
                self._reject(request, device_id, "node")
                return False
            return True
        if type(hit) is tuple:  # a CEL error met before for this request and device
            request.trace.cel_errors.append(dict(hit[0]))
            raise AllocationError(hit[1])
        if device_id not in request.rejections:
            request.rejections[device_id] = (hit, {})
        return False

    def _device_matches_request(self, request: RequestData, device_id: DeviceId, device: Mapping[str, Any],
                                cache_key: tuple):
        """Class selectors, then the request's: True, "class" or "selector" (what failed); cached,
        errors too (as the trace entry and the error text)."""
        info = request.info
        cache = self.allocator._device_matches_request
        try:
            if not self._selectors_match(request, device_id, device, info.class_exprs):
                hit = "class"
            elif not self._selectors_match(request, device_id, device, info.request_exprs):
                hit = "selector"
            else:
                hit = True
        except AllocationError as e:
            cache[cache_key] = (request.trace.cel_errors[-1], str(e))
            raise
        cache[cache_key] = hit
        return hit

    def _selectors_match(self, request: RequestData, device_id: DeviceId, device: Mapping[str, Any],
                         exprs: list) -> bool:
        evaluate = self.allocator.selection.evaluate
        for i, expr_text, where in exprs:
            verdict = evaluate(expr_text, device_id[0], device, strict_inputs=True)
            if verdict is MATCH:
                continue
            if verdict is NO_MATCH:
                return False
            request.trace.cel_errors.append({"expression": expr_text, "device": device_id_str(device_id),
                                             "message": verdict.message, "source": where})
            what = "compile" if verdict.kind is Kind.COMPILE_ERROR else "runtime"
            raise AllocationError(f"{where}: selector #{i}: CEL {what} error: {verdict.message}")
        return True

    def _cmp_request_over_capacity(self, request: RequestData, device_id: DeviceId, device: Mapping[str, Any]):
        """What taking the device consumes ({capacity: Fraction}), or None when the request does
        not fit the capacity left (upstream CmpRequestOverCapacity)."""
        if (not request.capacity_requests and device_id not in self.shared_capacity
                and device_id not in self.allocating_capacity):
            # Nothing requested, nothing consumed yet: the device's whole capacity is consumed and fits
            # unless a requestPolicy or a negative value needs the full check.
            whole = self.allocator.whole_capacity(device)
            if whole is not None:
                return dict(whole)
        try:
            ok, why, consumed = capacity_fits(request.capacity_requests, device_id[0], device.get("capacity") or {},
                                              self.shared_capacity.get(device_id),
                                              self.allocating_capacity.get(device_id))
        except CapacityError as e:
            self._reject(request, device_id, "capacity", {"reason": str(e)})
            return None
        if not ok:
            self._reject(request, device_id, "capacity", {"reason": why})
            return None
        return consumed

    def _device_in_use(self, device_id: DeviceId) -> bool:
        return device_id in self.in_use or bool(self.allocating_devices.get(device_id))

    def _reject_in_use(self, request: RequestData, device_id: DeviceId) -> None:
        if device_id not in request.rejections:
            # taken earlier in this very search by the same claim: not a competing holder
            mine = device_id not in self.in_use and request.claim_index in self.allocating_devices.get(device_id, ())
            request.rejections[device_id] = ("allocated", {"self": True} if mine else None)

    # -- search ------------------------------------------------------------------
    def _allocate_one(self, claim_index: int, request_index: int, sub_index: int, device_index: int,
                      allocate_subrequest: bool, start: tuple[int, int] = (0, 0)) -> bool:
        """Find a device for slot ``device_index`` of a request and recurse to the next slot;
        True when every claim got all its devices.

        ``start`` (pool index, index in the pool's entries): where the search for this slot begins.
        The incubating and experimental implementations (upstream ``allocateOne``'s
        ``startLocation``) look for the next device of the same request only after the device the
        previous slot took, so one request tries combinations of devices, never permutations; that is
        also what keeps a multi-allocatable device from being given twice to one request (upstream has
        no other check for it).  Every new request, subrequest and ``All`` slot starts at (0, 0).  The
        stable implementation has no start location: every slot scans all devices (devices already
        taken are in use, and stable knows no multi-allocatable devices)."""
        if claim_index >= len(self.claims):
            return True
        claim = self.claims[claim_index]
        claim_requests = ((claim.get("spec") or {}).get("devices") or {}).get("requests") or []
        if request_index >= len(claim_requests):
            try:
                return self._allocate_one(claim_index + 1, 0, 0, 0, False)
            except ResultsMaxSizeExceeded:
                return False
        request = self.request_data[(claim_index, request_index, sub_index)]
        if not allocate_subrequest and request.parent is not None:
            all_exceeded = True
            sub = 0
            while (claim_index, request_index, sub) in self.request_data:
                try:
                    ok = self._allocate_one(claim_index, request_index, sub, device_index, True)
                except ResultsMaxSizeExceeded:
                    sub += 1
                    continue
                all_exceeded = False
                if ok:
                    self.selected_subrequests[(claim_index, request_index)] = sub
                    return True
                sub += 1
            if all_exceeded:
                raise ResultsMaxSizeExceeded()
            return False

        request.trace.tried = True
        all_mode = request.mode == "All"
        if all_mode and not request.all_devices:
            return False
        if device_index >= request.num_devices:
            return self._allocate_one(claim_index, request_index + 1, 0, 0, False)
        if len(self.results[claim_index]) + request.num_devices - device_index > ALLOCATION_RESULTS_MAX_SIZE:
            raise ResultsMaxSizeExceeded()

        if all_mode:
            device_id, device, slice_, pool = request.all_devices[device_index]
            undo = self._allocate_device(request, device_id, device, slice_, pool, must=True)
            if undo is None:
                return False
            try:
                done = self._allocate_one(claim_index, request_index, sub_index, device_index + 1, allocate_subrequest)
            except BaseException:
                undo()
                raise
            if not done:
                undo()
            return done

        admin = request.admin_access
        in_use = self.in_use
        allocating = self.allocating_devices
        rejections = request.rejections
        capacity_on = self.gates.consumable_capacity
        combinations = self.allocator.implementation != "stable"  # upstream startLocation (see docstring)
        pools = self.pools
        start_pool, start_entry = start
        for pool_index in range(start_pool, len(pools)):
            pool = pools[pool_index]
            if pool.incomplete or pool.invalid:
                continue
            entries = pool.entries()
            for entry_index in range(start_entry if pool_index == start_pool else 0, len(entries)):
                device_id, device, slice_ = entries[entry_index]
                if admin:
                    if claim_index in allocating.get(device_id, ()):
                        self._reject_in_use(request, device_id)
                        continue
                elif device_id in in_use or allocating.get(device_id):
                    if device_id not in rejections:
                        self._reject_in_use(request, device_id)
                    continue
                if not self._is_selectable(request, device_id, device, slice_):
                    continue
                if capacity_on and self._cmp_request_over_capacity(request, device_id, device) is None:
                    continue
                undo = self._allocate_device(request, device_id, device, slice_, pool, must=False)
                if undo is None:
                    continue
                try:
                    done = self._allocate_one(claim_index, request_index, sub_index, device_index + 1,
                                              allocate_subrequest,
                                              (pool_index, entry_index + 1) if combinations else (0, 0))
                except BaseException:
                    undo()
                    raise
                if done:
                    return True
                undo()
        return False

    def _allocate_device(self, request: RequestData, device_id: DeviceId, device: Mapping[str, Any],
                         slice_: SliceInfo, pool: PoolView, must: bool):
        """Take the device for the request: an undo callable when it was taken, else None.
        ``must`` (allocationMode All): a violated constraint is an error, not a reason to look on."""
        claim_index = request.claim_index
        multi = bool(self.gates.consumable_capacity and device.get("allowMultipleAllocations"))
        if not multi and request.admin_access and claim_index in self.allocating_devices.get(device_id, ()):
            self._reject_in_use(request, device_id)
            return None
        if not request.admin_access and self._device_in_use(device_id):
            self._reject_in_use(request, device_id)
            return None
        consumes = device.get("consumesCounters") or []
        if not self.gates.partitionable_devices and consumes:
            self._reject(request, device_id, "counters", {
                "counter_set": None, "counter": None, "needed": None, "left": None,
                "reason": "device consumes counters, DRAPartitionableDevices is disabled"})
            return None
        skip_counters = multi and (device_id in self.shared_capacity or device_id in self.allocating_capacity)
        counters_taken = False
        if not skip_counters and consumes:
            if not self._check_available_counters(request, device_id, consumes, pool):
                return None
            counters_taken = True
        request_name, subrequest_name = (request.parent, request.name) if request.parent else (request.name, None)
        if self.gates.device_taints:
            taint = untolerated_taint(device, request.tolerations)
            if taint is not None:
                self._reject(request, device_id, "taint", {"key": taint.get("key"), "value": taint.get("value"),
                                                           "effect": taint.get("effect")})
                # Reproduced upstream behaviour (1.36.2, allocateDevice): the counters taken just above stay
                # consumed when the taint rejects the device, so later candidates of this run and backtracking
                # see fewer counters. Looks like an upstream bug; the scheduler does it, so the dry run does too.
                return None
        added = []
        for constraint in self.constraints[claim_index]:
            violation = constraint.add(request_name, subrequest_name, device, device_id)
            if violation is not None:
                for previous in added:
                    previous.remove(request_name, subrequest_name, device, device_id)
                # Reproduced upstream behaviour (1.36.2, allocateDevice), as for taints above: a constraint that
                # rejects the device does not give back the counters it took.
                if must:
                    raise AllocationError(f"claim {object_name(self.claims[claim_index])}, request {request.name}: "
                                          f"cannot add device {device_id_str(device_id)} because a claim constraint "
                                          f"would not be satisfied")
                self._reject(request, device_id, "constraint", {
                    "constraint": constraint.index, "kind": constraint.kind, "attribute": constraint.attribute,
                    "value": violation["value"], "seen": violation["seen"]})
                return None
            added.append(constraint)
        consumed = None
        new_share_id = None
        if self.gates.consumable_capacity:
            consumed = self._cmp_request_over_capacity(request, device_id, device)
            if consumed is None:
                # Reproduced upstream behaviour (1.36.2, allocateDevice): the capacity is checked again after the
                # device was added to the claim's constraints (and, not multi-allocatable, marked in use), and a
                # failure returns without undoing any of it, nor the counters taken above. It can fail only where
                # the earlier check saw other capacity: an allocationMode All device (chosen when the request was
                # validated) that an earlier request of this run shares. The constraints then keep that device's
                # attribute, which can refuse the devices of a later alternative. Looks like an upstream bug; the
                # scheduler does it, so the dry run does too.
                if not multi:
                    self.allocating_devices.setdefault(device_id, set()).add(claim_index)
                return None
        claims_taking = self.allocating_devices.setdefault(device_id, set())
        if multi:
            new_share_id = share_id(self.claims[claim_index], request.full_name, device_id,
                                    len(self.results[claim_index]))
            allocating = self.allocating_capacity.setdefault(device_id, {})
            for name, amount in consumed.items():
                allocating[name] = allocating.get(name, 0) + amount
        else:
            claims_taking.add(claim_index)
            consumed = None
        self.results[claim_index].append(InternalDeviceResult(request, device_id, device, slice_, new_share_id,
                                                              consumed if multi else None))

        def undo() -> None:
            for constraint in self.constraints[claim_index]:
                constraint.remove(request_name, subrequest_name, device, device_id)
            self.allocating_devices.get(device_id, set()).discard(claim_index)
            if multi:
                allocating = self.allocating_capacity.get(device_id)
                if allocating is not None and consumed:
                    for name, amount in consumed.items():
                        if name in allocating:
                            allocating[name] -= amount
                    if all(v == 0 for v in allocating.values()):
                        del self.allocating_capacity[device_id]
            elif counters_taken:
                # Reproduced upstream behaviour (1.36.2, the rollback closure allocateDevice returns): counters
                # are given back only for devices without allowMultipleAllocations; a multi-allocatable device
                # keeps its counters consumed after backtracking, so the rest of the run sees fewer. Looks
                # like an upstream bug; the scheduler does it, so the dry run does too.
                self._deallocate_counters(consumes, pool)
            self.results[claim_index].pop()
        return undo

    def _check_available_counters(self, request: RequestData, device_id: DeviceId, consumes: list,
                                  pool: PoolView) -> bool:
        """Take the device's counters if every counter set of the pool still has enough left, else
        record why not (upstream checkAvailableCounters)."""
        available = self.allocator.available_counters(pool)
        used = self.consumed_counters.setdefault(pool.key, {})
        for consumption in consumes:
            counter_set = used.setdefault(consumption.get("counterSet", ""), {})
            for counter, amount in (consumption.get("counters") or {}).items():
                counter_set[counter] = counter_set.get(counter, 0) + quantity_value(amount)
        for set_name, counters in available.items():
            consumed = used.get(set_name, {})
            for counter, have in counters.items():
                if have < consumed.get(counter, 0):
                    needed = Fraction(0)
                    for consumption in consumes:
                        if consumption.get("counterSet") == set_name:
                            needed += quantity_value((consumption.get("counters") or {}).get(counter, 0))
                    left = have - consumed.get(counter, 0) + needed
                    self._deallocate_counters(consumes, pool)
                    self._reject(request, device_id, "counters", {"counter_set": set_name, "counter": counter,
                                                                  "needed": amount_str(needed),
                                                                  "left": amount_str(left)})
                    return False
        return True

    def _deallocate_counters(self, consumes: list, pool: PoolView) -> None:
        used = self.consumed_counters.get(pool.key, {})
        for consumption in consumes:
            counter_set = used.get(consumption.get("counterSet", ""), {})
            for counter, amount in (consumption.get("counters") or {}).items():
                counter_set[counter] = counter_set.get(counter, 0) - quantity_value(amount)
