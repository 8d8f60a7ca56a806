"""Consumers of a claim named as what they are: pods, PodGroups (with their member pods), and kinds this
tool does not know (named by resource and group, never called a pod)."""

from __future__ import annotations

from kubectl_dra.analysis.consumers import consumer_facts, consumers_of, facts_text, member_pods, pod_consumers
from tests.builders import allocated_claim, pod, snapshot


def _claim_reserved_for(*refs):
    c = allocated_claim("shared-gpus", ("gpu.nvidia.com", "node-1", "gpu-0"))
    c["status"]["reservedFor"] = list(refs)
    return c


def _member(name, group, phase="Running"):
    p = pod(name, ("gpus", "claim", "shared-gpus"), phase=phase)
    p["spec"]["schedulingGroup"] = {"podGroupName": group}
    return p


def test_pod_group_consumer_is_named_as_pod_group_with_its_member_pods():
    claim = _claim_reserved_for({"apiGroup": "scheduling.k8s.io", "resource": "podgroups", "name": "training",
                                 "uid": "uid-pg"})
    snap = snapshot(claim, _member("worker-1", "training"), _member("worker-0", "training", "Pending"),
                    _member("other", "inference"))
    [c] = consumers_of(claim)
    assert (c.kind, c.name, c.is_pod, c.label) == ("PodGroup", "training", False, "PodGroup training")
    assert pod_consumers([c]) == []
    assert member_pods(snap, c) == ["worker-0", "worker-1"]
    facts = consumer_facts(snap, c)
    assert facts["finished"] is None  # a group is never judged by one pod's phase
    assert facts_text(facts) == "PodGroup training (pods worker-0 Pending, worker-1 Running)"


def test_pod_consumer_and_a_reference_without_resource_are_pods():
    claim = _claim_reserved_for({"resource": "pods", "name": "notebook", "uid": "u1"}, {"name": "legacy", "uid": "u2"})
    snap = snapshot(claim, pod("notebook", ("gpus", "claim", "shared-gpus"), phase="Succeeded"))
    pods = consumers_of(claim)
    assert [c.label for c in pods] == ["pod notebook", "pod legacy"]
    assert consumer_facts(snap, pods[0]) == {"kind": "Pod", "name": "notebook", "phase": "Succeeded",
                                             "finished": True, "exists": True}
    assert facts_text(consumer_facts(snap, pods[0])) == "pod notebook Succeeded"
    assert facts_text(consumer_facts(snap, pods[1])) == "pod legacy, which no longer exists"


def test_unknown_consumer_kind_is_named_by_resource_and_group():
    claim = _claim_reserved_for({"apiGroup": "jobset.x-k8s.io", "resource": "jobsets", "name": "big", "uid": "u"})
    [c] = consumers_of(claim)
    assert (c.kind, c.label) == (None, "jobsets.jobset.x-k8s.io/big")
    assert facts_text(consumer_facts(snapshot(claim), c)) == "jobsets.jobset.x-k8s.io/big"
