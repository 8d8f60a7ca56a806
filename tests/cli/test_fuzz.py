"""Bounded, seeded fuzzing of the loaders and every command (scripts/fuzz_inputs.py): mutated clusters (wrong
types, missing fields, lists for objects, damaged text, deep nesting, aliases, non-UTF-8) never end in an
internal error or a traceback.  The large runs (10,000+ inputs) are outside the suite: the script."""

from __future__ import annotations

import sys
import time

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))
from scripts import fuzz_inputs  # noqa: E402

INPUTS = 60


@pytest.mark.parametrize("seed", [13])
def test_no_internal_errors(monkeypatch, seed):
    monkeypatch.setenv("KUBECONFIG", "")  # (restored after: the fuzzer points it at an empty kubeconfig)
    t0 = time.monotonic()
    summary = fuzz_inputs.fuzz(INPUTS, seed, budget=50)
    failures = {why: " ".join(argv) for why, (argv, _) in summary["failures"].items()}
    assert summary["inputs"] >= 30, "the machine is too slow to fuzz meaningfully"
    assert failures == {}
    assert time.monotonic() - t0 < 60


def test_the_fuzzer_finds_an_internal_error(monkeypatch):
    # The check is real: a command that crashes is reported as such.
    import kubectl_dra.analysis.inventory as inventory

    def boom(*a, **kw):
        raise KeyError("boom")

    monkeypatch.setattr(inventory, "device_records", boom)
    runner = fuzz_inputs.Runner(str(ROOT))
    why = runner.run(["get", "devices", "-f", str(ROOT / "examples" / "cluster.yaml")], None)
    assert why is not None and "internal error: KeyError" in why
    assert runner.run(["get", "classes", "-f", str(ROOT / "examples" / "cluster.yaml")], None) is None
