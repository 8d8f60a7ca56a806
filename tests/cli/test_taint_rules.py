"""DeviceTaintRules through the commands: validate accepts them (the example driver's own demo manifests),
get devices / explain show the taints they put on devices with the rule's name, why-pending's `taint` reason
names the rule, and `explain deviceTaintRule/NAME` exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import DRIVERS

GPU = str(DRIVERS / "example-gpu.yaml")
DEMO = Path("/work/shared/fixtures/dra-example-driver/demo/examples/device-taints-tolerations")
needs_demo = pytest.mark.skipif(not DEMO.is_dir(), reason="the example driver's demo manifests are not on this machine")

RULE = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "DeviceTaintRule", "metadata": {"name": "gpu-3-broken"},
        "spec": {"deviceSelector": {"driver": "gpu.example.com", "device": "gpu-3"},
                 "taint": {"key": "example.com/ecc", "value": "uncorrectable", "effect": "NoSchedule"}}}


def write(tmp_path: Path, name: str, *objs) -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump_all(list(objs)))
    return str(p)


@needs_demo
@pytest.mark.parametrize("case", sorted(p.name for p in DEMO.iterdir()) if DEMO.is_dir() else [])
def test_the_example_drivers_taint_demos_validate_clean(cli, case):
    res = cli("validate", "-f", str(DEMO / case), "-o", "json")
    out = json.loads(res.stdout)
    assert res.exit_code == 0, out["diagnostics"]
    assert out["errors"] == 0 and out["objects"] >= 2
    rules = [d for d in out["diagnostics"] if d["kind"] == "DeviceTaintRule"]
    assert rules == []


@needs_demo
def test_the_example_drivers_taint_demos_against_its_own_devices_warn_that_they_taint_them_all(cli):
    # the demos' rules select the driver (its whole installation is broken, say their comments): on a cluster
    # of that driver alone, every device, which is worth a warning and no error
    res = cli("validate", "-f", str(DEMO), "--cluster-file", GPU, "-o", "json")
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["errors"] == 0
    rules = {(d["file"], d["message"]) for d in out["diagnostics"] if d["kind"] == "DeviceTaintRule"}
    assert len(rules) == 4 and {m for _, m in rules} == {
        "selects every one of the 8 devices in the cluster: every claim on them is affected"}


def test_validate_reports_a_rule_field_the_release_does_not_know(cli, tmp_path):
    bad = json.loads(json.dumps(RULE))
    bad["spec"]["deviceSelector"]["selectors"] = [{"cel": {"expression": "true"}}]
    bad["spec"]["taint"]["effect"] = "PreferNoSchedule"
    res = cli("validate", "-f", write(tmp_path, "r.yaml", bad), "-o", "json")
    assert res.exit_code == 1
    diags = json.loads(res.stdout)["diagnostics"]
    got = {(d["path"], d["code"]) for d in diags}
    # the release's schema reports an unknown field at its parent, naming it
    assert got == {("spec.deviceSelector", "schema"), ("spec.taint.effect", "schema")}
    assert "unknown field 'selectors'" in next(d["message"] for d in diags if d["path"] == "spec.deviceSelector")


def _rule(name: str, selector: dict) -> dict:
    return {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule", "metadata": {"name": name},
            "spec": {"deviceSelector": selector, "taint": {"key": "k", "effect": "NoSchedule"}}}


def test_validate_against_the_cluster_warns_of_a_rule_selecting_nothing_or_everything(cli, tmp_path):
    f = write(tmp_path, "r.yaml", _rule("typo", {"driver": "gpu.exmple.com"}), _rule("whole-driver", {"driver": "gpu.example.com"}),
              _rule("one", {"driver": "gpu.example.com", "device": "gpu-3"}), _rule("no-pool", {"pool": "kind-worker2"}),
              _rule("empty", {}))
    res = cli("validate", "-f", f, "--cluster-file", GPU, "-o", "json")
    assert res.exit_code == 0, res.stdout
    got = {(d["name"], d["path"], d["code"], d["message"]) for d in json.loads(res.stdout)["diagnostics"]}
    assert got == {
        ("typo", "spec.deviceSelector", "taint-rule", "selects none of the 8 devices in the cluster: no device has "
                                                      "driver 'gpu.exmple.com' (did you mean 'gpu.example.com'?)"),
        ("whole-driver", "spec.deviceSelector", "taint-rule",
         "selects every one of the 8 devices in the cluster: every claim on them is affected"),
        ("no-pool", "spec.deviceSelector", "taint-rule", "selects none of the 8 devices in the cluster: no device has "
                                                         "pool 'kind-worker2' (did you mean 'kind-worker'?)"),
        # said once, offline already
        ("empty", "spec.deviceSelector", "taint-rule", "the empty selector selects every device in the cluster"),
    }
    offline = json.loads(cli("validate", "-f", f, "-o", "json").stdout)["diagnostics"]
    assert [d["name"] for d in offline] == ["empty"]


def test_get_devices_shows_the_rule_taint_with_its_source_once_rules_are_in_force(cli, tmp_path):
    f = write(tmp_path, "r.yaml", RULE)
    res = cli("get", "devices", "-f", GPU, "-f", f, "-o", "json", "--feature-gates", "DRADeviceTaintRules=true")
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    by = {d["device"]: d for d in json.loads(res.stdout)["items"]}
    assert by["gpu-3"]["taints"] == [{"key": "example.com/ecc", "value": "uncorrectable", "effect": "NoSchedule",
                                      "rule": "gpu-3-broken"}]
    assert by["gpu-2"]["taints"] == []
    text = cli("get", "devices", "-f", GPU, "-f", f, "--feature-gates", "DRADeviceTaintRules=true").stdout
    assert "example.com/ecc=uncorrectable:NoSchedule (rule gpu-3-broken)" in text


@pytest.mark.parametrize("gates, needed", [
    ([], "DRADeviceTaintRules"),
    (["--kubernetes-version", "1.35"], "DRADeviceTaints, DRADeviceTaintRules"),
    (["--kubernetes-version", "1.34"], "DRADeviceTaints"),
    (["--feature-gates", "DRADeviceTaints=false,DRADeviceTaintRules=true"], "DRADeviceTaints"),
])
def test_get_devices_shows_no_rule_taint_where_the_gates_leave_rules_inert_and_says_so(cli, tmp_path, gates, needed):
    f = write(tmp_path, "r.yaml", RULE)
    res = cli("get", "devices", "-f", GPU, "-f", f, "-o", "json", *gates)
    assert res.exit_code == 0, res.stderr
    by = {d["device"]: d for d in json.loads(res.stdout)["items"]}
    assert by["gpu-3"]["taints"] == []
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: DeviceTaintRule gpu-3-broken not in force in Kubernetes 1.3")
    assert f"(feature gate(s) {needed} off)" in lines[0]
    assert "--feature-gates " + ",".join(g + "=true" for g in needed.split(", ")) in lines[0]


def test_1_34_puts_rules_in_force_with_device_taints_alone(cli, tmp_path):
    f = write(tmp_path, "r.yaml", RULE)
    res = cli("get", "devices", "gpu-3", "-f", GPU, "-f", f, "-o", "json", "--kubernetes-version", "1.34",
              "--feature-gates", "DRADeviceTaints=true")
    assert res.exit_code == 0 and res.stderr == ""
    assert [t.get("rule") for t in json.loads(res.stdout)["items"][0]["taints"]] == ["gpu-3-broken"]


def test_explain_shows_rule_taints_only_under_gates_that_put_them_in_force(cli, tmp_path):
    f = write(tmp_path, "r.yaml", RULE)
    on = cli("explain", "node/kind-worker", "-f", GPU, "-f", f, "-o", "json", "--feature-gates", "DRADeviceTaintRules=true")
    assert on.exit_code == 0 and on.stderr == ""
    devices = {d["device"]: d for d in json.loads(on.stdout)["pools"][0]["devices"]}
    assert devices["gpu-3"]["taints"][0]["rule"] == "gpu-3-broken"
    off = cli("explain", "node/kind-worker", "-f", GPU, "-f", f, "-o", "json")
    assert off.exit_code == 0 and "not in force" in off.stderr
    assert "taints" not in {d["device"]: d for d in json.loads(off.stdout)["pools"][0]["devices"]}["gpu-3"]
    # answers that show no device taint say nothing about rules
    for args in (("explain", "dtr/gpu-3-broken"), ("get", "classes"), ("match", "true")):
        quiet = cli(*args, "-f", GPU, "-f", f)
        assert quiet.exit_code == 0 and quiet.stderr == "", args
    # the rule itself: the gates given decide whether it is in force
    rule = json.loads(cli("explain", "dtr/gpu-3-broken", "-f", GPU, "-f", f, "-o", "json",
                          "--feature-gates", "DRADeviceTaintRules=true").stdout)
    assert rule["gatesNeeded"] == [] and rule["kubernetesVersion"] == "1.36"
    old = json.loads(cli("explain", "dtr/gpu-3-broken", "-f", GPU, "-f", f, "-o", "json", "--kubernetes-version", "1.34").stdout)
    assert old["gatesNeeded"] == ["DRADeviceTaints"] and old["kubernetesVersion"] == "1.34"


def test_explain_a_rule(cli, tmp_path):
    f = write(tmp_path, "r.yaml", RULE)
    res = cli("explain", "devicetaintrule/gpu-3-broken", "-f", GPU, "-f", f, "-o", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["kind"] == "DeviceTaintRule" and out["gatesNeeded"] == ["DRADeviceTaintRules"]
    assert out["devices"] == {"selected": 1, "total": 8, "groups": [
        {"node": "kind-worker", "driver": "gpu.example.com", "pool": "kind-worker", "count": 1, "devices": ["gpu-3"]}]}
    assert out["selectsAll"] is False
    text = cli("explain", "dtr/gpu-3-broken", "-f", GPU, "-f", f).stdout
    assert "needs feature gate(s) DRADeviceTaintRules" in text and "Devices 1 of 8" in text
    nope = cli("explain", "dtr/nope", "-f", GPU, "-f", f)
    assert nope.exit_code == 5 and 'devicetaintrules.resource.k8s.io "nope" not found' in nope.stderr


def _pod_claiming_all(tmp_path):
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "all-gpus", "namespace": "default"},
             "spec": {"devices": {"requests": [{"name": "gpus", "exactly": {"deviceClassName": "gpu.example.com",
                                                                           "allocationMode": "All"}}]}}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "x"}], "resourceClaims": [{"name": "g", "resourceClaimName": "all-gpus"}]},
           "status": {"phase": "Pending"}}
    return write(tmp_path, "p.yaml", claim, pod)


def test_why_pending_names_the_rule_behind_a_taint_once_rules_are_in_force(cli, tmp_path):
    f, p = write(tmp_path, "r.yaml", RULE), _pod_claiming_all(tmp_path)
    on = cli("why-pending", "pod/p", "-f", GPU, "-f", f, "-f", p, "-o", "json",
             "--feature-gates", "DRADeviceTaintRules=true")
    assert on.exit_code == 0, on.stderr
    reason = json.loads(on.stdout)["nodes"][0]["reasons"][0]
    assert reason["code"] == "taint"
    assert "(from rule gpu-3-broken)" in reason["message"]
    assert reason["details"]["taints"][0]["source"] == "rule gpu-3-broken"
    # 1.36's defaults: DRADeviceTaintRules off, the rule is inert and the pod fits
    off = json.loads(cli("why-pending", "pod/p", "-f", GPU, "-f", f, "-f", p, "-o", "json").stdout)
    assert off["fits"] is True


def test_explain_a_rule_is_incomplete_without_every_namespaces_claims(cli, tmp_path):
    """The claims on a rule's devices (whom it evicts) may be in any namespace: a dump that could read only
    one namespace's claims makes that answer incomplete (exit 6), as `preview` says too."""
    f = write(tmp_path, "r.yaml", RULE)
    gap = {"resource": "resourceclaims", "group": "resource.k8s.io", "scope": "cluster", "reason": "forbidden",
           "readNamespaces": ["default"], "effect": "devices allocated to claims in other namespaces are invisible"}
    gaps = write(tmp_path, "gaps.yaml", {"apiVersion": "v1", "kind": "List", "items": [], "incomplete": [gap]})
    res = cli("explain", "devicetaintrule/gpu-3-broken", "-f", GPU, "-f", f, "-f", gaps, "-o", "json")
    assert res.exit_code == 6
    assert json.loads(res.stdout)["incomplete"] == [gap]
    text = cli("explain", "devicetaintrule/gpu-3-broken", "-f", GPU, "-f", f, "-f", gaps)
    assert text.exit_code == 6
    # (after the line that says the gates leave the rule inert)
    assert any(line.startswith("warning: incomplete: cannot list resourceclaims.resource.k8s.io at the cluster scope")
               for line in text.stderr.splitlines()), text.stderr
    # without the gap: complete
    assert cli("explain", "devicetaintrule/gpu-3-broken", "-f", GPU, "-f", f).exit_code == 0
