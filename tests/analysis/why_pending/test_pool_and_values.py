"""Numbers and pools worded so the user can act: a value histogram counts the free devices (the held ones
after, "2 more held"); an incomplete pool says how many of its slices are published ("1 of 2 slices
published"), an invalid pool names the pool, the device published twice and the slices publishing it,
with no extra selector-matches-nothing for the devices it hides; a constraint across requests names both
requests, the attribute and each request's free values.  Objects: the DRA example driver's GPUs (model,
index, memory) on its kind workers, dranet NICs with resource.kubernetes.io/pcieRoot.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/analysis/why_pending/test_pool_and_values.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.builders import allocation, claim, device, device_class, node, pod, request, resource_slice

GOLDEN = Path(__file__).parent.parent / "golden"
WORKER = "dra-example-driver-cluster-worker"
WORKER2 = "dra-example-driver-cluster-worker2"
GPU = "gpu.example.com"
NET = "dra.net"
ROOT = "resource.kubernetes.io/pcieRoot"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"text output changed; see {path}"


def gpu(i: int, model: str = "LATEST-GPU-MODEL", root: str | None = None) -> dict:
    attrs = {"driverVersion": "v1.0.0", "index": i, "model": model, "uuid": f"gpu-{i:08x}-0000-0000-0000-000000000000"}
    if root:
        attrs[ROOT] = root
    return device(f"gpu-{i}", attrs=attrs, capacity={"memory": "80Gi"})


@pytest.fixture
def run(cli, tmp_path):
    def go(objs, target="pod0", namespace="gpu-test1"):
        f = tmp_path / "c.yaml"
        f.write_text(yaml.safe_dump_all(objs))
        text = cli("why-pending", target, "-n", namespace, "-f", str(f)).stdout
        data = json.loads(cli("why-pending", target, "-n", namespace, "-o", "json", "-f", str(f)).stdout)
        return text, data
    return go


def base() -> list[dict]:
    return [node(WORKER, hostname_label=True), device_class(GPU, f"device.driver == '{GPU}'")]


def test_values_count_only_free_devices(run):
    """The request asks for model 'LATEST-GPU-MODLE' (a typo); four GPUs have the real model, three of
    them held by a running pod: the histogram says 1 free, 3 more held."""
    objs = base() + [
        resource_slice(f"{WORKER}-{GPU}-rf2f7", WORKER, WORKER, GPU, *[gpu(i) for i in range(4)]),
        claim("render", request("gpu", GPU, 3), namespace="batch", reserved_for=["render"],
              allocation=allocation(*[("gpu", GPU, WORKER, f"gpu-{i}") for i in range(3)], node_name=WORKER)),
        pod("render", ("gpu", "claim", "render"), namespace="batch", phase="Running"),
        claim("pod0-gpu", request("gpu", GPU, selectors=[f"device.attributes['{GPU}'].model == 'LATEST-GPU-MODLE'"]),
              namespace="gpu-test1"),
        pod("pod0", ("gpu", "claim", "pod0-gpu"), namespace="gpu-test1")]
    text, data = run(objs)
    golden("why-pending-values-free-and-held.txt", text)
    reason = data["nodes"][0]["reasons"][0]
    assert reason["details"]["valuesSeen"] == {f"{GPU}/model": ["LATEST-GPU-MODEL (1 free, 3 more held)"]}


def test_incomplete_pool_says_how_many_slices_are_published(run):
    """The driver publishes its pool in two slices (resourceSliceCount 2); the second has not arrived."""
    objs = base() + [
        resource_slice(f"{WORKER}-{GPU}-a", WORKER, WORKER, GPU, gpu(0), gpu(1), count=2),
        claim("pod0-gpu", request("gpu", GPU), namespace="gpu-test1"),
        pod("pod0", ("gpu", "claim", "pod0-gpu"), namespace="gpu-test1")]
    text, data = run(objs)
    golden("why-pending-incomplete-pool.txt", text)
    assert "? slices" not in text
    (pool,) = data["nodes"][0]["reasons"][0]["details"]["pools"]
    assert (pool["published"], pool["expected"], pool["publishedSlices"]) == (1, 2, [f"{WORKER}-{GPU}-a"])


def test_invalid_pool_names_the_duplicate_and_its_slices(run):
    """gpu-1 is published in both slices of the pool: upstream refuses the whole pool.  The reason names
    the pool, the device and both slices, and the request it blocks; no selector-matches-nothing beside it."""
    objs = base() + [
        resource_slice(f"{WORKER}-{GPU}-a", WORKER, WORKER, GPU, gpu(0), gpu(1), count=2),
        resource_slice(f"{WORKER}-{GPU}-b", WORKER, WORKER, GPU, gpu(1), gpu(2), count=2),
        claim("pod0-gpu", request("gpu", GPU), namespace="gpu-test1"),
        pod("pod0", ("gpu", "claim", "pod0-gpu"), namespace="gpu-test1")]
    text, data = run(objs)
    golden("why-pending-invalid-pool.txt", text)
    (reason,) = data["nodes"][0]["reasons"]
    assert (reason["code"], reason["claim"], reason["request"]) == ("invalid-pool", "pod0-gpu", "gpu")
    (pool,) = reason["details"]["pools"]
    assert pool["duplicateDevice"] == "gpu-1"
    assert pool["slicesWithDuplicate"] == [f"{WORKER}-{GPU}-a", f"{WORKER}-{GPU}-b"]
    assert "selector-matches-nothing" not in text


def test_invalid_pool_of_another_driver_keeps_the_request_reason(run):
    """The invalid pool is a NIC pool; the GPU request's own selector matches nothing: both are said."""
    objs = base() + [
        resource_slice(f"{WORKER}-{GPU}", WORKER, WORKER, GPU, gpu(0)),
        resource_slice(f"{WORKER}-{NET}", WORKER, f"{WORKER}-nics", NET,
                       device("eth1", attrs={"ifName": "eth1"}), device("eth1", attrs={"ifName": "eth1"})),
        claim("pod0-gpu", request("gpu", GPU, selectors=[f"device.attributes['{GPU}'].index == 7"]),
              namespace="gpu-test1"),
        pod("pod0", ("gpu", "claim", "pod0-gpu"), namespace="gpu-test1")]
    _, data = run(objs)
    codes = [(r["code"], r["request"]) for r in data["nodes"][0]["reasons"]]
    assert codes == [("invalid-pool", None), ("selector-matches-nothing", "gpu")]
    assert "publishes device eth1 more than once (twice in slice" in data["nodes"][0]["reasons"][0]["message"]


