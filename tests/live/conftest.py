"""Fixtures for the live-source tests: a started test API server and the objects it serves."""

from __future__ import annotations

import copy
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, str(ROOT))

from tests.live.apiserver import ApiServer  # noqa: E402

EXAMPLE = ROOT / "examples" / "cluster.yaml"


def small_cluster() -> list[dict]:
    """A few DRA objects of every kind (used when examples/cluster.yaml is absent, and for unit tests)."""
    objs: list[dict] = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i}", "labels": {"gpu": "yes"}}}
        for i in range(3)
    ]
    objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": "gpu.example.com"},
                 "spec": {"selectors": [{"cel": {"expression": "device.driver == 'gpu.example.com'"}}]}})
    for i in range(3):
        objs.append({
            "apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
            "metadata": {"name": f"node-{i}-gpu.example.com"},
            "spec": {"driver": "gpu.example.com", "nodeName": f"node-{i}",
                     "pool": {"name": f"node-{i}", "generation": 1, "resourceSliceCount": 1},
                     "devices": [{"name": f"gpu-{j}",
                                  "attributes": {"model": {"string": "A100"}, "index": {"int": j}},
                                  "capacity": {"memory": {"value": "40Gi"}}} for j in range(2)]}})
    objs.append({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": "other-team-gpu", "namespace": "team-b"},
        "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}]}},
        "status": {"allocation": {"devices": {"results": [
            {"request": "gpu", "driver": "gpu.example.com", "pool": "node-0", "device": "gpu-0"}]}}}})
    objs.append({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": "my-gpu", "namespace": "default"},
        "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {
            "deviceClassName": "gpu.example.com", "allocationMode": "ExactCount", "count": 2,
            "selectors": [{"cel": {"expression": "device.attributes['gpu.example.com'].model == 'A100'"}}]}}]}}})
    objs.append({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
        "metadata": {"name": "gpu-template", "namespace": "default"},
        "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}]}}}})
    objs.append({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "trainer", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "x"}],
                 "resourceClaims": [{"name": "gpu", "resourceClaimName": "my-gpu"}]},
        "status": {"phase": "Pending"}})
    objs.append({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "trainer.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "trainer", "namespace": "default"},
        "reason": "FailedScheduling", "message": "0/3 nodes are available", "type": "Warning"})
    objs.append({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "other.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "other", "namespace": "default"},
        "reason": "Scheduled", "message": "ok", "type": "Normal"})
    return objs


def example_objects() -> list[dict]:
    """The lead's bundled example cluster when present, else :func:`small_cluster`."""
    if EXAMPLE.is_file():
        from kubectl_dra.normalize import flatten

        with EXAMPLE.open() as fh:
            return [o for o in flatten(list(yaml.safe_load_all(fh))) if isinstance(o, dict)]
    return small_cluster()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Proxy settings of the machine must not route test traffic anywhere but 127.0.0.1."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def small_objects() -> list[dict]:
    return copy.deepcopy(small_cluster())


@pytest.fixture
def make_server():
    """Factory: ``make_server(objects, versions=("v1",), **knobs)`` -> a started ApiServer (stopped after)."""
    started: list[ApiServer] = []

    def make(objects=None, **kw) -> ApiServer:
        srv = ApiServer(small_cluster() if objects is None else objects, **kw).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def apiserver(make_server) -> ApiServer:
    """A started server serving :func:`small_cluster` as resource.k8s.io/v1."""
    return make_server()


@pytest.fixture
def kubectl_env(tmp_path):
    """Environment for running the real kubectl: private HOME and discovery cache."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH (the live tests drive the real kubectl binary)")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(HOME=str(home), KUBECACHEDIR=str(home / "cache"), NO_COLOR="1", COLUMNS="200")
    env.pop("KUBERNETES_SERVICE_HOST", None)
    return env
