"""Extended resources backed by a DeviceClass (DRAExtendedResource), and gates the snapshot shows on."""

from __future__ import annotations

from kubectl_dra.analysis.why_pending import reasons, why_pending
from kubectl_dra.features import defaults_for_version
from tests.analysis.why_pending.stage_objects import CLASS, NODE, allocated, example_driver
from tests.builders import snapshot

NEWEST, OLD = defaults_for_version(None), defaults_for_version("1.35")  # DRAExtendedResource: on in 1.36, off in 1.35


def _pod(name: str, resource: str, qty="1", status=None) -> dict:
    """A pod asking for devices through an extended resource only (like the example driver's demo pods)."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"containers": [{"name": "ctr0", "image": "ubuntu:22.04",
                                     "resources": {"limits": {resource: qty}, "requests": {resource: qty}}}]},
            "status": status or {"phase": "Pending"}}


def _driver(extended_name: str | None = "example.com/gpu"):
    objs = example_driver()
    if extended_name:
        next(o for o in objs if o["kind"] == "DeviceClass")["spec"]["extendedResourceName"] = extended_name
    return objs


def test_a_class_extended_resource_name_is_checked_through_the_class():
    r = why_pending(snapshot(_driver(), _pod("pod1", "example.com/gpu", "2")), "Pod", "pod1", "default", NEWEST)
    assert reasons.NO_CLAIMS not in [x["code"] for x in r["reasons"]]
    assert r["stage"] == "allocation" and r["fits"] is True
    assert r["extendedResources"] == [{"container": "ctr0", "resource": "example.com/gpu", "quantity": 2,
                                       "deviceClass": CLASS, "dra": True, "request": "container-0-request-0",
                                       "claim": "pod1-extended-resources"}]
    node = next(n for n in r["nodes"] if n["name"] == NODE)
    assert [d["device"] for d in node["allocation"]["pod1-extended-resources"]] == ["gpu-0", "gpu-1"]


def test_the_implicit_deviceclass_name_needs_no_extended_resource_name():
    r = why_pending(snapshot(_driver(None), _pod("pod0", f"deviceclass.resource.kubernetes.io/{CLASS}", "9")),
                    "Pod", "pod0", "default", NEWEST)
    assert r["extendedResources"][0]["deviceClass"] == CLASS and r["fits"] is False  # 8 GPUs, 9 asked
    assert r["summary"][0]["code"] == reasons.INSUFFICIENT_COUNT


def test_without_the_gate_it_is_a_plain_extended_resource():
    r = why_pending(snapshot(_driver(), _pod("pod1", "example.com/gpu")), "Pod", "pod1", "default", OLD)
    assert [x["code"] for x in r["reasons"]] == [reasons.NO_CLAIMS]
    assert r["extendedResources"][0]["dra"] is False and "DRAExtendedResource is off" in r["extendedResources"][0]["note"]
    assert "inferredGates" not in r


def test_a_pod_with_an_extended_resource_claim_shows_the_gate_on():
    made = allocated("pod1-extended-resources-x8k2j", "gpu-3", reserved_for=("pod1",))
    status = {"phase": "Pending", "extendedResourceClaimStatus": {
        "resourceClaimName": "pod1-extended-resources-x8k2j",
        "requestMappings": [{"containerName": "ctr0", "resourceName": "example.com/gpu",
                             "requestName": "container-0-request-0"}]}}
    r = why_pending(snapshot(_driver(), made, _pod("pod1", "example.com/gpu", status=status)), "Pod", "pod1", "default", OLD)
    assert set(r["inferredGates"]) == {"DRAExtendedResource"} and r["featureGates"]["DRAExtendedResource"] is True
    assert r["claims"][-1]["name"] == "pod1-extended-resources-x8k2j" and r["claims"][-1]["state"] == "allocated"
    assert r["stage"] == "binding"  # allocated and reserved, not bound yet


def test_a_resource_no_class_backs_is_not_dra():
    r = why_pending(snapshot(_driver(None), _pod("p", "nvidia.com/gpu")), "Pod", "p", "default", NEWEST)
    assert "extendedResources" not in r and [x["code"] for x in r["reasons"]] == [reasons.NO_CLAIMS]
