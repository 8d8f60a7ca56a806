"""Rich trees for `explain` results (the facts come from analysis.explain)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.tree import Tree

from kubectl_dra.render.output import make_console, value_text

STATE_STYLE = {"allocated": "green", "allocated,reserved": "green", "pending": "yellow", "missing": "red",
               "not-generated": "yellow"}


def _s(v: Any) -> str:
    return escape(str(v))


def _state(state: str) -> str:
    return f"[{STATE_STYLE.get(state, 'white')}]{_s(state)}[/]"


def _holders(holders: list[dict], availability: dict | None = None) -> str:
    note = ""
    if availability is not None and availability["text"] not in ("free", "used"):
        colour = "green" if availability["free"] else "red"
        note = f"[{colour}]{_s(availability['text'])}[/]"
    if not holders:
        return note or "[green]free[/]"
    parts = []
    for h in holders:
        pods = ", ".join(p["name"] + (f" [red]({p['phase']}, still holds it)[/]" if p.get("finished") else "")
                         for p in h["pods"])
        others = ", ".join(_s(o) for o in h.get("otherConsumers") or [])
        parts.append(f"held by [cyan]{_s(h['namespace'])}/{_s(h['claim'])}[/]" + (" (admin access)" if h.get("adminAccess") else "")
                     + (" [yellow](claim deleted, not yet released)[/]" if h.get("deleting") else "")
                     + (f" for pod {pods}" if pods else "") + (f" for {others}" if others else ""))
    return "; ".join(([note] if note else []) + parts)


def _attrs_line(attrs: dict, capacity: dict) -> str:
    a = ", ".join(f"{k.rsplit('/', 1)[-1]}={value_text(v)}" for k, v in attrs.items())
    c = ", ".join(f"{k.rsplit('/', 1)[-1]}={v}" for k, v in capacity.items())
    return "[dim]" + _s("; ".join(x for x in (a, c) if x)) + "[/]"


def _add_requests(tree: Tree, requests: list[dict]) -> None:
    node = tree.add("[bold]Requests[/]")
    for r in requests:
        if "firstAvailable" in r:
            sub = node.add(f"[bold]{_s(r['name'])}[/]: first available of")
            for i, s in enumerate(r["firstAvailable"]):
                _add_exact(sub, s, prefix=f"{i + 1}. {r['name']}/")
        else:
            _add_exact(node, r)


def _add_exact(parent: Tree, r: dict, prefix: str = "") -> None:
    count = "All" if r["allocationMode"] == "All" else r["count"]
    n = parent.add(f"[bold]{_s(prefix + str(r['name']))}[/]: {count} x class [cyan]{_s(r['deviceClassName'])}[/]"
                   + (" [magenta](admin access)[/]" if r.get("adminAccess") else ""))
    for sel in r.get("selectors") or []:
        n.add(f"selector: [yellow]{_s(sel)}[/]")
    for t in r.get("tolerations") or []:
        n.add(f"tolerates: {_s(t.get('key', '*'))}{'=' + _s(t['value']) if t.get('value') else ''}:{_s(t.get('effect', '*'))}")
    if r.get("capacity"):
        n.add(f"capacity: {_s(r['capacity'])}")


def _add_constraints_config(tree: Tree, facts: dict) -> None:
    if facts.get("constraints"):
        c = tree.add("[bold]Constraints[/]")
        for con in facts["constraints"]:
            what = ("same " + con["matchAttribute"]) if con.get("matchAttribute") else ("distinct " + str(con.get("distinctAttribute")))
            c.add(f"{_s(what)} across {_s(', '.join(con.get('requests') or ['all requests']))}")
    if facts.get("config"):
        c = tree.add("[bold]Config[/]")
        for cfg in facts["config"]:
            drv = (cfg.get("opaque") or {}).get("driver")
            c.add(f"opaque parameters for {_s(drv)} -> {_s(', '.join(cfg.get('requests') or ['all requests']))}")


def tree_for(result: dict) -> Tree:
    kind = result["kind"]
    return {"ResourceClaim": _claim_tree, "ResourceClaimTemplate": _template_tree, "Pod": _pod_tree,
            "Node": _node_tree, "ResourceSlice": _slice_tree, "DeviceClass": _class_tree,
            "DeviceTaintRule": _taint_rule_tree}[kind](result)


def _claim_tree(r: dict) -> Tree:
    t = Tree(f"[bold]ResourceClaim {_s(r['namespace'])}/{_s(r['name'])}[/]  {_state(r['state'])}")
    if r.get("deleting"):
        t.add("[yellow]being deleted: the scheduler refuses it for new pods; its devices are released when its "
              "finalizer is removed[/]")
    _add_requests(t, r["requests"])
    _add_constraints_config(t, r)
    if r["allocation"]:
        a = t.add(f"[bold]Allocation[/] on node [cyan]{_s(r['allocation']['node'] or 'any node')}[/]")
        for d in r["allocation"]["devices"]:
            extra = " [magenta](admin access)[/]" if d.get("adminAccess") else ""
            if d.get("consumedCapacity"):
                extra += " consumed " + _s(", ".join(f"{k}={v}" for k, v in d["consumedCapacity"].items()))
            line = f"{_s(d['request'])} -> [green]{_s(d['driver'])}/{_s(d['pool'])}/{_s(d['device'])}[/]{extra}"
            if d.get("missing"):
                line += " [red](no longer published by the driver)[/]"
            n = a.add(line)
            if "attributes" in d:
                n.add(_attrs_line(d["attributes"], d["capacity"]))
    else:
        t.add("[yellow]Not allocated[/]")
    if r["reservedFor"]:
        rf = t.add("[bold]Reserved for[/]")
        for p in r["reservedFor"]:
            rf.add(_s(p.get("label") or f"{p['resource']}/{p['name']}") + (f" ({_s(p['phase'])})" if p.get("phase") else "")
                   + (" [red]finished but still reserves the claim[/]" if p.get("finished") else ""))
    elif r.get("usedBy"):
        t.add("Used by pods: " + _s(", ".join(r["usedBy"])))
    if r.get("deviceStatus"):
        ds = t.add("[bold]Device status[/]")
        for d in r["deviceStatus"]:
            ds.add(f"{_s(d.get('driver'))}/{_s(d.get('pool'))}/{_s(d.get('device'))}: "
                   + _s(", ".join(f"{c.get('type')}={c.get('status')}" for c in d.get("conditions") or []) or "reported"))
    if r.get("hint"):
        t.add(f"[bold yellow]Hint:[/] {_s(r['hint'])}")
    return t


def _template_tree(r: dict) -> Tree:
    t = Tree(f"[bold]ResourceClaimTemplate {_s(r['namespace'])}/{_s(r['name'])}[/]")
    _add_requests(t, r["requests"])
    _add_constraints_config(t, r)
    g = t.add(f"[bold]Claims generated for pods[/] ({len(r['claims'])})")
    for c in r["claims"]:
        g.add(f"pod/{_s(c['pod'])} ({_s(c['podClaimName'])}) -> {_s(c['claim'] or '(not generated yet)')}  {_state(c['state'])}"
              + (f" on {_s(c['node'])}" if c.get("node") else ""))
    return t


def _pod_tree(r: dict) -> Tree:
    t = Tree(f"[bold]Pod {_s(r['namespace'])}/{_s(r['name'])}[/]  {_s(r['phase'] or '')}"
             + (f" on [cyan]{_s(r['node'])}[/]" if r.get("node") else ""))
    c = t.add("[bold]Claims[/]")
    for pc in r["claims"]:
        src = f"from template {pc['template']}" if pc.get("template") else "existing claim"
        n = c.add(f"{_s(pc['podClaimName'])} -> [cyan]{_s(pc['claim'] or '(not generated yet)')}[/] ({_s(src)})  {_state(pc['state'])}")
        if pc.get("note"):
            n.add(f"[red]{_s(pc['note'])}[/]")
        for d in pc.get("devices") or []:
            n.add(f"{_s(d['request'])} -> [green]{_s(d['driver'])}/{_s(d['pool'])}/{_s(d['device'])}[/]")
    ct = t.add("[bold]Containers[/]")
    for con in r["containers"]:
        ct.add(f"{'init ' if con['init'] else ''}{_s(con['name'])}: " + (_s(", ".join(con["claims"])) or "[dim]no claims[/]"))
    if r.get("scheduling"):
        t.add(f"[bold]Scheduler says[/] ({_s(r['scheduling'].get('reason'))}): {_s(r['scheduling'].get('message'))}")
    if r.get("hint"):
        t.add(f"[bold yellow]Hint:[/] {_s(r['hint'])}")
    return t


def _node_tree(r: dict) -> Tree:
    flags = []
    if r["cordoned"]:
        flags.append("[red]cordoned[/]")
    if not r["known"]:
        flags.append("[yellow]no Node object[/]")
    t = Tree(f"[bold]Node {_s(r['name'])}[/]  {r['devices']} devices, {r['allocated']} allocated, {r['free']} free  " + " ".join(flags))
    if r["taints"]:
        tt = t.add("[bold]Node taints[/]")
        for x in r["taints"]:
            tt.add(f"{_s(x.get('key'))}{'=' + _s(x['value']) if x.get('value') else ''}:{_s(x.get('effect'))}")
    for p in r["pools"]:
        pn = t.add(f"[bold]{_s(p['driver'])}[/] pool [cyan]{_s(p['pool'])}[/] ({_s(p['scope'])})"
                   + ("" if p["complete"] else " [red]incomplete[/]"))
        for d in p["devices"]:
            taint = ""
            if d.get("taints"):
                taint = " [red]tainted " + _s(",".join(f"{x.get('key')}:{x.get('effect')}"
                                                       + (f" (rule {x['rule']})" if x.get("rule") else "")
                                                       for x in d["taints"])) + "[/]"
            pn.add(f"{_s(d['device'])} [dim]{_s(d['summary'])}[/]{taint}  {_holders(d['holders'], d.get('availability'))}")
    return t


def _scope_text(scope: dict) -> str:
    """A slice's node selection in words: "node N", "all nodes", "each device's own node selection", or
    the node selector's terms."""
    if scope.get("nodeName"):
        return f"node {scope['nodeName']}"
    if scope.get("allNodes"):
        return "all nodes"
    if scope.get("perDeviceNodeSelection"):
        return "each device's own node selection"
    terms = []
    for term in (scope.get("nodeSelector") or {}).get("nodeSelectorTerms") or []:
        reqs = [f"{x.get('key')} {x.get('operator')} {','.join(x.get('values') or [])}".strip()
                for x in (term.get("matchExpressions") or []) + (term.get("matchFields") or [])]
        terms.append(" and ".join(reqs))
    return "nodes with " + " or ".join(terms) if terms else "no node"


