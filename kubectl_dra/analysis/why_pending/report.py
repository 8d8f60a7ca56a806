"""The why-pending report: the entry point and the pieces it is built from (being split into modules)."""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.allocator import Allocator, gc_paused
from kubectl_dra.analysis.why_pending.explainer import _Explainer
from kubectl_dra.analysis.why_pending.nodes import node_exclusions, taint_text
from kubectl_dra.analysis.why_pending.reasons import NODE_AFFINITY
from kubectl_dra.analysis.why_pending.target import resolve_target, target_reasons_block
from kubectl_dra.errors import NotFoundError
from kubectl_dra.features import FeatureGates
from kubectl_dra.parallel import ordered_map
from kubectl_dra.process import keep_until_exit
from kubectl_dra.snapshot import Snapshot, name_of, namespace_of

CPU_MEMORY_NOTE = ("kubectl-dra checks DRA claims and the pod's node selection, taints and cordons; "
                   "CPU, memory, ports and other scheduler plugins are not modelled.")


def why_pending(snap: Snapshot, kind: str, name: str, namespace: str, gates: FeatureGates,
                only_nodes: list[str] | None = None, *, device_names: bool = False) -> dict:
    """The why-pending report.  ``device_names``: list the devices behind every funnel number
    (``-o wide`` / ``--verbose``); without it the funnel carries the counts only."""
    # Thousands of dry runs and reports of small acyclic objects: the cyclic GC only costs time here.
    with gc_paused():
        return _why_pending(snap, kind, name, namespace, gates, only_nodes, device_names)


def _why_pending(snap: Snapshot, kind: str, name: str, namespace: str, gates: FeatureGates,
                 only_nodes: list[str] | None = None, device_names: bool = False) -> dict:
    target = resolve_target(snap, kind, name, namespace)
    pod, target_reasons, to_allocate, allocated = target.pod, target.reasons, target.to_allocate, target.allocated
    claims_by_name = {name_of(c): c for c in to_allocate}
    alloc = Allocator(snap, gates)
    explainer = _Explainer(snap, claims_by_name, alloc, with_names=device_names)
    node_names = sorted(alloc.index.device_node_names().union(snap.nodes))
    if only_nodes:
        unknown = [n for n in only_nodes if n not in node_names]
        if unknown:
            raise NotFoundError(f'nodes "{unknown[0]}" not found')
        node_names = [n for n in node_names if n in only_nodes]
    blocking_target = target.no_node_fits
    template_pending = target.template_pending

    def check_node(n: str) -> dict:
        """One node's entry: ruled out before allocation, or the dry run and its explanation."""
        node = snap.nodes.get(n)
        excl = node_exclusions(pod, n, node, allocated)
        if excl:
            return {"name": n, "fits": False, "allocation": None, "reasons": [x.to_dict() for x in excl]}
        if not to_allocate:
            ok = not blocking_target
            return {"name": n, "fits": ok, "allocation": {} if ok else None, "reasons": []}
        outcome = alloc.allocate(n, to_allocate)
        if outcome.fits:
            allocation = {}
            for (cns, cname), results in outcome.results.items():
                allocation[cname] = [_result_dict(x) for x in results]
            return {"name": n, "fits": not blocking_target and not template_pending,
                    "wouldFit": True, "allocation": allocation, "reasons": []}
        reasons = explainer.explain_failure(outcome, n)
        return {"name": n, "fits": False, "allocation": None, "reasons": [x.to_dict() for x in reasons]}

    # Nodes are independent: the first one warms every lazy index and cache, then the rest run on
    # all CPUs (same entries, same order as one loop; see kubectl_dra.parallel).
    nodes_out = [check_node(n) for n in node_names[:1]] + ordered_map(check_node, node_names[1:])
    keep_until_exit(alloc, explainer)  # their caches are big; a command does not free them (see kubectl_dra.process)
    if to_allocate:
        _check_lifting_taints(alloc, to_allocate, nodes_out)
    if not any(x["fits"] for x in nodes_out) and to_allocate:
        _check_freeing_finished(snap, gates, to_allocate, nodes_out)
    fitting = [x["name"] for x in nodes_out if x["fits"]]
    report = {
        "target": {"kind": kind, "namespace": namespace, "name": name},
        "fits": bool(fitting) and not target_reasons_block(target_reasons),
        "claims": target.claims,
        "nodes": nodes_out,
        "reasons": [x.to_dict() for x in target_reasons],
        "summary": _summary(nodes_out),
        "featureGates": {"version": gates.version, **gates.as_dict()},
        "note": CPU_MEMORY_NOTE,
    }
    if pod is not None:
        report["scheduler"] = scheduler_words(snap, pod)
        report["pod"] = {"phase": ((pod.get("status") or {}).get("phase")), "nodeName": (pod.get("spec") or {}).get("nodeName")}
    report["fixes"] = [] if report["fits"] else _fixes(report)
    return report


def _result_dict(x) -> dict:
    out = {"request": x.request, "driver": x.driver, "pool": x.pool, "device": x.device}
    if x.admin_access:
        out["adminAccess"] = True
    if x.share_id:
        out["shareID"] = x.share_id
    if x.consumed_capacity:
        out["consumedCapacity"] = dict(x.consumed_capacity)
    return out


