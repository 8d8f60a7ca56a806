"""Colour only on a terminal (a real pseudo-terminal via util-linux `script`), NO_COLOR honoured; `-l` selectors."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import EXAMPLE

ESC = "\x1b["


def _in_pty(cmd: str, **env) -> str:
    if shutil.which("script") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs util-linux `script` and the kubectl-dra console script")
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update(TERM="xterm-256color", **env)
    res = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env=full_env,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_colour_on_a_terminal_only():
    cmd = f"kubectl-dra why-pending pod/trainer -f {EXAMPLE}"
    assert ESC in _in_pty(cmd)
    assert ESC not in _in_pty(cmd, NO_COLOR="1")
    piped = subprocess.run(["kubectl-dra", "why-pending", "pod/trainer", "-f", str(EXAMPLE)],
                           capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    assert piped.returncode == 0 and ESC not in piped.stdout and "fits nowhere" in piped.stdout


def test_label_selectors_on_get(cli, tmp_path):
    text = EXAMPLE.read_text()
    extra = """
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: big-gpus, labels: {tier: premium, vendor: nvidia}}
spec:
  selectors: [{cel: {expression: "device.driver == 'gpu.nvidia.com'"}}]
"""
    f = tmp_path / "c.yaml"
    f.write_text(text + extra)
    names = lambda *sel: [line.split()[0] for line in cli("get", "classes", "--no-headers", *sel, "-f", f).stdout.splitlines()]  # noqa: E731
    assert names("-l", "tier=premium") == ["big-gpus"]
    assert names("-l", "tier!=premium") == ["gpu.nvidia.com", "mig.nvidia.com"]
    assert names("-l", "vendor in (amd,nvidia),tier") == ["big-gpus"]
    assert names("-l", "!tier") == ["gpu.nvidia.com", "mig.nvidia.com"]
    assert names() == ["big-gpus", "gpu.nvidia.com", "mig.nvidia.com"]


def test_empty_no_color_keeps_colour():
    # no-color.org: only a non-empty NO_COLOR turns colour off
    cmd = f"kubectl-dra why-pending pod/trainer -f {EXAMPLE}"
    assert ESC in _in_pty(cmd, NO_COLOR="")
