"""`get`: inventories of devices, classes, slices, claims, templates and DeviceTaintRules as records.

Each function returns a list of plain dicts (the `-o json` records); the
table renderer picks columns from them.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from kubectl_dra.analysis.devices import (
    ClassMatcher, device_attributes, device_availability, device_capacity, selector_expressions, summary_attributes, summary_capacity,
    taints_text,
)
from kubectl_dra.errors import NotFoundError
from kubectl_dra.names import did_you_mean
from kubectl_dra.nodeselector import label_selector_matches, parse_label_selector
from kubectl_dra.snapshot import Snapshot, name_of, namespace_of


def request_summaries(claim_spec: Mapping[str, Any]) -> list[str]:
    """`gpu: 2 x gpu.example.com` / `nic: All x net` / `gpu: first of [a, b]`."""
    out = []
    for r in ((claim_spec or {}).get("devices") or {}).get("requests") or []:
        if r.get("firstAvailable"):
            subs = ", ".join(f"{s.get('name')}:{_count_text(s)}x{s.get('deviceClassName')}" for s in r["firstAvailable"])
            out.append(f"{r.get('name')}: first of [{subs}]")
        else:
            ex = r.get("exactly") or {}
            out.append(f"{r.get('name')}: {_count_text(ex)}x{ex.get('deviceClassName')}")
    return out


def _count_text(req: Mapping[str, Any]) -> str:
    if req.get("allocationMode") == "All":
        return "All"
    return str(req.get("count") or 1)


def claim_state(claim: Mapping[str, Any]) -> str:
    """kubectl's STATE column for a ResourceClaim: "deleted," first when it is being deleted, then
    "pending" or "allocated" and ",reserved" (``deleted,allocated,reserved``)."""
    status = claim.get("status") or {}
    parts = ["deleted"] if (claim.get("metadata") or {}).get("deletionTimestamp") else []
    if not status.get("allocation"):
        parts.append("pending")
    else:
        parts.append("allocated")
        if status.get("reservedFor"):
            parts.append("reserved")
    return ",".join(parts)


def claim_deleting(claim: Mapping[str, Any] | None) -> bool:
    """The claim has a deletion timestamp (kubectl's "deleted," state): its devices are freed once its
    finalizer is removed, and the scheduler refuses it for new pods."""
    return bool(((claim or {}).get("metadata") or {}).get("deletionTimestamp"))


def allocation_node(claim: Mapping[str, Any]) -> str | None:
    """The node an allocation is bound to, when its node selector names one node."""
    sel = ((claim.get("status") or {}).get("allocation") or {}).get("nodeSelector")
    if not sel:
        return None
    for term in sel.get("nodeSelectorTerms") or []:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and len(f.get("values") or []) == 1:
                return f["values"][0]
    return "<selector>"


def _label_filter(objs: Iterable[dict], selector: str | None) -> list[dict]:
    if not selector:
        return list(objs)
    sel = parse_label_selector(selector)
    return [o for o in objs if label_selector_matches((o.get("metadata") or {}).get("labels") or {}, sel)]


def _in_scope(key: tuple[str, str], namespace: str, all_namespaces: bool) -> bool:
    return all_namespaces or key[0] == namespace


# -- devices ------------------------------------------------------------------
def device_records(snap: Snapshot, *, node: str | None = None, driver: str | None = None,
                   class_name: str | None = None, free: bool = False, allocated: bool = False) -> list[dict]:
    if class_name is not None and class_name not in snap.device_classes:
        raise NotFoundError(f'deviceclasses.resource.k8s.io "{class_name}" not found'
                            + did_you_mean(class_name, snap.device_classes))
    if node is not None and node not in snap.nodes and node not in snap.devices_by_node_name:
        raise NotFoundError(f'nodes "{node}" not found' + did_you_mean(node, [*snap.nodes, *snap.devices_by_node_name]))
    entries = snap.devices_for_node(node) if node is not None else snap.devices
    matcher = ClassMatcher(snap) if class_name else None
    availability = device_availability(snap)
    consumers = _holder_consumers(snap)
    out = []
    for e in entries:
        if driver and e.driver != driver:
            continue
        holders = snap.holders.get(e.key, ())
        avail = availability[e.key]
        if free and not avail.free:
            continue
        if allocated and not holders:
            continue
        if matcher is not None and not matcher.matches(class_name, e)[0]:
            continue
        out.append({
            "node": node if (node is not None and e.node_name is None) else e.scope,
            "driver": e.driver,
            "pool": e.pool,
            "slice": e.slice_name,
            "device": e.name,
            "summary": summary_attributes(e),
            "capacitySummary": summary_capacity(e),
            "attributes": device_attributes(e),
            "capacity": device_capacity(e),
            "taints": list(e.device.get("taints") or []),
            "taintSummary": taints_text(e),
            "holders": [
                {"namespace": h.namespace, "claim": h.claim, "request": h.request, "pods": list(h.reserved_for),
                 "consumers": consumers.get((h.namespace, h.claim), []),
                 "deleting": claim_deleting(snap.resource_claims.get((h.namespace, h.claim))),
                 "adminAccess": h.admin_access, **({"shareID": h.share_id} if h.share_id else {})}
                for h in holders
            ],
            "availability": avail.to_dict(),
        })
    return out


def _holder_consumers(snap: Snapshot) -> dict:
    """(namespace, claim) -> its reservedFor consumers as {"type", "name"} (a PodGroup is not a pod)."""
    from kubectl_dra.analysis.consumers import consumers_of

    return {(namespace_of(c), name_of(c)): [x.to_dict() | {"label": x.label} for x in consumers_of(c)]
            for c in snap.allocated_claims}


# -- classes ------------------------------------------------------------------
def class_records(snap: Snapshot, label_selector: str | None = None, names: list[str] | None = None) -> list[dict]:
    matcher = ClassMatcher(snap)
    availability = device_availability(snap)
    out = []
    classes = [snap.device_classes[n] for n in sorted(snap.device_classes)]
    for cls in _label_filter(classes, label_selector):
        name = name_of(cls)
        if names and name not in names:
            continue
        matching = errors = free = 0
        for e in snap.devices:
            ok, err = matcher.matches(name, e)
            if err:
                errors += 1
            if ok:
                matching += 1
                if availability[e.key].free:
                    free += 1
        spec = cls.get("spec") or {}
        out.append({
            "name": name,
            "selectors": selector_expressions(spec.get("selectors")),
            "config": len(spec.get("config") or []),
            "devices": matching, "free": free, "errors": errors,
            "object": cls,
        })
    return out


# -- slices -------------------------------------------------------------------
def slice_records(snap: Snapshot, label_selector: str | None = None, node: str | None = None,
                  driver: str | None = None) -> list[dict]:
    if node is not None and node not in snap.nodes and node not in snap.devices_by_node_name:
        raise NotFoundError(f'nodes "{node}" not found')  # as `get devices --node` says
    out = []
    for s in _label_filter(sorted(snap.resource_slices, key=name_of), label_selector):
        spec = s.get("spec") or {}
        pool_spec = spec.get("pool") or {}
        pool = snap.pools.get((spec.get("driver", ""), pool_spec.get("name", "")))
        if driver and spec.get("driver") != driver:
            continue
        where = spec.get("nodeName") or ("all nodes" if spec.get("allNodes") else
                                          "per device" if spec.get("perDeviceNodeSelection") else
                                          "node selector" if spec.get("nodeSelector") else "<none>")
        if node and spec.get("nodeName") != node:
            continue
        gen = int(pool_spec.get("generation", 0) or 0)
        out.append({
            "name": name_of(s), "driver": spec.get("driver"), "pool": pool_spec.get("name"),
            "generation": gen, "node": where, "devices": len(spec.get("devices") or []),
            "sharedCounters": len(spec.get("sharedCounters") or []),
            "poolSlices": f"{len(pool.slices)}/{pool.expected_slice_count}" if pool else "?",
            "current": bool(pool and gen == pool.generation),
            "complete": bool(pool and pool.complete),
            "object": s,
        })
    return out


# -- DeviceTaintRules -------------------------------------------------------------
def taint_rule_records(snap: Snapshot, gates, label_selector: str | None = None,
                       names: list[str] | None = None, *, now=None) -> list[dict]:
    """Every DeviceTaintRule: what its selector names, its taint, how many devices it selects (the slice
    tracker's reading, under the release of ``gates``), whether ``gates`` put it in force, and its age in
    seconds at ``now`` (a datetime; None when either time is unknown)."""
    from kubectl_dra import taintrules
    from kubectl_dra.analysis.taintrule import selected_devices
    from kubectl_dra.analysis.why_pending.stages import parse_time

    minor = taintrules.minor_of(gates)
    needed = taintrules.gates_needed(gates)
    rules = [snap.device_taint_rules[k] for k in sorted(snap.device_taint_rules)]
    out = []
    for r in _label_filter(rules, label_selector):
        if names and name_of(r) not in names:
            continue
        sel = taintrules.selector_of(r)
        taint = taintrules.rule_taint(r)
        out.append({
            "name": name_of(r),
            "driver": (sel or {}).get("driver"), "pool": (sel or {}).get("pool"), "device": (sel or {}).get("device"),
            "hasSelector": sel is not None,
            "effect": taint.get("effect"), "key": taint.get("key"), "value": taint.get("value"),
            "ageSeconds": _age_seconds(parse_time((r.get("metadata") or {}).get("creationTimestamp")), now),
            "selected": len(selected_devices(snap, r, minor)), "total": len(snap.devices),
            "inForce": not needed, "gatesNeeded": needed,
            "ignoredFields": taintrules.ignored_fields(r, minor),
            "object": r,
        })
    return out


def _age_seconds(created, now) -> int | None:
    return None if created is None or now is None else int((now - created).total_seconds())


# -- claims and templates --------------------------------------------------------
def claim_records(snap: Snapshot, namespace: str, all_namespaces: bool, label_selector: str | None = None,
                  names: list[str] | None = None) -> list[dict]:
    out = []
    keys = [k for k in sorted(snap.resource_claims) if _in_scope(k, namespace, all_namespaces)]
    for c in _label_filter([snap.resource_claims[k] for k in keys], label_selector):
        if names and name_of(c) not in names:
            continue
        status = c.get("status") or {}
        results = ((status.get("allocation") or {}).get("devices") or {}).get("results") or []
        out.append({
            "namespace": namespace_of(c), "name": name_of(c), "state": claim_state(c),
            "requests": request_summaries(c.get("spec") or {}),
            "node": allocation_node(c),
            "devices": [f"{r.get('driver')}/{r.get('pool')}/{r.get('device')}" for r in results],
            "reservedFor": [r.get("name") for r in status.get("reservedFor") or []],
            "object": c,
        })
    return out


def template_records(snap: Snapshot, namespace: str, all_namespaces: bool, label_selector: str | None = None,
                     names: list[str] | None = None) -> list[dict]:
    out = []
    keys = [k for k in sorted(snap.resource_claim_templates) if _in_scope(k, namespace, all_namespaces)]
    for t in _label_filter([snap.resource_claim_templates[k] for k in keys], label_selector):
        if names and name_of(t) not in names:
            continue
        generated = snap.claims_from_template(namespace_of(t), name_of(t))
        out.append({
            "namespace": namespace_of(t), "name": name_of(t),
            "requests": request_summaries((t.get("spec") or {}).get("spec") or {}),
            "pods": [p for p, _, _ in generated],
            "claims": [c for _, _, c in generated if c],
            "object": t,
        })
    return out


def missing_names(snap: Snapshot, listing: str, names: Iterable[str], namespace: str, all_namespaces: bool) -> list[str]:
    """The names asked of `get LISTING NAME...` that no object of that listing has, in scope (the namespace, or
    every namespace with -A), whatever the filters; as kubectl, each is reported "not found"."""
    if listing == "devices":
        existing = {d.name for d in snap.devices}
    elif listing == "classes":
        existing = set(snap.device_classes)
    elif listing == "slices":
        existing = {name_of(s) for s in snap.resource_slices}
    elif listing == "taintrules":
        existing = set(snap.device_taint_rules)
    else:
        objs = snap.resource_claims if listing == "claims" else snap.resource_claim_templates
        existing = {key[1] for key in objs if _in_scope(key, namespace, all_namespaces)}
    return [n for n in dict.fromkeys(names) if n not in existing]
