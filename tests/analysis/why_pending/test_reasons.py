"""A realistic scenario per why-pending reason code: verdict, nodes, code, and the names a user acts on."""

from __future__ import annotations

import json

import yaml

import pytest

from kubectl_dra.analysis.why_pending import why_pending
from kubectl_dra.features import defaults_for_version, parse_feature_gates
from tests.conftest import EXAMPLE
from tests.builders import (
    allocation, claim, device, device_class, fixture_objects, node, pod, request, resource_slice, snapshot,
)

GATES = defaults_for_version(None)
NVIDIA = "gpu.nvidia.com"
H100 = "h100-node-1"
A100 = "dgx-a100-1"


def run(snap, target="p", kind="Pod", namespace="default", gates=GATES, **kw):
    return why_pending(snap, kind, target, namespace, gates, **kw)


def node_reasons(report) -> dict[str, list[str]]:
    return {n["name"]: [r["code"] for r in n["reasons"]] for n in report["nodes"]}


def first_reason(report, node_name):
    return next(n for n in report["nodes"] if n["name"] == node_name)["reasons"][0]


@pytest.fixture(scope="module")
def nvidia():
    return fixture_objects("nvidia-gpu.yaml")


def test_fits_lists_nodes_and_devices_in_allocator_order(nvidia):
    snap = snapshot(nvidia, claim("c", request("gpus", NVIDIA, 2)), pod("p", ("gpus", "claim", "c")))
    r = run(snap)
    assert r["fits"] is True
    assert [n["name"] for n in r["nodes"] if n["fits"]] == [A100, H100]
    h100 = next(n for n in r["nodes"] if n["name"] == H100)
    assert h100["allocation"] == {"c": [
        {"request": "gpus", "driver": NVIDIA, "pool": H100, "device": "gpu-0"},
        {"request": "gpus", "driver": NVIDIA, "pool": H100, "device": "gpu-1"}]}
    assert r["claims"] == [{"name": "c", "namespace": "default", "podClaimName": "gpus", "state": "pending"}]


def test_claim_not_found(nvidia):
    snap = snapshot(nvidia, pod("p", ("gpus", "claim", "missing-claim")))
    r = run(snap)
    assert r["fits"] is False
    assert [x["code"] for x in r["reasons"]] == ["claim-not-found"]
    assert "ResourceClaim default/missing-claim (pod claim gpus) does not exist" in r["reasons"][0]["message"]
    assert r["claims"][0]["state"] == "missing"


def test_template_not_generated_still_shows_where_it_would_fit(nvidia):
    tmpl = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": "one-h100", "namespace": "default"},
            "spec": {"spec": {"devices": {"requests": [request(
                "gpu", NVIDIA, 1, selectors=["device.attributes['gpu.nvidia.com'].productName.startsWith('NVIDIA H100')"])]}}}}
    snap = snapshot(nvidia, tmpl, pod("p", ("gpu", "template", "one-h100")))
    r = run(snap)
    assert r["fits"] is False
    assert [x["code"] for x in r["reasons"]] == ["template-not-generated"]
    assert r["claims"][0]["state"] == "not-generated" and r["claims"][0]["synthesized"] is True
    assert [n["name"] for n in r["nodes"] if n.get("wouldFit")] == [H100]
    assert node_reasons(r)[A100] == ["selector-matches-nothing"]


def test_template_missing(nvidia):
    snap = snapshot(nvidia, pod("p", ("gpu", "template", "nope")))
    r = run(snap)
    assert [x["code"] for x in r["reasons"]] == ["template-not-found"]


def test_no_class(nvidia):
    snap = snapshot(nvidia, claim("c", request("gpu", "gpu.nvidai.com")), pod("p", ("gpu", "claim", "c")))
    r = run(snap)
    assert set(c for codes in node_reasons(r).values() for c in codes) == {"no-class"}
    reason = first_reason(r, H100)
    assert (reason["claim"], reason["request"]) == ("c", "gpu")
    assert 'deviceclass.resource.k8s.io "gpu.nvidai.com" not found' in reason["message"]
    # the class one edit off is the way forward; creating the misspelled class stays an option
    assert reason["message"].endswith("; did you mean gpu.nvidia.com?")
    assert r["fixes"] == ["fix deviceClassName of claim c, request gpu: did you mean gpu.nvidia.com?",
                          "or create DeviceClass gpu.nvidai.com"]


