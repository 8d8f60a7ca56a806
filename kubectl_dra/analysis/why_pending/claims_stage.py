"""Stage 1, claims: why a claim the pod needs was never created.

The resourceclaim controller creates a pod's claim from its template; the API server can refuse that
creation, and the controller then records a ``FailedResourceClaimCreation`` event on the pod:

* a ResourceQuota of the namespace would be exceeded (``quota-exceeded``).  A new claim is charged,
  as kube-apiserver's ResourceClaim quota evaluator does (pkg/quota/v1/evaluator/core, resource_claims.go:
  ``claimEvaluator.Usage``), to ``count/resourceclaims.resource.k8s.io`` (one object), to
  ``<class>.deviceclass.resource.k8s.io/devices`` per device class (ExactCount: its count; All: the most an
  allocation may hold; a prioritized list: the most any alternative asks per class; admin-access requests
  are not charged), and, with extended resources backed by DRA, to
  ``requests.deviceclass.resource.kubernetes.io/<class>`` and ``requests.<the class's extendedResourceName>``;
* a request asks for admin access in a namespace without the ``resource.kubernetes.io/admin-access``
  label (``admin-access-not-allowed``; the API server's validation of a claim with adminAccess);
* the claim itself (read from files), or the claim a template would create, breaks a rule of the API
  server's validation of the release: too many requests, selectors, tolerations..., a selector too long or
  too costly (``api-rejected``; kubectl_dra.analysis.apirules).

The legacy pod ``source:`` shape never gets here: reading it is an input error with the current field names
(kubectl_dra.normalize.check_pod_claim_references).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from kubectl_dra.analysis.why_pending.reasons import (
    ADMIN_ACCESS_NOT_ALLOWED, API_REJECTED, QUOTA_EXCEEDED, Reason,
)
from kubectl_dra.quantity import Quantity, QuantityError
from kubectl_dra.snapshot import Snapshot, name_of, namespace_of

CLAIM_COUNT = "count/resourceclaims.resource.k8s.io"
ADMIN_ACCESS_LABEL = "resource.kubernetes.io/admin-access"
CLAIM_CREATION_FAILED = "FailedResourceClaimCreation"  # the resourceclaim controller's event reason
# resource.k8s.io's AllocationResultsMaxSize: what an allocationMode All request is charged (it may take that many).
ALL_MODE_CHARGE = 32


def device_quota_name(device_class: str) -> str:
    return f"{device_class}.deviceclass.resource.k8s.io/devices"


def implicit_extended_name(device_class: str) -> str:
    """The extended resource name every DeviceClass stands for (DRAExtendedResource)."""
    return f"deviceclass.resource.kubernetes.io/{device_class}"


def claim_charges(snap: Snapshot, claim_spec: Mapping[str, Any]) -> dict[str, int]:
    """What creating one claim with this spec is charged, by quota resource name."""
    per_class: dict[str, int] = {}
    for req in ((claim_spec.get("devices") or {}).get("requests") or []):
        alternatives = [req["exactly"]] if req.get("exactly") else list(req.get("firstAvailable") or [])
        best: dict[str, int] = {}
        for alt in alternatives:
            if alt.get("adminAccess"):
                continue
            n = ALL_MODE_CHARGE if alt.get("allocationMode") == "All" else int(alt.get("count") or 1)
            cls = alt.get("deviceClassName") or ""
            best[cls] = max(best.get(cls, 0), n)
        for cls, n in best.items():
            per_class[cls] = per_class.get(cls, 0) + n
    out = {CLAIM_COUNT: 1}
    for cls, n in per_class.items():
        out[device_quota_name(cls)] = n
        out["requests." + implicit_extended_name(cls)] = n
        ext = ((snap.device_classes.get(cls) or {}).get("spec") or {}).get("extendedResourceName")
        if ext:
            out[f"requests.{ext}"] = n
    return out


def _value(text: Any) -> Quantity | None:
    try:
        return Quantity.parse(str(text))
    except (QuantityError, ValueError):
        return None


def _fmt(q: Quantity | int) -> str:
    v = q.value if isinstance(q, Quantity) else q
    return str(int(v)) if int(v) == v else str(float(v))


def quota_violations(snap: Snapshot, namespace: str, charges: Mapping[str, int]) -> list[dict]:
    """Every (quota, resource) of the namespace whose used + charge exceeds hard."""
    out = []
    for (ns, qname), quota in sorted(snap.resource_quotas.items()):
        if ns != namespace:
            continue
        status = quota.get("status") or {}
        hard = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}
        for res, n in charges.items():
            if res not in hard:
                continue
            h, u = _value(hard[res]), _value(used.get(res, "0"))
            if h is None or u is None:
                continue
            if u.value + n > h.value:
                out.append({"quota": qname, "resource": res, "used": _fmt(u), "hard": _fmt(h), "requested": n})
    return out


def _events_for(snap: Snapshot, namespace: str, kind: str, name: str, reason: str) -> list[dict]:
    out = []
    for e in snap.events:
        io = e.get("involvedObject") or e.get("regarding") or {}
        if io.get("kind") == kind and io.get("name") == name and (io.get("namespace") or namespace_of(e)) == namespace \
                and e.get("reason") == reason:
            out.append(e)
    return sorted(out, key=event_time)


def event_time(e: Mapping[str, Any]) -> str:
    return (e.get("lastTimestamp") or e.get("eventTime") or (e.get("series") or {}).get("lastObservedTime")
            or (e.get("metadata") or {}).get("creationTimestamp") or "")


def event_text(e: Mapping[str, Any]) -> str:
    return " ".join(str(e.get("message") or e.get("note") or "").split())


def creation_failures(snap: Snapshot, pod: Mapping[str, Any]) -> list[dict]:
    """The resourceclaim controller's FailedResourceClaimCreation events on the pod, oldest first."""
    return _events_for(snap, namespace_of(pod), "Pod", name_of(pod), CLAIM_CREATION_FAILED)


