"""Through the real kubectl: the cluster's /version picks the release (feature-gate defaults for why-pending,
schemas for validate); --kubernetes-version and --feature-gates override it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.live


@pytest.fixture(autouse=True)
def _need_plugin():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")


def _dra(env, *args):
    res = subprocess.run(["kubectl", "dra", *args], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode in (0, 1), res.stderr
    return res


@pytest.mark.parametrize("server,release,taints", [("v1.34.3", "1.34", False), ("v1.35.2", "1.35", False),
                                                   ("v1.36.1", "1.36", True)])
def test_why_pending_uses_the_servers_release(make_server, kubectl_env, tmp_path, server, release, taints):
    srv = make_server(server_version=server)
    kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc"))
    gates = json.loads(_dra(kubectl_env, "why-pending", "pod/trainer", "-o", "json").stdout)["featureGates"]
    assert gates["version"] == release and gates["DRADeviceTaints"] is taints
    forced = json.loads(_dra(kubectl_env, "why-pending", "pod/trainer", "-o", "json", "--kubernetes-version", "1.36",
                             "--feature-gates", "DRADeviceTaints=false").stdout)["featureGates"]
    assert forced["version"] == "1.36" and forced["DRADeviceTaints"] is False
    assert forced["DRAConsumableCapacity"] is True  # 1.36's default, not the server's
    assert srv.methods() == {"GET"}


def test_validate_uses_the_servers_release(make_server, kubectl_env, tmp_path):
    rule = {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule", "metadata": {"name": "drain"},
            "spec": {"deviceSelector": {"driver": "gpu.example.com"},
                     "taint": {"key": "example.com/drain", "effect": "NoExecute"}}}
    manifest = tmp_path / "rule.yaml"
    manifest.write_text(yaml.safe_dump(rule))
    for server, errors in (("v1.35.0", 1), ("v1.36.0", 0)):
        srv = make_server(server_version=server)
        kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / f"kc-{server}"))
        report = json.loads(_dra(kubectl_env, "validate", "-f", str(manifest), "--live", "-o", "json").stdout)
        assert (report["kubernetesVersion"], report["errors"]) == (server[1:5], errors)
