"""What-if re-runs: would the target fit if an obstacle the report names were gone?

The report only promises a fix the dry run has confirmed: nodes ruled out by taints or a cordon alone
are re-run without them (``wouldFitWithoutTaints``; when that is not enough, no toleration is offered),
each suggested device toleration is re-run on its own (``tolerationEnough``), and when devices are held by claims of finished
pods, the nodes are re-run as if those claims were released (``ifFinishedPodsReleased``).  A fix that
was confirmed gets "(then it fits on NODE)".  At most WHAT_IF_MAX_NODES nodes are re-run each time.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Mapping

from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.why_pending.nodes import toleration_text
from kubectl_dra.analysis.why_pending.reasons import NODE_AFFINITY, TAINT
from kubectl_dra.features import FeatureGates
from kubectl_dra.snapshot import Snapshot

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import NodeEntry


WHAT_IF_MAX_NODES = 50


def _then(node: str, could: bool) -> str:
    """The suffix of a fix the dry run confirmed (``could``: claims that could not be read may still hold
    the devices: kubectl_dra.analysis.why_pending.incomplete)."""
    return f" (then it could fit on {node})" if could else f" (then it fits on {node})"


def check_lifting_taints(alloc: Allocator, to_allocate: list[dict], nodes_out: list[NodeEntry],
                         could: bool = False) -> None:
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
        outcome = alloc.allocate(entry["name"], to_allocate)
        if outcome.fits:
            entry["wouldFitWithoutTaints"] = True
            for r in reasons:
                r["fixes"] = [f + _then(entry["name"], could) for f in r.get("fixes") or []]
            continue
        # Tolerating the taint (or uncordoning) would not be enough: no fix is offered for it.
        entry["wouldFitWithoutTaints"] = False
        trace = outcome.trace
        no_devices = trace is not None and not any(p.get("devices") for p in trace.pools)
        why = ("the node has no devices for the pod's claims" if no_devices
               else "the pod's claims cannot be allocated on this node either")
        for r in reasons:
            r["message"] += f"; lifting it would not be enough: {why}"
            r.pop("fixes", None)
            r.setdefault("details", {})["enoughOnItsOwn"] = False


def with_tolerations(to_allocate: list[dict], claim_name: str, request: str, tolerations: list[dict]) -> list[dict]:
    """The claims to allocate with ``tolerations`` added to one request (``req`` or ``req/sub``)."""
    import copy

    out = []
    base, _, sub = request.partition("/")
    for c in to_allocate:
        if (c.get("metadata") or {}).get("name") != claim_name:
            out.append(c)
            continue
        c = copy.deepcopy(c)
        for r in ((c.get("spec") or {}).get("devices") or {}).get("requests") or []:
            if r.get("name") != base:
                continue
            target = (next((x for x in r.get("firstAvailable") or [] if x.get("name") == sub), None) if sub
                      else r.get("exactly"))
            if target is not None:
                target["tolerations"] = list(target.get("tolerations") or []) + [dict(t) for t in tolerations]
        out.append(c)
    return out


def check_tolerating_device_taints(alloc: Allocator, to_allocate: list[dict], nodes_out: list[NodeEntry],
                                   could: bool = False) -> None:
    """Would the suggested device tolerations help?  For each `taint` reason of the first WHAT_IF_MAX_NODES
    nodes that have one, re-run the dry run with each suggested toleration alone: its fix gets "(then it fits
    on NODE)" or "(not enough on its own ...)"; when none is enough alone but all of them together are, that
    is offered too."""
    budget = WHAT_IF_MAX_NODES
    for entry in nodes_out:
        if budget <= 0:
            break
        taint_reasons = [r for r in entry["reasons"] if r["code"] == TAINT and (r.get("details") or {}).get("tolerations")]
        if entry["fits"] or not taint_reasons:
            continue
        budget -= 1
        for r in taint_reasons:
            tolerations = r["details"]["tolerations"]
            fixes = list(r.get("fixes") or [])
            enough = []
            for i, tol in enumerate(tolerations):
                ok = alloc.allocate(entry["name"], with_tolerations(to_allocate, r["claim"], r["request"], [tol])).fits
                enough.append(ok)
                if i < len(fixes):
                    fixes[i] = _with_verdict(fixes[i], _then(entry["name"], could) if ok else (
                        f" (not enough on its own: the dry run still fails on {entry['name']})"))
            if len(tolerations) > 1 and not any(enough) and alloc.allocate(
                    entry["name"], with_tolerations(to_allocate, r["claim"], r["request"], tolerations)).fits:
                caveats = [c for c in (_caveat_of(f) for f in fixes) if c]
                fixes.append(f"add to request {r['request']} all of: tolerations: ["
                             + ", ".join(toleration_text(t) for t in tolerations) + "]" + _then(entry["name"], could)
                             + (caveats[0] if caveats else ""))
            r["fixes"] = fixes
            r["details"]["tolerationEnough"] = enough


def check_freeing_finished(snap: Snapshot, gates: FeatureGates, to_allocate: list[dict],
                           nodes_out: list[NodeEntry], could: bool = False) -> None:
    """What if the claims held by finished pods were released? Re-run those nodes and record the answer.

    Only claims whose every reserving pod has finished (Succeeded/Failed) count: deleting those pods
    (or the claims) is a safe, concrete fix.  At most WHAT_IF_MAX_NODES nodes are re-checked.
    """
    finished: set[tuple[str, str]] = set()
    candidates: list[NodeEntry] = []
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
    claims = {k: (_without_allocation(v) if k in finished else v) for k, v in snap.resource_claims.items()}
    freed = dataclasses.replace(snap, resource_claims=claims)
    alloc = Allocator(freed, gates)
    for n in candidates[:WHAT_IF_MAX_NODES]:
        outcome = alloc.allocate(n["name"], to_allocate)
        n["ifFinishedPodsReleased"] = {"claims": sorted(f"{a}/{b}" for a, b in finished), "fits": outcome.fits}
        if outcome.fits:
            for r in n["reasons"]:
                r.setdefault("fixes", [])
                r["fixes"] = [f + _then(n["name"], could) if "has Succeeded" in f or "has Failed" in f else f
                              for f in r["fixes"]]


def _without_allocation(claim: Mapping[str, Any]) -> dict:
    out = dict(claim)
    status = {k: v for k, v in (claim.get("status") or {}).items() if k not in ("allocation", "reservedFor")}
    out["status"] = status
    return out


_CAVEAT = " (caution:"


def _with_verdict(fix: str, verdict: str) -> str:
    """The dry run's verdict right after the toleration, before a health caveat."""
    head, sep, caveat = fix.partition(_CAVEAT)
    return head + verdict + sep + caveat


def _caveat_of(fix: str) -> str:
    _, sep, caveat = fix.partition(_CAVEAT)
    return sep + caveat