def check_claims(snap: Snapshot, pod: Mapping[str, Any] | None, not_generated: Iterable[tuple[str, Mapping]],
                 namespace: str) -> list[Reason]:
    """Why template claims were not created: quota, admin access.  ``not_generated``: (pod claim name,
    template) of every template claim that does not exist yet."""
    reasons: list[Reason] = []
    pending = list(not_generated)
    if not pending:
        return reasons
    events = creation_failures(snap, pod) if pod is not None else []
    quota_event = next((e for e in reversed(events) if "exceeded quota" in event_text(e)), None)
    ns_obj = snap.namespaces.get(namespace)
    for pod_claim, tmpl in pending:
        spec = ((tmpl.get("spec") or {}).get("spec") or {})
        violations = quota_violations(snap, namespace, claim_charges(snap, spec))
        if violations or quota_event is not None:
            parts = [f"ResourceQuota {v['quota']}: {v['resource']} used {v['used']} of {v['hard']}, "
                     f"the claim needs {v['requested']} more" for v in violations]
            msg = (f"the claim for pod claim {pod_claim} (template {name_of(tmpl)}) cannot be created: "
                   + ("; ".join(parts) if parts else "a ResourceQuota of the namespace is exceeded"))
            details: dict = {"quotas": violations}
            if quota_event is not None:
                details["event"] = {"reason": CLAIM_CREATION_FAILED, "message": event_text(quota_event)}
                if not parts:
                    msg += f" (the resourceclaim controller says: {event_text(quota_event)})"
            names = sorted({v["quota"] for v in violations})
            fix = (f"raise the limits of ResourceQuota {', '.join(names)} in namespace {namespace}, or free claims "
                   "counted against it" if names else
                   f"check the ResourceQuotas of namespace {namespace} (kubectl describe resourcequota -n {namespace})")
            reasons.append(Reason(QUOTA_EXCEEDED, msg, claim=None, details=details, fixes=[fix]))
        admin = [r.get("name", "") for r in (spec.get("devices") or {}).get("requests") or []
                 if (r.get("exactly") or {}).get("adminAccess")
                 or any(s.get("adminAccess") for s in r.get("firstAvailable") or [])]
        if admin and ns_obj is not None and \
                ((ns_obj.get("metadata") or {}).get("labels") or {}).get(ADMIN_ACCESS_LABEL) != "true":
            reasons.append(Reason(
                ADMIN_ACCESS_NOT_ALLOWED,
                f"template {name_of(tmpl)} asks for admin access (request {', '.join(admin)}), but namespace "
                f"{namespace} does not have the label {ADMIN_ACCESS_LABEL}=true: the API server refuses to create "
                "the claim", details={"requests": admin, "namespace": namespace},
                fixes=[f"kubectl label namespace {namespace} {ADMIN_ACCESS_LABEL}=true (as a cluster admin), or drop "
                       "adminAccess from the template"]))
    return reasons


def check_api_rules(snap: Snapshot, pod: Mapping[str, Any] | None, claims: Iterable[Mapping[str, Any]],
                    not_generated: Iterable[tuple[str, Mapping]], release: str | None,
                    lists: bool = False) -> list[Reason]:
    """``api-rejected``: a claim (or the claim a template would create) that the API server of ``release``
    refuses (kubectl_dra.analysis.apirules).  Only for objects read from files that are not a cluster's dump
    (a dump records its server's version): a cluster's own claims and templates were admitted by its API
    server.  ``claims``: the pending claims the dry run allocates."""
    from kubectl_dra.analysis import apirules

    if snap.source.kind != "files" or snap.source.server_version:
        return []
    limits = apirules.limits_for(release)
    found: list[tuple[str, str, str | None, list]] = []  # (what, fix target, claim name, violations)
    for c in claims:
        v = apirules.claim_violations(c.get("spec") or {}, limits, lists=lists)
        if v:
            found.append((f"ResourceClaim {namespace_of(c)}/{name_of(c)}", "the claim", name_of(c), v))
    for pod_claim, tmpl in not_generated:
        v = apirules.claim_violations((tmpl.get("spec") or {}).get("spec") or {}, limits, lists=lists,
                                      prefix="spec.spec")
        if v:
            found.append((f"the claim ResourceClaimTemplate {namespace_of(tmpl)}/{name_of(tmpl)} would create for pod "
                          f"claim {pod_claim}", "the template", None, v))
    reasons = []
    for what, fix_target, claim_name, violations in found:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        reasons.append(Reason(
            API_REJECTED,
            f"the API server (Kubernetes {limits.release}) refuses {what}: {first.path}: {first.message}{more}; "
            "no scheduler ever sees it",
            claim=claim_name, details={"release": limits.release, "violations": [x.as_dict() for x in violations]},
            fixes=[f"change {fix_target}: {first.path}: {first.message}"]))
    return reasons