def test_constraint_across_requests_names_both_and_their_values(run):
    """A GPU and a NIC that must share a PCIe root (dranet's aligned-NIC example); the free GPUs sit under
    roots where no NIC is, the GPU under the NIC's root is held."""
    objs = base() + [
        device_class("dranet", f"device.driver == '{NET}'"),
        resource_slice(f"{WORKER}-{GPU}-rf2f7", WORKER, WORKER, GPU, gpu(0, root="pci0000:00"),
                       gpu(1, root="pci0000:40"), gpu(2, root="pci0000:80")),
        resource_slice(f"{WORKER}-{NET}", WORKER, WORKER, NET,
                       device("pci-0000-8a-00-0", attrs={"ifName": "eth1", "rdma": True, ROOT: "pci0000:80"})),
        claim("render", request("gpu", GPU), namespace="batch", reserved_for=["render"],
              allocation=allocation(("gpu", GPU, WORKER, "gpu-2"), node_name=WORKER)),
        pod("render", ("gpu", "claim", "render"), namespace="batch", phase="Running"),
        claim("pod0-gpu-nic", request("gpu", GPU), request("nic", "dranet"), namespace="gpu-test1",
              constraints=[{"requests": ["gpu", "nic"], "matchAttribute": ROOT}]),
        pod("pod0", ("gn", "claim", "pod0-gpu-nic"), namespace="gpu-test1")]
    text, data = run(objs)
    golden("why-pending-constraint-across-requests.txt", text)
    reason = data["nodes"][0]["reasons"][0]
    assert reason["code"] == "constraint-unsatisfiable"
    assert reason["details"]["requests"] == ["gpu", "nic"]
    assert reason["details"]["valuesByRequest"] == {"nic": {"pci0000:80": 1}, "gpu": {"pci0000:00": 1, "pci0000:40": 1}}
    assert ("requests gpu and nic of claim pod0-gpu-nic must share the same resource.kubernetes.io/pcieRoot"
            in reason["message"])
    assert "gpu: pci0000:00 x1, pci0000:40 x1 (1 more held)" in reason["message"]


