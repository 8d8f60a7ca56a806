"""The entry point: resolve the target, check every node (in parallel), run the what-ifs, assemble the report.

The pieces live next door: target.py (the target and its claims), nodes.py (nodes the pod itself
cannot go to), explainer.py (a failed dry run as reasons with a device funnel), whatif.py (re-runs
that confirm a fix), summary.py (groups, fixes, the scheduler's words), contract.py (the report's shape).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from kubectl_dra.allocator import Allocator, gc_paused
from kubectl_dra.analysis.why_pending import extended, incomplete, stages
from kubectl_dra.analysis.why_pending.explainer import _Explainer
from kubectl_dra.analysis.why_pending.nodes import node_exclusions
from kubectl_dra.analysis.why_pending.reasons import TEMPLATE_NOT_GENERATED
from kubectl_dra.analysis.why_pending.summary import collect_fixes, scheduler_words, summarize
from kubectl_dra.analysis.why_pending.target import ResolvedTarget, resolve_target, target_reasons_block
from kubectl_dra.analysis.why_pending.whatif import (
    check_freeing_finished, check_lifting_taints, check_tolerating_device_taints,
)
from kubectl_dra.errors import NotFoundError
from kubectl_dra.features import FeatureGates
from kubectl_dra.names import did_you_mean
from kubectl_dra.parallel import ordered_map
from kubectl_dra.snapshot import Snapshot, name_of

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import AllocatedDevice, NodeEntry, Report


CPU_MEMORY_NOTE = ("kubectl-dra checks DRA claims and the pod's node selection, taints and cordons; "
                   "CPU, memory, ports and other scheduler plugins are not modelled.")


def why_pending(snap: Snapshot, kind: str, name: str, namespace: str, gates: FeatureGates,
                only_nodes: list[str] | None = None, *, device_names: bool = False,
                keep_alive: Callable[..., Any] | None = None, now: datetime | None = None,
                binding_timeout: float | None = None) -> Report:
    """The why-pending report.  ``device_names``: list the devices behind every funnel number
    (``-o wide`` / ``--verbose``); without it the funnel carries the counts only.  ``keep_alive``
    is handed the big objects the analysis is done with (the allocator and the explainer, with
    their caches), for a caller that would rather not free them (the command: see
    kubectl_dra.process); without it they are freed as usual.  ``now`` (``--now``) and
    ``binding_timeout`` (seconds) judge binding conditions (see binding.py)."""
    # Thousands of dry runs and reports of small acyclic objects: the cyclic GC only costs time here.
    with gc_paused():
        return _why_pending(snap, kind, name, namespace, gates, only_nodes, device_names, keep_alive,
                            now, binding_timeout)


def _why_pending(snap: Snapshot, kind: str, name: str, namespace: str, gates: FeatureGates,
                 only_nodes: list[str] | None = None, device_names: bool = False,
                 keep_alive: Callable[..., Any] | None = None, now: datetime | None = None,
                 binding_timeout: float | None = None) -> Report:
    target = resolve_target(snap, kind, name, namespace)
    gates, inferred = extended.infer_gates(snap, target.pod, gates)  # observed state wins over gate defaults
    target, extended_resources = extended.apply(snap, target, gates)
    alloc = Allocator(snap, gates)
    explainer = _Explainer(snap, {name_of(c): c for c in target.to_allocate}, alloc, with_names=device_names)
    node_names = _node_names(snap, alloc, only_nodes)
    check = partial(check_node, snap, target, alloc, explainer)
    # Nodes are independent: the first one warms every lazy index and cache, then the rest run on
    # all CPUs (same entries, same order as one loop; see kubectl_dra.parallel).
    nodes_out = [check(n) for n in node_names[:1]] + ordered_map(check, node_names[1:])
    if keep_alive is not None:
        keep_alive(alloc, explainer)  # their caches are big: the command does not free them
    # claims that could not be read may hold any device; rules that could not be read, taint any
    hidden = incomplete.hidden_holders(snap, gates)
    if target.to_allocate:
        check_lifting_taints(alloc, target.to_allocate, nodes_out, could=bool(hidden))
        check_tolerating_device_taints(alloc, target.to_allocate, nodes_out, could=bool(hidden))
    if not any(x["fits"] for x in nodes_out) and target.to_allocate:
        check_freeing_finished(snap, gates, target.to_allocate, nodes_out, could=bool(hidden))
    could_fit = incomplete.unverified_fits(hidden, nodes_out)
    report = _report(snap, kind, name, namespace, gates, target, nodes_out)
    if inferred:
        report["inferredGates"] = inferred
    if extended_resources:
        report["extendedResources"] = extended_resources  # type: ignore[typeddict-item]
    assessment = stages.assess(snap, target, report, now=now, binding_timeout=binding_timeout)
    _apply_stage(report, assessment)
    gaps = incomplete.relevant_gaps(snap, kind, namespace, report["nodes"], gates)
    gaps += [g for g in assessment.gaps if g not in gaps]
    if gaps:
        report["incomplete"] = [g.to_dict() for g in gaps]
        if could_fit and not target_reasons_block(target.reasons):
            report["couldFit"] = True
    return report


def _node_names(snap: Snapshot, alloc: Allocator, only_nodes: list[str] | None) -> list[str]:
    """Every node (and node name devices are published for), sorted; ``--node`` narrows them."""
    node_names = sorted(alloc.index.device_node_names().union(snap.nodes))
    if only_nodes:
        unknown = [n for n in only_nodes if n not in node_names]
        if unknown:
            raise NotFoundError(f'nodes "{unknown[0]}" not found' + did_you_mean(unknown[0], node_names))
        node_names = [n for n in node_names if n in only_nodes]
    return node_names


def check_node(snap: Snapshot, target: ResolvedTarget, alloc: Allocator, explainer: _Explainer, n: str) -> NodeEntry:
    """One node's entry: ruled out before allocation, or the dry run and its explanation."""
    excl = node_exclusions(target.pod, n, snap.nodes.get(n), target.allocated)
    if excl:
        return {"name": n, "fits": False, "allocation": None, "reasons": [x.to_dict() for x in excl]}
    if not target.to_allocate:
        ok = not target.no_node_fits
        return {"name": n, "fits": ok, "allocation": {} if ok else None, "reasons": []}
    outcome = alloc.allocate(n, target.to_allocate)
    if outcome.fits:
        allocation = {}
        for (cns, cname), results in outcome.results.items():
            allocation[cname] = [_result_dict(x) for x in results]
        return {"name": n, "fits": not target.no_node_fits and not target.template_pending,
                "wouldFit": True, "allocation": allocation, "reasons": []}
    reasons = explainer.explain_failure(outcome, n)
    return {"name": n, "fits": False, "allocation": None, "reasons": [x.to_dict() for x in reasons]}


