"""`validate` over the real manifests of two DRA drivers (../shared/fixtures: the dra-example-driver and DraNet),
under each release's schemas: every finding left is a real API-server error, each one explained here."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubectl_dra.cli import app
from tests.conftest import ROOT

_CANDIDATES = [p / "shared" / "fixtures" for p in (ROOT.parent, ROOT.parent.parent)]
SHARED = next((p for p in _CANDIDATES if (p / "dranet").is_dir()), None)
pytestmark = pytest.mark.skipif(SHARED is None, reason="the shared driver fixtures are not on this machine")

QUICK_START = "dranet/from-docs/site/content/docs/quick-start.md/block-01-line66.yaml"
EKS = "dranet/examples/aws_eks_examples/gpu-efa/"
# (file relative to fixtures/, path, message start) -> why the API server refuses it too.
REAL_ERRORS = {
    # Captured with `kubectl get -o yaml` and trimmed: the owner references lost their uid, which
    # ValidateOwnerReferences requires ("uid must not be empty").
    (EKS + "resource-claim.yaml", "metadata.ownerReferences[0]", "'uid' is required"): "trimmed capture",
    (EKS + "resourceslice-dranet.yaml", "metadata.ownerReferences[0]", "'uid' is required"): "trimmed capture",
    (EKS + "resourceslice-gpu.yaml", "metadata.ownerReferences[0]", "'uid' is required"): "trimmed capture",
    # A 2024 slice labelled v1 but written in the v1beta1 shape, without driver or pool (the fixture's
    # README calls it a bad-input case).
    (QUICK_START, "spec", "'driver' is required"): "v1beta1-era doc",
    (QUICK_START, "spec", "'pool' is required"): "v1beta1-era doc",
    (QUICK_START, "spec.devices[0]", "unknown field 'basic'"): "v1beta1-era doc",
    # The docs put `config` under the template's spec instead of spec.devices: strict decoding refuses it.
    ("dranet/from-docs/site/content/docs/user/mpi-operator.md/block-02-line45.yaml", "spec.spec",
     "unknown field 'config' (allowed: devices)"): "doc typo",
}
# The example driver's DeviceTaintRules are resource.k8s.io/v1beta2, which serves DeviceTaintRule from 1.36 only.
DTR_FILES = [
    "dra-example-driver/demo/examples/device-taints-tolerations/device-taint-configurable-pod-eviction-time/2-device-taint-rule.yaml",
    "dra-example-driver/demo/examples/device-taints-tolerations/device-taint-pod-noexecute/3-device-taint-rule.yaml",
    "dra-example-driver/demo/examples/device-taints-tolerations/device-taint-pod-noschedule/3-device-taint-rule.yaml",
    "dra-example-driver/demo/examples/device-taints-tolerations/device-taint-pod-toleration/1-device-taint-rule.yaml",
]


def _errors(release: str) -> dict:
    result = CliRunner().invoke(app, ["validate", "-f", str(SHARED), "--kubernetes-version", release, "-o", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["objects"] >= 130 and report["kubernetesVersion"] == release
    return {(d["file"][len(str(SHARED)) + 1:], d["path"], d["message"]): d for d in report["diagnostics"]}


def _explained(found: dict, expected: dict) -> None:
    unexplained = [k for k in found if not any(k[0] == f and k[1] == p and k[2].startswith(m) for f, p, m in expected)]
    assert unexplained == []
    missing = [e for e in expected if not any(e[0] == f and e[1] == p and m.startswith(e[2]) for f, p, m in found)]
    assert missing == []
    assert all(d["severity"] == "error" for d in found.values())


def test_under_1_36_only_the_real_errors_are_left():
    _explained(_errors("1.36"), REAL_ERRORS)


@pytest.mark.parametrize("release", ["1.34", "1.35"])
def test_under_1_34_and_1_35_the_v1beta2_taint_rules_are_refused_too(release):
    expected = dict(REAL_ERRORS)
    for f in DTR_FILES:
        expected[(f, "apiVersion", f"Kubernetes {release} does not serve DeviceTaintRule in resource.k8s.io/v1beta2; "
                                   "it serves it in resource.k8s.io/v1alpha3")] = "release"
    _explained(_errors(release), expected)


def test_a_v1beta1_field_in_a_v1_object_says_where_it_belongs():
    found = _errors("1.36")
    (message,) = [m for f, p, m in found if f == QUICK_START and p == "spec.devices[0]"]
    assert message.endswith("'basic' is a field of resource.k8s.io/v1beta1 here, not of v1")


def test_omitted_pool_generation_is_accepted_like_the_api_server_does():
    # The AKS slices omit spec.pool.generation: the OpenAPI marks it required, but the decoder leaves 0 and
    # upstream's validateResourcePool only refuses generation < 0.
    found = _errors("1.36")
    assert not [k for k in found if "azure_aks_examples/gb300/resourceslice" in k[0]]
