"""Partial permissions, through the real kubectl binary: what the cluster refused (403) is said in text, in
JSON (``"incomplete"``) and in exit code 6, and never turns into a confident "fits"."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.builders import allocation, claim, device, device_class, node, pod, request, resource_slice
from tests.live.apiserver import ApiServer
from tests.live.conftest import example_objects

pytestmark = pytest.mark.live

CLAIMS_GAP = {
    "resource": "resourceclaims", "group": "resource.k8s.io", "scope": "cluster", "reason": "forbidden",
    "readNamespaces": ["default"],
    "effect": "devices allocated to claims in other namespaces are invisible and look free",
    "message": 'resourceclaims.resource.k8s.io is forbidden: User "test-user" cannot list resource "resourceclaims" '
               'in API group "resource.k8s.io" at the cluster scope'}
CLAIMS_LINE = ('warning: incomplete: cannot list resourceclaims.resource.k8s.io at the cluster scope (forbidden), '
               'read "default" only: devices allocated to claims in other namespaces are invisible and look free\n')


@pytest.fixture(autouse=True)
def _needs_binaries():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")


def dra(env, *args):
    return subprocess.run(["kubectl", "dra", *args], env=env, capture_output=True, text=True, timeout=120)


def busy_cluster() -> list[dict]:
    """Four nodes of two GPUs; claims of team-b hold both GPUs of node-0..node-2: a pod wanting one GPU
    fits on node-3 only."""
    objs: list[dict] = [device_class("gpu.example.com", "device.driver == 'gpu.example.com'")]
    for i in range(4):
        objs.append(node(f"node-{i}", hostname_label=True))
        gpus = [device(f"gpu-{g}", capacity={"memory": "80Gi"}) for g in range(2)]
        objs.append(resource_slice(f"node-{i}-gpus", f"node-{i}", f"node-{i}", "gpu.example.com", *gpus))
    for i in range(3):
        objs.append(claim(f"job-{i}", request("gpus", "gpu.example.com", 2), namespace="team-b",
                          allocation=allocation(("gpus", "gpu.example.com", f"node-{i}", "gpu-0"),
                                                ("gpus", "gpu.example.com", f"node-{i}", "gpu-1"), node_name=f"node-{i}"),
                          reserved_for=[f"job-{i}"]))
        objs.append(pod(f"job-{i}", ("gpus", "claim", f"job-{i}"), namespace="team-b", phase="Running",
                        nodeName=f"node-{i}"))
    objs.append(claim("want-one", request("gpu", "gpu.example.com", 1)))
    objs.append(pod("trainer", ("gpu", "claim", "want-one")))
    return objs


@pytest.fixture
def env_for(kubectl_env, tmp_path):
    def make(srv: ApiServer) -> dict:
        env = dict(kubectl_env)
        env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / f"kc-{srv.port}"))
        return env
    return make


def test_claims_of_other_namespaces_forbidden_never_fits(make_server, env_for):
    full = env_for(make_server(busy_cluster()))
    truth = dra(full, "why-pending", "pod/trainer", "-o", "json")
    assert truth.returncode == 0, truth.stderr
    report = json.loads(truth.stdout)
    assert report["fits"] is True and [n["name"] for n in report["nodes"] if n["fits"]] == ["node-3"]
    assert "incomplete" not in report and "couldFit" not in report

    srv = make_server(busy_cluster())
    srv.forbid("resourceclaims", "")  # may list claims in its own namespace only
    env = env_for(srv)
    res = dra(env, "why-pending", "pod/trainer", "-o", "json")
    assert res.returncode == 6
    assert res.stderr == CLAIMS_LINE
    report = json.loads(res.stdout)
    assert report["fits"] is False and report["couldFit"] is True
    assert report["incomplete"] == [CLAIMS_GAP]
    # the dry run still allocates on every node (it cannot see team-b's claims), but none is called a fit
    assert [(n["name"], n["fits"], n.get("wouldFit"), n["reasons"][0]["code"]) for n in report["nodes"]] == [
        (f"node-{i}", False, True, "incomplete-view") for i in range(4)]
    assert any("kubectl auth can-i list resourceclaims.resource.k8s.io -A" in f for f in report["fixes"])

    text = dra(env, "why-pending", "pod/trainer")
    assert text.returncode == 6 and text.stderr == ""  # the report itself says it
    lines = text.stdout.splitlines()
    assert lines[0] == ("Pod default/trainer is not scheduled: unknown: could fit on 4 of 4 nodes, but the answer is incomplete "
                        "(see below): node-0, node-1, node-2, node-3")
    assert lines[2].startswith("Incomplete answer (exit code 6)")
    assert lines[3] == "  ! " + CLAIMS_LINE[len("warning: incomplete: "):].rstrip("\n")
    assert "fits on" not in text.stdout.replace("could fit on", "")
    assert srv.methods() == {"GET"}


def test_gaps_only_where_the_answer_depends_on_them(make_server, env_for):
    srv = make_server(busy_cluster())
    srv.forbid("resourceclaims", "")
    env = env_for(srv)
    # devices: their holders are claims of any namespace
    res = dra(env, "get", "devices")
    assert res.returncode == 6 and res.stderr == CLAIMS_LINE
    assert "team-b/job-0" not in res.stdout  # (what the user could not see)
    doc = json.loads(dra(env, "get", "devices", "-o", "json").stdout)
    assert doc["incomplete"] == [CLAIMS_GAP] and doc["kind"] == "List"
    assert dra(env, "get", "classes").returncode == 6
    assert dra(env, "explain", "node/node-0").returncode == 6
    # the namespace's own claims were all read; slices do not depend on claims; match neither
    for args in (("get", "claims"), ("get", "slices"), ("explain", "claim/want-one"),
                 ("match", "device.driver == 'gpu.example.com'")):
        res = dra(env, *args)
        assert (res.returncode, res.stderr) == (0, ""), args
    assert "incomplete" not in json.loads(dra(env, "get", "claims", "-o", "json").stdout)
    # every namespace's claims were asked for: that listing is incomplete
    res = dra(env, "get", "claims", "-A")
    assert res.returncode == 6 and res.stderr == CLAIMS_LINE


def test_finished_pod_fix_is_not_claimed_without_the_pods(make_server, env_for):
    """The example's gpu-node-1 has a GPU held by team-b/notebook-gpu, whose pod has Succeeded: with the pods
    of team-b readable the report offers "delete the pod"; without them it cannot know, and says so."""
    full = env_for(make_server(example_objects()))
    report = json.loads(dra(full, "why-pending", "pod/trainer", "-o", "json").stdout)
    assert any("pod team-b/notebook has Succeeded" in f for f in report["fixes"])

    srv = make_server(example_objects())
    srv.forbid("pods", "")  # no cluster-wide pod list (not even the finished ones)
    env = env_for(srv)
    res = dra(env, "why-pending", "pod/trainer", "-o", "json")
    assert res.returncode == 6
    report = json.loads(res.stdout)
    assert [(g["resource"], g["scope"], g["readNamespaces"]) for g in report["incomplete"]] == [
        ("pods", "cluster", ["default"])]
    assert not any("has Succeeded" in f for f in report["fixes"])
    node1 = next(n for n in report["nodes"] if n["name"] == "gpu-node-1")
    holders = {h["claim"]: h["pods"] for h in node1["reasons"][0]["details"]["holders"]}
    assert holders["team-b/notebook-gpu"] == [{"name": "notebook", "phase": None, "finished": None, "exists": None}]
    assert "couldFit" not in report and report["fits"] is False  # it does not fit, whatever the pods are
    text = dra(env, "why-pending", "pod/trainer")
    assert "cannot list pods at the cluster scope (forbidden)" in text.stdout
    assert "(pod notebook, finished or not: unknown)" in text.stdout
    # a claim target does not read pods or events at all: nothing missing
    assert dra(env, "why-pending", "claim/inference-gpu").returncode == 0


def test_events_forbidden_only_matters_to_a_pod_target(make_server, env_for):
    srv = make_server(example_objects())
    srv.forbid("events")
    env = env_for(srv)
    res = dra(env, "why-pending", "pod/trainer", "-o", "json")
    assert res.returncode == 6
    report = json.loads(res.stdout)
    assert [(g["resource"], g["scope"], g["namespace"]) for g in report["incomplete"]] == [
        ("events", "namespace", "default")]
    assert "event" not in report["scheduler"]
    assert dra(env, "get", "devices").returncode == 0


def test_a_dump_carries_its_gaps_offline(make_server, env_for, tmp_path):
    srv = make_server(busy_cluster())
    srv.forbid("resourceclaims", "")
    env = env_for(srv)
    res = dra(env, "dump", "-o", "json")
    assert res.returncode == 6 and res.stderr == CLAIMS_LINE
    dump = tmp_path / "dump.json"
    dump.write_text(res.stdout)
    assert json.loads(res.stdout)["incomplete"] == [CLAIMS_GAP]
    live = dra(env, "why-pending", "pod/trainer", "-o", "json")
    offline = dra(env, "why-pending", "pod/trainer", "-o", "json", "-f", str(dump))
    assert (offline.returncode, offline.stdout, offline.stderr) == (live.returncode, live.stdout, live.stderr)
    yaml_dump = tmp_path / "dump.yaml"
    yaml_dump.write_text(dra(env, "dump").stdout)
    assert dra(env, "get", "devices", "-f", str(yaml_dump)).returncode == 6
