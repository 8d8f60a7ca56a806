"""The stages of a pod's Pending phase, in order; the first one that blocks is the answer.

1. ``claims``: every claim the pod needs exists (claims_stage.py: quota, admin access, what the API server
   refuses; target.py: missing claims and templates);
2. ``allocation``: the claims exist, the pod is not scheduled: the dry run (report.py, explainer.py);
3. ``binding``: devices are allocated (or being reserved) but the pod is not bound: binding conditions,
   a full ``reservedFor`` (binding.py);
4. ``prepare``: the pod is bound to a node (or pinned with ``spec.nodeName``) and its containers have not
   started: the kubelet's prepare call, the driver's kubelet plugin, device health (prepare.py);
5. ``running``: its containers started (an unhealthy device is still reported, as a warning).

:func:`assess` reads the report the dry run built and adds the stage, the reasons of the later stages
and what could not be checked (``unchecked``: a stage needs objects the source could not read; the
answer then never says "fits" or "running" on what it did not see).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from kubectl_dra.analysis.why_pending import binding, claims_stage, prepare
from kubectl_dra.analysis.why_pending.reasons import (
    API_REJECTED, CLAIM_NOT_FOUND, DEVICE_UNHEALTHY, QUOTA_EXCEEDED, ADMIN_ACCESS_NOT_ALLOWED, TEMPLATE_NOT_FOUND,
    TEMPLATE_NOT_GENERATED, Reason,
)
from kubectl_dra.snapshot import Gap, Snapshot, name_of, pod_containers_started

if TYPE_CHECKING:
    from kubectl_dra.analysis.why_pending.contract import Report
    from kubectl_dra.analysis.why_pending.target import ResolvedTarget

CLAIMS, ALLOCATION, BINDING, PREPARE, RUNNING = "claims", "allocation", "binding", "prepare", "running"
STAGES = (CLAIMS, ALLOCATION, BINDING, PREPARE, RUNNING)

# Reasons that keep a pod in the claims stage.
CLAIMS_STAGE_CODES = (CLAIM_NOT_FOUND, TEMPLATE_NOT_FOUND, TEMPLATE_NOT_GENERATED, QUOTA_EXCEEDED,
                      ADMIN_ACCESS_NOT_ALLOWED, API_REJECTED)
# Reasons that say why a template claim was not created.
EXPLAINS_MISSING_CLAIM = (QUOTA_EXCEEDED, ADMIN_ACCESS_NOT_ALLOWED, API_REJECTED)
# Reasons of a later stage that are warnings, not blockers, once the containers run.
WARNING_ONLY_WHEN_RUNNING = (DEVICE_UNHEALTHY,)


class Assessment(NamedTuple):
    stage: str
    reasons: list[Reason]  # the later stages' reasons (target level)
    blocking: bool  # one of them keeps the pod from going on
    unchecked: list[dict]  # {"stage", "resource", "message"}
    node: str | None  # the pod's node (bound, pinned, or where its claims are allocated)
    gaps: list[Gap]  # the source's gaps the stages depended on


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as the API writes it ("2026-12-01T10:00:00Z", fractions allowed)."""
    if not text or not isinstance(text, str):
        return None
    t = text.strip().replace("Z", "+00:00")
    if "." in t:  # Python < 3.11 takes at most 6 fraction digits
        head, _, rest = t.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        t = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    try:
        out = datetime.fromisoformat(t)
    except ValueError:
        return None
    if out.tzinfo is None:
        from datetime import timezone

        out = out.replace(tzinfo=timezone.utc)
    return out


def containers_started(pod: Mapping[str, Any]) -> bool:
    """Whether the pod's containers started (:func:`kubectl_dra.snapshot.pod_containers_started`: the live
    source reads the pods on a node by the same rule)."""
    return pod_containers_started(pod)


def _gaps_of(snap: Snapshot, resource: str, namespace: str | None) -> list[Gap]:
    return list(snap.source.gaps(resource, namespace))