def _slice_tree(r: dict) -> Tree:
    gen = f"generation {r['generation']}" + ("" if r["current"] else f" [red](stale: pool is at {r['poolGeneration']})[/]")
    ps = r["poolSlices"]
    comp = "[green]complete[/]" if ps["complete"] else f"[red]incomplete: {ps['seen']} of {ps['expected']} slices[/]"
    t = Tree(f"[bold]ResourceSlice {_s(r['name'])}[/]  driver {_s(r['driver'])}, pool {_s(r['pool'])}, {gen}, {comp}")
    for problem in r.get("poolProblems") or []:
        t.add(f"[bold red]invalid pool:[/] {_s(problem)}")
    t.add(f"available on: {_s(_scope_text(r['scope']))}")
    if r["sharedCounters"]:
        sc = t.add("[bold]Shared counters[/]")
        for cs in r["sharedCounters"]:
            sc.add(f"{_s(cs.get('name'))}: " + _s(", ".join(f"{k}={v.get('value')}" for k, v in (cs.get('counters') or {}).items())))
    d = t.add(f"[bold]Devices[/] ({len(r['devices'])})")
    for dev in r["devices"]:
        if dev.get("stale"):
            d.add(f"{_s(dev['device'])} [dim](not counted: stale generation)[/]")
            continue
        n = d.add(f"{_s(dev['device'])}  {_holders(dev['holders'], dev.get('availability'))}")
        n.add(_attrs_line(dev["attributes"], dev["capacity"]))
        if dev.get("consumesCounters"):
            n.add("consumes " + _s("; ".join(f"{c.get('counterSet')}: " + ", ".join(f"{k}={v.get('value')}" for k, v in (c.get('counters') or {}).items()) for c in dev["consumesCounters"])))
    return t


