"""`explain TYPE/NAME`: the facts a person opening a DRA object wants, as one result dict.

The same dict is printed as a tree (text) or as data (`-o json|yaml`).
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra import kinds
from kubectl_dra.analysis.consumers import consumers_of
from kubectl_dra.analysis.devices import (
    ClassMatcher, device_attributes, device_availability, device_capacity, selector_expressions,
)
from kubectl_dra.analysis.inventory import allocation_node, claim_deleting, claim_state
from kubectl_dra.errors import NotFoundError
from kubectl_dra.kinds import Kind
from kubectl_dra.names import did_you_mean, names_in, namespaces_with, not_found_hint
from kubectl_dra.snapshot import DeviceEntry, Snapshot, name_of, namespace_of


def not_found(kind: Kind, name: str, namespace: str | None = None, objects=None) -> NotFoundError:
    """kubectl's "not found" line, with a way forward from ``objects`` (the kind's objects, keyed by
    (namespace, name) or by name): the namespaces where the name exists, or the names one edit off."""
    where = f" in namespace {namespace!r}" if namespace else ""
    hint = not_found_hint(objects, name, namespace) if objects is not None else ""
    return NotFoundError(f'{kind.qualified_resource} "{name}" not found{where}{hint}')


def explain(snap: Snapshot, kind: Kind, name: str, namespace: str, gates=None) -> dict:
    """The facts about one object; ``kind`` is one of :func:`kubectl_dra.kinds.accepted_by` ``("explain")``.
    ``gates``: the feature gates in force (a DeviceTaintRule says whether they put it in force; None: the
    defaults of the source's release)."""
    if kind is kinds.DEVICE_TAINT_RULE:
        return explain_taint_rule(snap, name, namespace, gates)
    fn = {kinds.DEVICE_CLASS: explain_class, kinds.RESOURCE_SLICE: explain_slice, kinds.RESOURCE_CLAIM: explain_claim,
          kinds.RESOURCE_CLAIM_TEMPLATE: explain_template, kinds.POD: explain_pod, kinds.NODE: explain_node,
          kinds.DEVICE_TAINT_RULE: explain_taint_rule}[kind]
    return fn(snap, name, namespace)


# -- pieces shared by several kinds -----------------------------------------------------
def _device_brief(snap: Snapshot, e: DeviceEntry, with_attributes: bool = True, availability=None) -> dict:
    out: dict[str, Any] = {"driver": e.driver, "pool": e.pool, "device": e.name, "node": e.scope}
    if with_attributes:
        out["attributes"] = device_attributes(e)
        out["capacity"] = device_capacity(e)
    if e.device.get("taints"):
        out["taints"] = list(e.device["taints"])
    holders = snap.holders.get(e.key, ())
    out["holders"] = [_holder_dict(snap, h) for h in holders]
    if availability is not None:
        out["availability"] = availability[e.key].to_dict()
    return out


def _holder_dict(snap: Snapshot, h) -> dict:
    pods = []
    for p in h.reserved_for:
        pod = snap.pods.get((h.namespace, p))
        phase = ((pod or {}).get("status") or {}).get("phase")
        # not read, and the namespace's pods could not be listed: finished or not is unknown
        unknown = pod is None and not snap.source.knows_all_pods_in(h.namespace) and bool(snap.source.gaps("pods", h.namespace))
        pods.append({"name": p, "phase": phase, "finished": None if unknown else phase in ("Succeeded", "Failed")})
    claim = snap.resource_claims.get((h.namespace, h.claim)) or {}
    others = [c.label for c in consumers_of(claim) if not c.is_pod]  # PodGroups and other kinds, never "pods"
    return {"namespace": h.namespace, "claim": h.claim, "request": h.request, "adminAccess": h.admin_access,
            "pods": pods, "otherConsumers": others, "deleting": claim_deleting(claim)}


def request_facts(claim_spec: Mapping[str, Any]) -> list[dict]:
    out = []
    for r in ((claim_spec or {}).get("devices") or {}).get("requests") or []:
        if r.get("firstAvailable"):
            out.append({"name": r.get("name"), "firstAvailable": [_exact_facts(s, s.get("name")) for s in r["firstAvailable"]]})
        else:
            out.append(_exact_facts(r.get("exactly") or {}, r.get("name")))
    return out


def _exact_facts(req: Mapping[str, Any], name: str | None) -> dict:
    mode = req.get("allocationMode") or "ExactCount"
    out = {"name": name, "deviceClassName": req.get("deviceClassName"), "allocationMode": mode,
           "count": None if mode == "All" else int(req.get("count") or 1),
           "selectors": selector_expressions(req.get("selectors"))}
    if req.get("adminAccess"):
        out["adminAccess"] = True
    if req.get("tolerations"):
        out["tolerations"] = list(req["tolerations"])
    if req.get("capacity"):
        out["capacity"] = req["capacity"]
    return out


def _claim_facts(snap: Snapshot, claim: Mapping[str, Any]) -> dict:
    spec = claim.get("spec") or {}
    devices = spec.get("devices") or {}
    status = claim.get("status") or {}
    out: dict[str, Any] = {
        "kind": "ResourceClaim", "namespace": namespace_of(claim), "name": name_of(claim),
        "state": claim_state(claim), "deleting": claim_deleting(claim), "requests": request_facts(spec),
        "constraints": list(devices.get("constraints") or []),
        "config": list(devices.get("config") or []),
    }
    alloc = status.get("allocation")
    if alloc:
        results = []
        for r in (alloc.get("devices") or {}).get("results") or []:
            e = snap.devices_by_key.get((r.get("driver"), r.get("pool"), r.get("device")))
            item = {"request": r.get("request"), "driver": r.get("driver"), "pool": r.get("pool"), "device": r.get("device")}
            for k in ("adminAccess", "shareID", "consumedCapacity", "bindingConditions"):
                if r.get(k):
                    item[k] = r[k]
            if e is not None:
                item["attributes"] = device_attributes(e)
                item["capacity"] = device_capacity(e)
            else:
                item["missing"] = True  # the device is no longer published
            results.append(item)
        out["allocation"] = {"node": allocation_node(claim), "nodeSelector": alloc.get("nodeSelector"), "devices": results}
    else:
        out["allocation"] = None
    users = snap.claim_users.get((namespace_of(claim), name_of(claim)), ())
    out["reservedFor"] = []
    for c in consumers_of(claim):
        if not c.is_pod:  # a PodGroup (or another kind) has no phase of a pod's
            out["reservedFor"].append({"resource": c.resource, "name": c.name, "kind": c.kind, "label": c.label,
                                       "phase": None, "finished": None})
            continue
        pod = snap.pods.get((namespace_of(claim), c.name))
        phase = ((pod or {}).get("status") or {}).get("phase")
        out["reservedFor"].append({"resource": c.resource, "name": c.name, "kind": c.kind, "label": c.label,
                                   "phase": phase, "finished": phase in ("Succeeded", "Failed")})
    out["usedBy"] = list(users)
    if status.get("devices"):
        out["deviceStatus"] = list(status["devices"])
    owner = [o for o in (claim.get("metadata") or {}).get("ownerReferences") or [] if o.get("kind") == "Pod"]
    if owner:
        out["ownerPod"] = owner[0].get("name")
    if not alloc:
        first_user = users[0] if users else None
        target = f"pod/{first_user}" if first_user else f"resourceclaim/{name_of(claim)}"
        out["hint"] = f"not allocated: run `kubectl dra why-pending {target} -n {namespace_of(claim)}`"
    return out


# -- the six kinds ---------------------------------------------------------------------
def explain_claim(snap: Snapshot, name: str, namespace: str) -> dict:
    claim = snap.resource_claims.get((namespace, name))
    if claim is None:
        raise not_found(kinds.RESOURCE_CLAIM, name, namespace, snap.resource_claims)
    return _claim_facts(snap, claim)


def explain_template(snap: Snapshot, name: str, namespace: str) -> dict:
    tmpl = snap.resource_claim_templates.get((namespace, name))
    if tmpl is None:
        raise not_found(kinds.RESOURCE_CLAIM_TEMPLATE, name, namespace, snap.resource_claim_templates)
    spec = ((tmpl.get("spec") or {}).get("spec")) or {}
    generated = []
    for pod, pod_claim, claim_name in snap.claims_from_template(namespace, name):
        claim = snap.resource_claims.get((namespace, claim_name)) if claim_name else None
        state = "not-generated" if not claim_name else ("missing" if claim is None else claim_state(claim))
        generated.append({"pod": pod, "podClaimName": pod_claim, "claim": claim_name, "state": state,
                          "node": allocation_node(claim) if claim else None})
    return {"kind": "ResourceClaimTemplate", "namespace": namespace, "name": name,
            "requests": request_facts(spec),
            "constraints": list((spec.get("devices") or {}).get("constraints") or []),
            "config": list((spec.get("devices") or {}).get("config") or []),
            "claims": generated}


def explain_pod(snap: Snapshot, name: str, namespace: str) -> dict:
    pod = snap.pods.get((namespace, name))
    if pod is None:
        raise not_found(kinds.POD, name, namespace, snap.pods)
    claims = []
    for pc in snap.pod_claims(pod):
        item: dict[str, Any] = {"podClaimName": pc.pod_claim_name, "claim": pc.claim_name, "state": pc.state,
                                "source": "template" if pc.template_name else "claim"}
        if pc.template_name:
            item["template"] = pc.template_name
        if pc.state == "missing":
            item["note"] = _missing_note("ResourceClaim", snap.resource_claims, pc.claim_name or "", namespace)
        elif pc.state == "not-generated" and (namespace, pc.template_name) not in snap.resource_claim_templates:
            item["note"] = _missing_note("ResourceClaimTemplate", snap.resource_claim_templates,
                                         pc.template_name or "", namespace)
        if pc.claim is not None:
            item["node"] = allocation_node(pc.claim)
            results = (((pc.claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
            item["devices"] = [{"request": r.get("request"), "driver": r.get("driver"), "pool": r.get("pool"),
                                "device": r.get("device")} for r in results]
            item["requests"] = request_facts(pc.claim.get("spec") or {})
        claims.append(item)
    containers = []
    spec = pod.get("spec") or {}
    for kind_key in ("initContainers", "containers"):
        for c in spec.get(kind_key) or []:
            uses = [(u.get("name", "") + (f"/{u['request']}" if u.get("request") else ""))
                    for u in (c.get("resources") or {}).get("claims") or []]
            containers.append({"name": c.get("name"), "init": kind_key == "initContainers", "claims": uses})
    status = pod.get("status") or {}
    sched = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    out = {"kind": "Pod", "namespace": namespace, "name": name, "phase": status.get("phase"),
           "node": spec.get("nodeName"), "claims": claims, "containers": containers,
           "podClaims": [c.get("name") for c in spec.get("resourceClaims") or []]}
    if sched and sched.get("status") != "True":
        out["scheduling"] = {"reason": sched.get("reason"), "message": sched.get("message")}
    if any(c["state"] != "allocated" for c in claims) and not spec.get("nodeName"):
        out["hint"] = f"claims not allocated: run `kubectl dra why-pending pod/{name} -n {namespace}`"
    return out


def _missing_note(kind: str, objects, name: str, namespace: str) -> str:
    """What a pod's missing claim or template is, with a way forward (kubectl_dra.names)."""
    elsewhere = namespaces_with(objects, name, namespace)
    if elsewhere:
        return (f"{kind} {name} does not exist in {namespace}; one is in namespace {', '.join(elsewhere)}, but a pod "
                "uses only objects of its own namespace")
    return f"{kind} {name} does not exist" + did_you_mean(name, names_in(objects, namespace))


def explain_node(snap: Snapshot, name: str, namespace: str) -> dict:
    node = snap.nodes.get(name)
    if node is None and name not in snap.devices_by_node_name:
        raise not_found(kinds.NODE, name, None, {**snap.nodes, **dict.fromkeys(snap.devices_by_node_name)})
    devices = snap.devices_for_node(name)
    availability = device_availability(snap)
    pools: dict[tuple[str, str], dict] = {}
    for e in devices:
        p = pools.setdefault((e.driver, e.pool), {"driver": e.driver, "pool": e.pool, "scope": "node-local" if e.node_name else
                                                   ("all nodes" if e.all_nodes else "node selector"),
                                                   "complete": snap.pools[(e.driver, e.pool)].complete,
                                                   "devices": []})
        p["devices"].append(_device_brief(snap, e, with_attributes=False, availability=availability)
                            | {"summary": _summary(e)})
    spec = (node or {}).get("spec") or {}
    total = len(devices)
    held = sum(1 for e in devices if snap.holders.get(e.key))
    free = sum(1 for e in devices if availability[e.key].free)  # what the allocator could still hand out
    return {"kind": "Node", "name": name, "known": node is not None, "cordoned": bool(spec.get("unschedulable")),
            "taints": list(spec.get("taints") or []), "labels": ((node or {}).get("metadata") or {}).get("labels") or {},
            "devices": total, "allocated": held, "free": free,
            "pools": [pools[k] for k in sorted(pools)]}


def _summary(e: DeviceEntry) -> str:
    from kubectl_dra.analysis.devices import summary_attributes, summary_capacity

    return ", ".join(x for x in (summary_attributes(e), summary_capacity(e)) if x)


def explain_slice(snap: Snapshot, name: str, namespace: str) -> dict:
    s = next((x for x in snap.resource_slices if name_of(x) == name), None)
    if s is None:
        raise not_found(kinds.RESOURCE_SLICE, name, None, {name_of(x): x for x in snap.resource_slices})
    spec = s.get("spec") or {}
    pool_spec = spec.get("pool") or {}
    pool = snap.pools[(spec.get("driver", ""), pool_spec.get("name", ""))]
    gen = int(pool_spec.get("generation", 0) or 0)
    current = gen == pool.generation
    scope = ({"nodeName": spec["nodeName"]} if spec.get("nodeName") else {"allNodes": True} if spec.get("allNodes")
             else {"perDeviceNodeSelection": True} if spec.get("perDeviceNodeSelection")
             else {"nodeSelector": spec.get("nodeSelector")})
    devices = []
    entries = {e.name: e for e in snap.devices if e.slice_name == name}
    availability = device_availability(snap) if entries else None
    for d in spec.get("devices") or []:
        e = entries.get(d.get("name"))
        if e is not None:
            item = _device_brief(snap, e, availability=availability)
        else:
            item = {"device": d.get("name"), "stale": True}
        if d.get("consumesCounters"):
            item["consumesCounters"] = d["consumesCounters"]
        devices.append(item)
    problems = _pool_problems(pool) if current else []
    return {"kind": "ResourceSlice", "name": name, "driver": spec.get("driver"), "pool": pool_spec.get("name"),
            "generation": gen, "poolGeneration": pool.generation, "current": current, "poolProblems": problems,
            "poolSlices": {"seen": len(pool.slices), "expected": pool.expected_slice_count, "complete": pool.complete},
            "scope": scope, "sharedCounters": list(spec.get("sharedCounters") or []), "devices": devices}


def _pool_problems(pool) -> list[str]:
    """What makes the scheduler refuse a whole pool (upstream's "invalid resource pools"): a device name
    published more than once among the slices of its newest generation."""
    import json

    def scope(sl) -> str:
        sp = sl.get("spec") or {}
        return (f"node:{sp['nodeName']}" if sp.get("nodeName") else "all" if sp.get("allNodes")
                else "per-device" if sp.get("perDeviceNodeSelection") else json.dumps(sp.get("nodeSelector"), sort_keys=True))

    where: dict[str, list[tuple[str, str]]] = {}
    for sl in sorted(pool.slices, key=name_of):
        for d in (sl.get("spec") or {}).get("devices") or []:
            where.setdefault(d.get("name", ""), []).append((name_of(sl), scope(sl)))
    out = []
    for dev, found in where.items():
        scopes = [sc for _, sc in found]
        slices = [n for n, _ in found]
        # only slices some node sees together (same node selection, or one for all nodes) make it invalid;
        # per-device node selection is left to the dry run
        together = len(found) > 1 and "per-device" not in scopes and (len(set(scopes)) == 1 or "all" in scopes)
        if together:
            at = f"twice in slice {slices[0]}" if len(set(slices)) == 1 else f"in slices {', '.join(slices)}"
            out.append(f"device {dev} is published more than once ({at}): the scheduler allocates nothing "
                       "from this pool")
    return out


def explain_class(snap: Snapshot, name: str, namespace: str) -> dict:
    cls = snap.device_classes.get(name)
    if cls is None:
        raise not_found(kinds.DEVICE_CLASS, name, None, snap.device_classes)
    spec = cls.get("spec") or {}
    matcher = ClassMatcher(snap)
    availability = device_availability(snap)  # free as the allocator judges it (counters, shared capacity)
    by_node: dict[str, dict] = {}
    errors = []
    for e in snap.devices:
        ok, err = matcher.matches(name, e)
        if err and len(errors) < 20:
            errors.append({"driver": e.driver, "pool": e.pool, "device": e.name, "error": err})
        if not ok:
            continue
        row = by_node.setdefault(e.scope, {"node": e.scope, "matching": 0, "free": 0, "devices": []})
        row["matching"] += 1
        row["devices"].append(e.name)
        if availability[e.key].free:
            row["free"] += 1
        elif availability[e.key].state == "unavailable":
            row.setdefault("unavailable", []).append(e.name)
    nodes = [by_node[k] for k in sorted(by_node)]
    out = {"kind": "DeviceClass", "name": name,
           "selectors": selector_expressions(spec.get("selectors")),
           "config": list(spec.get("config") or []),
           "matching": sum(n["matching"] for n in nodes), "free": sum(n["free"] for n in nodes),
           "nodes": nodes, "errors": errors}
    if spec.get("extendedResourceName"):
        out["extendedResourceName"] = spec["extendedResourceName"]
    if not nodes and snap.devices:
        # a class that matches nothing: why (often a misspelled driver name), from the one selector diagnosis
        from kubectl_dra.cel.diagnostics import selector_hints

        out["hints"] = [h.message for sel in out["selectors"] for h in selector_hints(sel, snap.devices)]
    return out


def explain_taint_rule(snap: Snapshot, name: str, namespace: str, gates=None) -> dict:
    """A DeviceTaintRule: its taint and selector, the gates it needs, the devices it selects, the claims on them."""
    from kubectl_dra.analysis.taintrule import explain_rule

    return {"kind": "DeviceTaintRule", **explain_rule(snap, name, gates)}