def test_no_class_without_a_near_name(nvidia):
    snap = snapshot(nvidia, claim("c", request("gpu", "tpu")), pod("p", ("gpu", "claim", "c")))
    r = run(snap)
    assert "did you mean" not in first_reason(r, H100)["message"]
    assert r["fixes"] == ["create DeviceClass tpu or fix deviceClassName of claim c, request gpu"]


def test_no_devices_for_driver_on_a_node_of_another_vendor(nvidia):
    intel = fixture_objects("intel-gpu.yaml")
    snap = snapshot(nvidia, intel, claim("c", request("gpu", NVIDIA)), pod("p", ("gpu", "claim", "c")))
    r = run(snap)
    reason = first_reason(r, "flex-node-1")
    assert reason["code"] == "no-devices-for-driver"
    assert "class devices come from: gpu.nvidia.com; node has: gpu.intel.com" in reason["message"]
    assert reason["details"]["funnel"]["reachable"] == 2


def test_selector_matches_nothing_shows_the_values_that_exist(nvidia):
    sel = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0"
    snap = snapshot(nvidia, claim("c", request("gpu", NVIDIA, 1, selectors=[sel])), pod("p", ("gpu", "claim", "c")))
    r = run(snap)
    assert r["fits"] is True
    reason = first_reason(r, A100)
    assert reason["code"] == "selector-matches-nothing"
    assert "4 device(s) of class gpu.nvidia.com but none matches " + sel in reason["message"]
    assert reason["details"]["valuesSeen"] == {"capacity gpu.nvidia.com/memory": ["40Gi (4)"]}


def test_cel_error_names_the_device(nvidia):
    sel = "device.attributes['gpu.nvidia.com'].memory >= 40"  # memory is a capacity, not an attribute
    snap = snapshot(nvidia, claim("c", request("gpu", NVIDIA, 1, selectors=[sel])), pod("p", ("gpu", "claim", "c")))
    r = run(snap)
    reason = first_reason(r, A100)
    assert reason["code"] == "cel-error"
    assert "CEL runtime error" in reason["message"] and "memory" in reason["message"]
    assert "gpu.nvidia.com/dgx-a100-1/gpu-0" in reason["message"]


def test_insufficient_count(nvidia):
    snap = snapshot(nvidia, claim("c", request("gpus", NVIDIA, 8)), pod("p", ("gpus", "claim", "c")))
    r = run(snap)
    assert not r["fits"]
    reason = first_reason(r, H100)
    assert reason["code"] == "insufficient-count"
    assert reason["message"] == "needs 8 device(s), only 4 on this node match (even if all were free)"


def test_all_matching_devices_allocated_names_holders_and_finished_pods():
    from kubectl_dra.sources import SourceOptions, load_snapshot

    snap = load_snapshot(SourceOptions(filenames=(str(EXAMPLE),)))
    r = run(snap, "trainer")
    assert r["fits"] is False
    assert node_reasons(r) == {"cpu-node-1": ["no-devices-for-driver"], "gpu-node-1": ["all-matching-devices-allocated"],
                               "gpu-node-2": ["selector-matches-nothing"], "gpu-node-3": ["node-affinity"]}
    reason = first_reason(r, "gpu-node-1")
    holders = {h["claim"]: h for h in reason["details"]["holders"]}
    assert holders["team-b/notebook-gpu"]["devices"] == ["gpu-2"]
    assert holders["team-b/notebook-gpu"]["pods"][0]["finished"] is True
    assert holders["team-a/llm-finetune-0-gpus-7xk2p"]["devices"] == ["gpu-0", "gpu-1"]
    # Both fixes were checked by re-running the allocator without the obstacle.
    assert r["fixes"] == [
        "pod team-b/notebook has Succeeded but its claim team-b/notebook-gpu still holds gpu-2: delete the pod "
        "(or the claim) to free them (then it fits on gpu-node-1)",
        "kubectl uncordon gpu-node-3 (then it fits on gpu-node-3)",
    ]
    node1 = next(n for n in r["nodes"] if n["name"] == "gpu-node-1")
    assert node1["ifFinishedPodsReleased"] == {"claims": ["team-b/notebook-gpu"], "fits": True}


