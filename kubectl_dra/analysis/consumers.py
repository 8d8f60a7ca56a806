"""Who a claim is reserved for, named as what it is.

``status.reservedFor`` entries are references (``apiGroup``, ``resource``, ``name``, ``uid``), not
always pods: with DRAWorkloadResourceClaims (alpha in 1.36) a claim can be reserved for a PodGroup
(``scheduling.k8s.io``, ``podgroups``), whose member pods name it in ``spec.schedulingGroup.podGroupName``
(upstream ``resourceclaim.IsReservedForPod``), and other controllers may write their own resources.
This module is the one place that turns such a reference into a :class:`Consumer`, so every command
says "PodGroup training" (with its pods) rather than calling it a pod, and never judges a non-pod by
a pod's phase.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple

from kubectl_dra.snapshot import Snapshot, name_of, namespace_of

SCHEDULING_GROUP = "scheduling.k8s.io"

#: (apiGroup, resource) -> kind, for the consumers Kubernetes itself writes into reservedFor.
KNOWN_KINDS: dict[tuple[str, str], str] = {
    ("", "pods"): "Pod",
    (SCHEDULING_GROUP, "podgroups"): "PodGroup",
}


class Consumer(NamedTuple):
    """One ``reservedFor`` entry of a claim (same namespace as the claim)."""

    kind: str | None  # "Pod", "PodGroup"; None for a resource this tool does not know
    name: str
    namespace: str
    api_group: str  # "" for the core group
    resource: str  # plural, as written in the reference
    uid: str | None = None

    @property
    def is_pod(self) -> bool:
        return self.kind == "Pod"

    @property
    def type_text(self) -> str:
        """"pod", "PodGroup", or kubectl's RESOURCE.GROUP for a kind this tool does not know."""
        if self.kind == "Pod":
            return "pod"
        if self.kind:
            return self.kind
        return f"{self.resource}.{self.api_group}" if self.api_group else self.resource

    @property
    def label(self) -> str:
        """"pod trainer", "PodGroup training", "jobsets.jobset.x-k8s.io/big"."""
        if self.kind:
            return f"{self.type_text} {self.name}"
        return f"{self.type_text}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "apiGroup": self.api_group, "resource": self.resource}


def consumer_of(ref: Mapping[str, Any], namespace: str) -> Consumer:
    """A ``reservedFor`` reference as a Consumer.  A missing ``resource`` is read as ``pods`` (what every
    writer of the field wrote before other consumers existed)."""
    group = ref.get("apiGroup") or ""
    resource = ref.get("resource") or "pods"
    return Consumer(KNOWN_KINDS.get((group, resource)), ref.get("name") or "", namespace, group, resource,
                    ref.get("uid"))


def consumers_of(claim: Mapping[str, Any]) -> list[Consumer]:
    """Every consumer a claim is reserved for, in ``reservedFor`` order."""
    ns = namespace_of(claim)
    return [consumer_of(r, ns) for r in (claim.get("status") or {}).get("reservedFor") or []]


def pod_group_of(pod: Mapping[str, Any]) -> str | None:
    """The PodGroup a pod belongs to (``spec.schedulingGroup.podGroupName``), if any."""
    return (((pod.get("spec") or {}).get("schedulingGroup")) or {}).get("podGroupName") or None


def member_pods(snap: Snapshot, consumer: Consumer) -> list[str]:
    """The pods (names, sorted) a consumer stands for: a pod itself; a PodGroup's member pods among the
    pods read; nothing for a kind this tool does not know."""
    if consumer.is_pod:
        return [consumer.name]
    if consumer.kind == "PodGroup":
        return sorted(name_of(p) for (ns, _), p in snap.pods.items()
                      if ns == consumer.namespace and pod_group_of(p) == consumer.name)
    return []


def pod_consumers(consumers: Iterable[Consumer]) -> list[str]:
    """The names of the consumers that are pods."""
    return [c.name for c in consumers if c.is_pod]


def _pod_state(snap: Snapshot, namespace: str, name: str) -> dict[str, Any]:
    """phase, finished (None: cannot tell) and exists (None: cannot tell) of one pod."""
    pod = snap.pods.get((namespace, name))
    phase = ((pod or {}).get("status") or {}).get("phase")
    known = snap.source.knows_all_pods_in(namespace) and bool(snap.pods)
    # A pod not read, in a namespace whose pods could not be listed: whether it finished is unknown, not "no".
    unknown = pod is None and not known and bool(snap.source.gaps("pods", namespace))
    return {"name": name, "phase": phase, "finished": None if unknown else phase in ("Succeeded", "Failed"),
            "exists": True if pod is not None else (False if known else None)}


def consumer_facts(snap: Snapshot, consumer: Consumer) -> dict[str, Any]:
    """What a report says about one consumer: for a pod its phase, ``finished`` and ``exists`` (None when
    the pods could not be read); for another kind, what it is and, for a PodGroup, its member pods' states
    (a PodGroup is never called finished: the group, not a pod's phase, decides when it lets go)."""
    if consumer.is_pod:
        return {"kind": "Pod", **_pod_state(snap, consumer.namespace, consumer.name)}
    out: dict[str, Any] = {**consumer.to_dict(), "finished": None, "exists": None}
    if consumer.kind == "PodGroup":
        out["pods"] = [_pod_state(snap, consumer.namespace, p) for p in member_pods(snap, consumer)]
    return out


def facts_text(facts: Mapping[str, Any]) -> str:
    """"pod notebook Succeeded", "PodGroup training (pods w-0 Running, w-1 Pending)", "jobsets.x/big"."""
    if facts.get("kind") == "Pod":
        phase = facts.get("phase")
        if phase:
            return f"pod {facts['name']} {phase}"
        if facts.get("exists") is False:
            return f"pod {facts['name']}, which no longer exists"
        return f"pod {facts['name']}" + (", finished or not: unknown" if facts.get("finished") is None else "")
    c = consumer_of({"apiGroup": facts.get("apiGroup"), "resource": facts.get("resource"), "name": facts.get("name")},
                    "")
    members = facts.get("pods")
    if members:
        return c.label + " (pods " + ", ".join(p["name"] + (f" {p['phase']}" if p.get("phase") else "")
                                               for p in members) + ")"
    return c.label
