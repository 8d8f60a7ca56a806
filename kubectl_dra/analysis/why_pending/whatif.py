"""What-if re-runs: would the target fit if an obstacle the report names were gone?

The report only promises a fix the dry run has confirmed: nodes ruled out by taints or a cordon alone
are re-run without them (``wouldFitWithoutTaints``), and when devices are held by claims of finished
pods, the nodes are re-run as if those claims were released (``ifFinishedPodsReleased``).  A fix that
was confirmed gets "(then it fits on NODE)".  At most WHAT_IF_MAX_NODES nodes are re-run each time.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Mapping

from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.why_pending.reasons import NODE_AFFINITY
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
        if alloc.allocate(entry["name"], to_allocate).fits:
            entry["wouldFitWithoutTaints"] = True
            for r in reasons:
                r["fixes"] = [f + _then(entry["name"], could) for f in r.get("fixes") or []]


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
