"""`top` on a terminal (a real pseudo-terminal via util-linux `script`): coloured block bars; piped or with
NO_COLOR: the plain ASCII table, byte for byte the golden one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

ESC = "\x1b["
PARTITIONABLE = FIXTURES / "top" / "partitionable.yaml"
GOLDEN = Path(__file__).parent.parent / "analysis" / "golden" / "top-partitionable.txt"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", **extra)
    return env


def _in_pty(cmd: str, **extra) -> str:
    if shutil.which("script") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs util-linux `script` and the kubectl-dra console script")
    res = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env=_env(**extra),
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.replace("\r\n", "\n")


def test_colour_bars_on_a_terminal_only():
    cmd = f"kubectl-dra top -f {PARTITIONABLE}"
    coloured = _in_pty(cmd)
    assert ESC in coloured and "█" in coloured and "░" in coloured and "#" not in coloured
    # NO_COLOR on a terminal: the plain table (ASCII bars, no escapes)
    plain = _in_pty(cmd, NO_COLOR="1")
    assert ESC not in plain and plain == GOLDEN.read_text()
    piped = subprocess.run(["kubectl-dra", "top", "-f", str(PARTITIONABLE)], capture_output=True, text=True,
                           env=_env())
    assert piped.returncode == 0 and piped.stdout == GOLDEN.read_text()