def _group_key(reason: Mapping[str, Any]) -> tuple:
    d = reason.get("details") or {}
    cause = d.get("cause")
    if reason["code"] == NODE_AFFINITY:
        return (reason["code"], cause or "", reason["message"] if cause in ("nodeName", "allocated-claim", "taint") and cause != "taint"
                else (taint_text(d["taint"]) if cause == "taint" else ""))
    return (reason["code"], reason.get("claim") or "", reason.get("request") or "")


def _summary(nodes_out: list[dict]) -> list[dict]:
    """Nodes grouped by their first reason, biggest group first."""
    groups: dict[tuple, dict] = {}
    for n in nodes_out:
        if n["fits"] or not n["reasons"]:
            continue
        first = n["reasons"][0]
        key = _group_key(first)
        g = groups.setdefault(key, {"code": first["code"], "claim": first.get("claim"), "request": first.get("request"),
                                    "message": first["message"], "nodes": [], "example": first})
        g["nodes"].append(n["name"])
    return sorted(groups.values(), key=lambda g: (-len(g["nodes"]), g["code"], g["nodes"][0]))


def _fixes(report: dict) -> list[str]:
    seen: list[str] = []
    for r in report["reasons"]:
        for f in r.get("fixes") or []:
            if f not in seen:
                seen.append(f)
    for g in report["summary"]:
        for f in g["example"].get("fixes") or []:
            if f not in seen:
                seen.append(f)
    return seen


def scheduler_words(snap: Snapshot, pod: Mapping[str, Any]) -> dict:
    """The scheduler's own message: PodScheduled condition and the newest FailedScheduling event."""
    out: dict[str, Any] = {}
    cond = next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    if cond and cond.get("status") != "True":
        out["condition"] = {"reason": cond.get("reason"), "message": cond.get("message")}
    ns, name = namespace_of(pod), name_of(pod)
    events = [e for e in snap.events
              if (e.get("involvedObject") or {}).get("name") == name
              and ((e.get("involvedObject") or {}).get("namespace") or namespace_of(e)) == ns
              and e.get("reason") == "FailedScheduling"]
    if events:
        newest = max(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or
                     (e.get("metadata") or {}).get("creationTimestamp") or "")
        out["event"] = {"message": newest.get("message") or newest.get("note"), "count": newest.get("count"),
                        "lastTimestamp": newest.get("lastTimestamp") or newest.get("eventTime")}
    return out


WHAT_IF_MAX_NODES = 50


def _check_lifting_taints(alloc: Allocator, to_allocate: list[dict], nodes_out: list[dict]) -> None:
    """Would lifting a cordon or taint be enough?  For the first WHAT_IF_MAX_NODES nodes ruled out
    by taints alone, run the dry run as if they were not there and record the answer."""
    budget = WHAT_IF_MAX_NODES
    for entry in nodes_out:
        if budget <= 0:
            break
        reasons = entry["reasons"]
        if entry["fits"] or not reasons or not all(r["code"] == NODE_AFFINITY and (r.get("details") or {}).get("cause") == "taint"
                                                     for r in reasons):
            continue
        budget -= 1
        if alloc.allocate(entry["name"], to_allocate).fits:
            entry["wouldFitWithoutTaints"] = True
            for r in reasons:
                r["fixes"] = [f + f" (then it fits on {entry['name']})" for f in r.get("fixes") or []]


def _check_freeing_finished(snap: Snapshot, gates: FeatureGates, to_allocate: list[dict], nodes_out: list[dict]) -> None:
    """What if the claims held by finished pods were released? Re-run those nodes and record the answer.

    Only claims whose every reserving pod has finished (Succeeded/Failed) count: deleting those pods
    (or the claims) is a safe, concrete fix.  At most WHAT_IF_MAX_NODES nodes are re-checked.
    """
    finished: set[tuple[str, str]] = set()
    candidates: list[dict] = []
    for n in nodes_out:
        for r in n["reasons"]:
            holders = (r.get("details") or {}).get("holders") or []
            mine = [tuple(h["claim"].split("/", 1)) for h in holders if h["pods"] and all(p["finished"] for p in h["pods"])]
            if mine:
                finished.update(mine)
                candidates.append(n)
                break
    if not finished:
        return
    import dataclasses

    claims = {k: (_without_allocation(v) if k in finished else v) for k, v in snap.resource_claims.items()}
    freed = dataclasses.replace(snap, resource_claims=claims)
    alloc = Allocator(freed, gates)
    for n in candidates[:WHAT_IF_MAX_NODES]:
        outcome = alloc.allocate(n["name"], to_allocate)
        n["ifFinishedPodsReleased"] = {"claims": sorted(f"{a}/{b}" for a, b in finished), "fits": outcome.fits}
        if outcome.fits:
            for r in n["reasons"]:
                r.setdefault("fixes", [])
                r["fixes"] = [f + f" (then it fits on {n['name']})" if "has Succeeded" in f or "has Failed" in f else f
                              for f in r["fixes"]]


def _without_allocation(claim: Mapping[str, Any]) -> dict:
    out = dict(claim)
    status = {k: v for k, v in (claim.get("status") or {}).items() if k not in ("allocation", "reservedFor")}
    out["status"] = status
    return out