def _report(snap: Snapshot, kind: str, name: str, namespace: str, gates: FeatureGates, target: ResolvedTarget,
            nodes_out: list[NodeEntry]) -> Report:
    fitting = [x["name"] for x in nodes_out if x["fits"]]
    report: Report = {
        "target": {"kind": kind, "namespace": namespace, "name": name},
        "fits": bool(fitting) and not target_reasons_block(target.reasons),
        "claims": target.claims,
        "nodes": nodes_out,
        "reasons": [x.to_dict() for x in target.reasons],
        "summary": summarize(nodes_out),
        "featureGates": {"version": gates.version, **gates.as_dict()},
        "note": CPU_MEMORY_NOTE,
    }
    pod = target.pod
    if pod is not None:
        report["scheduler"] = scheduler_words(snap, pod)
        report["pod"] = {"phase": ((pod.get("status") or {}).get("phase")), "nodeName": (pod.get("spec") or {}).get("nodeName")}
    report["fixes"] = [] if report["fits"] else collect_fixes(report)
    return report


def _apply_stage(report: Report, a: stages.Assessment) -> None:
    """The stage, its reasons, and what it means for "fits" and "nodes" (the pod's node once it has one)."""
    report["stage"] = a.stage  # type: ignore[typeddict-item]
    if any(r.code in stages.EXPLAINS_MISSING_CLAIM for r in a.reasons):
        # the claim was refused (quota, admin access): "is the controller running?" is not the fix
        for r in report["reasons"]:
            if r["code"] == TEMPLATE_NOT_GENERATED:
                r.pop("fixes", None)
    report["reasons"] += [r.to_dict() for r in a.reasons]
    if a.unchecked:
        report["unchecked"] = a.unchecked
    if a.blocking or (a.unchecked and a.stage != stages.RUNNING):
        report["fits"] = False  # never "fits" on what could not be seen, nor past a later stage's blocker
    if a.stage in (stages.BINDING, stages.PREPARE, stages.RUNNING) and a.node:
        mine = [n for n in report["nodes"] if n["name"] == a.node]
        if not mine:  # a node the input does not hold
            mine = [{"name": a.node, "fits": report["fits"], "allocation": {}, "reasons": []}]
        for n in mine:
            n["fits"] = bool(n["fits"]) and report["fits"]
        report["nodes"] = mine
        report["summary"] = summarize(mine)
    report["fixes"] = [] if report["fits"] else collect_fixes(report)


def _result_dict(x) -> AllocatedDevice:
    out: AllocatedDevice = {"request": x.request, "driver": x.driver, "pool": x.pool, "device": x.device}
    if x.admin_access:
        out["adminAccess"] = True
    if x.share_id:
        out["shareID"] = x.share_id
    if x.consumed_capacity:
        out["consumedCapacity"] = dict(x.consumed_capacity)
    return out


