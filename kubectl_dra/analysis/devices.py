"""Facts about devices: display values, class matching, holders."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from kubectl_dra.selection import MATCH, NO_MATCH, Kind, attribute_plain, for_snapshot
from kubectl_dra.snapshot import DeviceEntry, Snapshot

# Attributes people look for first, by bare name (any domain).
KEY_ATTRIBUTES = ("productName", "model", "type", "architecture", "profile", "family", "index", "driverVersion")
KEY_CAPACITY = ("memory", "cores", "multiprocessors", "bandwidth", "millicores")


def attribute_text(attr: Mapping[str, Any]) -> str:
    """Display text of a raw attribute; a list attribute (DRAListTypeAttributes) as ``[a b]``."""
    v = attribute_plain(attr)
    if isinstance(v, list):
        return "[" + " ".join("true" if x is True else "false" if x is False else str(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def bare(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def qualified(name: str, driver: str) -> str:
    return name if "/" in name else f"{driver}/{name}"


def device_attributes(entry: DeviceEntry) -> dict[str, Any]:
    """Attributes as {qualified name: plain value}."""
    return {qualified(k, entry.driver): attribute_plain(v) for k, v in (entry.device.get("attributes") or {}).items()}


def device_capacity(entry: DeviceEntry) -> dict[str, str]:
    return {qualified(k, entry.driver): str((v or {}).get("value")) for k, v in (entry.device.get("capacity") or {}).items()}


def summary_attributes(entry: DeviceEntry) -> str:
    attrs = entry.device.get("attributes") or {}
    by_bare = {bare(k): v for k, v in attrs.items()}
    parts = [f"{k}={attribute_text(by_bare[k])}" for k in KEY_ATTRIBUTES if k in by_bare]
    return ",".join(parts[:3])


def summary_capacity(entry: DeviceEntry) -> str:
    cap = entry.device.get("capacity") or {}
    by_bare = {bare(k): v for k, v in cap.items()}
    parts = [f"{k}={(by_bare[k] or {}).get('value')}" for k in KEY_CAPACITY if k in by_bare]
    if not parts:
        parts = [f"{bare(k)}={(v or {}).get('value')}" for k, v in list(cap.items())[:2]]
    return ",".join(parts)


def taints_text(entry: DeviceEntry) -> str:
    out = []
    for t in entry.device.get("taints") or []:
        kv = t.get("key", "") + (f"={t['value']}" if t.get("value") else "")
        # a DeviceTaintRule's taint (kubectl_dra.taintrules.apply) names its rule
        out.append(f"{kv}:{t.get('effect', '')}" + (f" (rule {t['rule']})" if t.get("rule") else ""))
    return ",".join(out)


def selector_expressions(selectors) -> list[str]:
    """CEL texts of a DeviceClass's or request's ``selectors`` list."""
    return [((sel.get("cel") or {}).get("expression") or "") for sel in selectors or []]


def device_label(entry: DeviceEntry) -> str:
    """driver/pool/device, and the node when the device is node-local: how errors name a device."""
    label = f"{entry.driver}/{entry.pool}/{entry.name}"
    return f"{label} (node {entry.node_name})" if entry.node_name else label


class ClassMatcher:
    """DeviceClass and request selectors on the snapshot's devices, worded for explanations:
    ``(passes, error message or None)``; an error never passes (see :mod:`kubectl_dra.selection`
    for the verdicts and their cache, shared by everything that looks at this snapshot)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.selection = for_snapshot(snapshot)

    def class_selectors(self, class_name: str) -> list[str]:
        cls = self.snapshot.device_classes.get(class_name) or {}
        return selector_expressions((cls.get("spec") or {}).get("selectors"))

    def passes(self, expressions, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(all selectors true, error message or None); stops at the first false or failing selector.
        A runtime error's message names the device; a compile error's is the compiler's text."""
        verdict = self.selection.evaluate_all(expressions, entry.driver, entry.device)
        if verdict is MATCH:
            return True, None
        if verdict is NO_MATCH:
            return False, None
        if verdict.kind is Kind.RUNTIME_ERROR:
            return False, f"device {device_label(entry)}: {verdict.message}"
        return False, verdict.message  # the compile error

    def matches(self, class_name: str, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(matches, error message or None) for one device against one class."""
        return self.passes(self.class_selectors(class_name), entry)


# -- free / used, as the allocator sees it -----------------------------------------------
def quantity_text(value, like: str | None) -> str:
    """An amount in the units the driver wrote (``like`` is one of its quantities: "80Gi" -> binary)."""
    from fractions import Fraction

    from kubectl_dra.quantity import DECIMAL_SI, QuantityError, format_quantity, parse_quantity

    fmt = DECIMAL_SI
    if like is not None:
        try:
            fmt = parse_quantity(str(like)).format
        except QuantityError:
            pass
    return format_quantity(Fraction(value), fmt)




class Availability(NamedTuple):
    """Whether a device could be given to a plain request now, as the allocator would judge it.

    ``state``: "free", "used" (held by a claim), "partly used" (consumable capacity shared, some left),
    "unavailable" (not held, but the counters it needs are used up by other devices of its pool; its text
    says "partly used: 3 of 7 slices ... used by other devices").
    ``text`` says it in a few words, amounts in the driver's units; ``counters`` and ``capacity`` hold
    the raw amounts (strings of exact quantities) for JSON."""

    state: str
    free: bool
    text: str
    counters: tuple = ()
    capacity: tuple = ()

    def to_dict(self) -> dict:
        return {"state": self.state, "free": self.free, "text": self.text,
                "counters": [dict(c) for c in self.counters], "capacity": [dict(c) for c in self.capacity]}


def counter_usage(snap: Snapshot, state=None) -> tuple[dict, dict]:
    """The shared counters of every pool and what the devices in use take from them:
    ``(totals, used)``, both ``{(driver, pool): {counter set: {counter: ...}}}``; totals are the
    quantities as the slices write them, used are exact amounts (Fractions), only for counters some
    device in use (held, or shared by claims) consumes.  ``state``: the snapshot's :class:`AllocatedState` when already built."""
    from fractions import Fraction

    from kubectl_dra.allocator.types import AllocatedState, quantity_value

    if state is None:
        state = AllocatedState(snap.allocated_claims)
    totals: dict = {}
    used: dict = {}
    for pool in snap.pools.values():
        sets = totals.setdefault(pool.key, {})
        for s in pool.slices:
            for cs in (s.get("spec") or {}).get("sharedCounters") or []:
                sets[cs.get("name", "")] = {k: (v or {}).get("value", "0") for k, v in (cs.get("counters") or {}).items()}
    for e in snap.devices:
        device_id = (e.driver, e.pool, e.name)
        # a device held only through shared allocations (shareID) takes its counters once, however many
        # claims share it (upstream checkAvailableCounters; kubectl_dra.allocator's available_counters)
        if device_id not in state.devices and device_id not in state.consumed_capacity:
            continue
        for consumption in e.device.get("consumesCounters") or []:
            per_set = used.setdefault(e.key[:2], {}).setdefault(consumption.get("counterSet", ""), {})
            for counter, amount in (consumption.get("counters") or {}).items():
                per_set[counter] = per_set.get(counter, Fraction(0)) + quantity_value(amount)
    return totals, used


def device_availability(snap: Snapshot) -> Mapping:
    """:class:`Availability` of every device of the snapshot, by its key.  Follows the allocator's own
    accounting (:class:`kubectl_dra.allocator.types.AllocatedState`): adminAccess results never count,
    shareID results count as consumed capacity, and the counters of every device in use are taken from
    its pool's counter sets (upstream checkAvailableCounters)."""
    from fractions import Fraction

    from kubectl_dra.allocator.types import AllocatedState, quantity_value

    state = AllocatedState(snap.allocated_claims)
    totals, used = counter_usage(snap, state)
    out = {}
    for e in snap.devices:
        dev_id = (e.driver, e.pool, e.name)
        if dev_id in state.devices:
            out[e.key] = Availability("used", False, "used")
            continue
        cap_rows = []
        consumed = state.consumed_capacity.get(dev_id)
        if consumed is not None:
            for name, cap in (e.device.get("capacity") or {}).items():
                total_text = (cap or {}).get("value", "0")
                total = quantity_value(total_text)
                left = total - consumed.get(name, Fraction(0))
                cap_rows.append({"name": name, "left": str(left), "total": total_text,
                                 "text": f"{quantity_text(left, total_text)} of {quantity_text(total, total_text)} left"})
        counter_rows = []
        short = False
        pool_totals = totals.get(e.key[:2], {})
        pool_used = used.get(e.key[:2], {})
        for consumption in e.device.get("consumesCounters") or []:
            set_name = consumption.get("counterSet", "")
            for counter, amount in (consumption.get("counters") or {}).items():
                total_text = pool_totals.get(set_name, {}).get(counter)
                if total_text is None:
                    continue
                total = quantity_value(total_text)
                taken = pool_used.get(set_name, {}).get(counter, Fraction(0))
                need = quantity_value(amount)
                if taken == 0:
                    continue
                fits = total - taken >= need
                short = short or not fits
                counter_rows.append({"counterSet": set_name, "counter": counter, "used": str(taken),
                                     "total": total_text, "needs": str(need), "fits": fits,
                                     "text": f"{quantity_text(taken, total_text)} of "
                                             f"{quantity_text(total, total_text)} {counter}",
                                     "needsText": f"{quantity_text(need, total_text)} {counter}"})
        if short:
            # e.g. a whole GPU whose MIG partitions took some of its counters: not free, though no claim holds it
            text = ("partly used: " + ", ".join(r["text"] for r in counter_rows) + " used by other devices (needs "
                    + ", ".join(r["needsText"] for r in counter_rows if not r["fits"]) + ")")
            out[e.key] = Availability("unavailable", False, text, tuple(counter_rows), tuple(cap_rows))
        elif cap_rows:
            free = all(quantity_value(r["left"]) > 0 for r in cap_rows) if cap_rows else True
            text = ("partly used: " if free else "used: ") + ", ".join(
                (f"{bare(r['name'])} " if len(cap_rows) > 1 else "") + r["text"] for r in cap_rows)
            out[e.key] = Availability("partly used" if free else "used", free, text, tuple(counter_rows), tuple(cap_rows))
        elif counter_rows:
            out[e.key] = Availability("free", True, "free (of its counters, "
                                      + ", ".join(r["text"] for r in counter_rows) + " used)", tuple(counter_rows))
        else:
            out[e.key] = Availability("free", True, "free")
    return out
