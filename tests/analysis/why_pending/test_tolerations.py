"""Suggested tolerations are checked before they are offered: YAML the API server accepts (`value: "79"`
quoted: unquoted it is an integer and the API refuses it), each one re-run in the dry run ("(then it fits
on NODE)" or "not enough on its own"), a health taint's caveat that the device may be broken, and no
toleration of a node taint on a node that has no devices for the pod anyway.  Objects: an NVIDIA DGX-like
node (A100s, productName / memory) whose GPU driver taints a GPU after an Xid 79 ("fallen off the bus"),
a maintenance taint set by an admin, and kind's tainted control-plane node.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/analysis/why_pending/test_tolerations.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.builders import claim, device, device_class, node, pod, request, resource_slice

GOLDEN = Path(__file__).parent.parent / "golden"
GPU = "gpu.nvidia.com"
DGX = "dgx-a100-1"
CP = "kind-control-plane"
XID = {"key": "gpu.nvidia.com/xid", "value": "79", "effect": "NoSchedule"}
MAINT = {"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"text output changed; see {path}"


def cluster(count: int) -> list[dict]:
    gpus = [device(f"gpu-{i}", attrs={"productName": "NVIDIA A100-SXM4-40GB", "index": i,
                                      "uuid": f"GPU-{i:08x}-a100"}, capacity={"memory": "40Gi"}) for i in range(2)]
    gpus[0]["taints"] = [XID]
    gpus[1]["taints"] = [MAINT]
    return [node(DGX, hostname_label=True),
            node(CP, hostname_label=True, taints=[{"key": "node-role.kubernetes.io/control-plane",
                                                   "effect": "NoSchedule"}]),
            device_class(GPU, f"device.driver == '{GPU}'"),
            resource_slice(f"{DGX}-{GPU}-x7k2p", DGX, DGX, GPU, *gpus),
            claim("train-gpus", request("gpus", GPU, count), namespace="ml"),
            pod("trainer", ("gpus", "claim", "train-gpus"), namespace="ml")]


@pytest.fixture
def run(cli, tmp_path):
    def go(objs):
        f = tmp_path / "c.yaml"
        f.write_text(yaml.safe_dump_all(objs))
        args = ["why-pending", "trainer", "-n", "ml", "--feature-gates", "DRADeviceTaints=true", "-f", str(f)]
        return cli(*args).stdout, json.loads(cli(*args, "-o", "json").stdout)
    return go


def tolerations_of(fix: str) -> list[dict]:
    return yaml.safe_load(fix.split("tolerations: ", 1)[1].split(" (")[0])


def test_each_toleration_is_rerun_and_either_is_enough_for_one_gpu(run, cli, tmp_path):
    text, data = run(cluster(1))
    golden("why-pending-tolerations-one-gpu.txt", text)
    xid, maint = data["fixes"]
    assert xid.startswith('add to request gpus: tolerations: [{key: "gpu.nvidia.com/xid", operator: "Equal", '
                          'value: "79", effect: "NoSchedule"}] (then it fits on dgx-a100-1) (caution: ')
    assert "the device may be broken" in xid and "caution" not in maint
    assert maint.endswith("] (then it fits on dgx-a100-1)")
    # the control-plane node has no devices: its taint is not worth a toleration
    cp = next(n for n in data["nodes"] if n["name"] == CP)["reasons"][0]
    assert "fixes" not in cp and cp["details"]["enoughOnItsOwn"] is False
    assert cp["message"].endswith("lifting it would not be enough: the node has no devices for the pod's claims")
    assert not any("control-plane" in f for f in data["fixes"])
    # the suggested YAML is what the API server accepts: a claim with it validates (schema: value a string)
    fixed = cluster(1)[4]
    fixed["spec"]["devices"]["requests"][0]["exactly"]["tolerations"] = tolerations_of(xid)
    f = tmp_path / "fixed.yaml"
    f.write_text(yaml.safe_dump(fixed))
    res = cli("validate", "-f", str(f))
    assert res.exit_code == 0, res.stdout
    unquoted = yaml.safe_load(f.read_text().replace("'79'", "79"))
    assert unquoted["spec"]["devices"]["requests"][0]["exactly"]["tolerations"][0]["value"] == 79
    f.write_text(yaml.safe_dump(unquoted))
    assert cli("validate", "-f", str(f)).exit_code == 1  # what the quoting avoids


def test_two_gpus_need_both_tolerations(run):
    text, data = run(cluster(2))
    golden("why-pending-tolerations-two-gpus.txt", text)
    xid, maint, both = data["fixes"]
    assert "(not enough on its own: the dry run still fails on dgx-a100-1)" in xid
    assert maint.endswith("(not enough on its own: the dry run still fails on dgx-a100-1)")
    assert both.startswith("add to request gpus all of: tolerations: [")
    assert [t["key"] for t in tolerations_of(both)] == ["gpu.nvidia.com/xid", "example.com/maintenance"]
    assert "(then it fits on dgx-a100-1) (caution: " in both
    reason = next(n for n in data["nodes"] if n["name"] == DGX)["reasons"][0]
    assert reason["details"]["tolerationEnough"] == [False, False]
    assert reason["message"].startswith("device gpu-0 has taint gpu.nvidia.com/xid=79:NoSchedule (from slice ")


def test_node_taint_toleration_offered_when_it_is_enough(run):
    """The GPU node itself is tainted for maintenance and its GPUs are fine: lifting the taint is enough,
    the pod toleration is offered as YAML, confirmed."""
    objs = cluster(1)
    for d in objs[3]["spec"]["devices"]:
        d.pop("taints")
    objs[0]["spec"] = {"taints": [MAINT]}
    _, data = run(objs)
    fix = next(f for f in data["fixes"] if "example.com/maintenance" in f)
    assert fix == ('add to the pod: tolerations: [{key: "example.com/maintenance", operator: "Equal", value: "true", '
                   'effect: "NoSchedule"}], or remove the taint example.com/maintenance=true:NoSchedule from node '
                   'dgx-a100-1 (then it fits on dgx-a100-1)')


def test_fallback_alternative_gets_its_toleration(cli, tmp_path):
    """A prioritized list: an H100 first (the node has A100s only: that is what alternatives are for, so no
    "did you mean A100" fix), else any GPU; the A100s carry the maintenance taint.  The fallback's
    toleration is offered, re-run, though its reason is not the node's first."""
    from tests.builders import first_available, subrequest

    objs = cluster(1)
    for d in objs[3]["spec"]["devices"]:
        d["taints"] = [MAINT]
    objs[4] = claim("train-gpus", first_available(
        "gpus", subrequest("h100", GPU, selectors=[f"device.attributes['{GPU}'].productName == 'NVIDIA H100'"]),
        subrequest("any", GPU)), namespace="ml")
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    data = json.loads(cli("why-pending", "trainer", "-n", "ml", "--feature-gates", "DRADeviceTaints=true",
                          "-o", "json", "-f", str(f)).stdout)
    dgx = next(n for n in data["nodes"] if n["name"] == DGX)
    assert [(r["code"], r["request"]) for r in dgx["reasons"]] == [("selector-matches-nothing", "gpus/h100"),
                                                                   ("taint", "gpus/any")]
    assert data["fixes"] == ['add to request gpus/any: tolerations: [{key: "example.com/maintenance", operator: '
                             '"Equal", value: "true", effect: "NoSchedule"}] (then it fits on dgx-a100-1)']
