"""Extended resources backed by DRA (DRAExtendedResource) and the gates the snapshot itself shows on.

A container asking for ``limits: {example.com/gpu: 1}`` where a DeviceClass has
``spec.extendedResourceName: example.com/gpu``, or for ``deviceclass.resource.kubernetes.io/<class>`` (the
name every class stands for), gets its devices through DRA: kube-scheduler allocates a claim for the pod
itself (its DynamicResources plugin, extendeddynamicresources.go) and records it in the pod's
``status.extendedResourceClaimStatus``.  Before that claim exists the dry run checks the claim it would
allocate: one request per container and resource, ExactCount of the quantity asked for, the class's devices.
(A node that advertises the resource itself in ``status.allocatable``, through a device plugin, serves it
that way instead; the report says so in the entry's note rather than modelling the device plugin.)

Observed state wins over gate defaults: a pod with an extended-resource claim means DRAExtendedResource is
on, a claim reserved for a PodGroup means DRAWorkloadResourceClaims is; the report's ``inferredGates``
says so (and DRAExtendedResource is then used as on).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping

from kubectl_dra.analysis.consumers import consumers_of
from kubectl_dra.analysis.why_pending.claims_stage import implicit_extended_name
from kubectl_dra.analysis.why_pending.reasons import NO_CLAIMS
from kubectl_dra.features import FeatureGates
from kubectl_dra.quantity import Quantity, QuantityError
from kubectl_dra.snapshot import PodClaim, Snapshot, name_of, namespace_of

if TYPE_CHECKING:
    from kubectl_dra.analysis.why_pending.target import ResolvedTarget

IMPLICIT_PREFIX = implicit_extended_name("")
POD_CLAIM_NAME = "(extended resources)"  # the report's podClaimName of the scheduler-made claim


def infer_gates(snap: Snapshot, pod: Mapping[str, Any] | None, gates: FeatureGates) -> tuple[FeatureGates, dict[str, str]]:
    """The gates with what the snapshot shows on, and why ({gate: reason})."""
    inferred: dict[str, str] = {}
    if pod is not None:
        ext = (pod.get("status") or {}).get("extendedResourceClaimStatus") or {}
        if ext.get("resourceClaimName") and not gates.extended_resource:
            inferred["DRAExtendedResource"] = (f"pod {namespace_of(pod)}/{name_of(pod)} has an extended-resource claim "
                                               f"({ext['resourceClaimName']}), which only this gate creates")
            gates = replace(gates, extended_resource=True)
        ns = namespace_of(pod)
        for pc in snap.pod_claims(pod):
            for c in consumers_of(pc.claim or {}):
                if c.kind == "PodGroup" and "DRAWorkloadResourceClaims" not in inferred:
                    inferred["DRAWorkloadResourceClaims"] = (f"claim {ns}/{pc.claim_name} is reserved for PodGroup "
                                                             f"{c.name}, which only this gate allows")
    return gates, inferred


def _class_for(snap: Snapshot, resource: str) -> str | None:
    if resource.startswith(IMPLICIT_PREFIX):
        cls = resource[len(IMPLICIT_PREFIX):]
        return cls if cls in snap.device_classes else None
    for name in sorted(snap.device_classes):
        if ((snap.device_classes[name].get("spec") or {}).get("extendedResourceName")) == resource:
            return name
    return None


def _count(v: Any) -> int | None:
    try:
        q = Quantity.parse(str(v)).value
    except (QuantityError, ValueError):
        return None
    return int(q) if q == int(q) and q > 0 else None


def apply(snap: Snapshot, target: ResolvedTarget, gates: FeatureGates) -> tuple[ResolvedTarget, list[dict]]:
    """The target with its DRA-backed extended resources as a claim, and the report's ``extendedResources``."""
    pod = target.pod
    if pod is None:
        return target, []
    entries: list[dict] = []
    requests: list[dict] = []
    for i, c in enumerate((pod.get("spec") or {}).get("containers") or []):
        res = c.get("resources") or {}
        asked = {**(res.get("requests") or {}), **(res.get("limits") or {})}
        j = 0
        for resource in sorted(asked):
            if "/" not in resource or resource.startswith(("requests.", "limits.")) or resource.startswith("hugepages-"):
                continue
            cls = _class_for(snap, resource)
            if cls is None:
                continue
            n = _count(asked[resource])
            entry = {"container": c.get("name", ""), "resource": resource, "quantity": n, "deviceClass": cls,
                     "dra": bool(gates.extended_resource)}
            if not gates.extended_resource:
                entry["note"] = ("DRAExtendedResource is off: the scheduler treats it as a plain extended resource "
                                 "(a device plugin must advertise it)")
            elif n is None:
                entry["note"] = "the quantity is not a whole number of devices"
            else:
                req = f"container-{i}-request-{j}"
                entry["request"] = req
                requests.append({"name": req, "exactly": {"deviceClassName": cls, "allocationMode": "ExactCount",
                                                          "count": n}})
                j += 1
            entries.append(entry)
    if not requests:
        return target, entries
    ns, pname = namespace_of(pod), name_of(pod)
    status = (pod.get("status") or {}).get("extendedResourceClaimStatus") or {}
    existing = snap.resource_claims.get((ns, status.get("resourceClaimName") or ""))
    reasons = [r for r in target.reasons if r.code != NO_CLAIMS]
    if existing is not None:  # the scheduler made it already: read it like any claim of the pod
        pc = PodClaim(POD_CLAIM_NAME, name_of(existing), None, existing)
        entry = {"name": name_of(existing), "namespace": ns, "podClaimName": POD_CLAIM_NAME, "state": pc.state}
        allocated = target.allocated + ([pc] if pc.state == "allocated" else [])
        to_allocate = target.to_allocate + ([] if pc.state == "allocated" else [dict(existing)])
    else:
        synth = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                 "metadata": {"name": f"{pname}-extended-resources", "namespace": ns},
                 "spec": {"devices": {"requests": requests}}, "status": {}}
        entry = {"name": name_of(synth), "namespace": ns, "podClaimName": POD_CLAIM_NAME, "state": "pending",
                 "synthesized": True}
        allocated, to_allocate = target.allocated, target.to_allocate + [synth]
    for e in entries:
        if e.get("request"):
            e["claim"] = entry["name"]
    nodes_with_plugin = sorted(n for n, node in snap.nodes.items()
                               if any(e["resource"] in ((node.get("status") or {}).get("allocatable") or {})
                                      for e in entries))
    if nodes_with_plugin:
        for e in entries:
            e.setdefault("note", "nodes advertising it in status.allocatable (a device plugin) serve it that way: "
                                 + ", ".join(nodes_with_plugin[:5]) + (" ..." if len(nodes_with_plugin) > 5 else ""))
    return target._replace(claims=target.claims + [entry], reasons=reasons, allocated=allocated,
                           to_allocate=to_allocate), entries
