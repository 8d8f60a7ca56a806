"""Shared test helpers: paths, the bundled example, and running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cluster.yaml"
FIXTURES = ROOT / "tests" / "fixtures"
DRIVERS = FIXTURES / "drivers"


@pytest.fixture(autouse=True)
def _no_ambient_cluster(monkeypatch, tmp_path_factory):
    """Tests never talk to a cluster by accident: KUBECONFIG points at an empty file."""
    empty = tmp_path_factory.mktemp("kube") / "config"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    monkeypatch.setenv("KUBECONFIG", str(empty))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def cli():
    """Run `kubectl-dra ARGS...` in-process; returns the click Result (stdout, stderr, exit_code)."""
    from kubectl_dra.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def driver_snapshot():
    """The realistic driver fixtures (NVIDIA, Intel, example driver, dranet) as one snapshot."""
    import yaml

    from kubectl_dra.snapshot import Snapshot

    objs = [d for f in sorted(DRIVERS.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    return Snapshot.from_objects(objs)


@pytest.fixture(scope="session")
def drivers_dir():
    return str(DRIVERS)