def test_capacity_rejection_in_the_devices_units(cli, tmp_path):
    """A dranet-style shared NIC (allowMultipleAllocations, bandwidth 80Gi) with 40Gi already consumed by
    a PodGroup's claim; the pod asks for 50Gi: the text says 50Gi and 40Gi, the JSON keeps the raw text."""
    nic = device("pci-0000-8a-00-0", attrs={"ifName": "eth1", "rdma": True}, multi=True,
                 capacity={"bandwidth": {"value": "80Gi", "requestPolicy": {"default": "10Gi",
                                                                             "validRange": {"min": "1Gi"}}}})
    used = claim("allreduce", request("nic", "dranet"), namespace="ml", allocation=allocation(
        ("nic", NET, WORKER, "pci-0000-8a-00-0", {"shareID": "11111111-2222-3333-4444-555555555555",
                                                  "consumedCapacity": {"bandwidth": "40Gi"}}), node_name=WORKER))
    used["status"]["reservedFor"] = [{"apiGroup": "scheduling.k8s.io", "resource": "podgroups", "name": "training",
                                      "uid": "uid-pg"}]
    objs = [node(WORKER, hostname_label=True), device_class("dranet", f"device.driver == '{NET}'"),
            resource_slice(f"{WORKER}-{NET}", WORKER, WORKER, NET, nic), used,
            claim("pod0-nic", request("nic", "dranet", capacity={"bandwidth": "50Gi"}), namespace="gpu-test1"),
            pod("pod0", ("nic", "claim", "pod0-nic"), namespace="gpu-test1")]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    args = ["why-pending", "pod0", "-n", "gpu-test1", "--feature-gates", "DRAConsumableCapacity=true", "-f", str(f)]
    text = cli(*args).stdout
    golden("why-pending-capacity-units.txt", text)
    assert "bandwidth: needs 50Gi, 40Gi left" in text and "53687091200" not in text
    reason = json.loads(cli(*args, "-o", "json").stdout)["nodes"][0]["reasons"][0]
    assert reason["code"] == "capacity-exhausted"
    assert reason["details"]["capacity"][0]["reason"] == "bandwidth: needs 53687091200, 42949672960 left"
    assert reason["details"]["sharedBy"] == ["ml/allreduce (PodGroup training)"]


def test_explain_slice_says_its_pool_is_invalid(cli, tmp_path):
    """The slice view of the same invalid pool: the duplicate and both slices, on either slice."""
    objs = base() + [
        resource_slice(f"{WORKER}-{GPU}-a", WORKER, WORKER, GPU, gpu(0), gpu(1), count=2),
        resource_slice(f"{WORKER}-{GPU}-b", WORKER, WORKER, GPU, gpu(1), gpu(2), count=2),
        resource_slice(f"{WORKER2}-{GPU}-a", WORKER2, WORKER2, GPU, gpu(0), gpu(1))]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    line = (f"invalid pool: device gpu-1 is published more than once (in slices {WORKER}-{GPU}-a, {WORKER}-{GPU}-b): "
            "the scheduler allocates nothing from this pool")
    for name in (f"{WORKER}-{GPU}-a", f"{WORKER}-{GPU}-b"):
        assert line in cli("explain", f"slice/{name}", "-f", str(f)).stdout
    ok = json.loads(cli("explain", f"slice/{WORKER2}-{GPU}-a", "-o", "json", "-f", str(f)).stdout)
    assert ok["poolProblems"] == []
