"""What a DeviceTaintRule does to one cluster: the devices it selects, the allocated claims on them, the
running pods the eviction controller would evict, the pending pods that would lose their last place to fit.

``explain deviceTaintRule/NAME`` shows the first two for a rule of the cluster; :func:`preview` (``kubectl dra
preview RULE_FILE``) all of them for a rule not applied yet, with the rules already in the cluster in force.

The eviction part mirrors upstream's ``pkg/controller/devicetainteviction`` (``Controller.claimEvictionTime``,
``podEvictionTime``): only pods bound to a node and reserved in the claim's ``reservedFor`` are evicted; a
device's NoExecute taint is tolerated by a toleration of the *allocation result* (the claim's request
tolerations, copied there at allocation) whose effect is NoExecute and that matches the taint; without
``tolerationSeconds`` for ever, else the pod goes after that many seconds (negative counts as 0).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from kubectl_dra import taintrules
from kubectl_dra.allocator.tolerations import tolerates
from kubectl_dra.analysis.why_pending.nodes import taint_text
from kubectl_dra.snapshot import DeviceEntry, DeviceKey, Snapshot, name_of, namespace_of

FINISHED = ("Succeeded", "Failed")


def rule_summary(rule: Mapping[str, Any]) -> dict:
    spec = rule.get("spec") or {}
    taint = taintrules.rule_taint(rule)
    return {"name": name_of(rule), "taint": taint, "taintText": taint_text(taint),
            "deviceSelector": spec.get("deviceSelector") if "deviceSelector" in spec else None}


def selected_devices(snap: Snapshot, rule: Mapping[str, Any], minor: int) -> list[DeviceEntry]:
    """The devices of the newest pool generations the rule selects (the slice tracker's reading)."""
    m = taintrules.RuleMatcher(snap, minor)
    return [e for e in snap.devices if m.selects(rule, e.driver, e.pool, e.device)]


def device_groups(entries: list[DeviceEntry]) -> list[dict]:
    """Selected devices by node (or scope), driver and pool, with counts and names."""
    groups: dict[tuple, list[str]] = {}
    for e in entries:
        groups.setdefault((e.scope, e.driver, e.pool), []).append(e.name)
    return [{"node": n, "driver": d, "pool": p, "count": len(names), "devices": names}
            for (n, d, p), names in sorted(groups.items())]


def claims_on(snap: Snapshot, keys: set) -> list[dict]:
    """The allocated claims holding any of these devices, with the devices and the pods reserving them."""
    out = []
    for c in snap.allocated_claims:
        results = ((c.get("status") or {}).get("allocation") or {}).get("devices", {}).get("results") or []
        held = [f"{r.get('driver')}/{r.get('pool')}/{r.get('device')}" for r in results
                if DeviceKey(r.get("driver", ""), r.get("pool", ""), r.get("device", "")) in keys]
        if not held:
            continue
        reserved = [r.get("name", "") for r in (c.get("status") or {}).get("reservedFor") or []
                    if (r.get("resource") or "pods") == "pods" and not r.get("apiGroup")]
        out.append({"namespace": namespace_of(c), "name": name_of(c), "devices": held, "pods": reserved})
    return sorted(out, key=lambda x: (x["namespace"], x["name"]))


def _claim_eviction(claim: Mapping[str, Any], taint: Mapping[str, Any], selected: Callable[[Mapping], bool]):
    """For one allocated claim and the rule's NoExecute taint (upstream claimEvictionTime, this taint only):
    None when no device of the claim carries it or every such device tolerates it for ever; else the
    seconds until eviction (0: at once); and whether a toleration that matches the taint was not counted
    because its effect is not NoExecute."""
    when = None
    ignored = False
    for r in ((claim.get("status") or {}).get("allocation") or {}).get("devices", {}).get("results") or []:
        if not selected(r):
            continue
        seconds = None
        forever = False
        for tol in r.get("tolerations") or ():
            if tol.get("effect") == "NoExecute" and tolerates(tol, taint):
                if tol.get("tolerationSeconds") is None:
                    forever = True
                    break
                s = max(int(tol["tolerationSeconds"]), 0)
                seconds = s if seconds is None else min(seconds, s)
        if forever:
            continue
        if seconds is None and any(tolerates(tol, taint) for tol in r.get("tolerations") or ()):
            ignored = True  # a toleration without effect NoExecute: the eviction controller does not count it
        delay = 0 if seconds is None else seconds
        when = delay if when is None else min(when, delay)
    return when, ignored


def evictions(snap: Snapshot, rule: Mapping[str, Any], minor: int) -> tuple[list[dict], list[dict]]:
    """(pods evicted, pods that keep running because their claims tolerate the taint for ever) for a rule
    with a NoExecute taint; both empty for any other effect (upstream podEvictionTime)."""
    taint = taintrules.rule_taint(rule)
    if taint.get("effect") != "NoExecute":
        return [], []
    m = taintrules.RuleMatcher(snap, minor)

    def selected(r: Mapping) -> bool:
        entry = snap.devices_by_key.get(DeviceKey(r.get("driver", ""), r.get("pool", ""), r.get("device", "")))
        device = entry.device if entry is not None else {"name": r.get("device", "")}
        return m.selects(rule, r.get("driver", ""), r.get("pool", ""), device, for_eviction=True)

    evicted, tolerating = [], []
    for (ns, pname), pod in sorted(snap.pods.items()):
        spec = pod.get("spec") or {}
        if not spec.get("nodeName") or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue  # not scheduled (nothing to evict), or already going
        if (pod.get("status") or {}).get("phase") in FINISHED:
            continue
        when, by, tolerated, ignored = None, [], [], False
        for pc in snap.pod_claims(pod):
            claim = pc.claim
            if claim is None or not (claim.get("status") or {}).get("allocation"):
                continue
            reserved = {r.get("name") for r in (claim.get("status") or {}).get("reservedFor") or []
                        if (r.get("resource") or "pods") == "pods"}
            if pname not in reserved:
                continue  # not the pod the claim is reserved for (upstream IsReservedForPod)
            on_rule = any(selected(r) for r in ((claim.get("status") or {}).get("allocation") or {})
                          .get("devices", {}).get("results") or [])
            if not on_rule:
                continue
            delay, not_counted = _claim_eviction(claim, taint, selected)
            ignored = ignored or not_counted
            if delay is None:
                tolerated.append(pc.claim_name)
                continue
            by.append(pc.claim_name)
            when = delay if when is None else min(when, delay)
        base = {"namespace": ns, "name": pname, "node": spec.get("nodeName"),
                "phase": (pod.get("status") or {}).get("phase")}
        if when is not None:
            evicted.append({**base, "claims": by, "afterSeconds": when,
                            **({"tolerationWithoutEffect": True} if ignored and when == 0 else {})})
        elif tolerated:
            tolerating.append({**base, "claims": tolerated})
    return evicted, tolerating


def find_rule(snap: Snapshot, name: str) -> Mapping[str, Any]:
    """The cluster's rule ``name``: NotFoundError when there is none, ClusterError (exit 4) when the rules
    could not be read (it may well exist)."""
    from kubectl_dra.errors import ClusterError, NotFoundError

    rule = snap.device_taint_rules.get(name)
    if rule is not None:
        return rule
    gaps = snap.source.gaps("devicetaintrules")
    if gaps:
        raise ClusterError(f'devicetaintrules.resource.k8s.io "{name}" could not be read: cannot list '
                           f'{gaps[0].qualified()} ({gaps[0].reason})')
    raise NotFoundError(f'devicetaintrules.resource.k8s.io "{name}" not found')


def explain_rule(snap: Snapshot, name: str, gates=None) -> dict:
    """``explain deviceTaintRule/NAME``: the rule, whether the gates in force (None: the defaults of the
    cluster's release) put it in force, the devices it selects and the allocated claims on them."""
    from kubectl_dra.features import defaults_for_version

    rule = find_rule(snap, name)
    if gates is None:
        gates = defaults_for_version(snap.source.server_version)
    minor = taintrules.minor_of(gates)
    entries = selected_devices(snap, rule, minor)
    return {**rule_summary(rule), "kubernetesVersion": gates.version,
            "gatesNeeded": taintrules.gates_needed(gates),
            "selectsAll": bool(entries) and len(entries) == len(snap.devices),
            "devices": {"selected": len(entries), "total": len(snap.devices), "groups": device_groups(entries)},
            "allocatedClaims": claims_on(snap, {e.key for e in entries}),
            "ignoredFields": taintrules.ignored_fields(rule, minor)}


def _places(report: Mapping[str, Any]) -> list[str]:
    """The nodes where the dry run allocates the pod's claims (``fits``, or ``wouldFit`` while target-level
    reasons such as a template claim not generated yet remain)."""
    return [n["name"] for n in report.get("nodes") or () if n.get("fits") or n.get("wouldFit")]


def pending_pods(snap: Snapshot) -> list[tuple[str, str]]:
    """Pods waiting to be scheduled that use claims: what a NoSchedule/NoExecute taint can take a place from."""
    out = []
    for (ns, name), pod in sorted(snap.pods.items()):
        spec = pod.get("spec") or {}
        if spec.get("nodeName") or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if (pod.get("status") or {}).get("phase", "Pending") != "Pending" or not spec.get("resourceClaims"):
            continue
        out.append((ns, name))
    return out


def preview(snap: Snapshot, rule: Mapping[str, Any], gates, *, as_written: Mapping[str, Any] | None = None,
            keep_alive=None, in_cluster: bool = False) -> dict:
    """What applying ``rule`` to the cluster of ``snap`` (unpatched: the rules already there stay in force)
    would do.  When ``gates`` make DeviceTaintRules inert, ``gatesNeeded`` says which are off, and the rest
    is what the rule would do once they are on.  ``as_written``: the rule before normalization (its own
    apiVersion), for the release's API checks.  ``in_cluster``: the rule is one of the cluster's own
    (``preview deviceTaintRule/NAME``): what it does there, the pending pods compared with the cluster
    without it; the API server accepted it already, so no API checks."""
    from kubectl_dra.analysis.why_pending import why_pending

    minor = taintrules.minor_of(gates)
    needed = taintrules.gates_needed(gates)
    effective = taintrules.enabled(gates) if needed else gates
    name = name_of(rule)
    entries = selected_devices(snap, rule, minor)
    keys = {e.key for e in entries}
    summary = rule_summary(rule)
    taint = summary["taint"]
    evicted, tolerating = evictions(snap, rule, minor)
    notes = []
    if summary["deviceSelector"] is None:
        notes.append("the rule has no deviceSelector: kube-scheduler applies its taint to every device, the "
                     "eviction controller to none (no pod is evicted); write deviceSelector: {} for every device")
    notes += [f"{f} exists only up to Kubernetes 1.34: ignored by 1.{minor} (and rejected by its API server)"
              for f in taintrules.ignored_fields(rule, minor)]
    if in_cluster:
        notes.append("the rule is in the cluster already: this is what it does there (the pending pods are "
                     "compared with the cluster without it)")
    if taint.get("effect") == "None":
        notes.append("effect None: the taint changes neither scheduling nor running pods (the eviction controller "
                     "only reports in the rule's status what NoExecute would do)")
    losing: list[dict] = []
    checked = 0
    if taint.get("effect") in taintrules.PREVENTING_EFFECTS and entries:
        others = {k: v for k, v in snap.device_taint_rules.items() if not (in_cluster and k == name)}
        before = taintrules.apply(snap, effective, others)
        after = taintrules.apply(snap, effective, {**snap.device_taint_rules, name: rule})
        for ns, pname in pending_pods(snap):
            checked += 1
            had = _places(why_pending(before, "Pod", pname, ns, effective, keep_alive=keep_alive))
            if not had:
                continue
            left = _places(why_pending(after, "Pod", pname, ns, effective, keep_alive=keep_alive))
            if not left:
                losing.append({"namespace": ns, "name": pname, "nodesBefore": had})
    return {
        "rule": summary,
        "kubernetesVersion": gates.version,
        "inForce": not needed,
        "gatesNeeded": needed,
        "replaces": name in snap.device_taint_rules and not in_cluster,
        **({"inCluster": True} if in_cluster else {}),
        # what the release's API server says about the rule (the selector warnings are said louder below)
        "problems": [] if in_cluster else [
            {"path": p, "severity": s, "message": m} for p, s, m in taintrules.check_rule(as_written or rule, minor)
            if not (s == "warning" and p == "spec.deviceSelector")],
        "selectsAll": bool(entries) and len(entries) == len(snap.devices),
        "devices": {"selected": len(entries), "total": len(snap.devices), "groups": device_groups(entries)},
        "allocatedClaims": claims_on(snap, keys),
        "evictions": evicted,
        "tolerating": tolerating,
        "pendingPods": {"checked": checked, "losingLastPlace": losing},
        "notes": notes,
    }
