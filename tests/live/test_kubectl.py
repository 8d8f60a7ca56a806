"""The real kubectl binary against the test API server, and `kubectl dra` as a kubectl plugin.

These prove two things: the test server is real enough for kubectl itself, and kubectl-dra reading a
cluster gives exactly what it gives reading the same objects from a file (-f), whichever
resource.k8s.io version the cluster serves, sending nothing but GET requests.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.live.apiserver import ApiServer
from tests.live.conftest import example_objects

pytestmark = pytest.mark.live


def run(env, *args, timeout=60):
    return subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=timeout)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


@pytest.fixture
def need_plugin():
    if shutil.which("kubectl-dra") is None:
        pytest.skip("the kubectl-dra console script is not on PATH (pip install -e .)")


# ----------------------------------------------------------------------------- kubectl itself


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_kubectl_reads_the_test_server(make_server, kubectl_env, tmp_path, version):
    srv = make_server(versions=(version,))
    kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc"))
    raw = json.loads(ok(run(kubectl_env, "get", "--raw", f"/apis/resource.k8s.io/{version}/resourceslices")))
    assert raw["kind"] == "ResourceSliceList" and len(raw["items"]) == 3
    table = ok(run(kubectl_env, "get", "resourceslices"))
    lines = table.splitlines()
    assert lines[0].split()[0] == "NAME"
    assert sorted(line.split()[0] for line in lines[1:]) == [f"node-{i}-gpu.example.com" for i in range(3)]
    claims = ok(run(kubectl_env, "get", "resourceclaims", "-A", "-o", "name"))
    assert sorted(claims.split()) == ["resourceclaim.resource.k8s.io/my-gpu",
                                      "resourceclaim.resource.k8s.io/other-team-gpu"]
    slice_yaml = json.loads(ok(run(kubectl_env, "get", "resourceslice", "node-1-gpu.example.com", "-o", "json")))
    assert slice_yaml["apiVersion"] == f"resource.k8s.io/{version}"
    dev = slice_yaml["spec"]["devices"][0]
    assert ("basic" in dev) == (version == "v1beta1")
    assert srv.methods() == {"GET"}


def test_kubectl_sees_401(make_server, kubectl_env, tmp_path):
    srv = make_server()
    kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", token="wrong"))
    res = run(kubectl_env, "get", "--raw", "/apis/resource.k8s.io/v1/deviceclasses")
    assert res.returncode != 0 and "Unauthorized" in res.stderr


# ----------------------------------------------------------------------------- kubectl dra, live == offline


@pytest.fixture(scope="module")
def example_server():
    with ApiServer(example_objects(), versions=("v1",)) as srv:
        yield srv


@pytest.fixture
def example_env(example_server, kubectl_env, tmp_path):
    """(env for kubectl, path of a file holding exactly the served objects)."""
    kubectl_env["KUBECONFIG"] = str(example_server.kubeconfig(tmp_path / "kc"))
    twin = tmp_path / "cluster.json"
    twin.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": example_server.objects()}))
    example_server.clear_requests()
    return kubectl_env, twin


def _pending_pod_and_claim(objects):
    pods = sorted((o for o in objects if o["kind"] == "Pod" and o["metadata"].get("namespace") == "default"),
                  key=lambda o: o["metadata"]["name"])
    pod = next((p for p in pods if p["metadata"]["name"] == "trainer"), pods[0])
    claims = sorted(o["metadata"]["name"] for o in objects
                    if o["kind"] == "ResourceClaim" and o["metadata"].get("namespace") == "default")
    return pod["metadata"]["name"], claims[0]


def test_get_devices_live_equals_offline(need_plugin, example_server, example_env):
    env, twin = example_env
    live = ok(run(env, "dra", "get", "devices"))
    offline = ok(run(env, "dra", "get", "devices", "-f", str(twin)))
    assert live.strip() and live == offline
    assert len(live.splitlines()) > 1
    assert example_server.methods() == {"GET"}


def test_explain_live_equals_offline(need_plugin, example_server, example_env):
    env, twin = example_env
    pod, claim = _pending_pod_and_claim(example_server.objects())
    live_pod = ok(run(env, "dra", "explain", f"pod/{pod}"))
    assert live_pod == ok(run(env, "dra", "explain", f"pod/{pod}", "-f", str(twin)))
    assert pod in live_pod
    live_claim = json.loads(ok(run(env, "dra", "explain", f"claim/{claim}", "-o", "json")))
    offline_claim = json.loads(ok(run(env, "dra", "explain", f"claim/{claim}", "-o", "json", "-f", str(twin))))
    assert live_claim == offline_claim and live_claim
    assert example_server.methods() == {"GET"}


def test_dump_live_equals_offline(need_plugin, example_server, example_env):
    env, twin = example_env
    # (a live dump holds the Namespaces as well: why-pending's claims stage reads their labels)
    twin.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": example_server.objects(namespaces=True)}))
    live = json.loads(ok(run(env, "dra", "dump", "-o", "json", "-A")))
    offline = json.loads(ok(run(env, "dra", "dump", "-o", "json", "-A", "-f", str(twin))))
    assert live["kind"] == "List" and len(live["items"]) > 5
    assert live["items"] == offline["items"]
    # the live dump records the cluster's version (offline analysis then uses its feature gates)
    assert live["metadata"]["annotations"]["kubectl-dra.io/server-version"].startswith("v1.")
    assert "kubectl-dra.io/server-version" not in offline["metadata"]["annotations"]
    assert example_server.methods() == {"GET"}


def test_cluster_errors_through_kubectl(need_plugin, make_server, kubectl_env, tmp_path):
    srv = make_server()
    kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", token="wrong"))
    res = run(kubectl_env, "dra", "get", "devices")
    assert res.returncode == 4
    assert "authentication failed" in res.stderr and "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if line.strip()]) == 1


# ----------------------------------------------------------------------------- version skew


def test_same_facts_whichever_version_is_served(need_plugin, kubectl_env, tmp_path):
    # (that the objects themselves come out identical after normalization is checked, faster, in
    # test_loader.py::test_reads_the_newest_served_version; here the whole command is compared)
    objects = example_objects()
    _, claim = _pending_pod_and_claim(objects)
    seen = {}
    for version in ("v1", "v1beta2", "v1beta1"):
        with ApiServer(objects, versions=(version,)) as srv:
            kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / f"kc-{version}"))
            seen[version] = json.loads(ok(run(kubectl_env, "dra", "explain", f"claim/{claim}", "-o", "json")))
            assert {r.path.split("/")[3] for r in srv.requests if r.path.startswith("/apis/resource.k8s.io/")} \
                == {version}
            assert srv.methods() == {"GET"}
    assert seen["v1"]
    assert seen["v1beta2"] == seen["v1"]
    assert seen["v1beta1"] == seen["v1"]
