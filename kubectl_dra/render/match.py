"""Render `kubectl dra match` results: a summary, per driver/pool/node counts, errors, hints."""

from __future__ import annotations

from typing import Any

from kubectl_dra.render.output import write

MAX_NAMES = 8


def _names(names: list[str]) -> str:
    if len(names) <= MAX_NAMES:
        return ", ".join(names)
    return ", ".join(names[:MAX_NAMES]) + f", ... (+{len(names) - MAX_NAMES} more)"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def render_text(result: dict[str, Any], *, show_all: bool = False) -> None:
    """A `match` result (analysis.match): counts, the driver/pool/node groups, errors, hints."""
    c = result["counts"]
    scope = []
    if result.get("class"):
        scope.append(f"class {result['class']}")
    if result.get("node"):
        scope.append(f"node {result['node']}")
    head = (f"{c['match']} of {result['total']} devices match"
            + (f" ({', '.join(scope)})" if scope else "")
            + f"; {c['no-match']} do not"
            + (f"; {c['error']} errors" if c["error"] else "")
            + (f"; {c['class-excluded']} excluded by the class" if c["class-excluded"] else "")
            + (f"; {c['class-error']} class selector errors" if c["class-error"] else ""))
    out = [head + "\n"]
    if result["groups"]:
        rows = [["DRIVER", "POOL", "NODE", "MATCH", "NO-MATCH", "ERROR", "MATCHING DEVICES"]]
        for g in result["groups"]:
            if not show_all and not (g["match"] or g["error"] or g["class-error"]) and len(result["groups"]) > 20:
                continue
            rows.append([g["driver"], g["pool"], g["node"], str(g["match"]), str(g["no-match"]),
                         str(g["error"] + g["class-error"]), _names(g["matching"]) or "-"])
        hidden = len(result["groups"]) - (len(rows) - 1)
        out.append("\n" + _table(rows))
        if hidden:
            out.append(f"({hidden} groups without matches or errors hidden; use --all to show them)\n")
    if result["errors"]:
        out.append("\nErrors (a CEL runtime error fails the whole allocation in kube-scheduler):\n")
        for e in result["errors"]:
            out.append(f"  {e['count']} device(s): {e['message']}\n")
            out.append(f"    e.g. {', '.join(e['devices'])}\n")
    if result["hints"]:
        out.append("\nHints:\n")
        for h in result["hints"]:
            out.append(f"  - {h['message']}\n")
    write("".join(out))
