"""Nodes the pod itself cannot go to, whatever its claims' devices: the pod's own scheduling constraints
that decide DRA outcomes (``nodeName``, ``nodeSelector``, required node affinity, node taints against the
pod's tolerations, cordon) and the node selectors of its claims that are already allocated.  Each is a
``node-affinity`` reason; such nodes are reported, never dropped.
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.allocator import allocation_allows_node, tolerates
from kubectl_dra.analysis.why_pending.reasons import NODE_AFFINITY, Reason
from kubectl_dra.nodeselector import node_matches_selector
from kubectl_dra.snapshot import PodClaim


def _pod_required_affinity(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
            .get("requiredDuringSchedulingIgnoredDuringExecution"))


def _node_taint_blocks(pod: Mapping[str, Any] | None, taint: Mapping[str, Any]) -> bool:
    if taint.get("effect") not in ("NoSchedule", "NoExecute"):
        return False
    tolerations = ((pod or {}).get("spec") or {}).get("tolerations") or []
    return not any(tolerates(t, taint) for t in tolerations)


UNSCHEDULABLE = "node.kubernetes.io/unschedulable"  # the taint a cordon stands for


def node_exclusions(pod: Mapping[str, Any] | None, node_name: str, node: Mapping[str, Any] | None,
                    allocated_claims: list[PodClaim]) -> list[Reason]:
    """Why the pod itself (not its claims' devices) cannot go to this node."""
    reasons: list[Reason] = []
    if pod is not None:
        reasons += _node_selection_reasons(pod, node_name, node)
        if node is not None:
            reasons += node_taint_reasons(pod, node_name, node)
    reasons += _allocated_claim_reasons(node_name, node, allocated_claims)
    return reasons


def _node_selection_reasons(pod: Mapping[str, Any], node_name: str, node: Mapping[str, Any] | None) -> list[Reason]:
    """The pod's nodeName, nodeSelector and required node affinity."""
    reasons: list[Reason] = []
    spec = pod.get("spec") or {}
    if spec.get("nodeName") and spec["nodeName"] != node_name:
        reasons.append(Reason(NODE_AFFINITY, f"pod is bound to node {spec['nodeName']}",
                              details={"cause": "nodeName"}))
    labels = ((node or {}).get("metadata") or {}).get("labels") or {}
    ns = spec.get("nodeSelector") or {}
    missing = {k: v for k, v in ns.items() if labels.get(k) != v}
    if missing:
        reasons.append(Reason(NODE_AFFINITY, "node does not match the pod's nodeSelector "
                              + ", ".join(f"{k}={v}" for k, v in missing.items()),
                              details={"cause": "nodeSelector", "unmatched": missing}))
    required = _pod_required_affinity(pod)
    if required and not node_matches_selector(node or {"metadata": {"name": node_name}}, required):
        reasons.append(Reason(NODE_AFFINITY, "node does not match the pod's required node affinity",
                              details={"cause": "nodeAffinity"}))
    return reasons


def node_taint_reasons(pod: Mapping[str, Any] | None, node_name: str, node: Mapping[str, Any]) -> list[Reason]:
    """The node's NoSchedule/NoExecute taints (a cordon counts as one) that the pod does not tolerate."""
    reasons: list[Reason] = []
    nspec = node.get("spec") or {}
    taints = list(nspec.get("taints") or [])
    if nspec.get("unschedulable") and not any(t.get("key") == UNSCHEDULABLE for t in taints):
        taints.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    for t in taints:
        if _node_taint_blocks(pod, t):
            what = ("node is cordoned (spec.unschedulable)" if t.get("key") == UNSCHEDULABLE
                    else f"node has taint {taint_text(t)} that the pod does not tolerate")
            fix = (f"kubectl uncordon {node_name}" if t.get("key") == UNSCHEDULABLE else
                   f"add to the pod: tolerations: [{toleration_text(toleration_for(t))}], or remove the taint "
                   f"{taint_text(t)} from node {node_name}")
            reasons.append(Reason(NODE_AFFINITY, what, details={"cause": "taint", "taint": t}, fixes=[fix]))
    return reasons


def _allocated_claim_reasons(node_name: str, node: Mapping[str, Any] | None,
                             allocated_claims: list[PodClaim]) -> list[Reason]:
    """The pod's claims that are already allocated for other nodes."""
    reasons: list[Reason] = []
    for pc in allocated_claims:
        if pc.claim is not None and not allocation_allows_node(pc.claim, node or {"metadata": {"name": node_name, "labels": {}}}):
            from kubectl_dra.analysis.inventory import allocation_node

            where = allocation_node(pc.claim)
            reasons.append(Reason(NODE_AFFINITY, f"claim {pc.claim_name} is already allocated"
                                  + (f" on node {where}" if where and where != "<selector>" else " for other nodes"),
                                  claim=pc.claim_name, details={"cause": "allocated-claim", "allocatedOn": where}))
    return reasons


def taint_text(t: Mapping[str, Any]) -> str:
    return f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect', '')}"


def toleration_for(t: Mapping[str, Any]) -> dict:
    """The narrowest toleration of one taint: Equal on its value (Exists when it has none), its effect."""
    return {"key": t.get("key"), "operator": "Equal" if t.get("value") else "Exists",
            **({"value": t["value"]} if t.get("value") else {}), "effect": t.get("effect")}


def toleration_text(t: Mapping[str, Any]) -> str:
    """A toleration as a YAML flow mapping the API server accepts: every value quoted (an unquoted
    ``value: 79`` is an integer in YAML, and a toleration's value must be a string)."""
    import json

    return "{" + ", ".join(f"{k}: {json.dumps(str(v))}" for k, v in t.items() if v is not None) + "}"
