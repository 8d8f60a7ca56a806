"""Text of `kubectl dra preview RULE_FILE` (the facts come from analysis.taintrule.preview)."""

from __future__ import annotations

from kubectl_dra.render.output import format_table, write


def _when(seconds: int) -> str:
    return "at once" if seconds == 0 else f"after {seconds}s (tolerationSeconds)"


def render_text(r: dict) -> None:
    rule = r["rule"]
    lines = [f"DeviceTaintRule {rule['name']}: taint {rule['taintText']}"
             + (" (replaces the rule of that name in the cluster)" if r["replaces"] else "")]
    if r["gatesNeeded"]:
        lines.append(f"! Not in force in Kubernetes {r['kubernetesVersion']}: feature gate(s) "
                     f"{', '.join(r['gatesNeeded'])} off, so kube-scheduler and the eviction controller ignore "
                     f"DeviceTaintRules. Once enabled, it would do what follows.")
    for p in r["problems"]:
        lines.append(f"! {p['severity']}: {p['path']}: {p['message']}")
    d = r["devices"]
    if r["selectsAll"]:
        lines.append(f"!!! WARNING: the selector selects EVERY device in the cluster ({d['selected']} of {d['total']}): "
                     f"every claim on them is affected")
    for n in r["notes"]:
        lines.append(f"Note: {n}")
    lines.append("")
    lines.append(f"Devices selected: {d['selected']} of {d['total']}")
    if d["groups"]:
        table = format_table(["NODE", "DRIVER", "POOL", "COUNT", "DEVICES"],
                             [[g["node"], g["driver"], g["pool"], g["count"], ",".join(g["devices"])]
                              for g in d["groups"]])
        lines += ["  " + x for x in table.rstrip("\n").split("\n")]
    claims = r["allocatedClaims"]
    lines.append("")
    lines.append(f"Allocated claims on them: {len(claims)}")
    for c in claims:
        pods = f" (reserved for {', '.join(c['pods'])})" if c["pods"] else ""
        lines.append(f"  {c['namespace']}/{c['name']}: {', '.join(c['devices'])}{pods}")
    if rule["taint"].get("effect") == "NoExecute":
        lines.append("")
        lines.append(f"Running pods evicted: {len(r['evictions'])}")
        for p in r["evictions"]:
            why = (" -- a toleration without effect NoExecute does not count for eviction"
                   if p.get("tolerationWithoutEffect") else "")
            lines.append(f"  {p['namespace']}/{p['name']} on {p['node']}: {_when(p['afterSeconds'])} "
                         f"(claims {', '.join(p['claims'])}){why}")
        if r["tolerating"]:
            lines.append(f"Running pods that stay (their claims tolerate the taint): {len(r['tolerating'])}")
            for p in r["tolerating"]:
                lines.append(f"  {p['namespace']}/{p['name']} on {p['node']} (claims {', '.join(p['claims'])})")
    if rule["taint"].get("effect") in ("NoSchedule", "NoExecute"):
        pp = r["pendingPods"]
        lines.append("")
        # a rule of the cluster: it has taken their place already (they would fit without it)
        here = r.get("inCluster")
        title = "Pending pods it leaves without a place to fit" if here else \
            "Pending pods that would lose their last place to fit"
        lines.append(f"{title}: {len(pp['losingLastPlace'])} (of {pp['checked']} pending pod(s) with claims)")
        for p in pp["losingLastPlace"]:
            where = "would fit without it on" if here else "fits now on"
            lines.append(f"  {p['namespace']}/{p['name']} ({where} {', '.join(p['nodesBefore'])})")
    write("\n".join(lines) + "\n")
