"""`top`: the device picture at a glance, per node, class, driver or pool.

For every group: how many devices it has, how many could be allocated now and how many cannot (held by a
claim, or their shared counters used up), the shared counters of partitionable devices that the group's
devices draw on, and the consumable capacity of its shared devices.  Free and used are the allocator's
judgement, the same as `get devices`' STATE (:func:`kubectl_dra.analysis.devices.device_availability`).

The result is the `-o json` document (keys documented in the README, "top"); the text table is drawn from it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from kubectl_dra.analysis.devices import ClassMatcher, bare, counter_usage, device_availability, quantity_text
from kubectl_dra.errors import NotFoundError, UsageError
from kubectl_dra.snapshot import DeviceEntry, Snapshot

#: --by values; the default first
BY = ("node", "class", "driver", "pool")
#: --sort-by values: name ascending (the default), every other key descending, ties by name (as kubectl top)
SORT_BY = ("name", "devices", "used", "free", "counters", "capacity")

#: taint effects that keep a request without a matching toleration off a device
_BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")

_NOT_FOUND = {"node": 'nodes "{}" not found', "class": 'deviceclasses.resource.k8s.io "{}" not found',
              "driver": 'no ResourceSlice publishes devices of driver "{}"',
              "pool": 'no ResourceSlice publishes a pool (or driver) "{}"'}


def check_choice(flag: str, value: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    value = (value or "").strip()
    if value not in choices:
        raise UsageError(f"{flag} accepts only {', '.join(choices[:-1])} or {choices[-1]}, not {value!r}")
    return value


def _groups(snap: Snapshot, by: str, devices: list[DeviceEntry]) -> tuple[dict[tuple, list[DeviceEntry]], dict]:
    """(group key -> its devices, in snapshot order; class key -> CEL errors).  Keys: (name,) or, by pool,
    (driver, pool).  A node's devices are those bound to it by name; the others are grouped under where they
    are available ("all nodes", "node selector"), never counted on every node they reach."""
    groups: dict[tuple, list[DeviceEntry]] = {}
    errors: dict = {}
    if by == "class":
        matcher = ClassMatcher(snap)
        for name in sorted(snap.device_classes):
            members = groups.setdefault((name,), [])
            for e in devices:
                ok, err = matcher.matches(name, e)
                if err:
                    errors[(name,)] = errors.get((name,), 0) + 1
                if ok:
                    members.append(e)
        return groups, errors
    for e in devices:
        key = (e.scope,) if by == "node" else (e.driver,) if by == "driver" else (e.driver, e.pool)
        groups.setdefault(key, []).append(e)
    return groups, errors


def _amounts_rows(amounts: dict) -> list[dict]:
    """{(driver, name): [used, total, unit-like text]} -> sorted rows with quantities in the driver's units."""
    return [{"driver": driver, "name": name, "used": quantity_text(used, like), "total": quantity_text(total, like),
             "percent": _percent(used, total)}
            for (driver, name), (used, total, like) in sorted(amounts.items())]


def _percent(part, whole) -> int | None:
    if not whole:
        return None
    return int(Fraction(part) * 100 / Fraction(whole))


