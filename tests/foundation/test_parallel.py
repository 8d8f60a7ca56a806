"""kubectl_dra.parallel: the answer never depends on how the work was split."""

from __future__ import annotations

import json
import os
import sys

import pytest

from kubectl_dra.parallel import available_workers, ordered_map

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from benchmarks.synth import make_cluster  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_results_in_input_order_for_any_worker_count(workers):
    items = list(range(1000))
    out = ordered_map(_square_with_pid, items, workers=workers, min_items_per_worker=10)
    assert [v for v, _ in out] == [x * x for x in items]
    pids = {pid for _, pid in out}
    assert len(pids) == workers  # really split: one process per worker, the parent among them
    assert os.getpid() in pids


def test_small_inputs_stay_in_this_process():
    out = ordered_map(_square_with_pid, list(range(50)), workers=4, min_items_per_worker=100)
    assert {pid for _, pid in out} == {os.getpid()}


def test_a_failing_worker_is_recomputed_here():
    parent = os.getpid()

    def fails_in_children(x):
        if os.getpid() != parent:
            raise RuntimeError("worker trouble")
        return x + 1, os.getpid()

    out = ordered_map(fails_in_children, list(range(400)), workers=4, min_items_per_worker=10)
    assert [v for v, _ in out] == list(range(1, 401))
    assert {pid for _, pid in out} == {parent}


def test_a_worker_that_dies_is_recomputed_here():
    parent = os.getpid()

    def dies_in_children(x):
        if os.getpid() != parent:
            os._exit(3)
        return -x

    assert ordered_map(dies_in_children, list(range(300)), workers=3, min_items_per_worker=10) == [-x for x in range(300)]


def test_an_error_in_the_function_is_raised_as_in_a_loop():
    def boom(x):
        if x == 7:
            raise ValueError("item 7")
        return x

    with pytest.raises(ValueError, match="item 7"):
        ordered_map(boom, list(range(400)), workers=2, min_items_per_worker=10)


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "3")
    assert available_workers() == 3
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "1")
    assert available_workers() == 1
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "lots")
    assert available_workers() == 1
    monkeypatch.delenv("KUBECTL_DRA_WORKERS")
    assert 1 <= available_workers() <= 8


@pytest.mark.parametrize("fmt", ["json", "wide"])
def test_why_pending_report_is_the_same_split_or_not(tmp_path, fmt, monkeypatch):
    """600 nodes: enough for several workers; every node entry, reason and funnel must match."""
    from kubectl_dra.cli import app
    from typer.testing import CliRunner

    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": make_cluster(600)}))
    outputs = {}
    for workers in ("1", "2", "5"):
        result = CliRunner().invoke(app, ["why-pending", "pod/trainer", "-f", str(path), "-o", fmt],
                                    env={"KUBECTL_DRA_WORKERS": workers})
        assert result.exit_code == 0, result.output
        outputs[workers] = result.stdout
    assert len(forks) == 1 + 4  # the split really happened: 2 workers, then 5
    assert outputs["1"] == outputs["2"] == outputs["5"]
    if fmt == "json":
        report = json.loads(outputs["1"])
        assert len(report["nodes"]) == 600
        assert [n["name"] for n in report["nodes"]] == sorted(n["name"] for n in report["nodes"])
        assert any(n["fits"] for n in report["nodes"]) and not all(n["fits"] for n in report["nodes"])
