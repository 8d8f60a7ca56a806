"""`kubectl dra top` through the real kubectl against the test API server: the same table and JSON as from
the same objects in a file, GET requests only; claims it may not list make the answer incomplete (exit 6)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import FIXTURES

pytestmark = pytest.mark.live

PARTITIONABLE = FIXTURES / "top" / "partitionable.yaml"


@pytest.fixture(autouse=True)
def _needs_binaries():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")


def objects() -> list[dict]:
    return [o for o in yaml.safe_load_all(PARTITIONABLE.read_text()) if o]


def dra(env, *args):
    return subprocess.run(["kubectl", "dra", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def served(make_server, kubectl_env, tmp_path):
    def make(forbid_claims: bool = False):
        srv = make_server(objects())
        if forbid_claims:
            srv.forbid("resourceclaims", "")  # its own namespace's claims only
        env = dict(kubectl_env, KUBECONFIG=str(srv.kubeconfig(tmp_path / f"kc-{srv.port}")))
        return srv, env
    return make


def test_live_equals_offline(served):
    srv, env = served()
    for args in ((), ("--by", "class"), ("--by", "pool", "--sort-by", "used")):
        live = dra(env, "top", *args)
        offline = dra(env, "top", *args, "-f", str(PARTITIONABLE))
        assert (live.returncode, live.stderr) == (0, ""), live.stderr
        assert live.stdout == offline.stdout and len(live.stdout.splitlines()) >= 3
    live = json.loads(dra(env, "top", "-o", "json").stdout)
    assert live == json.loads(dra(env, "top", "-o", "json", "-f", str(PARTITIONABLE)).stdout)
    assert live["groups"][0]["devices"]["used"] == 15
    assert srv.methods() == {"GET"}


def test_claims_forbidden_is_incomplete(served):
    srv, env = served(forbid_claims=True)
    res = dra(env, "top")
    assert res.returncode == 6
    assert res.stderr.startswith("warning: incomplete: cannot list resourceclaims.resource.k8s.io at the cluster scope "
                                 "(forbidden)") and len(res.stderr.splitlines()) == 1
    doc = json.loads(dra(env, "top", "-o", "json").stdout)
    assert [g["resource"] for g in doc["incomplete"]] == ["resourceclaims"]
    # what it could not see looks free: that is why the answer says it is incomplete
    assert doc["groups"][0]["devices"]["used"] == 0
    assert srv.methods() == {"GET"}
