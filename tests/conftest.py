"""Shared test helpers: paths, the bundled example, and running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cluster.yaml"
FIXTURES = ROOT / "tests" / "fixtures"


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
