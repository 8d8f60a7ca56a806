"""What the source could not read, and what that does to the report: never a "fits" that could be wrong.

The source records the lists it was refused (:class:`kubectl_dra.snapshot.Gap`).  For why-pending:

* claims it could not read (e.g. those of other namespaces) may hold any device.  Hidden holders can only
  take devices away, so a node where the dry run fails still fails; a node where it fits *could* fit:
  it is reported with ``fits: false``, ``wouldFit: true`` and an ``incomplete-view`` reason, and the
  report's ``couldFit`` says the target might fit;
* pods it could not read (other namespaces', finished ones included) leave a holder's pod "finished:
  null": the "a finished pod holds the devices" fix cannot be verified.  That gap is listed when such a
  holder is named;
* events it could not read leave out the scheduler's FailedScheduling message (pod targets);
* DeviceTaintRules it could not read may taint any device, when the gates put rules in force: like hidden
  holders, they can only take devices away ("could fit"); under gates that leave rules inert, the report
  does not depend on them;
* any other gap is listed as it is (the answer may depend on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_dra.analysis.why_pending.reasons import INCOMPLETE_VIEW, Reason
from kubectl_dra.snapshot import Gap, Snapshot

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import NodeEntry

CLAIMS, PODS, EVENTS, RULES = "resourceclaims", "pods", "events", "devicetaintrules"
# Read only for why-pending's later stages: a gap there matters only when that stage is checked.
STAGE_ONLY = ("resourcequotas", "namespaces")


def _rules_matter(gates) -> bool:
    from kubectl_dra import taintrules

    return gates is None or taintrules.in_force(gates)


def hidden_holders(snap: Snapshot, gates=None) -> tuple[Gap, ...]:
    """Gaps that may hide what takes devices away: claims of any namespace holding them, and DeviceTaintRules
    tainting them when ``gates`` put rules in force."""
    rules = snap.source.gaps(RULES) if _rules_matter(gates) else ()
    return snap.source.gaps(CLAIMS) + rules


def relevant_gaps(snap: Snapshot, kind: str, namespace: str, nodes_out: list[NodeEntry], gates=None) -> list[Gap]:
    """The gaps this report depends on (under ``gates``), in the source's order."""
    unknown_pods = _holder_pods_unknown(nodes_out)
    out = []
    for g in snap.source.incomplete:
        if g.resource == PODS:
            if not (unknown_pods or g.covers(PODS, namespace)):
                continue
        elif g.resource == EVENTS:
            if kind != "Pod" or not g.covers(EVENTS, namespace):
                continue
        elif g.resource in STAGE_ONLY:  # only the stage that needs them lists them (stages.assess)
            continue
        elif g.resource == RULES and not _rules_matter(gates):
            continue
        out.append(g)
    return out


def _holder_pods_unknown(nodes_out: list[NodeEntry]) -> bool:
    for n in nodes_out:
        for r in n["reasons"]:
            for h in (r.get("details") or {}).get("holders") or []:
                if any(p.get("finished") is None for p in h["pods"]):
                    return True
    return False


def unverified_fits(gaps: tuple[Gap, ...], nodes_out: list[NodeEntry]) -> int:
    """Nodes where the dry run allocated the claims, while claims that could not be read may hold the
    devices it picked: not "fits" but "could fit" (an ``incomplete-view`` reason).  Returns their number."""
    if not gaps:
        return 0
    what = "; ".join(f"cannot list {g.qualified()}" + (" at the cluster scope" if g.namespace is None
                                                      else f" in namespace {g.namespace}") for g in gaps)
    scopes = " and ".join(f"list {g.qualified()} " + ("in every namespace" if g.namespace is None
                                                      else f"in namespace {g.namespace}") for g in gaps)
    takers = " or ".join(w for w, resource in (("held by claims", CLAIMS), ("tainted by DeviceTaintRules", RULES))
                         if any(g.resource == resource for g in gaps))
    reason = Reason(
        INCOMPLETE_VIEW,
        f"the dry run fits here, but the devices it picked may be {takers} kubectl-dra could not read ({what})",
        details={"incomplete": [g.qualified() for g in gaps]},
        fixes=[f"to know for sure, run it with permission to {scopes} "
               f"(check with `kubectl auth can-i list {gaps[0].qualified()} -A`)"]).to_dict()
    count = 0
    for n in nodes_out:
        if not n.get("wouldFit"):
            continue
        count += 1
        n["fits"] = False
        n["reasons"] = [_copy(reason)] + n["reasons"]
    return count


def _copy(reason: Any) -> Any:
    out = dict(reason)
    out["details"] = dict(reason["details"])
    out["fixes"] = list(reason["fixes"])
    return out
