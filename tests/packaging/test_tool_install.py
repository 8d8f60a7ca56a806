"""`pipx install .` and `uv tool install .` (the README's install lines): both commands land in the tool's bin
directory, kubectl finds the plugin there, runs it and completes through `kubectl_complete-dra`.

They resolve the dependencies from the package index, so they run only where pipx or uv is on PATH (or next
to this Python) and the index is reachable: `pip install pipx uv` into the test venv to run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.live


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (pip install {name})")
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    return found


def _check_kubectl_finds_it(bin_dir: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in bin_dir.iterdir()) == ["kubectl-dra", "kubectl_complete-dra"]
    kubectl_dir = str(Path(shutil.which("kubectl")).parent)
    env = {"HOME": str(tmp_path / "home"), "PATH": f"{bin_dir}{os.pathsep}{kubectl_dir}{os.pathsep}/usr/bin:/bin",
           "KUBECONFIG": os.devnull, "NO_COLOR": "1"}
    run = lambda *a: subprocess.run(["kubectl", *a], env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    listed = run("plugin", "list")
    assert f"{bin_dir}/kubectl-dra" in listed.stdout, listed.stdout + listed.stderr
    why = run("dra", "why-pending", "pod/trainer", "-f", str(EXAMPLE))
    assert why.returncode == 0 and why.stdout.startswith("Pod default/trainer is not scheduled: fits nowhere"), why.stderr
    top = run("dra", "top", "--no-headers", "-f", str(EXAMPLE))
    assert [line.split()[:4] for line in top.stdout.splitlines()] == [
        ["gpu-node-1", "4", "3", "1"], ["gpu-node-2", "4", "3", "1"], ["gpu-node-3", "4", "0", "4"]]
    words = [line.split("\t")[0] for line in run("__complete", "dra", "").stdout.splitlines()]
    assert {"why-pending", "get", "top"} <= set(words)


def test_pipx_install(tmp_path):
    pipx = _tool("pipx")
    env = dict(os.environ, PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"),
               PIPX_MAN_DIR=str(tmp_path / "man"))
    res = subprocess.run([pipx, "install", str(ROOT)], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    _check_kubectl_finds_it(tmp_path / "bin", tmp_path)


def test_uv_tool_install(tmp_path):
    uv = _tool("uv")
    env = dict(os.environ, UV_TOOL_DIR=str(tmp_path / "tools"), UV_TOOL_BIN_DIR=str(tmp_path / "bin"))
    res = subprocess.run([uv, "tool", "install", str(ROOT)], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    _check_kubectl_finds_it(tmp_path / "bin", tmp_path)
