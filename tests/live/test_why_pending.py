"""why-pending against a live (test) API server through the real kubectl binary == the same objects from files."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.builders import claim, fixture_objects, pod, request
from tests.live.apiserver import ApiServer
from tests.live.conftest import example_objects

pytestmark = pytest.mark.live


def _scenario_objects() -> list[dict]:
    """The bundled example plus NVIDIA fixture nodes and pods that hit several more reason codes."""
    objs = example_objects() + fixture_objects("nvidia-gpu.yaml", "intel-gpu.yaml")
    objs += [claim("too-many", request("gpus", "gpu.nvidia.com", 8)), pod("greedy", ("gpus", "claim", "too-many")),
             pod("orphan", ("gpus", "claim", "no-such-claim")),
             claim("typo", request("gpu", "gpu.nvidai.com")), pod("typo-pod", ("gpu", "claim", "typo"))]
    return objs


@pytest.fixture(scope="module")
def served():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")
    with ApiServer(_scenario_objects(), versions=("v1",)) as srv:
        yield srv


def _kubectl(env, *args):
    res = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


TARGETS = ["pod/trainer", "inference", "pod/greedy", "pod/orphan", "pod/typo-pod", "claim/too-many"]


@pytest.mark.parametrize("target", TARGETS)
def test_why_pending_live_equals_offline(served, kubectl_env, tmp_path, target):
    kubectl_env["KUBECONFIG"] = str(served.kubeconfig(tmp_path / "kc"))
    dump = tmp_path / "dump.json"
    served.clear_requests()
    live = json.loads(_kubectl(kubectl_env, "dra", "why-pending", target, "-o", "json"))
    # The same cluster, dumped live and analysed offline: the same document, byte for byte.
    dump.write_text(_kubectl(kubectl_env, "dra", "dump", "-o", "json"))
    offline = json.loads(_kubectl(kubectl_env, "dra", "why-pending", target, "-o", "json", "-f", str(dump)))
    assert live == offline
    assert served.methods() == {"GET"}
    # The raw objects as a file (every pod known, newest feature gates): same verdict and reasons.
    twin = tmp_path / "cluster.json"
    twin.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": served.objects()}))
    raw = json.loads(_kubectl(kubectl_env, "dra", "why-pending", target, "-o", "json", "-f", str(twin)))
    assert raw["fits"] == live["fits"]
    assert [(n["name"], n["fits"], [r["code"] for r in n["reasons"]]) for n in raw["nodes"]] == \
        [(n["name"], n["fits"], [r["code"] for r in n["reasons"]]) for n in live["nodes"]]
    codes = {r["code"] for n in live["nodes"] for r in n["reasons"]} | {r["code"] for r in live["reasons"]}
    expected = {"pod/trainer": {"all-matching-devices-allocated", "node-affinity", "no-devices-for-driver",
                                "selector-matches-nothing"},
                "pod/greedy": {"insufficient-count"}, "pod/orphan": {"claim-not-found"}, "pod/typo-pod": {"no-class"},
                "claim/too-many": {"insufficient-count"}}.get(target)
    if expected:
        assert expected <= codes
    if target == "pod/trainer":
        # the scheduler's own words come from the pod's events, fetched live too
        assert live["scheduler"]["event"]["message"].startswith("0/4 nodes are available")
        holders = {h["claim"]: h["pods"][0] for h in
                   next(n for n in live["nodes"] if n["name"] == "gpu-node-1")["reasons"][0]["details"]["holders"]}
        # the finished pod in another namespace is found live (a cluster-wide list of finished pods)
        assert holders["team-b/notebook-gpu"] == {"name": "notebook", "phase": "Succeeded", "finished": True,
                                                  "exists": True}
        # a running pod in a namespace that was not read is unknown, not "gone"
        assert holders["team-a/llm-finetune-0-gpus-7xk2p"] == {"name": "llm-finetune-0", "phase": None,
                                                                "finished": False, "exists": None}


def test_live_cluster_big_enough_to_split_gives_the_one_process_answer(kubectl_env, tmp_path):
    """600 nodes read live through kubectl with KUBECTL_DRA_WORKERS=2 (the split needs the loader's
    threads to have ended: tests/live/test_loader.py checks that) equal a one-process run on a dump."""
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks.synth import make_cluster

    with ApiServer(make_cluster(600), versions=("v1",)) as srv:
        kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc"))
        kubectl_env["KUBECTL_DRA_WORKERS"] = "2"
        live = _kubectl(kubectl_env, "dra", "why-pending", "pod/trainer", "-o", "json")
        dump = tmp_path / "dump.json"
        dump.write_text(_kubectl(kubectl_env, "dra", "dump", "-o", "json"))
    kubectl_env["KUBECTL_DRA_WORKERS"] = "1"
    single = _kubectl(kubectl_env, "dra", "why-pending", "pod/trainer", "-o", "json", "-f", str(dump))
    assert live == single
    report = json.loads(live)
    assert len(report["nodes"]) == 600 and any(n["fits"] for n in report["nodes"])


def test_live_claim_of_another_namespace_says_which(served, kubectl_env, tmp_path):
    """Claims are read in every namespace, so a claim named in the wrong namespace gets "-n NS", through
    kubectl, with kubectl's exit code for not found."""
    kubectl_env["KUBECONFIG"] = str(served.kubeconfig(tmp_path / "kc"))
    res = subprocess.run(["kubectl", "dra", "why-pending", "claim/notebook-gpu"], env=kubectl_env,
                         capture_output=True, text=True, timeout=120)
    assert (res.returncode, res.stderr) == (5, 'error: resourceclaims.resource.k8s.io "notebook-gpu" not found in '
                                               "namespace 'default'; it exists in namespace team-b (use -n team-b)\n")
