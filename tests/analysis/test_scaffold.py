"""`kubectl dra scaffold`: every variant validates, loads through our own loader, and gives the expected verdict."""

from __future__ import annotations

import json

import pytest
import yaml

from kubectl_dra.analysis.why_pending import why_pending
from kubectl_dra.features import defaults_for_version, parse_feature_gates
from kubectl_dra.schema import is_dra_object, validate_object
from kubectl_dra.snapshot import Snapshot
from kubectl_dra.sources.files import parse_text
from tests.conftest import EXAMPLE, FIXTURES

SEL = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0'

VARIANTS = {
    "claim": ["claim", "--name", "c", "--class", "gpu.nvidia.com"],
    "count": ["claim", "--name", "c", "--class", "gpu.nvidia.com", "--count", "2", "--selector", SEL],
    "all": ["claim", "--name", "c", "--class", "gpu.nvidia.com", "--all", "--admin-access"],
    "multi": ["claim", "--name", "c", "--request", "gpu", "--class", "gpu.nvidia.com", "--count", "2",
              "--request", "mig", "--class", "mig.nvidia.com", "--toleration", "k=v:NoSchedule",
              "--match-attribute", "gpu.nvidia.com/numa", "--distinct-attribute", "gpu.nvidia.com/uuid"],
    "first": ["claim", "--name", "c", "--request", "gpu", "--first-available", f"gpu.nvidia.com:{SEL}",
              "--first-available", "mig.nvidia.com", "--capacity", "memory=10Gi"],
    "template": ["template", "--name", "t", "--class", "gpu.nvidia.com", "--toleration", "k:NoExecute"],
    "class": ["class", "--name", "big", "--selector", SEL],
    "pod": ["pod", "--name", "p", "--class", "gpu.nvidia.com", "--image", "busybox"],
    "deployment": ["pod", "--name", "p", "--request", "a", "--class", "gpu.nvidia.com", "--request", "b",
                   "--class", "gpu.nvidia.com", "--deployment"],
    "pod-claim": ["pod", "--name", "p", "--claim", "existing"],
}


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("version", ["v1", "v1beta2", "v1beta1"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_schema_valid_and_loads(cli, variant, version):
    r = cli("scaffold", *VARIANTS[variant], "--api-version", version)
    assert r.exit_code == 0, r.stderr
    docs = _docs(r.stdout)
    assert docs
    for d in docs:
        if is_dra_object(d):
            assert d["apiVersion"] == f"resource.k8s.io/{version}"
            assert validate_object(d) == []
    # Our own loader reads every version back as v1.
    objs = parse_text(r.stdout, "scaffold")
    snap = Snapshot.from_objects(objs)
    assert len(snap.resource_claims) + len(snap.resource_claim_templates) + len(snap.device_classes) + \
        len(snap.pods) >= 1 or variant == "deployment"


def test_v1beta1_has_no_exactly_and_v1_does(cli):
    v1 = _docs(cli("scaffold", *VARIANTS["count"]).stdout)[0]
    b1 = _docs(cli("scaffold", *VARIANTS["count"], "--api-version", "v1beta1").stdout)[0]
    assert v1["spec"]["devices"]["requests"][0]["exactly"]["count"] == 2
    assert b1["spec"]["devices"]["requests"][0] == {
        "name": "gpu", "deviceClassName": "gpu.nvidia.com", "selectors": [{"cel": {"expression": SEL}}],
        "allocationMode": "ExactCount", "count": 2}


def test_request_flags_attach_to_the_preceding_request(cli):
    d = _docs(cli("scaffold", *VARIANTS["multi"]).stdout)[0]
    reqs = d["spec"]["devices"]["requests"]
    assert [r["name"] for r in reqs] == ["gpu", "mig"]
    assert reqs[0]["exactly"] == {"deviceClassName": "gpu.nvidia.com", "allocationMode": "ExactCount", "count": 2}
    assert reqs[1]["exactly"]["tolerations"] == [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}]
    assert d["spec"]["devices"]["constraints"] == [{"matchAttribute": "gpu.nvidia.com/numa"},
                                                   {"distinctAttribute": "gpu.nvidia.com/uuid"}]


def test_pod_uses_template_and_json_output(cli):
    r = cli("scaffold", *VARIANTS["deployment"], "-o", "json")
    data = json.loads(r.stdout)
    assert data["kind"] == "List"
    tmpl, dep = data["items"]
    assert tmpl["kind"] == "ResourceClaimTemplate" and dep["kind"] == "Deployment"
    pod_spec = dep["spec"]["template"]["spec"]
    assert pod_spec["resourceClaims"] == [{"name": "devices", "resourceClaimTemplateName": "p-devices"}]
    assert pod_spec["containers"][0]["resources"]["claims"] == [{"name": "devices", "request": "a"},
                                                                {"name": "devices", "request": "b"}]


def test_config_file_becomes_opaque_parameters(cli, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("apiVersion: gpu.nvidia.com/v1beta1\nkind: GpuConfig\nsharing:\n  strategy: TimeSlicing\n")
    r = cli("scaffold", "claim", "--name", "c", "--class", "gpu.nvidia.com", "--config", str(cfg),
            "--config-driver", "gpu.nvidia.com")
    d = _docs(r.stdout)[0]
    assert d["spec"]["devices"]["config"] == [{"opaque": {"driver": "gpu.nvidia.com", "parameters": {
        "apiVersion": "gpu.nvidia.com/v1beta1", "kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}}}}]
    r = cli("scaffold", "claim", "--name", "c", "--class", "x", "--config", str(cfg))
    assert r.exit_code == 2 and "--config-driver" in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["claim", "--name", "c", "--class", "x", "--count", "2", "--all"], "--count and --all exclude each other"),
    (["claim", "--name", "c", "--first-available", "a", "--class", "b"], "excludes --class"),
    (["claim", "--name", "c", "--count", "2"], "needs --class"),
    (["claim", "--name", "c", "--request", "Bad_Name", "--class", "x"], "must be a DNS label"),
    (["claim", "--name", "c", "--request", "a", "--class", "x", "--request", "a", "--class", "y"], "given twice"),
    (["claim", "--name", "c", "--class", "x", "--match-attribute", "numa"], "must include its domain"),
    (["claim", "--name", "c", "--class", "x", "--toleration", "k=v:Sometimes"], "effect must be one of"),
    (["claim", "--name", "c", "--class", "x", "--capacity", "memory=lots"], "is not a quantity"),
    (["claim", "--class", "x"], "--name is required"),
    (["claim", "--name", "c", "--class", "x", "--claim", "y"], "are for `scaffold pod`"),
    (["class", "--name", "c", "--count", "2"], "request flags"),
    (["pod", "--name", "p", "--claim", "x", "--class", "y"], "drop them"),
    (["claim", "--name", "c", "--class", "x", "--api-version", "v2"], "choose from"),
    (["widget", "--name", "c"], "unknown scaffold type"),
])
def test_bad_flag_combinations_are_one_line_usage_errors(cli, args, needle):
    r = cli("scaffold", *args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert needle in r.stderr and r.stderr.count("\n") == 1 and r.stdout == ""


def test_invalid_cel_is_refused_with_a_caret(cli):
    r = cli("scaffold", "claim", "--name", "c", "--class", "x", "--selector", "device.driver ==")
    assert r.exit_code == 3 and "^" in r.stderr and r.stdout == ""


def test_explain_adds_comments_only_when_asked(cli):
    plain = cli("scaffold", *VARIANTS["multi"]).stdout
    explained = cli("scaffold", *VARIANTS["multi"], "--explain").stdout
    assert "#" not in plain
    assert explained.startswith("# ResourceClaim c:") and "#   request gpu: 2xgpu.nvidia.com" in explained
    assert _docs(explained) == _docs(plain)


def test_cluster_checks_warn_on_missing_class_and_unmatched_selector(cli):
    r = cli("scaffold", "claim", "--name", "c", "--class", "gpu.nvidai.com", "-f", EXAMPLE)
    assert r.exit_code == 0 and "did you mean gpu.nvidia.com" in r.stderr
    r = cli("scaffold", "claim", "--name", "c", "--class", "gpu.nvidia.com", "-f", EXAMPLE, "--selector",
            'device.attributes["gpu.nvidia.com"].productName == "A100"')
    assert r.exit_code == 0
    assert "matches none of the 12 devices of class gpu.nvidia.com" in r.stderr
    assert 'did you mean "NVIDIA A100-SXM4-40GB"' in r.stderr


def test_like_writes_a_selector_for_similar_devices(cli):
    r = cli("scaffold", "claim", "--name", "c", "--class", "gpu.nvidia.com", "--like", "gpu-node-1/gpu-node-1/gpu-0",
            "-f", EXAMPLE)
    assert r.exit_code == 0, r.stderr
    expr = _docs(r.stdout)[0]["spec"]["devices"]["requests"][0]["exactly"]["selectors"][0]["cel"]["expression"]
    assert expr == ('device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName == '
                    '"NVIDIA H100 80GB HBM3" && device.attributes["gpu.nvidia.com"].type == "gpu" && '
                    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80Gi")) == 0')
    assert r.stderr == ""
    r = cli("scaffold", "claim", "--name", "c", "--class", "gpu.nvidia.com", "--like", "nowhere/p/d", "-f", EXAMPLE)
    assert r.exit_code == 5


def _verdict(cluster_file, claim_text):
    objs = parse_text(cluster_file.read_text(), "cluster") + parse_text(claim_text, "scaffold")
    snap = Snapshot.from_objects(objs)
    gates = parse_feature_gates(None, base=defaults_for_version(None))
    return why_pending(snap, "ResourceClaim", "probe", "default", gates)


@pytest.mark.parametrize("count,fits", [(1, True), (4, True), (5, False)])
def test_scaffolded_claims_get_the_expected_why_pending_verdict(cli, count, fits):
    """The example cluster has 4 H100s per node; a claim for more than 4 can never fit."""
    r = cli("scaffold", "claim", "--name", "probe", "-n", "default", "--class", "gpu.nvidia.com",
            "--count", str(count), "--selector", SEL)
    report = _verdict(EXAMPLE, r.stdout)
    assert report["fits"] is fits, report.get("reasons")


def test_scaffolded_claim_with_constraint_on_fixture_driver(cli):
    r = cli("scaffold", "claim", "--name", "probe", "-n", "default", "--class", "gpu.example.com", "--count", "2")
    fixture = FIXTURES / "drivers" / "example-gpu.yaml"
    report = _verdict(fixture, r.stdout)
    assert isinstance(report["fits"], bool)
    r2 = cli("scaffold", "claim", "--name", "probe", "-n", "default", "--class", "gpu.example.com",
             "--selector", 'device.attributes["gpu.example.com"].model == "NO-SUCH-MODEL"')
    assert _verdict(fixture, r2.stdout)["fits"] is False
