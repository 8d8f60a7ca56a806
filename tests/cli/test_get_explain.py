"""`get`, `explain` and `dump` on the bundled example, through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.conftest import EXAMPLE

F = ("-f", str(EXAMPLE))


def test_get_devices_shows_holders_and_pods(cli):
    r = cli("get", "devices", *F)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NODE", "DRIVER", "POOL", "DEVICE", "ATTRIBUTES", "CAPACITY", "TAINTS", "STATE", "CLAIM", "PODS"]
    row = next(line for line in lines if line.startswith("gpu-node-1") and " gpu-2 " in line)
    assert "team-b/notebook-gpu" in row and row.rstrip().endswith("notebook")
    assert len(lines) == 13


def test_get_devices_filters(cli):
    r = cli("get", "devices", "--node", "gpu-node-1", "--free", "--no-headers", *F)
    assert [line.split()[3] for line in r.stdout.splitlines()] == ["gpu-3"]
    r = cli("get", "devices", "--allocated", "-o", "name", *F)
    assert r.stdout.splitlines() == [
        "device/gpu.nvidia.com/gpu-node-1/gpu-0", "device/gpu.nvidia.com/gpu-node-1/gpu-1",
        "device/gpu.nvidia.com/gpu-node-1/gpu-2", "device/gpu.nvidia.com/gpu-node-2/gpu-0",
        "device/gpu.nvidia.com/gpu-node-2/gpu-1", "device/gpu.nvidia.com/gpu-node-2/gpu-2"]


def test_get_devices_json_has_attributes_and_holders(cli):
    r = cli("get", "devices", "-o", "json", "--node", "gpu-node-2", *F)
    data = json.loads(r.stdout)
    assert data["kind"] == "List"
    d0 = data["items"][0]
    assert d0["attributes"]["gpu.nvidia.com/productName"] == "NVIDIA A100-SXM4-40GB"
    assert d0["capacity"] == {"gpu.nvidia.com/memory": "40Gi"}
    assert d0["holders"] == [{"namespace": "team-a", "claim": "eval-gpus", "request": "gpus", "pods": ["eval"],
                              "consumers": [{"kind": "Pod", "name": "eval", "apiGroup": "", "resource": "pods",
                                             "label": "pod eval"}], "deleting": False, "adminAccess": False}]
    assert d0["availability"]["state"] == "used" and d0["availability"]["free"] is False


def test_get_claims_namespace_scoping(cli):
    r = cli("get", "claims", *F)
    assert [line.split()[0] for line in r.stdout.splitlines()[1:]] == ["inference-gpu", "trainer-gpus-q9t4m"]
    r = cli("get", "claims", "-n", "team-a", *F)
    assert "eval-gpus" in r.stdout and "trainer" not in r.stdout
    r = cli("get", "claims", "-A", "-o", "wide", *F)
    header = r.stdout.splitlines()[0].split()
    assert header[0] == "NAMESPACE" and "RESERVED" in header
    r = cli("get", "claims", "-n", "empty", *F)
    assert r.exit_code == 0 and r.stdout == "" and "No resources found in empty namespace." in r.stderr


def test_get_slices_and_templates(cli):
    r = cli("get", "slices", "-o", "wide", *F)
    assert "complete" in r.stdout and r.stdout.count("gpu.nvidia.com-x8kq2") == 3
    r = cli("get", "templates", "-A", *F)
    assert "finetune-gpus" in r.stdout and "trainer-gpus" in r.stdout
    r = cli("get", "slices", "-o", "yaml", *F)
    assert [o["kind"] for o in yaml.safe_load(r.stdout)["items"]] == ["ResourceSlice"] * 3


def test_explain_claim_shows_allocation_and_finished_pod(cli):
    r = cli("explain", "claim/notebook-gpu", "-n", "team-b", *F)
    assert r.exit_code == 0
    assert "Allocation on node gpu-node-1" in r.stdout
    assert "gpu -> gpu.nvidia.com/gpu-node-1/gpu-2" in r.stdout
    assert "pod notebook (Succeeded) finished but still reserves the claim" in r.stdout


def test_explain_pending_claim_points_at_why_pending(cli):
    r = cli("explain", "rc/trainer-gpus-q9t4m", *F, "-o", "json")
    data = json.loads(r.stdout)
    assert data["state"] == "pending" and data["allocation"] is None
    assert data["requests"][0]["selectors"] == ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0"]
    assert data["constraints"] == [{"requests": ["gpus"], "matchAttribute": "resource.kubernetes.io/pcieRoot"}]
    assert data["hint"] == "not allocated: run `kubectl dra why-pending pod/trainer -n default`"


def test_explain_pod_node_template_slice(cli):
    r = cli("explain", "pod/trainer", *F)
    assert "gpus -> trainer-gpus-q9t4m (from template trainer-gpus)  pending" in r.stdout
    assert "Scheduler says (Unschedulable)" in r.stdout
    r = cli("explain", "node/gpu-node-1", *F)
    assert "4 devices, 3 allocated, 1 free" in r.stdout
    assert "held by team-b/notebook-gpu for pod notebook (Succeeded, still holds it)" in r.stdout
    r = cli("explain", "template/finetune-gpus", "-n", "team-a", *F)
    assert "pod/llm-finetune-0 (gpus) -> llm-finetune-0-gpus-7xk2p  allocated,reserved on gpu-node-1" in r.stdout
    r = cli("explain", "resourceslice/gpu-node-2-gpu.nvidia.com-x8kq2", *F, "-o", "yaml")
    data = yaml.safe_load(r.stdout)
    assert data["poolSlices"] == {"seen": 1, "expected": 1, "complete": True}
    assert [d["device"] for d in data["devices"]] == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]


def test_errors_are_one_line_with_exit_codes(cli):
    r = cli("explain", "pod/nope", *F)
    assert r.exit_code == 5 and r.stderr == "error: pods \"nope\" not found in namespace 'default'\n"
    r = cli("explain", "widget/x", *F)
    assert r.exit_code == 2 and r.stderr.startswith("error: unknown type 'widget'")
    r = cli("get", "devices", "-f", "does-not-exist.yaml")
    assert r.exit_code == 3 and r.stderr == "error: does-not-exist.yaml: no such file or directory\n"
    r = cli("get", "devices", "--free", "--allocated", *F)
    assert r.exit_code == 2 and "exclude each other" in r.stderr


def test_dump_round_trips(cli, tmp_path):
    r = cli("dump", "-o", "json", *F)
    data = json.loads(r.stdout)
    out = tmp_path / "dump.json"
    out.write_text(r.stdout)
    assert {o["kind"] for o in data["items"]} == {"Node", "DeviceClass", "ResourceSlice", "ResourceClaimTemplate",
                                                  "ResourceClaim", "Pod", "Event"}
    assert "kubectl-dra.io/server-version" not in data["metadata"]["annotations"]  # files carry no version
    again = cli("get", "devices", "-f", str(out))
    assert again.stdout == cli("get", "devices", *F).stdout
    wp = ("why-pending", "pod/trainer", "-o", "json")
    assert json.loads(cli(*wp, "-f", str(out)).stdout) == json.loads(cli(*wp, *F).stdout)


def test_dump_annotations_carry_version_and_pod_scope(cli, tmp_path):
    data = json.loads(cli("dump", "-o", "json", *F).stdout)
    data["metadata"] = {"annotations": {"kubectl-dra.io/server-version": "v1.34.2",
                                        "kubectl-dra.io/pod-namespaces": "default"}}
    out = tmp_path / "dump.json"
    out.write_text(json.dumps(data))
    doc = json.loads(cli("why-pending", "pod/trainer", "-o", "json", "-f", str(out)).stdout)
    assert doc["featureGates"]["version"] == "1.34" and doc["featureGates"]["DRAConsumableCapacity"] is False
    node1 = next(n for n in doc["nodes"] if n["name"] == "gpu-node-1")
    pods = {h["claim"]: h["pods"][0] for h in node1["reasons"][0]["details"]["holders"]}
    # team-b's pods were not part of the dump: presence unknown, not "deleted"
    assert pods["team-b/notebook-gpu"]["exists"] is True  # the dump does hold it (files hold what they hold)
    assert pods["team-a/llm-finetune-0-gpus-7xk2p"]["exists"] is True


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [")
    p = subprocess.run([sys.executable, "-m", "kubectl_dra", "get", "devices", "-f", str(bad)], capture_output=True, text=True)
    assert p.returncode == 3
    assert "Traceback" not in p.stderr and p.stderr.startswith(f"error: {bad}: invalid YAML")


def test_yaml_output_has_no_anchors_and_equals_json(cli):
    # Objects shared inside a report (selector lists repeated on every node) are written out in full.
    wp = ("why-pending", "pod/trainer", *F)
    text = cli(*wp, "-o", "yaml").stdout
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == json.loads(cli(*wp, "-o", "json").stdout)