def _class_tree(r: dict) -> Tree:
    t = Tree(f"[bold]DeviceClass {_s(r['name'])}[/]  {r['matching']} matching devices, {r['free']} free")
    s = t.add("[bold]Selectors[/]")
    for sel in r["selectors"] or ["(none: every device matches)"]:
        s.add(f"[yellow]{_s(sel)}[/]")
    if r["config"]:
        c = t.add("[bold]Config[/]")
        for cfg in r["config"]:
            c.add(f"opaque parameters for {_s((cfg.get('opaque') or {}).get('driver'))}")
    if r.get("extendedResourceName"):
        t.add(f"extended resource: {_s(r['extendedResourceName'])}")
    n = t.add("[bold]Matching devices by node[/]")
    for row in r["nodes"]:
        partly = row.get("unavailable") or []
        n.add(f"{_s(row['node'])}: {row['matching']} matching, {row['free']} free"
              + (f" ({len(partly)} unclaimed but not free: {'its' if len(partly) == 1 else 'their'} counters are "
                 "taken by other devices)" if partly else "")
              + f"  [dim]{_s(', '.join(row['devices'][:8]))}{' ...' if len(row['devices']) > 8 else ''}[/]")
    if not r["nodes"]:
        nm = n.add("[red]no device matches this class[/]")
        for h in r.get("hints") or []:
            nm.add(f"[yellow]hint:[/] {_s(h)}")
    if r["errors"]:
        e = t.add(f"[bold red]CEL errors[/] ({len(r['errors'])})")
        for err in r["errors"]:
            e.add(f"{_s(err['driver'])}/{_s(err['pool'])}/{_s(err['device'])}: {_s(err['error'])}")
    return t


