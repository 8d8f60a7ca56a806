"""Free/used in `get devices`, `get classes` and `explain node`, as the allocator would see it: a GPU
whose MIG partitions took its counters is not free, a shared device says how much capacity is left
(in the driver's units), a claim being deleted reads like kubectl, a PodGroup consumer is a PodGroup."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests import builders as b

GOLDEN = Path(__file__).parent / "golden"
GPU = "gpu.nvidia.com"
NODE = "dgx-1"


def mig_cluster() -> list[dict]:
    """An A100 published with its MIG profiles: the whole GPU and its 1g.5gb partitions draw on one
    counter set (7 memory slices, 40Gi); two partitions are allocated."""
    counters = {"gpu-0-counters": {"memorySlices": "7", "memory": "40Gi"}}
    whole = b.device("gpu-0", attrs={"productName": "NVIDIA A100-SXM4-40GB", "profile": "whole"},
                     capacity={"memory": "40Gi"},
                     consumes={"gpu-0-counters": {"memorySlices": "7", "memory": "40Gi"}})
    migs = [b.device(f"gpu-0-mig-1g.5gb-{i}", attrs={"productName": "NVIDIA A100-SXM4-40GB", "profile": "1g.5gb"},
                     capacity={"memory": "5Gi"},
                     consumes={"gpu-0-counters": {"memorySlices": "1", "memory": "5Gi"}}) for i in range(3)]
    shared = b.device("nic-0", attrs={"type": "rdma"}, multi=True,
                      capacity={"bandwidth": {"value": "80Gi", "requestPolicy": {
                          "default": "10Gi", "validRange": {"min": "1Gi"}}}})
    sl = b.resource_slice("dgx-1-gpu", NODE, "dgx-1", GPU, whole, *migs, counters=counters)
    nic = b.resource_slice("dgx-1-nic", NODE, "dgx-1-nic", "net.example.com", shared)
    mig_claim = b.claim("mig-jobs", b.request("mig", "mig-1g"), namespace="ml",
                        allocation=b.allocation(("mig", GPU, "dgx-1", "gpu-0-mig-1g.5gb-0"),
                                                ("mig", GPU, "dgx-1", "gpu-0-mig-1g.5gb-1"), node_name=NODE),
                        reserved_for=["trainer"])
    mig_claim["metadata"]["deletionTimestamp"] = "2026-12-02T10:00:00Z"
    nic_claim = b.claim("rdma", b.request("nic", "rdma"), namespace="ml",
                        allocation=b.allocation(("nic", "net.example.com", "dgx-1-nic", "nic-0",
                                                 {"shareID": "11111111-2222-3333-4444-555555555555",
                                                  "consumedCapacity": {"bandwidth": "40Gi"}}), node_name=NODE))
    nic_claim["status"]["reservedFor"] = [{"apiGroup": "scheduling.k8s.io", "resource": "podgroups",
                                           "name": "training", "uid": "uid-pg"}]
    return [b.node(NODE), sl, nic, mig_claim, nic_claim,
            b.device_class("gpu", b.sel_driver(GPU)), b.device_class("rdma", b.sel_driver("net.example.com"))]


def write(tmp_path, objs) -> str:
    p = tmp_path / "cluster.yaml"
    p.write_text(yaml.safe_dump_all(objs))
    return str(p)


def test_get_devices_is_counter_and_capacity_aware(cli, tmp_path):
    f = write(tmp_path, mig_cluster())
    r = cli("get", "devices", "-f", f)
    assert r.exit_code == 0, r.output
    assert r.stdout == (GOLDEN / "get-devices-mig.txt").read_text()
    rows = {line.split()[3]: line for line in r.stdout.splitlines()[1:]}
    # the whole GPU needs all 7 memory slices; two are taken by the MIG partitions
    assert "partly used: 10Gi of 40Gi memory, 2 of 7 memorySlices used by other devices" in rows["gpu-0"]
    assert "(needs 40Gi memory, 7 memorySlices)" in rows["gpu-0"] and " free" not in rows["gpu-0"]
    assert "ml/mig-jobs (deleted)" in rows["gpu-0-mig-1g.5gb-0"]
    assert " free " in rows["gpu-0-mig-1g.5gb-2"]
    assert "partly used: 40Gi of 80Gi left" in rows["nic-0"] and "PodGroup training" in rows["nic-0"]
    free = cli("get", "devices", "--free", "-o", "name", "-f", f).stdout.split()
    assert free == ["device/gpu.nvidia.com/dgx-1/gpu-0-mig-1g.5gb-2", "device/net.example.com/dgx-1-nic/nic-0"]


def test_get_devices_json_keeps_raw_amounts(cli, tmp_path):
    r = cli("get", "devices", "-o", "json", "-f", write(tmp_path, mig_cluster()))
    items = {d["device"]: d for d in json.loads(r.stdout)["items"]}
    gpu = items["gpu-0"]["availability"]
    assert gpu["state"] == "unavailable" and gpu["free"] is False
    mem = next(c for c in gpu["counters"] if c["counter"] == "memory")
    assert mem["used"] == str(10 * 2**30) and mem["total"] == "40Gi" and mem["fits"] is False
    nic = items["nic-0"]["availability"]
    assert nic["capacity"] == [{"name": "bandwidth", "left": str(40 * 2**30), "total": "80Gi",
                                "text": "40Gi of 80Gi left"}]
    assert items["nic-0"]["holders"][0]["consumers"][0]["kind"] == "PodGroup"


def test_get_classes_counts_only_free_devices(cli, tmp_path):
    r = cli("get", "classes", "--no-headers", "-f", write(tmp_path, mig_cluster()))
    rows = {line.split()[0]: line.split()[2:4] for line in r.stdout.splitlines()}
    # NAME SELECTORS DEVICES FREE: of the four GPU devices only the last MIG partition can be handed out
    assert rows == {"gpu": ["4", "1"], "rdma": ["1", "1"]}


def test_deleting_claim_state_reads_like_kubectl(cli, tmp_path):
    r = cli("get", "claims", "-n", "ml", "-f", write(tmp_path, mig_cluster()))
    row = next(line for line in r.stdout.splitlines() if line.startswith("mig-jobs"))
    assert row.split()[1] == "deleted,allocated,reserved"


def test_explain_node_free_count_is_allocator_free(cli, tmp_path):
    f = write(tmp_path, mig_cluster())
    r = cli("explain", f"node/{NODE}", "-o", "json", "-f", f)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["devices"], data["allocated"], data["free"]) == (5, 3, 2)
    devs = {d["device"]: d for p in data["pools"] for d in p["devices"]}
    assert devs["gpu-0"]["availability"]["state"] == "unavailable"
    text = cli("explain", f"node/{NODE}", "-f", f).stdout
    assert "2 of 7 memorySlices used by other devices" in text and "40Gi of 80Gi left" in text
    assert "held by ml/mig-jobs (claim deleted, not yet released) for pod trainer" in text
    assert "PodGroup training" in text


def test_explain_class_and_slice_are_counter_aware(cli, tmp_path):
    """explain class counts free as get classes does (the whole GPU is not free); explain slice says
    why each device is or is not free, and where the slice is available, in words."""
    f = write(tmp_path, mig_cluster())
    cls = json.loads(cli("explain", "class/gpu", "-o", "json", "-f", f).stdout)
    assert (cls["matching"], cls["free"]) == (4, 1)
    assert cls["nodes"][0]["unavailable"] == ["gpu-0"]
    text = cli("explain", "class/gpu", "-f", f).stdout
    assert "dgx-1: 4 matching, 1 free (1 unclaimed but not free: its counters are taken by other devices)" in text
    sl = cli("explain", "slice/dgx-1-gpu", "-f", f).stdout
    assert "available on: node dgx-1" in sl
    assert "gpu-0  partly used: 10Gi of 40Gi memory, 2 of 7 memorySlices used by other devices" in sl
    assert "gpu-0-mig-1g.5gb-2  free (of its counters, 10Gi of 40Gi memory, 2 of 7 memorySlices used)" in sl


def test_deleting_claim_in_explain_and_json(cli, tmp_path):
    f = write(tmp_path, mig_cluster())
    data = json.loads(cli("explain", "claim/mig-jobs", "-n", "ml", "-o", "json", "-f", f).stdout)
    assert data["state"] == "deleted,allocated,reserved" and data["deleting"] is True
    text = cli("explain", "claim/mig-jobs", "-n", "ml", "-f", f).stdout
    assert text.splitlines()[0] == "ResourceClaim ml/mig-jobs  deleted,allocated,reserved"
    assert "being deleted: the scheduler refuses it for new pods" in text
    items = {d["device"]: d for d in json.loads(cli("get", "devices", "-o", "json", "-f", f).stdout)["items"]}
    assert items["gpu-0-mig-1g.5gb-0"]["holders"][0]["deleting"] is True
    assert items["nic-0"]["holders"][0]["deleting"] is False
    rdma = cli("explain", "claim/rdma", "-n", "ml", "-f", f).stdout
    assert "consumed bandwidth=40Gi" in rdma and "PodGroup training" in rdma and "podgroups/" not in rdma


def test_why_pending_names_a_podgroup_holder_as_a_podgroup(cli, tmp_path):
    """The RDMA NIC, published as an ordinary (not shareable) device, is held by a claim reserved for a
    PodGroup: the holder is "PodGroup training", not a pod."""
    objs = mig_cluster()
    objs[2]["spec"]["devices"][0].pop("allowMultipleAllocations")
    result = objs[4]["status"]["allocation"]["devices"]["results"][0]
    result.pop("shareID"), result.pop("consumedCapacity")
    objs += [b.claim("want-nic", b.request("nic", "rdma"), namespace="ml"),
             b.pod("worker-0", ("nic", "claim", "want-nic"), namespace="ml")]
    f = write(tmp_path, objs)
    data = json.loads(cli("why-pending", "worker-0", "-n", "ml", "-o", "json", "-f", f).stdout)
    reason = data["nodes"][0]["reasons"][0]
    assert reason["code"] == "all-matching-devices-allocated"
    (holder,) = reason["details"]["holders"]
    assert holder["pods"] == [] and holder["consumers"] == ["PodGroup training"]
    assert "ml/rdma holds nic-0 (PodGroup training)" in reason["message"]
