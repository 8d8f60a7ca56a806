"""The report's conclusions: nodes grouped by their first reason, the fixes, the scheduler's own words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from kubectl_dra.analysis.why_pending.nodes import taint_text
from kubectl_dra.analysis.why_pending.reasons import ALL_MATCHING_ALLOCATED, NODE_AFFINITY
from kubectl_dra.snapshot import Snapshot, name_of, namespace_of

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import NodeEntry, Report, SchedulerWords, SummaryGroup


def group_key(reason: Mapping[str, Any]) -> tuple:
    """Nodes whose first reasons have the same key share one summary group."""
    d = reason.get("details") or {}
    cause = d.get("cause")
    if reason["code"] == NODE_AFFINITY:  # by cause; a bound node or an allocated claim by message, a taint by taint
        detail = (reason["message"] if cause in ("nodeName", "allocated-claim")
                  else taint_text(d["taint"]) if cause == "taint" else "")
        return (reason["code"], cause or "", detail)
    return (reason["code"], reason.get("claim") or "", reason.get("request") or "")


def summarize(nodes_out: list[NodeEntry]) -> list[SummaryGroup]:
    """Nodes grouped by their first reason, biggest group first."""
    groups: dict[tuple, SummaryGroup] = {}
    for n in nodes_out:
        if n["fits"] or not n["reasons"]:
            continue
        first = n["reasons"][0]
        key = group_key(first)
        g = groups.setdefault(key, {"code": first["code"], "claim": first.get("claim"), "request": first.get("request"),
                                    "message": first["message"], "nodes": [], "example": first})
        g["nodes"].append(n["name"])
        if first["code"] == ALL_MATCHING_ALLOCATED or (first.get("details") or {}).get("holders"):
            # the message names the first node's holders only (devices held, or holding the counters a device
            # needs); every node's are listed here
            g.setdefault("holders", []).append({"node": n["name"], "holders": holder_lines(first)})
    return sorted(groups.values(), key=lambda g: (-len(g["nodes"]), g["code"], g["nodes"][0]))


def holder_lines(reason: Mapping[str, Any]) -> list[str]:
    """"ns/claim holds dev-a, dev-b (pod x Running)" for every claim holding the devices a reason counts."""
    out = []
    for h in (reason.get("details") or {}).get("holders") or []:
        pods = ", ".join(p["name"] + (f" {p['phase']}" if p.get("phase") else "") for p in h.get("pods") or [])
        out.append(f"{h['claim']}" + (" (deleted, not yet released)" if h.get("deleting") else "")
                   + f" holds {', '.join(h['devices'])}" + (f" (pod {pods})" if pods else "")
                   + (" (" + ", ".join(h["consumers"]) + ")" if h.get("consumers") else ""))
    return out


def collect_fixes(report: Report) -> list[str]:
    """The fixes of the target-level reasons, then of every summary group's example node (each of its
    reasons blocks: the first reason's fixes, then the others', e.g. the fallback alternative of a
    prioritized list), each once."""
    seen: list[str] = []
    for r in report["reasons"]:
        for f in r.get("fixes") or []:
            if f not in seen:
                seen.append(f)
    by_name = {n["name"]: n for n in report["nodes"]}
    for g in report["summary"]:
        node = by_name.get(g["nodes"][0]) if g["nodes"] else None
        reasons = (node or {}).get("reasons") or [g["example"]]
        for r in [g["example"]] + [x for x in reasons if x is not g["example"]]:
            for f in r.get("fixes") or []:
                if f not in seen:
                    seen.append(f)
    return seen


def scheduler_words(snap: Snapshot, pod: Mapping[str, Any]) -> SchedulerWords:
    """The scheduler's own message: PodScheduled condition and the newest FailedScheduling event."""
    out: SchedulerWords = {}
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