def render_text(result: dict) -> None:
    """The tree of an `explain` result (analysis.explain)."""
    make_console().print(tree_for(result))


def _taint_rule_tree(r: dict) -> Tree:
    t = Tree(f"[bold]DeviceTaintRule {_s(r['name'])}[/]  taint [red]{_s(r['taintText'])}[/]")
    if r["gatesNeeded"]:
        t.add(f"[yellow]not in force in Kubernetes {_s(r['kubernetesVersion'])}: needs feature gate(s) "
              f"{_s(', '.join(r['gatesNeeded']))}[/]")
    sel = r["deviceSelector"]
    t.add("selector: " + ("[yellow]none (kube-scheduler: every device; eviction controller: none)[/]" if sel is None
                          else _s(", ".join(f"{k}={v}" for k, v in sel.items()) or "{} (every device)")))
    for f in r["ignoredFields"]:
        t.add(f"[yellow]{_s(f)} is not known to Kubernetes {_s(r['kubernetesVersion'])}: ignored[/]")
    d = r["devices"]
    head = f"[bold]Devices[/] {d['selected']} of {d['total']}"
    if r["selectsAll"]:
        head += " [bold red](every device in the cluster)[/]"
    dt = t.add(head)
    for g in d["groups"]:
        dt.add(f"[cyan]{_s(g['node'])}[/] {_s(g['driver'])}/{_s(g['pool'])}: {g['count']} "
               f"[dim]{_s(', '.join(g['devices']))}[/]")
    if r["allocatedClaims"]:
        ct = t.add(f"[bold]Allocated claims on them[/] {len(r['allocatedClaims'])}")
        for c in r["allocatedClaims"]:
            pods = f" (pods {_s(', '.join(c['pods']))})" if c["pods"] else ""
            ct.add(f"{_s(c['namespace'])}/{_s(c['name'])}: {_s(', '.join(x.rsplit('/', 1)[-1] for x in c['devices']))}{pods}")
    return t
