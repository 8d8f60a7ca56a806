"""Text for `why-pending` reports (the facts come from analysis.why_pending, shaped as its contract.Report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from kubectl_dra.render.output import gap_line, make_console

if TYPE_CHECKING:
    from kubectl_dra.analysis.why_pending.contract import Report

MAX_NODES_SHOWN = 8


def _s(v) -> str:
    return escape(str(v))


def _node_list(nodes: list[str], verbose: bool) -> str:
    if verbose or len(nodes) <= MAX_NODES_SHOWN:
        return ", ".join(nodes)
    return ", ".join(nodes[:MAX_NODES_SHOWN]) + f", ... (+{len(nodes) - MAX_NODES_SHOWN} more)"


# How each stage opens the first line (stages after allocation say where the pod is instead of a node count).
_STAGE_WORDS = {"claims": "is waiting for its claims", "allocation": "is not scheduled"}


def verdict_line(report: Report) -> str:
    t = report["target"]
    what = f"{'Pod' if t['kind'] == 'Pod' else 'ResourceClaim'} {t['namespace']}/{t['name']}"
    stage = report.get("stage", "allocation")
    if stage in ("binding", "prepare", "running"):
        return _later_stage_line(report, what, stage)
    if t["kind"] == "Pod":
        what = f"{what} {_STAGE_WORDS[stage]}"
    else:
        what = f"{what} is {'not allocated' if stage == 'allocation' else 'waiting'}"
    total = len(report["nodes"])
    fitting = [n["name"] for n in report["nodes"] if n["fits"]]
    if report["fits"]:
        return f"{what}: fits on {len(fitting)} of {total} node{'s' if total != 1 else ''}: {_node_list(fitting, False)}"
    would = [n["name"] for n in report["nodes"] if n.get("wouldFit")]
    if report.get("couldFit"):
        return (f"{what}: unknown: could fit on {len(would)} of {total} node{'s' if total != 1 else ''}, "
                f"but the answer is incomplete (see below): {_node_list(would, False)}")
    if would and not fitting:
        return (f"{what}: fits nowhere now; would fit on {len(would)} of {total} node{'s' if total != 1 else ''} "
                f"once the target-level problems below are fixed: {_node_list(would, False)}")
    return f"{what}: fits nowhere (0 of {total} node{'s' if total != 1 else ''})"


def _later_stage_line(report: Report, what: str, stage: str) -> str:
    node = report["nodes"][0]["name"] if report["nodes"] else (report.get("pod") or {}).get("nodeName")
    first = next((r for r in report["reasons"] if r["code"] not in ("no-claims",)), None)
    blocked = not report["fits"]
    unchecked = report.get("unchecked")
    if stage == "binding":
        where = f" on node {node}" if node else ""
        head = f"{what}: its devices are allocated{where}, but the pod is not bound yet"
        return head + (f": {first['message']}" if first and blocked else ": waiting for the scheduler to bind it")
    if stage == "prepare":
        if first and blocked:
            return f"{what} is scheduled on {node} but its devices were never prepared: {first['message']}"
        if unchecked:
            return f"{what} is bound to {node}; whether its devices were prepared is unknown: {unchecked[0]['message']}"
        return f"{what} is bound to {node}; its containers have not started, and nothing DRA-related blocks them"
    head = f"{what} is running" + (f" on {node}" if node else "")
    return head + (f" (warning: {first['message']})" if first else "")


def _message(r) -> str:
    """A reason's message without upstream's own "claim NS/NAME, request REQ: " prefix when the line
    already names the claim and request (the JSON keeps upstream's words whole)."""
    msg = r["message"]
    if r.get("request") and r.get("claim") and msg.startswith("claim "):
        head = msg.split(": ", 1)
        if len(head) == 2 and (head[0].endswith(f"/{r['claim']}, request {r['request']}")
                               or (head[0].endswith(f"/{r['claim']}") and " " not in head[0][6:])):
            return head[1]
    return msg


def _other_reasons(report: Report, g, verbose: bool) -> list[str]:
    """The reasons after the first of a group's first node (every one blocks too, in rank order);
    with -o wide, those of every node of the group that has more than one."""
    by_name = {n["name"]: n for n in report["nodes"]}
    out: list[str] = []
    names = g["nodes"] if verbose else g["nodes"][:1]
    for name in names:
        rest = (by_name.get(name) or {}).get("reasons", [])[1:]
        where = f" (on {name})" if len(g["nodes"]) > 1 else ""
        for r in rest:
            req = f"claim {r['claim']}, request {r['request']}: " if r.get("request") else ""
            out.append(f"and{where} {r['code']}: {req}{_message(r)}")
    return out


def render_text(report: Report, *, verbose: bool = False) -> None:
    con = make_console()
    p = con.print
    style = "bold green" if report["fits"] else "bold red"
    p(f"[{style}]{_s(verdict_line(report))}[/]")
    if report.get("incomplete"):
        p("")
        p("[bold yellow]Incomplete answer[/] [dim](exit code 6): kubectl-dra could not read everything it depends on[/]")
        for g in report["incomplete"]:
            p(f"  [yellow]![/] {_s(gap_line(g))}")
    if report.get("unchecked"):
        p("")
        p("[bold yellow]Not checked[/]")
        for u in report["unchecked"]:
            p(f"  [yellow]?[/] stage {_s(u['stage'])}: {_s(u['message'])}")
    if report["claims"]:
        p("")
        p("[bold]Claims[/]")
        for c in report["claims"]:
            src = f" (from template {c['template']})" if c.get("template") else ""
            name = c["name"] or "(not generated)"
            if c.get("synthesized"):
                name = f"(not generated yet; checked as {c['name']})"
            p(f"  {_s(c['podClaimName'])} -> {_s(name)}{_s(src)}: {_s(c['state'])}")
    for r in report["reasons"]:
        p(f"[red]  ! {_s(r['code'])}:[/] {_s(r['message'])}")
    sched = report.get("scheduler") or {}
    if sched.get("condition") or sched.get("event"):
        p("")
        p("[bold]Scheduler says[/]")
        if sched.get("condition"):
            p(f"  PodScheduled=False ({_s(sched['condition'].get('reason'))}): {_s(sched['condition'].get('message'))}")
        if sched.get("event"):
            ev = sched["event"]
            count = f" (x{ev['count']})" if ev.get("count") else ""
            p(f"  FailedScheduling{_s(count)}: {_s(ev.get('message'))}")
    if report["summary"]:
        p("")
        p("[bold]Why, by node[/]" if not report["fits"] else "[bold]Nodes that do not fit[/]")
        for g in report["summary"]:
            n = len(g["nodes"])
            where = f"claim {g['claim']}, request {g['request']}: " if g.get("request") else ""
            p(f"  [yellow]{n} node{'s' if n != 1 else ''}[/] [bold]{_s(g['code'])}[/]: {_s(where)}{_s(_message(g))}")
            p(f"    [dim]{_s(_node_list(g['nodes'], verbose))}[/]")
            per_node = g.get("holders") or []
            if n > 1 and per_node:
                shown = per_node if verbose else per_node[:3]
                for nh in shown:
                    p(f"    on {_s(nh['node'])}: {_s('; '.join(nh['holders']) or 'held (holders not named)')}")
                if len(per_node) > len(shown):
                    p(f"    [dim]... and {len(per_node) - len(shown)} more node(s) (-o wide for all)[/]")
            funnel = ((g["example"].get("details") or {}).get("funnel"))
            if funnel:
                p(f"    devices: {_s(funnel['summary'])}, {funnel['needed']} needed"
                  + (f" [dim](on {g['nodes'][0]})[/]" if n > 1 else ""))
                if verbose:
                    for stage, names in funnel["names"].items():
                        p(f"      {_s(stage)}: {_s(', '.join(names) or '-')}")
            seen = (g["example"].get("details") or {}).get("valuesSeen")
            if seen and verbose:
                for k, vals in seen.items():
                    p(f"      values of {_s(k)}: {_s(', '.join(vals))}")
            for line in _other_reasons(report, g, verbose):
                p(f"    {_s(line)}")
    fits = [n for n in report["nodes"] if n["fits"] or n.get("wouldFit")]
    if fits:
        p("")
        p("[bold]Would allocate[/]" if not report["fits"] else "[bold]Allocation[/]")
        shown = fits if verbose else fits[:3]
        for n in shown:
            devs = "; ".join(f"{claim}: " + ", ".join(f"{d['request']} -> {d['driver']}/{d['pool']}/{d['device']}" for d in results)
                             for claim, results in (n["allocation"] or {}).items())
            p(f"  {_s(n['name'])}: {_s(devs or ('all claims already allocated' if report['claims'] else 'no DRA claims to allocate'))}")
        if len(fits) > len(shown):
            p(f"  [dim]... and {len(fits) - len(shown)} more node(s) (-o wide to list them)[/]")
    if report["fixes"]:
        p("")
        p("[bold]What would unblock it[/]")
        for f in report["fixes"]:
            p(f"  - {_s(f)}")
    p("")
    p(f"[dim]Note: {_s(report['note'])}[/]")