def test_freeing_finished_pods_is_not_claimed_to_help_when_it_does_not(nvidia):
    # 4 H100s: 3 held by a running pod, 1 by a finished one; the pod wants 3: freeing the finished one is not enough.
    held = [claim("busy", request("g", NVIDIA, 3), namespace="t",
                  allocation=allocation(*[("g", NVIDIA, H100, f"gpu-{i}") for i in range(3)], node_name=H100),
                  reserved_for=["runner"]),
            claim("old", request("g", NVIDIA), namespace="t",
                  allocation=allocation(("g", NVIDIA, H100, "gpu-3"), node_name=H100), reserved_for=["done"]),
            pod("runner", namespace="t", phase="Running"), pod("done", namespace="t", phase="Succeeded")]
    sel = "device.attributes['gpu.nvidia.com'].architecture == 'Hopper'"
    snap = snapshot(nvidia, held, claim("c", request("gpus", NVIDIA, 3, selectors=[sel])), pod("p", ("gpus", "claim", "c")))
    r = run(snap)
    node = next(n for n in r["nodes"] if n["name"] == H100)
    assert node["ifFinishedPodsReleased"] == {"claims": ["t/old"], "fits": False}
    assert any(f.endswith("to free them") for f in r["fixes"])  # offered, but not promised to be enough


def test_constraint_unsatisfiable_shows_attribute_values():
    devs = [device(f"gpu-{i}", attrs={"type": "gpu", "resource.kubernetes.io/pcieRoot": f"pci000{i}"}, capacity={"memory": "80Gi"}) for i in range(4)]
    objs = [node("n1", hostname_label=True), device_class("gpu", "device.driver == 'gpu.example.com'"),
            resource_slice("n1-gpus", "n1", "n1", "gpu.example.com", *devs),
            claim("c", request("gpus", "gpu", 2),
                  constraints=[{"requests": ["gpus"], "matchAttribute": "resource.kubernetes.io/pcieRoot"}]),
            pod("p", ("gpus", "claim", "c"))]
    r = run(snapshot(objs))
    reason = first_reason(r, "n1")
    assert reason["code"] == "constraint-unsatisfiable"
    assert "share the same resource.kubernetes.io/pcieRoot" in reason["message"]
    assert "pci0000 x1" in reason["message"] and "pci0003 x1" in reason["message"]


def test_counters_exhausted_names_the_consumer():
    counters = {"gpu-0-counters": {"memory": "40Gi", "slices": "7"}}
    whole = device("gpu-0", attrs={"type": "gpu"}, capacity={"memory": "40Gi"},
                   consumes={"gpu-0-counters": {"memory": "40Gi", "slices": "7"}})
    mig = device("gpu-0-mig-3g.20gb-0", attrs={"type": "mig"}, capacity={"memory": "20Gi"},
                 consumes={"gpu-0-counters": {"memory": "20Gi", "slices": "3"}})
    objs = [node("n1", hostname_label=True), device_class("gpu", "device.attributes['gpu.example.com'].type == 'gpu'"),
            resource_slice("n1-gpus", "n1", "n1", "gpu.example.com", whole, mig, counters=counters),
            claim("mig-user", request("mig", "gpu"), namespace="team-x",
                  allocation=allocation(("mig", "gpu.example.com", "n1", "gpu-0-mig-3g.20gb-0"), node_name="n1"),
                  reserved_for=["inference"]),
            claim("c", request("gpu", "gpu")), pod("p", ("gpu", "claim", "c"))]
    gates = parse_feature_gates("DRAPartitionableDevices=true", base=GATES)
    r = run(snapshot(objs), gates=gates)
    reason = first_reason(r, "n1")
    assert reason["code"] == "counters-exhausted"
    assert "counter set gpu-0-counters is exhausted" in reason["message"]
    assert "team-x/mig-user holds gpu-0-mig-3g.20gb-0 (pod inference)" in reason["message"]
    # amounts in the units the pool declares (Gi), raw in the JSON details
    assert "counter memory of" in reason["message"] and "needs 40Gi, 20Gi left" in reason["message"]
    assert "42949672960" not in reason["message"]
    assert reason["details"]["counters"][0]["needed"] == str(40 * 2**30)