def assess(snap: Snapshot, target: ResolvedTarget, report: Report, *, now: datetime | None = None,
           binding_timeout: float | None = None) -> Assessment:
    """How far the target got, and what blocks it there."""
    ns = report["target"]["namespace"]
    pod = target.pod
    reasons: list[Reason] = []
    unchecked: list[dict] = []
    gaps: list[Gap] = []
    codes = {r["code"] for r in report["reasons"]}

    # -- 1. claims -----------------------------------------------------------------------------
    not_generated = _templates_not_generated(snap, pod, ns) if pod is not None else []
    if not_generated:
        reasons += claims_stage.check_claims(snap, pod, not_generated, ns)
        needs = [("resourcequotas", ns, "the ResourceQuotas that may refuse the claim's creation"),
                 ("events", ns, "the resourceclaim controller's FailedResourceClaimCreation events")]
        if any(_asks_admin_access(t) for _, t in not_generated):
            needs.append(("namespaces", None, "the namespace's admin-access label"))
        for resource, where, what in needs:
            found = _gaps_of(snap, resource, where)
            if found:
                gaps += found
                unchecked.append({"stage": CLAIMS, "resource": resource,
                                  "message": f"{what} could not be read: why the claim was not created is unknown"})
    # a claim from files (or the one a template would create) the API server of the release refuses
    pending = ([pc.claim for pc in snap.pod_claims(pod) if pc.state == "pending" and pc.claim is not None]
               if pod is not None else [c for c in target.to_allocate])
    gates = report.get("featureGates") or {}
    reasons += claims_stage.check_api_rules(snap, pod, pending, not_generated, gates.get("version"),
                                            bool(gates.get("DRAListTypeAttributes")))
    if codes & set(CLAIMS_STAGE_CODES) or any(r.code in CLAIMS_STAGE_CODES for r in reasons):
        return Assessment(CLAIMS, reasons, True, unchecked, None, gaps)
    if pod is None:  # a claim alone: allocated (and its binding) is as far as it goes
        claim = next(iter(target.allocated), None)
        if claim is not None:
            reasons += binding.check_binding(snap, [claim], None, now=now, timeout=binding_timeout)
        return Assessment(BINDING if reasons else ALLOCATION, reasons, bool(reasons), unchecked, None, gaps)

    spec = pod.get("spec") or {}
    node = spec.get("nodeName") or None
    started = containers_started(pod)
    # -- 3. binding (a pod not bound yet, whose claims are allocated) -------------------------------
    if node is None and not started:
        reasons += binding.check_binding(snap, target.allocated, pod, now=now, timeout=binding_timeout)
        reasons += binding.check_reserved_for(snap, target.allocated, pod)
        waiting = binding.waiting_for_bind(target, pod)
        if reasons or waiting:
            return Assessment(BINDING, reasons, bool(reasons), unchecked, binding.allocated_node(pod, target), gaps)
        return Assessment(ALLOCATION, reasons, False, unchecked, None, gaps)

    # -- 4. prepare / 5. running -------------------------------------------------------------------
    if node is not None and not started:
        bypass = prepare.check_node_name_bypass(snap, target, pod)
        if bypass:
            return Assessment(PREPARE, bypass, True, unchecked, node, gaps)
        found, missing = prepare.check_prepare(snap, target, pod, node)
        reasons += found
        for resource, where, what in missing:
            got = _gaps_of(snap, resource, where)
            gaps += [g for g in got if g not in gaps]
            unchecked.append({"stage": PREPARE, "resource": resource or None,
                              "message": (f"{what} could not be read: whether the devices were prepared is unknown"
                                          if resource else f"cannot tell {what}")})
    reasons += prepare.check_device_health(snap, target, pod)
    stage = RUNNING if started else PREPARE
    blocking = any(r.code not in WARNING_ONLY_WHEN_RUNNING or not started for r in reasons)
    return Assessment(stage, reasons, blocking, unchecked, node, gaps)


def _templates_not_generated(snap: Snapshot, pod: Mapping[str, Any], ns: str) -> list[tuple[str, Mapping]]:
    out = []
    for pc in snap.pod_claims(pod):
        if pc.state == "not-generated" and pc.template_name:
            tmpl = snap.resource_claim_templates.get((ns, pc.template_name))
            if tmpl is not None:
                out.append((pc.pod_claim_name, tmpl))
    return out


def _asks_admin_access(tmpl: Mapping[str, Any]) -> bool:
    for r in (((tmpl.get("spec") or {}).get("spec") or {}).get("devices") or {}).get("requests") or []:
        if (r.get("exactly") or {}).get("adminAccess") or any(s.get("adminAccess") for s in r.get("firstAvailable") or []):
            return True
    return False


def stage_sentence(stage: str, what: str, node: str | None, blocking: bool) -> str:
    """The text report's first words for a stage after allocation ("Pod default/x is scheduled on node-3 ...")."""
    if stage == BINDING:
        where = f" on node {node}" if node else ""
        return (f"{what}: its devices are allocated{where}, but the pod is not bound yet"
                + (": binding is blocked" if blocking else ": waiting for the scheduler to bind it"))
    if stage == PREPARE:
        return (f"{what} is scheduled on {node} but its devices were never prepared" if blocking
                else f"{what} is bound to {node}; its containers have not started (nothing DRA-related blocks them)")
    if stage == RUNNING:
        return f"{what} is running on {node}" if node else f"{what} is running"
    return what


__all__ = ["STAGES", "Assessment", "assess", "parse_time", "containers_started", "stage_sentence", "name_of"]
