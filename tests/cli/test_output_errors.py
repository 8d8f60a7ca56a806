"""Output that cannot be written (a full disk, a closed stdout) is one `error:` line and exit 1, never a traceback
or an "internal error"; a reader that goes away (`| head`) stays exit 0 (tests/cli/test_exit.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE

COMMANDS = [
    ["get", "devices", "-f", str(EXAMPLE)],              # a small table: written only when stdout is flushed at exit
    ["get", "devices", "-o", "json", "-f", str(EXAMPLE)],
    ["why-pending", "pod/trainer", "-f", str(EXAMPLE)],   # rich text
    ["explain", "pod/trainer", "-f", str(EXAMPLE)],
    ["dump", "-f", str(EXAMPLE)],                         # a big YAML document
    ["validate", "-f", str(EXAMPLE)],
    ["--version"],
    ["get", "--help"],
]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_full_disk_is_one_line_exit_1(args):
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "kubectl_dra", *args], stdout=full, stderr=subprocess.PIPE,
                           text=True)
    assert p.returncode == 1, p.stderr
    assert p.stderr == "error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("args", COMMANDS[:3], ids=lambda a: " ".join(a[:2]))
def test_closed_stdout_is_one_line_exit_1(args):
    # `kubectl dra ... >&-`: the process starts without a standard output at all.
    p = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "kubectl_dra", *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1, p.stderr
    assert p.stderr == "error: cannot write the output: standard output is closed\n"


def test_reader_gone_before_anything_is_written_is_not_an_error():
    # `| head -0`: the pipe is closed before the first write; as `| head -1` (test_exit.py): exit 0, silent.
    r, w = os.pipe()
    os.close(r)
    p = subprocess.run([sys.executable, "-m", "kubectl_dra", "get", "devices", "-f", str(EXAMPLE)], stdout=w,
                       stderr=subprocess.PIPE, text=True)
    os.close(w)
    assert p.returncode == 0
    assert p.stderr == ""
