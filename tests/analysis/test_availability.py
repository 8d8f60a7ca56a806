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
    assert "unavailable" in rows["gpu-0"] and "memorySlices 2 of 7 used, needs 7" in rows["gpu-0"]
    assert "memory 10Gi of 40Gi used" in rows["gpu-0"]
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
    assert "memorySlices 2 of 7 used, needs 7" in text and "40Gi of 80Gi left" in text
    assert "PodGroup training" in text
