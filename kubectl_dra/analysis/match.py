"""Evaluate a CEL selector (optionally on top of a DeviceClass) against every device of a snapshot.

Produces plain data for the renderer: per-device outcome (match, no-match,
error, class-excluded, class-error), groups by driver/pool/node, runtime errors
grouped by message, and diagnostics hints.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from kubectl_dra.cel.diagnostics import selector_hints
from kubectl_dra.errors import InputError, NotFoundError
from kubectl_dra.names import did_you_mean
from kubectl_dra.selection import MATCH, NO_MATCH, Verdict, for_snapshot, list_gate_hint
from kubectl_dra.snapshot import Snapshot

OUTCOMES = ("match", "no-match", "error", "class-excluded", "class-error")


def match_devices(snap: Snapshot, expression: str, *, class_name: str | None = None,
                  node: str | None = None) -> dict[str, Any]:
    selection = for_snapshot(snap)
    compiled = selection.compile(expression)
    if type(compiled) is Verdict:
        hint = list_gate_hint(expression, selection.lists)
        if hint:
            raise InputError(f"{compiled.message}\n{hint}")
        raise compiled.error  # CelCompileError (exit 3)
    class_exprs = []
    if class_name is not None:
        cls = snap.device_classes.get(class_name)
        if cls is None:
            raise NotFoundError(f'deviceclass "{class_name}" not found' + did_you_mean(class_name, snap.device_classes))
        for i, sel in enumerate((cls.get("spec") or {}).get("selectors") or []):
            text = (sel.get("cel") or {}).get("expression")
            if text:
                compiled = selection.compile(text)
                if type(compiled) is Verdict:
                    raise compiled.error
                class_exprs.append((i, text))
    if node is not None:
        if node not in snap.nodes and node not in snap.devices_by_node_name:
            raise NotFoundError(f'node "{node}" not found'
                                + did_you_mean(node, [*snap.nodes, *snap.devices_by_node_name]))
        entries = snap.devices_for_node(node)
    else:
        entries = list(snap.devices)

    devices = []
    groups: "OrderedDict[tuple, dict]" = OrderedDict()
    errors: "OrderedDict[str, dict]" = OrderedDict()
    counts = {o: 0 for o in OUTCOMES}
    evaluate = selection.evaluate
    for entry in entries:
        outcome, message, missing = None, None, None
        for i, text in class_exprs:
            verdict = evaluate(text, entry.driver, entry.device)
            if verdict is NO_MATCH:
                outcome = "class-excluded"
                break
            if verdict is not MATCH:
                outcome, message, missing = "class-error", f"class {class_name}: selector #{i}: {verdict.message}", verdict.missing_key
                break
        if outcome is None:
            verdict = evaluate(expression, entry.driver, entry.device)
            if verdict is MATCH:
                outcome = "match"
            elif verdict is NO_MATCH:
                outcome = "no-match"
            else:
                outcome, message, missing = "error", verdict.message, verdict.missing_key
        counts[outcome] += 1
        where = entry.node_name or entry.scope
        rec = {"driver": entry.driver, "pool": entry.pool, "device": entry.name, "node": where,
               "slice": entry.slice_name, "outcome": outcome}
        if message:
            rec["error"] = message
            err_group = errors.setdefault(message, {"message": message, "missingKey": missing, "count": 0,
                                                    "devices": []})
            err_group["count"] += 1
            if len(err_group["devices"]) < 5:
                err_group["devices"].append(f"{entry.driver}/{entry.pool}/{entry.name}")
        devices.append(rec)
        g = groups.setdefault((entry.driver, entry.pool, where),
                              {"driver": entry.driver, "pool": entry.pool, "node": where,
                               **{o: 0 for o in OUTCOMES}, "matching": []})
        g[outcome] += 1
        if outcome == "match":
            g["matching"].append(entry.name)

    considered = [e for e, d in zip(entries, devices) if d["outcome"] not in ("class-excluded", "class-error")]
    evaluated = [(d["driver"], d.get("error")) for d in devices if d["outcome"] in ("match", "no-match", "error")]
    hints = [h.as_dict() for h in selector_hints(expression, considered or entries, evaluated,
                                                 narrow_with="use --class")]
    return {
        "expression": expression,
        "class": class_name,
        "node": node,
        "total": len(entries),
        "counts": counts,
        "groups": list(groups.values()),
        "errors": list(errors.values()),
        "hints": hints,
        "devices": devices,
    }
