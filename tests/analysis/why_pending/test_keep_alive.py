"""Process plumbing stays in the command: the analysis keeps nothing alive unless its caller asks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kubectl_dra.analysis
from kubectl_dra import process
from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.why_pending import why_pending
from kubectl_dra.features import defaults_for_version
from kubectl_dra.sources import SourceOptions, load_snapshot
from tests.conftest import EXAMPLE

GATES = defaults_for_version(None)


@pytest.fixture
def command_process(monkeypatch):
    """This process as the console script makes it (process.start()): keep_until_exit keeps."""
    kept: list = []
    monkeypatch.setattr(process, "_kept", kept)
    return kept


@pytest.fixture(scope="module")
def snap():
    return load_snapshot(SourceOptions(filenames=(str(EXAMPLE),)))


def test_library_use_keeps_nothing_alive_even_in_a_command_process(command_process, snap):
    report = why_pending(snap, "Pod", "trainer", "default", GATES)
    assert report["nodes"]
    assert command_process == []


def test_keep_alive_is_handed_the_allocator(snap):
    kept: list = []
    report = why_pending(snap, "Pod", "trainer", "default", GATES, keep_alive=lambda *objs: kept.extend(objs))
    assert any(isinstance(o, Allocator) for o in kept)
    assert report == why_pending(snap, "Pod", "trainer", "default", GATES)


def test_the_command_keeps_the_analysis_until_exit(command_process, cli):
    res = cli("why-pending", "pod/trainer", "-f", str(EXAMPLE), "-o", "json")
    assert res.exit_code == 0, res.stderr
    assert any(isinstance(o, Allocator) for o in command_process)


def test_no_analysis_module_imports_process_plumbing():
    offenders = []
    for path in sorted(Path(kubectl_dra.analysis.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n.startswith("kubectl_dra.process") or n == "kubectl_dra.process"]
    assert offenders == []