def test_taint_suggests_the_toleration():
    devs = [device("gpu-0", attrs={"type": "gpu"}, capacity={"memory": "80Gi"},
                   taints=[{"key": "example.com/unhealthy", "value": "ecc", "effect": "NoSchedule"}])]
    objs = [node("n1", hostname_label=True), device_class("gpu", "device.driver == 'gpu.example.com'"),
            resource_slice("n1-gpus", "n1", "n1", "gpu.example.com", *devs),
            claim("c", request("gpu", "gpu")), pod("p", ("gpu", "claim", "c"))]
    gates = parse_feature_gates("DRADeviceTaints=true", base=GATES)
    r = run(snapshot(objs), gates=gates)
    reason = first_reason(r, "n1")
    assert reason["code"] == "taint"
    assert "device gpu-0 has taint example.com/unhealthy=ecc:NoSchedule" in reason["message"]
    fix = r["fixes"][0]
    assert fix.startswith('add to request gpu: tolerations: [{key: "example.com/unhealthy", operator: "Equal", '
                          'value: "ecc", effect: "NoSchedule"}]')
    # valid YAML that the API accepts: every field a string
    assert ' (then it fits on n1) (caution: ' in fix  # the dry run re-run with it, then the caveat
    assert yaml.safe_load(fix.split("tolerations: ", 1)[1].split(" (then")[0]) == [
        {"key": "example.com/unhealthy", "operator": "Equal", "value": "ecc", "effect": "NoSchedule"}]
    assert "health report" in fix and "may be broken" in fix
    # With the toleration in the claim, it fits.
    tolerant = claim("c", request("gpu", "gpu", tolerations=[{"key": "example.com/unhealthy", "operator": "Exists"}]))
    objs[-2] = tolerant
    assert run(snapshot(objs), gates=gates)["fits"] is True


def test_incomplete_pool():
    devs = [device("gpu-0", attrs={"type": "gpu"}, capacity={"memory": "80Gi"})]
    objs = [node("n1", hostname_label=True), device_class("gpu", "device.driver == 'gpu.example.com'"),
            resource_slice("n1-gpus-a", "n1", "n1", "gpu.example.com", *devs, count=2),
            claim("c", request("gpus", "gpu", 2)), pod("p", ("gpus", "claim", "c"))]
    r = run(snapshot(objs))
    reason = first_reason(r, "n1")
    assert reason["code"] == "incomplete-pool"
    assert "is incomplete" in reason["message"]


def test_node_affinity_reasons(nvidia):
    c = claim("c", request("gpu", NVIDIA))
    snap = snapshot(nvidia, c, pod("p", ("gpu", "claim", "c"), nodeSelector={"pool": "h100"}))
    r = run(snap)
    assert not r["fits"]
    assert all(codes == ["node-affinity"] for codes in node_reasons(r).values())
    assert first_reason(r, H100)["message"] == "node does not match the pod's nodeSelector pool=h100"
    # An already-allocated claim of the pod pins it to its node.
    done = claim("done", request("gpu", NVIDIA), allocation=allocation(("gpu", NVIDIA, A100, "gpu-0"), node_name=A100),
                 reserved_for=[])
    snap = snapshot(nvidia, c, done, pod("p", ("gpu", "claim", "c"), ("other", "claim", "done")))
    r = run(snap)
    assert [n["name"] for n in r["nodes"] if n["fits"]] == [A100]
    assert first_reason(r, H100)["message"] == "claim done is already allocated on node dgx-a100-1"


