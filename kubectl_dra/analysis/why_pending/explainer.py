"""Explaining one node where the dry run failed: the allocator's outcome and trace become reasons.

Each failed request gets a device funnel (:class:`Funnel`): the devices of the node's usable pools ->
those passing the class's selectors -> those passing the request's selectors -> those free, then
constraints / counters / capacity / taints; the first stage that leaves too few devices names the
reason.  An error that aborts allocation is worded as upstream returns it (``cel-error``, ``no-class``,
``allocation-error``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NamedTuple

from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.consumers import consumers_of
from kubectl_dra.analysis.devices import ClassMatcher, attribute_text, quantity_text, selector_expressions
from kubectl_dra.cel.diagnostics import device_reads, selector_hints
from kubectl_dra.analysis.why_pending.nodes import taint_text, toleration_for, toleration_text
from kubectl_dra.taintrules import source_of_taint
from kubectl_dra.analysis.why_pending.reasons import (
    ALL_MATCHING_ALLOCATED, ALLOCATION_ERROR, BINDING_CONDITIONS, CAPACITY_EXHAUSTED, CEL_ERROR,
    CONSTRAINT_UNSATISFIABLE, COUNTERS_EXHAUSTED, INCOMPLETE_POOL, INSUFFICIENT_COUNT, INVALID_POOL, NO_CLASS,
    NO_DEVICES_FOR_DRIVER, NOT_FITTING, SELECTOR_MATCHES_NOTHING, TAINT, Reason,
)
from kubectl_dra.names import did_you_mean, near
from kubectl_dra.quantity import QuantityError, parse_quantity
from kubectl_dra.selection import MATCH, NO_MATCH, Kind, lookup_attribute
from kubectl_dra.snapshot import DeviceEntry, DeviceKey, Snapshot

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import CelErrorJSON, FunnelJSON


_ATTR_REF = re.compile(
    r"device\.(attributes|capacity)\s*\[\s*[\"']([^\"']+)[\"']\s*\]\s*"
    r"(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*[\"']([^\"']+)[\"']\s*\])")


_ERROR_PREFIX = re.compile(r"^claim ([^/\s]+)/([^,:\s]+)(?:, request ([^:]+))?:")
_CAPACITY_AMOUNTS = re.compile(r"^(\S+): (?:needs (\S+), (\S+) left|(\S+) not allowed by requestPolicy)$")
_CLASS_IN_ERROR = re.compile(r'device ?class(?:\.resource\.k8s\.io)? "?([^"\s:]+)"? not found')


class SeenDevice(NamedTuple):
    """A device as the funnel sees it: its (driver, pool, device) key and raw dict (duck-types the
    parts of :class:`DeviceEntry` that explanations read)."""

    key: tuple
    device: Mapping[str, Any]

    @property
    def driver(self) -> str:
        return self.key[0]

    @property
    def name(self) -> str:
        return self.key[2]

    @property
    def label(self) -> str:
        return f"{self.key[0]}/{self.key[1]}/{self.key[2]}"


class Funnel(NamedTuple):
    """One request on one node, stage by stage: the devices left after each filter.

    :meth:`to_dict` is what the report carries (``details.funnel``: the counts, and with ``with_names``
    the device names behind them); the device lists themselves are for the explanation only.
    """

    device_class: str
    mode: str  # the request's allocationMode
    needed: int
    reachable: list[SeenDevice]  # the devices of the node's usable pools, in the allocator's order
    matching_class: list[SeenDevice]  # ... that pass the class's selectors
    matching_selectors: list[SeenDevice]  # ... and the request's selectors
    free: list[SeenDevice]  # ... and no other claim holds (or the request asks for admin access)
    held_by: dict[str, list[str]]  # "namespace/claim" holding matching devices -> their names
    cel_errors: list[CelErrorJSON]  # the first few selector errors
    class_selectors: list[str]
    request_selectors: list[str]
    with_names: bool = False

    @property
    def summary(self) -> str:
        return (f"{len(self.reachable)} reachable -> {len(self.matching_class)} match class {self.device_class} -> "
                f"{len(self.matching_selectors)} match the request's selectors -> {len(self.free)} free")

    def to_dict(self) -> FunnelJSON:
        out: FunnelJSON = {
            "reachable": len(self.reachable), "matchClass": len(self.matching_class),
            "matchSelectors": len(self.matching_selectors), "free": len(self.free), "needed": self.needed,
            "mode": self.mode, "class": self.device_class}
        if self.with_names:
            out["names"] = {"reachable": [d.name for d in self.reachable],
                            "matchClass": [d.name for d in self.matching_class],
                            "matchSelectors": [d.name for d in self.matching_selectors],
                            "free": [d.name for d in self.free]}
        out["heldBy"] = self.held_by
        out["celErrors"] = self.cel_errors
        out["classSelectors"] = self.class_selectors
        out["requestSelectors"] = self.request_selectors
        out["summary"] = self.summary
        return out


_NO_FIELDS: Mapping[str, Any] = {}  # (read only)


class _Explainer:
    """Turns an allocator outcome on one node into reasons with a device funnel."""

    def __init__(self, snap: Snapshot, claims_by_name: Mapping[str, Mapping[str, Any]], alloc: Allocator | None = None,
                 with_names: bool = True):
        self.snap = snap
        self.with_names = with_names
        self.claims = claims_by_name
        self.matcher = ClassMatcher(snap)
        self._class_drivers: dict[str, set[str]] = {}
        self.alloc = alloc  # shares its per-device selector results and holder index
        self._selectors: dict = {}
        self._hints: dict = {}

    def _passes(self, exprs: Iterable[str], d: DeviceEntry | SeenDevice) -> tuple[bool, str | None]:
        """(every selector matches, the error message if one failed) for one device."""
        alloc = self.alloc
        if alloc is not None:  # the search's own verdicts (upstream's input conversion included)
            verdict = alloc.selection.evaluate_all(exprs, d.driver, d.device, strict_inputs=True)
            if verdict is MATCH:
                return True, None
            if verdict is NO_MATCH:
                return False, None
            # an error: the lenient matcher below words it, as for a trace made without an allocator
        entry = d if isinstance(d, DeviceEntry) else self.snap.devices_by_key.get(DeviceKey(*d.key))
        if entry is None:
            return False, None
        return self.matcher.passes(exprs, entry)

    def _holder_labels(self, key) -> list[str]:
        """"ns/name" of the claims (not admin access) holding a device."""
        if self.alloc is not None:
            return self.alloc.holder_names(key)
        return [f"{h.namespace}/{h.claim}" for h in self.snap.holders.get(key, ()) if not h.admin_access]

    def class_selectors(self, class_name: str) -> list[str]:
        return self.matcher.class_selectors(class_name)

    def class_drivers(self, class_name: str) -> set[str]:
        """Drivers of the devices, anywhere in the cluster, that match the class."""
        if class_name not in self._class_drivers:
            sels = self.class_selectors(class_name)
            drivers: set[str] = set()
            seen_drivers: set[str] = set()
            for e in self.snap.devices:
                if e.driver in drivers:
                    continue
                seen_drivers.add(e.driver)
                if self._passes(sels, e)[0]:
                    drivers.add(e.driver)
            self._class_drivers[class_name] = drivers
        return self._class_drivers[class_name]

    def selector_hints(self, expression: str, device_class: str | None) -> list[str]:
        """The selector diagnosis `match` gives (kubectl_dra.cel.diagnostics.selector_hints), on the
        devices the selector sees: those of the class (every device for a class's own selector or an
        unknown class), anywhere in the cluster, so every node gets the same words.  Cached."""
        key = (expression, device_class)
        hit = self._hints.get(key)
        if hit is None:
            sels = self.class_selectors(device_class) if device_class in self.snap.device_classes else []
            if expression in sels:
                sels = []
            devices = self._class_devices(tuple(sels))
            selection = self.alloc.selection if self.alloc is not None else self.matcher.selection
            evaluated = []
            for e in devices[:2000]:  # enough to see which drivers publish the key
                v = selection.evaluate(expression, e.driver, e.device, strict_inputs=self.alloc is not None)
                evaluated.append((e.driver, v.message if v.kind is Kind.RUNTIME_ERROR else None))
            hit = self._hints[key] = selector_hints(expression, devices, evaluated)
        return hit

    def _class_devices(self, sels: tuple[str, ...]) -> list[DeviceEntry]:
        """The devices of the snapshot that pass a class's selectors, in snapshot order (every device for
        none).  With the allocator, one pass of its batch check (the same verdicts as :meth:`_passes`,
        from the same cache); device by device when a selector errors somewhere, so the lenient matcher
        words those as before."""
        if not sels:
            return list(self.snap.devices)
        if self.alloc is not None:
            devices = self.snap.devices
            grouped = self._class_devices_by_reads(sels, devices)
            if grouped is not None:
                return grouped
            flags = self.alloc.selection.selector_flags(sels, (), [(e, e.device) for e in devices],
                                                        strict_inputs=True)
            if flags is not None:
                return [e for e, flag in zip(devices, flags) if flag]
        return [e for e in self.snap.devices if self._passes(sels, e)[0]]

    def _class_devices_by_reads(self, sels: tuple[str, ...], devices) -> list[DeviceEntry] | None:
        """:meth:`_class_devices` for selectors that read only named fields of ``device``
        (:func:`kubectl_dra.cel.diagnostics.device_reads`): their verdict is a function of those fields, so
        devices are grouped by them and the selectors evaluated once per group, on its first device (a class
        over 60,000 devices: a few hundred evaluations instead of 60,000).  None (then every device is
        evaluated) for other selectors, or when a selector errors somewhere (the general path words it)."""
        reads: list[tuple[str, str, str]] = []
        for text in sels:
            got = device_reads(text)
            if got is None:
                return None
            reads += got
        reads = list(dict.fromkeys(reads))
        # (the driver is always part of the key: bare names are looked up by it)
        allow = ("allowMultipleAllocations", "", "") in reads
        named = [(kind, tuple((domain, name, f"{domain}/{name}") for k, domain, name in reads if k == kind))
                 for kind in ("attributes", "capacity")]
        named = [(kind, fields) for kind, fields in named if fields]
        selection = self.alloc.selection
        input_error = selection.input_error
        checked = selection.inputs
        verdicts: dict[tuple, Any] = {}
        out: list[DeviceEntry] = []
        for e in devices:
            dev = e.device
            # upstream's input conversion refuses a device with an attribute it cannot decode: an error (the
            # usual device, one scalar value per attribute, is judged here without a call)
            attrs = dev.get("attributes")
            if attrs and id(dev) not in checked:
                for a in attrs.values() if type(attrs) is dict else (None,):
                    if type(a) is not dict or (a.get("string") is None and a.get("int") is None
                                               and a.get("bool") is None and a.get("version") is None):
                        if input_error(dev) is not None:
                            return None
                        break
            elif checked.get(id(dev)) is not None:
                return None
            driver = e.driver
            # the key: the driver, and each field read as the device writes it (equal fields, equal verdicts)
            key: list = [driver, bool(dev.get("allowMultipleAllocations")) if allow else None]
            for kind, fields in named:
                src = dev.get(kind) or _NO_FIELDS
                for domain, name, full in fields:
                    raw = src.get(full)
                    if raw is None and domain == driver:
                        raw = src.get(name)
                    key.append(tuple(raw.items()) if type(raw) is dict else raw)
            group = tuple(key)
            try:
                verdict = verdicts.get(group)
            except TypeError:  # a list value (list-type attributes): not a key, every device evaluated
                return None
            if verdict is None:
                verdict = verdicts[group] = selection.evaluate_all(sels, driver, dev, strict_inputs=True)
                if verdict is not MATCH and verdict is not NO_MATCH:
                    return None
            if verdict is MATCH:
                out.append(e)
        return out

    @staticmethod
    def _hint_fixes(hints, alternative: bool = False) -> list[str]:
        """Hints worth offering as a fix: not a bare "no device has this value" (for an alternative of a
        prioritized list that may be just what the user meant), unless it says which value was meant; for an
        alternative (``alternative``: a subrequest of firstAvailable) no value hint at all: asking for a
        model the cluster does not have (H100 where only A100s are) is what alternatives are for."""
        return [h.message for h in hints if h.kind != "unknown-value"
                or ("did you mean" in h.message and not alternative)]

    # -- the request spec --------------------------------------------------------
    def request_spec(self, claim: Mapping[str, Any], request: str) -> Mapping[str, Any]:
        base, _, sub = request.partition("/")
        for r in ((claim.get("spec") or {}).get("devices") or {}).get("requests") or []:
            if r.get("name") != base:
                continue
            if sub:
                return next((s for s in r.get("firstAvailable") or [] if s.get("name") == sub), {})
            return r.get("exactly") or {}
        return {}

    # -- funnel ---------------------------------------------------------------------
    def _request_selectors(self, claim: Mapping[str, Any], request: str, device_class: str) -> tuple:
        """(request spec, class selector texts, request selector texts); the same on every node."""
        key = (id(claim), request, device_class)
        hit = self._selectors.get(key)
        if hit is None:
            spec = self.request_spec(claim, request)
            hit = self._selectors[key] = (spec, self.class_selectors(device_class),
                                          selector_expressions(spec.get("selectors")))
        return hit

    def _reachable(self, rt) -> list[SeenDevice]:
        """The devices of the node's usable pools, in the allocator's order."""
        entries = getattr(rt, "reachable_entries", None)
        if entries is not None:
            return [SeenDevice(key, dev) for key, dev, _ in entries]
        by_key = self.snap.devices_by_key  # a trace made elsewhere: look its device names up
        found = (by_key.get(DeviceKey(*k.split("/", 2))) for k in rt.reachable)
        return [SeenDevice(e.key, e.device) for e in found if e is not None]

    def funnel(self, rt, claim: Mapping[str, Any], node_name: str) -> Funnel:
        spec, class_sels, req_sels = self._request_selectors(claim, rt.request, rt.device_class)
        reachable = self._reachable(rt)
        class_ok: list[SeenDevice] = []
        sel_ok: list[SeenDevice] = []
        errors: list[CelErrorJSON] = []
        flags = self.alloc.selector_flags(class_sels, req_sels, reachable) if self.alloc is not None else None
        if flags is not None:  # every selector evaluated without error: one pass
            class_ok = [d for d, f in zip(reachable, flags) if f]
            sel_ok = [d for d, f in zip(reachable, flags) if f == 2]
        else:  # device by device, wording the errors
            passes = self._passes
            for d in reachable:
                ok, err = passes(class_sels, d)
                if err:
                    errors.append({"device": d.label, "expression": "class " + rt.device_class, "message": err})
                if not ok:
                    continue
                class_ok.append(d)
                ok, err = passes(req_sels, d)
                if err:
                    errors.append({"device": d.label, "expression": "request selector", "message": err})
                if ok:
                    sel_ok.append(d)
        admin = bool(spec.get("adminAccess"))
        held: dict[str, list[str]] = {}
        free = []
        alloc = self.alloc
        shares = alloc is not None and alloc.gates.consumable_capacity
        for d in sel_ok:
            holders = self._holder_labels(d.key)
            if holders and shares and d.device.get("allowMultipleAllocations") and d.key not in alloc.allocated.devices:
                # held only through shared allocations (shareID): still free to share while capacity is left;
                # the allocator's capacity check says whether it is (capacity-exhausted), not "held"
                holders = []
            if holders and not admin:
                for h in holders:
                    held.setdefault(h, []).append(d.name)
            else:
                free.append(d)
        return Funnel(rt.device_class, rt.mode, rt.count if rt.mode != "All" else len(sel_ok),
                      reachable, class_ok, sel_ok, free, held, errors[:5], class_sels, req_sels, self.with_names)

    def holder_facts(self, held: Mapping[str, list[str]]) -> list[dict]:
        out = []
        for key, devices in held.items():
            ns, name = key.split("/", 1)
            claim = self.snap.resource_claims.get((ns, name)) or {}
            pods = []
            others = []
            for c in consumers_of(claim):
                if not c.is_pod:  # a PodGroup (or another kind): named as what it is, never judged as a pod
                    others.append(c.label)
                    continue
                r = {"name": c.name}
                pod = self.snap.pods.get((ns, r.get("name")))
                phase = ((pod or {}).get("status") or {}).get("phase")
                known = self.snap.source.knows_all_pods_in(ns) and bool(self.snap.pods)
                # A pod not read, in a namespace whose pods could not be listed (not even the finished
                # ones): whether it has finished is unknown, not "no".
                unknown = pod is None and not known and bool(self.snap.source.gaps("pods", ns))
                pods.append({"name": r.get("name"), "phase": phase,
                             "finished": None if unknown else phase in ("Succeeded", "Failed"),
                             "exists": True if pod is not None else (False if known else None)})
            entry = {"claim": key, "devices": sorted(devices), "pods": pods}
            if others:
                entry["consumers"] = others
            if (claim.get("metadata") or {}).get("deletionTimestamp"):
                entry["deleting"] = True
            out.append(entry)
        return out

    def is_held(self, d, admin: bool = False) -> bool:
        """Another claim holds the device (not shareable): a request without admin access cannot have it."""
        if admin or d.device.get("allowMultipleAllocations"):
            return False
        return bool(self._holder_labels(d.key))

    @staticmethod
    def finished_fixes(holders: list[dict]) -> list[str]:
        """Fixes for holders whose pods have finished or are gone (whatif.check_freeing_finished re-runs
        the dry run without those claims)."""
        fixes = []
        for h in holders:
            for p in h["pods"]:
                if p["finished"]:
                    fixes.append(f"pod {h['claim'].split('/')[0]}/{p['name']} has {p['phase']} but its claim "
                                 f"{h['claim']} still holds {', '.join(h['devices'])}: delete the pod "
                                 f"(or the claim) to free them")
                elif p["exists"] is False:
                    fixes.append(f"claim {h['claim']} is reserved for pod {p['name']}, which no longer exists")
        return fixes

    @staticmethod
    def holders_text(holders: list[dict]) -> str:
        """"ns/claim holds a, b (pod x Running)" per holding claim; a deleting claim and a PodGroup say so."""
        return "; ".join(f"{h['claim']}" + (" (deleted, not yet released)" if h.get("deleting") else "")
                         + f" holds {', '.join(h['devices'])}"
                         + (" (pod " + ", ".join(p['name'] + (f" {p['phase']}" if p.get('phase') else
                                                              ", finished or not: unknown" if p["finished"] is None else '')
                                             for p in h['pods']) + ")" if h["pods"] else "")
                         + (" (" + ", ".join(h["consumers"]) + ")" if h.get("consumers") else "")
                         for h in holders)

    def values_seen(self, exprs: list[str], entries: list[DeviceEntry], admin: bool = False) -> dict[str, list[str]]:
        """For the attributes/capacities the expressions read: the values that exist on these devices, each
        counted among the free ones ("A100 (2)"), with the held ones after ("A100 (2 free, 3 more held)"):
        fixing the selector to a value only held devices have would not help."""
        refs = []
        for text in exprs:
            for m in _ATTR_REF.finditer(text):
                refs.append((m.group(1), m.group(2), m.group(3) or m.group(4)))
        out: dict[str, list[str]] = {}
        held = [self.is_held(e, admin) for e in entries] if refs else []
        for kind, domain, name in refs:
            free, taken = Counter(), Counter()
            for e, h in zip(entries, held):
                src = e.device.get(kind) or {}
                v = src.get(f"{domain}/{name}")
                if v is None and domain == e.driver:
                    v = src.get(name)
                text = "<not set>" if v is None else attribute_text(v) if kind == "attributes" else str(v.get("value"))
                (taken if h else free)[text] += 1
                free.setdefault(text, 0)
            label = f"{domain}/{name}" if kind == "attributes" else f"capacity {domain}/{name}"
            ranked = sorted(free, key=lambda v: (-free[v], -taken[v]))[:8]
            out[label] = [f"{v} ({free[v]})" if not taken[v] else
                          f"{v} ({free[v]} free, {taken[v]} more held)" if free[v] else f"{v} (none free, {taken[v]} held)"
                          for v in ranked]
        return out

    # -- classification ------------------------------------------------------------
    def explain_failure(self, outcome, node_name: str) -> list[Reason]:
        """Every reason the node fails, ranked by what actually blocks: the requests whose own devices fall
        short first (in the allocator's order), a request that is fine on its own (``does-not-fit``) last;
        inside a request, its causes in the order they block.  The alternatives of a prioritized list stay
        together, each alternative's failure shown."""
        trace = outcome.trace
        self._context = (trace, node_name)  # for a constraint across requests: the other requests' devices
        reasons: list[Reason] = []
        if outcome.error:
            return [self.explain_error(outcome.error, trace)]
        invalid = [p for p in (trace.pools if trace else []) if p.get("state") == "invalid"]
        if outcome.unschedulable_reason:
            reasons.append(self.invalid_pool_reason(outcome.unschedulable_reason, invalid))
        incomplete = [p for p in (trace.pools if trace else []) if p.get("state") == "incomplete"]
        failed = [rt for rt in (trace.requests if trace else []) if rt.failed]
        if not failed and not reasons:
            return [Reason(NOT_FITTING, "the claims cannot be allocated together on this node")]
        # (claim, parent request) -> [position, reasons]: a prioritized list fails only when every
        # subrequest failed, so each alternative is explained.
        by_request: dict[tuple, list] = {}
        for pos, rt in enumerate(trace.requests if trace else []):
            claim_name = rt.claim.split("/", 1)[1]
            claim = self.claims.get(claim_name) or {}
            if rt.failed:
                found = self.request_reasons(rt, claim, claim_name, node_name, incomplete)
            elif not rt.tried:
                # never reached (an earlier request failed first): still say when its own devices fall short,
                # so fixing the first problem does not just uncover the next one
                found = self.untried_reasons(rt, claim, claim_name, node_name, incomplete)
            else:
                continue
            if found and invalid and reasons and reasons[0].code == INVALID_POOL and self._covered_by_invalid(
                    rt, claim, found, invalid):
                # its devices are in the invalid pool: that is the reason, not a selector matching nothing
                if reasons[0].claim is None:
                    reasons[0].claim, reasons[0].request = claim_name, rt.request
                continue
            if found:
                by_request.setdefault((claim_name, rt.request.partition("/")[0]), [pos, []])[1].extend(found)
        ranked = sorted(by_request.values(), key=lambda e: (all(x.code == NOT_FITTING for x in e[1]), e[0]))
        blocking = [x for _, found in ranked for x in found if x.code != NOT_FITTING]
        for _, found in ranked:
            for x in found:
                if x.code == NOT_FITTING and blocking:
                    first = blocking[0]
                    x.message = (f"{x.details['funnel']['free']} free matching device(s): this request can be "
                                 f"satisfied on its own; the node fails on claim {first.claim}, request "
                                 f"{first.request} ({first.code})")
                reasons.append(x)
        return reasons

    def _pool_slices(self, pool_id: str) -> list:
        """The slices of a pool's newest generation (the trace keeps none of an invalid pool's)."""
        driver, _, name = pool_id.partition("/")
        pool = self.snap.pools.get((driver, name))
        return sorted(pool.slices, key=lambda s: (s.get("metadata") or {}).get("name", "")) if pool else []

    def invalid_pool_reason(self, upstream: str, invalid: list) -> Reason:
        """Upstream's "invalid resource pools were encountered", with the pool, what makes it invalid (the
        device published twice, and the slices publishing it) and the slices of the pool on this node."""
        parts = []
        fixes = []
        pools = []
        for p in invalid:
            pool_slices = self._pool_slices(p["pool"])
            slices = [(s.get("metadata") or {}).get("name", "") for s in pool_slices]
            why = p.get("reason") or "invalid"
            if why.startswith("duplicate device name "):
                dup = why.removeprefix("duplicate device name ")
                with_dup = [(s.get("metadata") or {}).get("name", "") for s in pool_slices
                            if [d.get("name") for d in (s.get("spec") or {}).get("devices") or []].count(dup)]
                twice = len(with_dup) == 1  # twice inside one slice
                where = 'twice in slice ' + with_dup[0] if twice else 'in slices ' + ', '.join(with_dup)
                parts.append(f"pool {p['pool']} (generation {p.get('generation')}) publishes device {dup} more than "
                             f"once ({where})")
                fixes.append(f"the {p['pool'].split('/', 1)[0]} driver must publish each device name once per pool "
                             f"({dup} is {where}): check its ResourceSlices, or restart its plugin to republish them")
                pools.append({**p, "slices": slices, "duplicateDevice": dup, "slicesWithDuplicate": with_dup})
            else:
                parts.append(f"pool {p['pool']} (generation {p.get('generation')}): {why} (slices {', '.join(slices)})")
                fixes.append(f"the {p['pool'].split('/', 1)[0]} driver's slices of pool {p['pool'].split('/', 1)[-1]} "
                             f"must declare every counter set and counter their devices consume ({why})")
                pools.append({**p, "slices": slices})
        message = upstream + (": " + "; ".join(parts) + "; nothing is allocated from an invalid pool" if parts else "")
        return Reason(INVALID_POOL, message, details={"pools": pools} if pools else {}, fixes=fixes)

    def _covered_by_invalid(self, rt, claim, found: list[Reason], invalid: list) -> bool:
        """The request falls short only for want of devices (no class match, no selector match, too few), and
        devices of an invalid pool on this node would pass its class and selectors: the pool is the reason."""
        if any(x.code not in (SELECTOR_MATCHES_NOTHING, NO_DEVICES_FOR_DRIVER, INSUFFICIENT_COUNT) for x in found):
            return False
        _, class_sels, req_sels = self._request_selectors(claim, rt.request, rt.device_class)
        for p in invalid:
            for s in self._pool_slices(p["pool"]):
                driver = (s.get("spec") or {}).get("driver", "")
                for d in (s.get("spec") or {}).get("devices") or []:
                    dev = SeenDevice((driver, p["pool"].split("/", 1)[-1], d.get("name", "")), d)
                    if self._passes(class_sels, dev)[0] and self._passes(req_sels, dev)[0]:
                        return True
        return False

    def explain_error(self, error: str, trace) -> Reason:
        """An error that aborts allocation (upstream returns it to the scheduler as is)."""
        m = _ERROR_PREFIX.match(error)
        claim_name = m.group(2) if m else None
        request = m.group(3) if m else None
        lowered = error.lower()
        if "cel" in lowered:
            code = CEL_ERROR
        elif "device class" in lowered and "not found" in lowered:
            code = NO_CLASS
        else:
            code = ALLOCATION_ERROR
        details: dict = {"error": error}
        message = error
        errs = [e for rt in (trace.requests if trace else []) for e in rt.cel_errors
                if claim_name is None or rt.claim.endswith("/" + claim_name)]
        fixes = []
        if code == CEL_ERROR and errs:
            details["celErrors"] = errs[:5]
            rt = next((rt for rt in trace.requests if rt.cel_errors
                       and (claim_name is None or rt.claim.endswith("/" + claim_name))), None)
            if request is None and rt is not None:
                request = rt.request
                claim_name = claim_name or rt.claim.split("/", 1)[-1]
            expr = errs[0].get("expression")
            message = f"{error} (first failing device: {errs[0].get('device')}; expression: {expr})"
            fixes += self._cel_fixes(expr, rt.device_class if rt is not None else None, details)
        if code == NO_CLASS:
            cls = _CLASS_IN_ERROR.search(error)
            if cls:
                message += did_you_mean(cls.group(1), self.snap.device_classes)
                close = near(cls.group(1), self.snap.device_classes)
                if close:
                    details["didYouMean"] = close
            fixes += (self._no_class_fixes(cls.group(1), claim_name, request) if cls
                      else ["fix deviceClassName in the claim"])
        elif code == CEL_ERROR and not fixes:
            fixes.append("check the attribute and capacity names this driver publishes "
                         "(`kubectl dra match` shows which devices error and why)")
        if (code == CEL_ERROR and "unsupported attribute value" in error and self.alloc is not None
                and not self.alloc.gates.list_type_attributes):
            # upstream cel getAttributeValue: list values are read only with the gate on
            fixes.append("if that attribute holds a list (ints, bools, strings, versions), kube-scheduler reads it "
                         "only with DRAListTypeAttributes enabled (try --feature-gates DRAListTypeAttributes=true)")
        return Reason(code, message, claim=claim_name, request=request, details=details, fixes=fixes)

    def _no_class_fixes(self, class_name: str, claim: str | None, request: str | None) -> list[str]:
        where = f"of claim {claim}" + (f", request {request}" if request else "") if claim else "in the claim"
        close = near(class_name, self.snap.device_classes)
        if close:
            return [f"fix deviceClassName {where}: did you mean {' or '.join(close)}?",
                    f"or create DeviceClass {class_name}"]
        return [f"create DeviceClass {class_name} or fix deviceClassName {where}"]

    def _cel_fixes(self, expression: str | None, device_class: str | None, details: dict) -> list[str]:
        """The selector diagnosis as fixes ("hints" in the details); `kubectl dra match` gives the same."""
        if not expression:
            return []
        hints = self.selector_hints(expression, device_class)
        if hints:
            details["hints"] = [h.message for h in hints]
        return self._hint_fixes(hints)

    def classify(self, rt, claim, claim_name: str, node_name: str, incomplete: list) -> Reason:
        """The failed request's first (most blocking) reason."""
        return self.request_reasons(rt, claim, claim_name, node_name, incomplete)[0]

    def request_reasons(self, rt, claim, claim_name: str, node_name: str, incomplete: list) -> list[Reason]:
        """The failed request's reasons, most blocking first: the first stage of its funnel that leaves too
        few devices; else other claims holding too many of them, then what the allocator rejected the free
        matching devices for (every kind of rejection, the one that rejected most devices first)."""
        f = self.funnel(rt, claim, node_name)
        r = self._reason_maker(rt, f, claim_name)
        stage = self._device_stage_reason(rt, f, node_name, incomplete, r)
        if stage is not None:
            return [stage]
        held = self._held_reason(rt, f, r)
        rejections = self._rejection_reasons(rt, f, r)
        if held is not None:
            return [held] + [x for x in rejections if x.code != NOT_FITTING]
        if f.held_by and rejections[0].code != NOT_FITTING:
            # enough free devices, but the allocator rejected them: that comes first; the holders of the
            # rest block too (freeing them would leave devices to take)
            return rejections + [self._held_reason(rt, f, r, after_rejections=True)]
        return rejections

    def untried_reasons(self, rt, claim, claim_name: str, node_name: str, incomplete: list) -> list[Reason]:
        """A request the search never reached: its funnel alone (no rejections were recorded for it)."""
        f = self.funnel(rt, claim, node_name)
        r = self._reason_maker(rt, f, claim_name)
        found = self._device_stage_reason(rt, f, node_name, incomplete, r) or self._held_reason(rt, f, r)
        return [found] if found is not None else []

    @staticmethod
    def _reason_maker(rt, f: Funnel, claim_name: str):
        funnel_json = f.to_dict()

        def r(code: str, msg: str, *, details: Mapping[str, Any] | None = None, fixes: list | None = None) -> Reason:
            return Reason(code, msg, claim=claim_name, request=rt.request,
                          details={"funnel": funnel_json, **(details or {})}, fixes=fixes or [])
        return r

    def _device_stage_reason(self, rt, f: Funnel, node_name: str, incomplete: list, r) -> Reason | None:
        """No class, a selector error, an incomplete pool, or too few devices pass the selectors."""
        class_ok = f.matching_class
        n_class, n_selectors, need = len(class_ok), len(f.matching_selectors), rt.count
        if rt.device_class not in self.snap.device_classes:
            return r(NO_CLASS, f"DeviceClass {rt.device_class!r} does not exist"
                     + did_you_mean(rt.device_class, self.snap.device_classes), fixes=self._no_class_fixes(rt.device_class, claim_name_of(rt), rt.request))
        if f.cel_errors or rt.cel_errors:
            err = (rt.cel_errors or f.cel_errors)[0]
            expr = err.get("expression") if rt.cel_errors else None
            details: dict = {}
            fixes = self._cel_fixes(expr, rt.device_class, details) or [
                "check the attribute and capacity names this driver publishes "
                "(`kubectl dra match` shows which devices error and why)"]
            return r(CEL_ERROR, f"CEL error on {err.get('device')}: {err.get('message')}"
                     + (f" (expression: {expr})" if expr else ""), details=details, fixes=fixes)
        if incomplete and n_selectors < need:
            pools = ", ".join(f"{p['pool']} ({self.pool_slices_text(p)})" for p in incomplete)
            return r(INCOMPLETE_POOL, f"pool {pools} is incomplete (the driver is still publishing it)",
                     details={"pools": [self.pool_slices(p) for p in incomplete]})
        if n_class == 0:
            drivers = sorted(self.class_drivers(rt.device_class))
            node_drivers = sorted({e.driver for e in self.snap.devices_for_node(node_name)})
            if not set(drivers) & set(node_drivers):
                which = ", ".join(drivers) if drivers else "no driver (the class matches no device anywhere)"
                details = {"classDrivers": drivers, "nodeDrivers": node_drivers}
                fixes: list[str] = []
                own = ""
                if not drivers and f.class_selectors:
                    # the class itself is what matches nothing (often a misspelled driver name): show its selector
                    own = "; the class's selector: " + " && ".join(f.class_selectors)
                    hints = [h for e in f.class_selectors for h in self.selector_hints(e, rt.device_class)]
                    details["classSelectors"] = f.class_selectors
                    if hints:
                        details["hints"] = [h.message for h in hints]
                        fixes = [f"DeviceClass {rt.device_class}: {h.message}" for h in hints]
                return r(NO_DEVICES_FOR_DRIVER,
                         f"no device of class {rt.device_class} is reachable from this node "
                         f"(class devices come from: {which}; node has: {', '.join(node_drivers) or 'no devices'})"
                         + own, details=details, fixes=fixes)
            seen = self.values_seen(f.class_selectors, [e for e in self.snap.devices_for_node(node_name) if e.driver in drivers])
            return r(SELECTOR_MATCHES_NOTHING, f"no device on the node matches the selectors of class {rt.device_class}",
                     details={"selectors": f.class_selectors, "valuesSeen": seen})
        if n_selectors == 0:
            seen = self.values_seen(f.request_selectors, class_ok,
                                    bool(self.request_spec(self.claims.get(claim_name_of(rt)) or {}, rt.request).get("adminAccess")))
            shown = "; ".join(f"{k}: {', '.join(v)}" for k, v in seen.items())
            hints = [h for e in f.request_selectors for h in self.selector_hints(e, rt.device_class)]
            return r(SELECTOR_MATCHES_NOTHING,
                     f"{n_class} device(s) of class {rt.device_class} but none matches "
                     + " && ".join(f.request_selectors) + (f" (values here: {shown})" if shown else ""),
                     details={"selectors": f.request_selectors, "valuesSeen": seen,
                              **({"hints": [h.message for h in hints]} if hints else {})},
                     fixes=self._hint_fixes(hints, alternative="/" in rt.request))
        if rt.mode != "All" and n_selectors < need:
            return r(INSUFFICIENT_COUNT, f"needs {need} device(s), only {n_selectors} on this node match "
                                         f"(even if all were free)")
        return None

    def pool_slices(self, p: Mapping[str, Any]) -> dict:
        """An incomplete pool of the trace with the cluster-wide count: ``published`` slices of its newest
        generation out of ``expected`` (resourceSliceCount)."""
        driver, _, name = p.get("pool", "").partition("/")
        pool = self.snap.pools.get((driver, name))
        if pool is None:
            return dict(p)
        return {**p, "published": len(pool.slices), "expected": pool.expected_slice_count,
                "publishedSlices": [(s.get("metadata") or {}).get("name") for s in pool.slices]}

    def pool_slices_text(self, p: Mapping[str, Any]) -> str:
        q = self.pool_slices(p)
        if "expected" not in q:
            return "slices missing"
        return (f"{q['published']} of {q['expected']} slices published, generation {q.get('generation')}: "
                + ", ".join(x for x in q["publishedSlices"] if x))

    def _held_reason(self, rt, f: Funnel, r, after_rejections: bool = False) -> Reason | None:
        """Enough devices match, but other claims hold too many of them (``after_rejections``: enough are
        free, but the allocator rejected those; the holders of the others are named too)."""
        n_selectors, n_free, need = len(f.matching_selectors), len(f.free), rt.count
        if not (after_rejections or n_free < need or (rt.mode == "All" and f.held_by)):
            return None
        holders = self.holder_facts(f.held_by)
        fixes = self.finished_fixes(holders)
        held_text = self.holders_text(holders)
        counts = (f"{n_selectors} device(s) match, {n_free} free but rejected (see the reason above), "
                  f"the other {n_selectors - n_free} held" if after_rejections
                  else f"{n_selectors} device(s) match, {n_free} free, {need} needed")
        return r(ALL_MATCHING_ALLOCATED, f"{counts}; {held_text}",
                 details={"holders": holders}, fixes=fixes)

    def _rejection_reasons(self, rt, f: Funnel, r) -> list[Reason]:
        """Free matching devices exist: what the allocator rejected them for (taints, counters, capacity,
        constraints, binding conditions; every kind met, the one that rejected most devices first, ties in
        upstream's check order), or no combination of them fits."""
        sel_ok, n_free, need = f.matching_selectors, len(f.free), rt.count
        found: list[tuple[int, Reason]] = []
        if rt.rejected_taint:
            found.append((len({x["device"] for x in rt.rejected_taint}), self._taint_reason(rt, r)))
        if rt.rejected_counters:
            c = rt.rejected_counters[0]
            consumers = self.counter_consumers(c)
            by_claim: dict[str, list[str]] = {}
            for text in consumers:  # "ns/claim (device)"
                claim_key, _, dev = text.partition(" (")
                by_claim.setdefault(claim_key, []).append(dev.rstrip(")"))
            holders = self.holder_facts(by_claim)  # who holds the devices that took the counter (finished pods?)
            found.append((len({x.get("device") for x in rt.rejected_counters}), r(
                COUNTERS_EXHAUSTED,
                f"counter {c.get('counter')} of counter set {c.get('counter_set')} is exhausted "
                f"(device {c.get('device', '').rsplit('/', 1)[-1]} needs {self.counter_amount(c, 'needed')}, "
                f"{self.counter_amount(c, 'left')} left)"
                + (f"; {self.holders_text(holders)}" if holders else ""),
                details={"counters": rt.rejected_counters, "consumers": consumers, "holders": holders},
                fixes=self.finished_fixes(holders))))
        if rt.rejected_capacity:
            c = rt.rejected_capacity[0]
            found.append((len({x.get("device") for x in rt.rejected_capacity}), r(
                CAPACITY_EXHAUSTED, f"not enough capacity left on {c.get('device')}: "
                                    f"{self.capacity_text(c.get('device', ''), c.get('reason', ''))}"
                                    + (f"; shared by {', '.join(sharers)}" if (sharers := self.sharers(c.get('device', ''))) else ""),
                details={"capacity": rt.rejected_capacity, **({"sharedBy": sharers} if sharers else {})})))
        if rt.rejected_constraint:
            found.append((len({x.get("device") for x in rt.rejected_constraint}), self._constraint_reason(rt, f, r)))
        if rt.rejected_binding:
            found.append((len(set(rt.rejected_binding)), r(
                BINDING_CONDITIONS, "matching devices need binding conditions, which are disabled",
                details={"devices": rt.rejected_binding})))
        if found:
            return [x for _, x in sorted(found, key=lambda e: -e[0])]  # stable: ties keep the check order
        return [r(NOT_FITTING, f"{n_free} free matching device(s) but no combination satisfies every request "
                               f"and constraint of the pod's claims together")]

    def _taint_reason(self, rt, r) -> Reason:
        """The taints the request does not tolerate, each with the devices that carry it and where it comes
        from (the driver's slice, or a DeviceTaintRule: kubectl_dra.taintrules), and one toleration per
        taint as YAML the API server accepts (whatif.check_tolerating_device_taints re-runs the dry run
        with each one to say whether it is enough)."""
        by_taint: dict[tuple, dict] = {}
        for x in rt.rejected_taint:
            k = (x.get("key"), x.get("value"), x.get("effect"))
            g = by_taint.setdefault(k, {"taint": x, "devices": [], "sources": set()})
            name = x["device"].rsplit("/", 1)[-1]
            if name not in g["devices"]:
                g["devices"].append(name)
            src = source_of_taint(self.snap, x.get("device", ""), x)
            if src:
                g["sources"].add(src)
        groups = sorted(by_taint.values(), key=lambda g: -len(g["devices"]))  # stable: first seen first
        taints = [{**x, "source": source_of_taint(self.snap, x.get("device", ""), x)} for x in rt.rejected_taint]
        tolerations = [toleration_for(g["taint"]) for g in groups]
        parts = [(f"device {g['devices'][0]} has" if len(g["devices"]) == 1 else
                  f"devices {', '.join(sorted(g['devices']))} have") + f" taint {taint_text(g['taint'])}"
                 + (f" (from {', '.join(sorted(g['sources']))})" if g["sources"] else "")
                 for g in groups]
        fixes = [f"add to request {rt.request}: tolerations: [{toleration_text(tol)}]" + health_caveat(g["taint"])
                 for tol, g in zip(tolerations, groups)]
        return r(TAINT, f"{'; '.join(parts)}, which the request does not tolerate",
                 details={"taints": taints, "toleration": tolerations[0], "tolerations": tolerations}, fixes=fixes)

    def _constraint_reason(self, rt, f: Funnel, r) -> Reason:
        """A matchAttribute / distinctAttribute constraint no free devices satisfy.  Across requests, both
        (all) requests are named with the values their free matching devices have; within one request, the
        values of its free matching devices.  Held devices are counted apart ("2 more held"): they cannot be
        picked whatever their value."""
        c = rt.rejected_constraint[0]
        attr = c.get("attribute")
        claim_name = claim_name_of(rt)
        claim = self.claims.get(claim_name) or {}
        spec_constraints = ((claim.get("spec") or {}).get("devices") or {}).get("constraints") or []
        index = c.get("constraint")
        constraint = spec_constraints[index] if isinstance(index, int) and index < len(spec_constraints) else {}
        all_requests = [q.get("name") for q in ((claim.get("spec") or {}).get("devices") or {}).get("requests") or []]
        names = list(constraint.get("requests") or all_requests)
        lists = self.alloc is not None and self.alloc.gates.list_type_attributes
        if c.get("kind") == "distinctAttribute":
            kind = "have no value in common of" if lists else "have distinct values of"
        else:  # with DRAListTypeAttributes, matchAttribute asks for one value common to all
            kind = "share a common value of" if lists else "share the same"

        def histogram(funnel: Funnel) -> tuple[Counter, int, list[str]]:
            values = Counter()
            for e in funnel.free:
                v = lookup_attribute(e.device, e.driver, attr) if attr else None
                values["<not set>" if v is None else attribute_text(v)] += 1
            unset = [e.name for e in funnel.free if attr and lookup_attribute(e.device, e.driver, attr) is None]
            return values, len(funnel.matching_selectors) - len(funnel.free), unset

        def shown(values: Counter, held: int) -> str:
            text = ", ".join(f"{v} x{n}" for v, n in values.most_common()) or "no free device"
            return text + (f" ({held} more held)" if held else "")

        def unset_text(unset: list[str]) -> str:
            return (f"; {', '.join(unset[:5])}{' ...' if len(unset) > 5 else ''} "
                    f"{'does' if len(unset) == 1 else 'do'} not publish {attr}") if unset else ""

        own_values, own_held, own_unset = histogram(f)
        base = rt.request.partition("/")[0]
        others = []
        trace, node_name = getattr(self, "_context", (None, None))
        if len(names) > 1 and trace is not None:
            for q in trace.requests:
                if q.claim != rt.claim or q.request.partition("/")[0] == base or (
                        q.request not in names and q.request.partition("/")[0] not in names):
                    continue
                if "/" in q.request and not (q.tried or q.failed):
                    continue  # an alternative of a prioritized list the search never reached
                others.append((q.request, histogram(self.funnel(q, claim, node_name))))
        if not others:
            return r(CONSTRAINT_UNSATISFIABLE,
                     f"no {rt.count} free matching device(s) {kind} {attr} (values of the free matching devices: "
                     f"{shown(own_values, own_held)}){unset_text(own_unset)}",
                     details={"constraint": c, "values": dict(own_values), "held": own_held})
        rows = sorted([(rt.request, (own_values, own_held, own_unset))] + others,
                      key=lambda x: names.index(x[0]) if x[0] in names else
                      names.index(x[0].partition("/")[0]) if x[0].partition("/")[0] in names else len(names))
        parts = [f"{q}: {shown(v, h)}" for q, (v, h, _) in rows]
        unset = [n for _, (_, _, u) in rows for n in u]
        req_names = [q for q, _ in rows]
        return r(CONSTRAINT_UNSATISFIABLE,
                 f"requests {', '.join(req_names[:-1])} and {req_names[-1]} of claim {claim_name} must {kind} "
                 f"{attr}, but no free matching devices do ({'; '.join(parts)}){unset_text(unset)}",
                 details={"constraint": c, "requests": req_names, "values": dict(own_values), "held": own_held,
                          "valuesByRequest": {rt.request: dict(own_values), **{q: dict(v) for q, (v, _, _) in others}}})

    def sharers(self, device: str) -> list[str]:
        """The claims consuming capacity of a shared device, with whom each is reserved for."""
        if device.count("/") < 2:
            return []
        out = []
        for h in self.snap.holders.get(DeviceKey(*device.split("/", 2)), ()):
            if h.admin_access:
                continue
            claim = self.snap.resource_claims.get((h.namespace, h.claim)) or {}
            who = [c.label for c in consumers_of(claim)]
            text = f"{h.namespace}/{h.claim}" + (f" ({', '.join(who)})" if who else "")
            if text not in out:
                out.append(text)
        return out

    def capacity_text(self, device: str, reason: str) -> str:
        """The allocator's capacity rejection with its amounts in the units the device publishes its
        capacity in ("needs 50Gi, 40Gi left", not "53687091200"); the JSON details keep the raw text."""
        m = _CAPACITY_AMOUNTS.match(reason or "")
        if not m:
            return reason
        key = m.group(1)
        entry = self.snap.devices_by_key.get(DeviceKey(*device.split("/", 2))) if device.count("/") >= 2 else None
        caps = (entry.device.get("capacity") or {}) if entry is not None else {}
        like = (caps.get(key) or caps.get(key.rsplit("/", 1)[-1]) or {}).get("value")
        if like is None and entry is not None and key.startswith(entry.driver + "/"):
            like = (caps.get(key.removeprefix(entry.driver + "/")) or {}).get("value")

        def q(text: str) -> str:
            try:
                return quantity_text(parse_quantity(text).value, like)
            except (QuantityError, ValueError):
                return text
        if m.group(2) is not None:
            return f"{key}: needs {q(m.group(2))}, {q(m.group(3))} left"
        return f"{key}: {q(m.group(4))} not allowed by requestPolicy"

    def counter_amount(self, c: Mapping[str, Any], field: str) -> str:
        """A counter amount of a rejection in the units the pool declares the counter in ("40Gi", not
        "42949672960"); the JSON details keep the raw value."""
        raw = c.get(field)
        dev = c.get("device", "")
        driver, pool = dev.split("/", 2)[:2] if dev.count("/") >= 2 else ("", "")
        p = self.snap.pools.get((driver, pool))
        for s in (p.slices if p else ()):
            for cs in (s.get("spec") or {}).get("sharedCounters") or []:
                if cs.get("name") == c.get("counter_set") and c.get("counter") in (cs.get("counters") or {}):
                    like = ((cs["counters"][c["counter"]]) or {}).get("value")
                    try:
                        return quantity_text(parse_quantity(str(raw)).value, like)
                    except QuantityError:
                        return str(raw)
        return str(raw)

    def counter_consumers(self, c: Mapping[str, Any]) -> list[str]:
        """Claims whose allocated devices consume the exhausted counter."""
        dev = c.get("device", "")
        driver, pool = dev.split("/", 2)[:2] if dev.count("/") >= 2 else ("", "")
        out = []
        for key, holders in self.snap.holders.items():
            if key.driver != driver or key.pool != pool:
                continue
            e = self.snap.devices_by_key.get(key)
            if e is None:
                continue
            for cc in e.device.get("consumesCounters") or []:
                if cc.get("counterSet") == c.get("counter_set") and c.get("counter") in (cc.get("counters") or {}):
                    out += [f"{h.namespace}/{h.claim} ({key.device})" for h in holders]
        return sorted(set(out))


def claim_name_of(rt) -> str:
    """The claim's name of a traced request (``rt.claim`` is namespace/name)."""
    return rt.claim.split("/", 1)[-1]


_HEALTH_WORDS = ("health", "unhealthy", "fault", "failed", "failure", "xid", "ecc", "broken", "degraded")


def health_caveat(t: Mapping[str, Any]) -> str:
    """A caveat for a taint that reads like a health report: tolerating it puts the pod on a device the
    driver says may be broken."""
    text = f"{t.get('key', '')} {t.get('value', '')}".lower()
    if not any(w in text for w in _HEALTH_WORDS):
        return ""
    return (" (caution: this taint looks like a health report from the driver: the device may be broken, and "
            "tolerating the taint runs the pod on it anyway)")
