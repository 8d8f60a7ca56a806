"""`kubectl dra top <TAB>`: the rows --by makes, and --by / --sort-by's values (in-process cobra answers)."""

from __future__ import annotations

from kubectl_dra.cli import app
from kubectl_dra.completion import cobra
from kubectl_dra.completion.lookup import reset_deadline
from tests.conftest import FIXTURES

F = ("-f", str(FIXTURES / "top" / "partitionable.yaml"))


def answer(*words: str) -> list[str]:
    reset_deadline()  # each real completion is a process of its own, with its own deadline
    lines = cobra.cobra_output(app, list(words)).splitlines()
    assert lines[-1] == ":4", lines
    return lines[:-1]


def test_names_follow_by():
    assert answer("top", *F, "") == ["dgx-a100-1", "net-1"]
    assert answer("top", *F, "dgx-a100-1", "") == ["net-1"]
    assert answer("top", "--by", "class", *F, "") == ["gpu.nvidia.com", "mig.nvidia.com", "net.example.com"]
    assert answer("top", "--by", "pool", *F, "") == ["dgx-a100-1\tgpu.nvidia.com", "net-1\tnet.example.com"]
    assert answer("top", "--by", "driver", *F, "") == ["gpu.nvidia.com\t20 devices", "net.example.com\t2 devices"]


def test_option_values():
    assert answer("top", "--by", "") == ["node", "class", "driver", "pool"]
    assert answer("top", "--sort-by", "") == ["name", "devices", "used", "free", "counters", "capacity"]
    assert answer("top", "-o", "") == ["json", "yaml"]


def test_filters_complete_from_the_files():
    assert answer("top", *F, "--class", "") == ["gpu.nvidia.com", "mig.nvidia.com", "net.example.com"]
    assert answer("top", *F, "--driver", "") == ["gpu.nvidia.com\t20 devices", "net.example.com\t2 devices"]