def test_claim_target_is_checked_as_if_a_pod_used_it(nvidia):
    snap = snapshot(nvidia, claim("c", request("gpus", NVIDIA, 3)))
    r = run(snap, "c", kind="ResourceClaim")
    assert r["target"] == {"kind": "ResourceClaim", "namespace": "default", "name": "c"}
    assert r["fits"] is True and [n["name"] for n in r["nodes"] if n["fits"]] == [A100, H100]


def test_only_nodes_and_unknown_node(nvidia):
    from kubectl_dra.errors import NotFoundError

    snap = snapshot(nvidia, claim("c", request("gpus", NVIDIA)), pod("p", ("gpus", "claim", "c")))
    assert [n["name"] for n in run(snap, only_nodes=[H100])["nodes"]] == [H100]
    with pytest.raises(NotFoundError, match='nodes "nope" not found'):
        run(snap, only_nodes=["nope"])


def test_json_contract_keys(cli):
    res = cli("why-pending", "pod/trainer", "-f", str(EXAMPLE), "-o", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert {"target", "fits", "claims", "nodes", "reasons"} <= set(doc)
    for n in doc["nodes"]:
        assert {"name", "fits", "allocation", "reasons"} <= set(n)
        for reason in n["reasons"]:
            assert {"code", "claim", "request", "message"} <= set(reason)


def test_suggested_toleration_quotes_a_number_like_value_and_helps_on_rerun():
    """`value: 79` unquoted is an integer and the API server rejects it; the suggestion quotes it, and
    the dry run re-run with the suggested toleration allocates."""
    taint = {"key": "example.com/reserved-for", "value": "79", "effect": "NoSchedule"}
    devs = [device("gpu-0", attrs={"type": "gpu"}, taints=[taint])]
    base = [node("n1", hostname_label=True), device_class("gpu", "device.driver == 'gpu.example.com'"),
            resource_slice("n1-gpus", "n1", "n1", "gpu.example.com", *devs), pod("p", ("gpu", "claim", "c"))]
    gates = parse_feature_gates("DRADeviceTaints=true", base=GATES)
    r = run(snapshot(base + [claim("c", request("gpu", "gpu"))]), gates=gates)
    fix = r["fixes"][0]
    assert "health" not in fix  # not a health taint: no caveat
    assert fix.endswith("] (then it fits on n1)")  # the dry run re-run with it
    tolerations = yaml.safe_load(fix.split("tolerations: ", 1)[1].removesuffix(" (then it fits on n1)"))
    assert tolerations == [{"key": "example.com/reserved-for", "operator": "Equal", "value": "79",
                            "effect": "NoSchedule"}]
    fixed = run(snapshot(base + [claim("c", request("gpu", "gpu", tolerations=tolerations))]), gates=gates)
    assert r["fits"] is False and fixed["fits"] is True


def test_shared_device_out_of_capacity_is_capacity_exhausted_not_held():
    # A multi-allocatable device held only through shared (shareID) allocations is not "held": it can be
    # shared while capacity is left, so what blocks is its capacity, named as such.
    from tests.allocator.test_upstream_table_consumable import D1, MULTI, creq, mdev, one_slice
    from tests.builders import CAP0, NODE1, claim, pod, shared_use, snapshot, upstream_node

    def report(used):
        objs = [MULTI, one_slice(mdev("device-1", {CAP0: "4"})), shared_use(D1, {CAP0: used}), upstream_node(NODE1),
                claim("claim-0", creq(amount=1)), pod("p", ("c", "claim", "claim-0"))]
        return why_pending(snapshot(objs), "Pod", "p", "default", defaults_for_version(None))

    full = report("4")
    assert full["fits"] is False
    codes = [x["code"] for n in full["nodes"] for x in n["reasons"]]
    assert codes == ["capacity-exhausted"]
    assert "needs 1, 0 left" in full["nodes"][0]["reasons"][0]["message"]
    assert report("3")["fits"] is True
