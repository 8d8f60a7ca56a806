"""A whole GPU wanted while its MIG partitions hold its counters: the counter is named in the pool's units
(40Gi, not 42949672960), the claims holding the partitions are named with their pods, and when those pods
have finished the fix to delete them is offered, confirmed by a re-run of the dry run.  Objects: an A100
published with its 1g.5gb MIG profiles drawing on one counter set (7 memory slices, 40Gi), as the NVIDIA
DRA driver publishes partitionable devices.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/analysis/why_pending/test_counters.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests import builders as b

GOLDEN = Path(__file__).parent.parent / "golden"
GPU = "gpu.nvidia.com"
NODE = "dgx-1"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"text output changed; see {path}"


def cluster(phase: str) -> list[dict]:
    counters = {"gpu-0-counters": {"memorySlices": "7", "memory": "40Gi"}}
    whole = b.device("gpu-0", attrs={"productName": "NVIDIA A100-SXM4-40GB", "profile": "whole"},
                     capacity={"memory": "40Gi"}, consumes={"gpu-0-counters": {"memorySlices": "7", "memory": "40Gi"}})
    migs = [b.device(f"gpu-0-mig-1g.5gb-{i}", attrs={"productName": "NVIDIA A100-SXM4-40GB", "profile": "1g.5gb"},
                     capacity={"memory": "5Gi"}, consumes={"gpu-0-counters": {"memorySlices": "1", "memory": "5Gi"}})
            for i in range(3)]
    return [b.node(NODE, hostname_label=True), b.device_class("gpu", b.sel_driver(GPU)),
            b.resource_slice("dgx-1-gpu", NODE, NODE, GPU, whole, *migs, counters=counters),
            b.claim("mig-jobs", b.request("mig", "gpu", 2), namespace="ml", reserved_for=["sweep-7"],
                    allocation=b.allocation(("mig", GPU, NODE, "gpu-0-mig-1g.5gb-0"),
                                            ("mig", GPU, NODE, "gpu-0-mig-1g.5gb-1"), node_name=NODE)),
            b.pod("sweep-7", ("mig", "claim", "mig-jobs"), namespace="ml", phase=phase),
            b.claim("whole-gpu", b.request("gpu", "gpu", selectors=[
                f"device.attributes['{GPU}'].profile == 'whole'"]), namespace="ml"),
            b.pod("trainer", ("gpu", "claim", "whole-gpu"), namespace="ml")]


@pytest.mark.parametrize("phase", ["Running", "Succeeded"])
def test_whole_gpu_blocked_by_its_partitions(cli, tmp_path, phase):
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(cluster(phase)))
    args = ["why-pending", "trainer", "-n", "ml", "--feature-gates", "DRAPartitionableDevices=true", "-f", str(f)]
    text = cli(*args).stdout
    golden(f"why-pending-mig-counters-{phase.lower()}.txt", text)
    data = json.loads(cli(*args, "-o", "json").stdout)
    reason = data["nodes"][0]["reasons"][0]
    assert reason["code"] == "counters-exhausted"
    assert "(device gpu-0 needs 40Gi, 30Gi left)" in reason["message"] and "42949672960" not in text
    assert "ml/mig-jobs holds gpu-0-mig-1g.5gb-0, gpu-0-mig-1g.5gb-1 (pod sweep-7 " in reason["message"]
    assert reason["details"]["holders"][0]["devices"] == ["gpu-0-mig-1g.5gb-0", "gpu-0-mig-1g.5gb-1"]
    if phase == "Succeeded":
        assert data["fixes"] == ["pod ml/sweep-7 has Succeeded but its claim ml/mig-jobs still holds "
                                 "gpu-0-mig-1g.5gb-0, gpu-0-mig-1g.5gb-1: delete the pod (or the claim) to free "
                                 "them (then it fits on dgx-1)"]
    else:
        assert data["fixes"] == []


def test_a_group_of_mig_nodes_names_every_nodes_holders(cli, tmp_path):
    """Four DGX nodes, each whole GPU blocked by its own partitions' job: one group, every node's holders."""
    objs = []
    for i in range(4):
        node_name = f"dgx-{i}"
        one = [o for o in cluster("Running") if o["kind"] not in ("Pod", "DeviceClass") or o["metadata"]["name"] == "sweep-7"]
        text = yaml.safe_dump_all(one).replace("dgx-1", node_name).replace("mig-jobs", f"mig-jobs-{i}").replace(
            "sweep-7", f"sweep-{i}")
        objs += [o for o in yaml.safe_load_all(text) if o["kind"] != "ResourceClaim" or o["metadata"]["name"] != "whole-gpu"]
    objs += [o for o in cluster("Running") if o["kind"] == "DeviceClass" or o["metadata"]["name"] in ("whole-gpu", "trainer")]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    args = ["why-pending", "trainer", "-n", "ml", "--feature-gates", "DRAPartitionableDevices=true", "-f", str(f)]
    (group,) = json.loads(cli(*args, "-o", "json").stdout)["summary"]
    assert group["code"] == "counters-exhausted" and len(group["nodes"]) == 4
    assert [h["holders"] for h in group["holders"]] == [
        [f"ml/mig-jobs-{i} holds gpu-0-mig-1g.5gb-0, gpu-0-mig-1g.5gb-1 (pod sweep-{i} Running)"] for i in range(4)]
    text = cli(*args).stdout
    assert "on dgx-2: ml/mig-jobs-2 holds" in text and "... and 1 more node(s) (-o wide for all)" in text
