"""The target of why-pending (a pod, or a claim checked as if a pod used it) and its claims.

A pod's ``spec.resourceClaims`` are resolved through ``status.resourceClaimStatuses``; a missing claim,
a template claim not generated yet, a missing template or a claim being deleted are answers in their
own right (target-level reasons).  A template claim not generated yet is checked anyway, as the claim
the resourceclaim controller would create from the template, so the report shows where it would fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from kubectl_dra.analysis.why_pending.reasons import (
    CLAIM_DELETING, CLAIM_NOT_FOUND, NO_CLAIMS, TEMPLATE_NOT_FOUND, TEMPLATE_NOT_GENERATED, Reason,
)
from kubectl_dra import kinds
from kubectl_dra.errors import NotFoundError
from kubectl_dra.names import did_you_mean, names_in, namespaces_with, near, not_found_hint
from kubectl_dra.snapshot import PodClaim, Snapshot, name_of

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import ClaimEntry


# Target-level reasons after which no node can fit (nothing could be allocated, or, for a claim being deleted,
# DynamicResources.PreFilter rejects the pod before any node is tried) ...
NO_NODE_FITS = (CLAIM_NOT_FOUND, TEMPLATE_NOT_FOUND, CLAIM_DELETING)
# ... and those that keep the target from fitting even where its claims could be allocated.
# NO_CLAIMS is in neither: the scheduler's DRA plugin skips a pod without claims (PreFilter returns Skip in
# k8s.io/kubernetes pkg/scheduler/framework/plugins/dynamicresources, DynamicResources.PreFilter), so for DRA
# every node fits; the reason stays as information ("this pod uses no DRA claims").
TARGET_BLOCKING = (CLAIM_NOT_FOUND, TEMPLATE_NOT_FOUND, TEMPLATE_NOT_GENERATED, CLAIM_DELETING)


def parse_target(target: str) -> tuple[str, str]:
    """``pod/NAME``, ``resourceclaim/NAME`` (any alias of the kinds table) or a bare pod ``NAME`` ->
    (kind name, object name)."""
    kind, name = kinds.parse_target(target, kinds.WHY_PENDING, bare=kinds.POD)
    return kind.kind, name


def synthesized_claim(template: Mapping[str, Any], pod_name: str, pod_claim: str, namespace: str) -> dict:
    """What the resourceclaim controller would create from a template (for a what-if run)."""
    spec = (template.get("spec") or {})
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"name": f"{pod_name}-{pod_claim}", "namespace": namespace,
                         "annotations": {"resource.kubernetes.io/pod-claim-name": pod_claim}},
            "spec": spec.get("spec") or {}, "status": {}}


class ResolvedTarget(NamedTuple):
    """The target and what its claims mean for the dry run."""

    pod: Mapping[str, Any] | None
    claims: list[ClaimEntry]  # the report's "claims" entries
    reasons: list[Reason]  # target-level reasons
    to_allocate: list[dict]  # claims the dry run allocates (synthesized ones included)
    allocated: list[PodClaim]  # claims already allocated (they pin nodes)
    no_node_fits: bool = False  # a reason in NO_NODE_FITS
    template_pending: bool = False  # a template claim not generated yet


def target_reasons_block(reasons: list[Reason]) -> bool:
    return any(r.code in TARGET_BLOCKING for r in reasons)


def resolve_target(snap: Snapshot, kind: str, name: str, namespace: str) -> ResolvedTarget:
    """The pod (or claim) and its claims; NotFoundError when the target itself does not exist."""
    if kind == "Pod":
        pod = snap.pods.get((namespace, name))
        if pod is None:
            if (namespace, name) in snap.resource_claims:  # `why-pending NAME` meant the claim
                raise NotFoundError(f'pods "{name}" not found in namespace {namespace!r}; a ResourceClaim of that '
                                    f'name exists (use claim/{name})')
            raise NotFoundError(f'pods "{name}" not found in namespace {namespace!r}'
                                + not_found_hint(snap.pods, name, namespace))
        out = ResolvedTarget(pod, [], [], [], [])
        pod_claims = snap.pod_claims(pod)
        if not pod_claims:
            out.reasons.append(Reason(NO_CLAIMS, f"pod {namespace}/{name} uses no DRA claims: the scheduler's DRA "
                                                 "plugin skips it, so every node fits for DRA and DRA is not what "
                                                 "keeps it Pending"))
    else:
        claim = snap.resource_claims.get((namespace, name))
        if claim is None:
            raise NotFoundError(f'resourceclaims.resource.k8s.io "{name}" not found in namespace {namespace!r}'
                                + not_found_hint(snap.resource_claims, name, namespace))
        out = ResolvedTarget(None, [], [], [], [])
        pod_claims = [PodClaim(name, name, None, claim)]
    for pc in pod_claims:
        _resolve_claim(snap, pc, name, namespace, out)
    return out._replace(no_node_fits=any(r.code in NO_NODE_FITS for r in out.reasons),
                        template_pending=any(r.code == TEMPLATE_NOT_GENERATED for r in out.reasons))


def _resolve_claim(snap: Snapshot, pc: PodClaim, pod_name: str, namespace: str, out: ResolvedTarget) -> None:
    state = pc.state
    entry: ClaimEntry = {"name": pc.claim_name, "namespace": namespace, "podClaimName": pc.pod_claim_name, "state": state}
    if pc.template_name:
        entry["template"] = pc.template_name
    out.claims.append(entry)
    if state == "missing":
        out.reasons.append(_missing(CLAIM_NOT_FOUND, "ResourceClaim", "resourceClaimName", snap.resource_claims,
                                    pc.claim_name, pc.pod_claim_name, namespace,
                                    f"ResourceClaim {namespace}/{pc.claim_name} (pod claim {pc.pod_claim_name}) "
                                    "does not exist"))
    elif state == "not-generated":
        tmpl = snap.resource_claim_templates.get((namespace, pc.template_name or ""))
        if tmpl is None:
            out.reasons.append(_missing(TEMPLATE_NOT_FOUND, "ResourceClaimTemplate", "resourceClaimTemplateName",
                                        snap.resource_claim_templates, pc.template_name or "", pc.pod_claim_name,
                                        namespace, f"ResourceClaimTemplate {namespace}/{pc.template_name} does not "
                                        f"exist, so no claim can be generated for pod claim {pc.pod_claim_name}"))
        else:
            out.reasons.append(Reason(TEMPLATE_NOT_GENERATED,
                                      f"the claim for pod claim {pc.pod_claim_name} (template {pc.template_name}) has "
                                      "not been generated yet; the nodes below show where it would fit once it is",
                                      fixes=["check that kube-controller-manager runs the resourceclaim controller"]))
            synth = synthesized_claim(tmpl, pod_name, pc.pod_claim_name, namespace)
            entry["name"] = name_of(synth)
            entry["synthesized"] = True
            out.to_allocate.append(synth)
    else:
        # The scheduler refuses a claim with a deletion timestamp before it looks at its allocation
        # (DynamicResources.PreFilter in the scheduler's dynamicresources plugin), so an allocated claim being
        # deleted blocks the pod too.
        if (pc.claim.get("metadata") or {}).get("deletionTimestamp"):
            what = "already allocated, but " if state == "allocated" else ""
            out.reasons.append(Reason(CLAIM_DELETING, f"ResourceClaim {pc.claim_name} is {what}being deleted: the "
                                      "scheduler refuses a claim that is being deleted", claim=pc.claim_name))
        if state == "allocated":
            out.allocated.append(pc)
        else:
            out.to_allocate.append(dict(pc.claim))


def _missing(code: str, kind: str, field: str, objects, name: str, pod_claim: str, namespace: str, message: str) -> Reason:
    """A claim or template the pod names that does not exist, with a way forward: the name one edit off in
    the pod's namespace ("did you mean"), or the same name in another namespace (a pod only uses objects of
    its own namespace, so that one cannot be used as it is)."""
    close = near(name, names_in(objects, namespace))
    elsewhere = namespaces_with(objects, name, namespace)
    details: dict = {}
    fixes = []
    if close:
        message += did_you_mean(name, close)
        details["didYouMean"] = close
        fixes.append(f"fix {field} of pod claim {pod_claim}: did you mean {' or '.join(close)}?")
    if elsewhere:
        details["otherNamespaces"] = elsewhere
        message += (f" ({kind} {name} exists in namespace {', '.join(elsewhere)}, but a pod can only use "
                    f"{'claims' if kind == 'ResourceClaim' else 'templates'} of its own namespace)")
    fixes.append(f"create {kind} {name} in namespace {namespace}"
                 + (f" (like the one in {elsewhere[0]})" if elsewhere else ""))
    return Reason(code, message, claim=name if kind == "ResourceClaim" else None, details=details, fixes=fixes)
