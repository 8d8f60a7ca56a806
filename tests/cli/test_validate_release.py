"""`validate --kubernetes-version`: which release's schemas a check uses (flag, else the cluster's, else the newest)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml
from typer.testing import CliRunner

from kubectl_dra.cli import app
from kubectl_dra.sources.files import SERVER_VERSION_ANNOTATION

# A slice using a 1.36 field (nodeAllocatableResourceMappings) and 1.36 list-type attributes.
SLICE_1_36 = {
    "apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": "node-a-gpu"},
    "spec": {"driver": "gpu.example.com", "nodeName": "node-a",
             "pool": {"name": "node-a", "generation": 1, "resourceSliceCount": 1},
             "devices": [{"name": "gpu-0",
                          "attributes": {"links": {"strings": ["nvlink-0", "nvlink-1"]}},
                          "nodeAllocatableResourceMappings": {"cpu": {"allocationMultiplier": "2"}}}]},
}
RULE_NONE = {
    "apiVersion": "resource.k8s.io/v1alpha3", "kind": "DeviceTaintRule", "metadata": {"name": "maintenance"},
    "spec": {"deviceSelector": {"driver": "gpu.example.com", "pool": "node-a"},
             "taint": {"key": "example.com/maintenance", "effect": "None"}},
}


def _validate(tmp_path, objs, *args):
    f = tmp_path / "m.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    return CliRunner().invoke(app, ["validate", "-f", str(f), "-o", "json", *args])


def _schema_messages(result) -> list[tuple[str, str]]:
    return [(d["path"], d["message"]) for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "schema"]


def test_the_1_36_slice_passes_1_36_and_is_refused_by_1_34_naming_field_and_release(tmp_path):
    ok = _validate(tmp_path, [SLICE_1_36], "--kubernetes-version", "1.36")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["kubernetesVersion"] == "1.36"
    bad = _validate(tmp_path, [SLICE_1_36], "--kubernetes-version", "1.34")
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["kubernetesVersion"] == "1.34"
    messages = dict(_schema_messages(bad))
    assert "'nodeAllocatableResourceMappings' is a field of Kubernetes 1.36, not of 1.34" in messages["spec.devices[0]"]
    assert "'strings' is a field of Kubernetes 1.36, not of 1.34" in messages["spec.devices[0].attributes.links"]


def test_offline_default_is_the_newest_release(tmp_path):
    result = _validate(tmp_path, [SLICE_1_36])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kubernetesVersion"] == "1.36"


def test_text_report_names_the_release(tmp_path):
    f = tmp_path / "rule.yaml"
    f.write_text(yaml.safe_dump(RULE_NONE))
    result = CliRunner().invoke(app, ["validate", "-f", str(f), "--kubernetes-version", "v1.34.2"])
    assert result.exit_code == 1
    assert (f"{f}:1: DeviceTaintRule/maintenance: spec.taint.effect: error: 'None' is not one of 'NoExecute', "
            f"'NoSchedule' in Kubernetes 1.34 ('None' is accepted by 1.35, 1.36) [schema]") in result.stdout
    assert result.stdout.rstrip().endswith("1 error, 0 warnings (Kubernetes 1.34)")
    assert CliRunner().invoke(app, ["validate", "-f", str(f), "--kubernetes-version", "1.35"]).exit_code == 0


def _dump(tmp_path, server_version: str | None):
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}]}
    if server_version:
        doc["metadata"] = {"annotations": {SERVER_VERSION_ANNOTATION: server_version}}
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_clusters_release_is_the_default_and_the_flag_wins(tmp_path):
    dump = _dump(tmp_path, "v1.35.4")
    result = _validate(tmp_path, [SLICE_1_36], "--cluster-file", str(dump))
    assert json.loads(result.stdout)["kubernetesVersion"] == "1.35"
    assert "'nodeAllocatableResourceMappings' is a field of Kubernetes 1.36, not of 1.35" in dict(
        _schema_messages(result))["spec.devices[0]"]
    result = _validate(tmp_path, [SLICE_1_36], "--cluster-file", str(dump), "--kubernetes-version", "1.36")
    assert json.loads(result.stdout)["kubernetesVersion"] == "1.36"
    assert _schema_messages(result) == []


@pytest.mark.parametrize("server,release", [("v1.33.5", "1.34"), ("v1.37.0", "1.36")])
def test_a_cluster_outside_the_known_releases_uses_the_nearest_and_says_so(tmp_path, server, release):
    result = _validate(tmp_path, [RULE_NONE], "--cluster-file", str(_dump(tmp_path, server)))
    assert json.loads(result.stdout)["kubernetesVersion"] == release
    assert result.stderr.splitlines() == [
        f"warning: the cluster runs Kubernetes {server}; kubectl-dra has schemas for 1.34-1.36: checking with "
        f"{release}'s (--kubernetes-version picks another)"]


@pytest.mark.parametrize("bad", ["1.33", "1.40", "latest", "1.35.x"])
def test_a_release_without_schemas_is_a_usage_error(tmp_path, bad):
    result = _validate(tmp_path, [RULE_NONE], "--kubernetes-version", bad)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: invalid --kubernetes-version {bad!r}: validate has the schemas of 1.34, 1.35, 1.36 "
        f"(or a patch release such as 1.36.0)"]


@pytest.mark.live
def test_live_validate_uses_the_servers_release_through_kubectl(tmp_path):
    """Through the real kubectl as a plugin: the test API server says v1.34.1 at /version."""
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")
    from tests.live.apiserver import ApiServer
    from tests.live.conftest import small_cluster

    manifest = tmp_path / "slice.yaml"
    manifest.write_text(yaml.safe_dump(SLICE_1_36))
    with ApiServer(small_cluster(), versions=("v1",), server_version="v1.34.1") as srv:
        home = tmp_path / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "KUBECACHEDIR": str(home / "cache"), "NO_COLOR": "1",
               "KUBECONFIG": str(srv.kubeconfig(tmp_path / "kc")), "NO_PROXY": "127.0.0.1,localhost",
               "no_proxy": "127.0.0.1,localhost"}
        for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                    "KUBERNETES_SERVICE_HOST"):
            env.pop(var, None)
        run = subprocess.run(["kubectl", "dra", "validate", "-f", str(manifest), "--live", "-o", "json"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert srv.methods() == {"GET"}
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["kubernetesVersion"] == "1.34"
    assert any("is a field of Kubernetes 1.36, not of 1.34" in d["message"] for d in report["diagnostics"])


def test_a_tutorials_v1alpha3_manifests_are_errors_naming_what_to_write(tmp_path):
    from tests.sources.test_old_versions import EXAMPLE_DRIVER_SLICE_V1ALPHA3

    f = tmp_path / "old.yaml"
    f.write_text(EXAMPLE_DRIVER_SLICE_V1ALPHA3)
    result = CliRunner().invoke(app, ["validate", "-f", str(f), "--kubernetes-version", "1.35", "-o", "json"])
    assert result.exit_code == 1
    by_kind = {d["kind"]: d for d in json.loads(result.stdout)["diagnostics"]}
    assert set(by_kind) == {"ResourceSlice", "DeviceClass", "ResourceClaim"}
    assert all(d["path"] == "apiVersion" and d["code"] == "schema" for d in by_kind.values())
    assert by_kind["ResourceClaim"]["message"] == (
        "Kubernetes 1.35 does not serve ResourceClaim in resource.k8s.io/v1alpha3; it serves it in "
        "resource.k8s.io/v1, resource.k8s.io/v1beta1, resource.k8s.io/v1beta2 (v1alpha3 was its version in "
        "Kubernetes 1.31-1.33: resource.k8s.io/v1beta1 has the same shape, or convert it to v1)")
    assert ("resource.k8s.io/v1beta1 has the same shape except that device capacities are written "
            "{value: QUANTITY}") in by_kind["ResourceSlice"]["message"]


def test_a_pre_1_31_pod_claim_source_is_a_finding_with_the_current_field_names(tmp_path):
    from tests.sources.test_old_versions import LEGACY_POD

    f = tmp_path / "pod.yaml"
    f.write_text(LEGACY_POD)
    result = CliRunner().invoke(app, ["validate", "-f", str(f)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{f}:1: Pod/old-pod: spec.resourceClaims[0].source: error: spec.resourceClaims[0].source is the "
        "pre-1.31 form of a pod claim; write the reference on the entry itself: {name: gpu, "
        "resourceClaimTemplateName: one-gpu} (fields: name, and one of resourceClaimName or "
        "resourceClaimTemplateName) [schema]")
    fixed = LEGACY_POD.replace("  - name: gpu\n    source:\n      resourceClaimTemplateName: one-gpu",
                               "  - name: gpu\n    resourceClaimTemplateName: one-gpu")
    assert fixed != LEGACY_POD
    f.write_text(fixed)
    assert CliRunner().invoke(app, ["validate", "-f", str(f)]).exit_code == 0