def device_top(snap: Snapshot, *, by: str = "node", sort_by: str = "name", names: Iterable[str] = (),
               driver: str | None = None, class_name: str | None = None) -> dict:
    """The `top` report: ``{"by", "groups": [...], "total": {...}}`` (README, "top").  ``driver``,
    ``class_name``: only the devices of that driver, or that the DeviceClass selects."""
    from kubectl_dra.allocator.types import AllocatedState, quantity_value

    by = check_choice("--by", by, BY)
    sort_by = check_choice("--sort-by", sort_by, SORT_BY)
    state = AllocatedState(snap.allocated_claims)
    availability = device_availability(snap)
    counter_totals, counter_used = counter_usage(snap, state)
    if class_name is not None and class_name not in snap.device_classes:
        raise NotFoundError(_NOT_FOUND["class"].format(class_name))
    devices = [e for e in snap.devices if driver is None or e.driver == driver]
    if class_name is not None:
        matcher = ClassMatcher(snap)
        devices = [e for e in devices if matcher.matches(class_name, e)[0]]
    groups, cel_errors = _groups(snap, by, devices)
    incomplete = {key for key, pool in snap.pools.items() if not pool.complete}

    def summary(entries: list[DeviceEntry]) -> dict:
        counts = {"total": len(entries), "used": 0, "free": 0, "held": 0, "unavailable": 0, "partlyUsed": 0,
                  "tainted": 0, "incompletePool": 0}
        sets: set = set()
        capacity: dict = {}
        for e in entries:
            a = availability[e.key]
            counts["free" if a.free else "used"] += 1
            if a.free and any((t or {}).get("effect") in _BLOCKING_EFFECTS for t in e.device.get("taints") or ()):
                counts["tainted"] += 1  # free, but only for requests that tolerate the taint
            if a.free and e.key[:2] in incomplete:
                counts["incompletePool"] += 1  # the allocator uses no device of a pool it has not seen whole
            if a.state == "used":
                counts["held"] += 1
            elif a.state == "unavailable":
                counts["unavailable"] += 1
            elif a.state == "partly used":
                counts["partlyUsed"] += 1
            for consumption in e.device.get("consumesCounters") or []:
                sets.add((e.driver, e.pool, consumption.get("counterSet", "")))
            if e.device.get("allowMultipleAllocations"):  # consumable capacity (shared devices)
                consumed = state.consumed_capacity.get((e.driver, e.pool, e.name)) or {}
                for cap_name, cap in (e.device.get("capacity") or {}).items():
                    total_text = (cap or {}).get("value", "0")
                    row = capacity.setdefault((e.driver, bare(cap_name)), [Fraction(0), Fraction(0), total_text])
                    row[0] += consumed.get(cap_name, Fraction(0))
                    row[1] += quantity_value(total_text)
        counters: dict = {}
        for drv, pool, set_name in sorted(sets):
            for counter, total_text in (counter_totals.get((drv, pool), {}).get(set_name) or {}).items():
                row = counters.setdefault((drv, counter), [Fraction(0), Fraction(0), total_text])
                row[0] += counter_used.get((drv, pool), {}).get(set_name, {}).get(counter, Fraction(0))
                row[1] += quantity_value(total_text)
        return {"devices": counts, "counterSets": len(sets),
                "counters": _amounts_rows(counters), "capacity": _amounts_rows(capacity)}

    wanted = list(names or ())
    if by == "node":  # a node named on the command line is shown even when no device is bound to it
        for n in wanted:
            if n in snap.nodes and (n,) not in groups:
                groups[(n,)] = []
    if wanted:
        known = {key[-1] for key in groups} | ({key[0] for key in groups} if by == "pool" else set())
        for n in wanted:
            if n not in known:
                raise NotFoundError(_NOT_FOUND[by].format(n))
    rows = []
    for key, entries in groups.items():
        if wanted and key[-1] not in wanted and not (by == "pool" and key[0] in wanted):
            continue
        row = {"name": key[-1], **({"driver": key[0]} if by == "pool" else {}), **summary(entries)}
        if by == "class":
            row["celErrors"] = cel_errors.get(key, 0)
        rows.append(row)
    rows.sort(key=lambda r: (r.get("driver", ""), r["name"]))
    if sort_by != "name":
        rows.sort(key=lambda r: -_sort_value(r, sort_by))  # stable: ties keep the name order
    total = summary(devices)
    return {"by": by, "sortBy": sort_by, "groups": rows, "total": total}


def _sort_value(row: dict, key: str):
    if key in ("devices", "used", "free"):
        return row["devices"]["total" if key == "devices" else key]
    amounts = row["counters" if key == "counters" else "capacity"]
    return max((a["percent"] for a in amounts if a["percent"] is not None), default=-1)
