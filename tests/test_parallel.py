"""kubectl_dra.parallel: the answer never depends on how the work was split."""

from __future__ import annotations

import json
import os
import sys

import pytest

from kubectl_dra.parallel import available_workers, ordered_map

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.synth import make_cluster  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _in_fresh_process(code: str) -> dict:
    """Run ``code`` in a new interpreter (no threads of this test session: ordered_map refuses to
    fork while other threads run) and return the JSON it prints."""
    import subprocess
    import textwrap

    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_results_in_input_order_for_any_worker_count(workers):
    out = _in_fresh_process(f"""
        import json, os
        from kubectl_dra.parallel import ordered_map
        out = ordered_map(lambda x: (x * x, os.getpid()), list(range(1000)), workers={workers}, min_items_per_worker=10)
        print(json.dumps({{"values": [v for v, _ in out], "pids": sorted({{p for _, p in out}}), "me": os.getpid()}}))
    """)
    assert out["values"] == [x * x for x in range(1000)]
    assert len(out["pids"]) == workers  # really split: one process per worker, the parent among them
    assert out["me"] in out["pids"]


def test_no_fork_while_other_threads_run():
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        out = ordered_map(_square_with_pid, list(range(1000)), workers=4, min_items_per_worker=10)
    finally:
        stop.set()
        t.join()
    assert [v for v, _ in out] == [x * x for x in range(1000)]
    assert {pid for _, pid in out} == {os.getpid()}


def test_small_inputs_stay_in_this_process():
    out = ordered_map(_square_with_pid, list(range(50)), workers=4, min_items_per_worker=100)
    assert {pid for _, pid in out} == {os.getpid()}


_COUNT_FORKS = """
    import json, os
    from kubectl_dra.parallel import ordered_map

    parent = os.getpid()
    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    os.fork = counting_fork
"""


def test_a_failing_worker_is_recomputed_here():
    out = _in_fresh_process(_COUNT_FORKS + """
    def fails_in_children(x):
        if os.getpid() != parent:
            raise RuntimeError("worker trouble")
        return x + 1, os.getpid()

    out = ordered_map(fails_in_children, list(range(400)), workers=4, min_items_per_worker=10)
    print(json.dumps({"values": [v for v, _ in out], "pids": sorted({p for _, p in out}), "forks": len(forks)}))
    """)
    assert out["forks"] == 3
    assert out["values"] == list(range(1, 401))
    assert len(out["pids"]) == 1  # every item ended up computed by the parent


def test_a_worker_that_dies_is_recomputed_here():
    out = _in_fresh_process(_COUNT_FORKS + """
    def dies_in_children(x):
        if os.getpid() != parent:
            os._exit(3)
        return -x

    print(json.dumps({"values": ordered_map(dies_in_children, list(range(300)), workers=3, min_items_per_worker=10),
                      "forks": len(forks)}))
    """)
    assert out["forks"] == 2
    assert out["values"] == [-x for x in range(300)]


def test_an_error_in_the_function_is_raised_as_in_a_loop():
    out = _in_fresh_process(_COUNT_FORKS + """
    def boom(x):
        if x == 7:
            raise ValueError("item 7")
        return x

    try:
        ordered_map(boom, list(range(400)), workers=2, min_items_per_worker=10)
        raised = None
    except ValueError as e:
        raised = str(e)
    print(json.dumps({"raised": raised, "forks": len(forks)}))
    """)
    assert out == {"raised": "item 7", "forks": 1}


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "3")
    assert available_workers() == 3
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "1")
    assert available_workers() == 1
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "lots")
    assert available_workers() == 1
    monkeypatch.delenv("KUBECTL_DRA_WORKERS")
    assert 1 <= available_workers() <= 8
    monkeypatch.setattr(sys, "platform", "darwin")  # fork only on Linux unless asked for
    assert available_workers() == 1
    monkeypatch.setenv("KUBECTL_DRA_WORKERS", "2")
    assert available_workers() == 2


@pytest.mark.parametrize("fmt", ["json", "wide"])
def test_why_pending_report_is_the_same_split_or_not(tmp_path, fmt):
    """600 nodes: enough for several workers; every node entry, reason and funnel must match."""
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": make_cluster(600)}))
    out = _in_fresh_process(_COUNT_FORKS + f"""
    from typer.testing import CliRunner
    from kubectl_dra.cli import app

    outputs = {{}}
    for workers in ("1", "2", "5"):
        os.environ["KUBECTL_DRA_WORKERS"] = workers
        result = CliRunner().invoke(app, ["why-pending", "pod/trainer", "-f", {str(path)!r}, "-o", {fmt!r}])
        assert result.exit_code == 0, result.output
        outputs[workers] = result.stdout
    print(json.dumps({{"outputs": outputs, "forks": len(forks)}}))
    """)
    outputs = out["outputs"]
    assert out["forks"] == 1 + 4  # the split really happened: 2 workers, then 5
    assert outputs["1"] == outputs["2"] == outputs["5"]
    if fmt == "json":
        report = json.loads(outputs["1"])
        assert len(report["nodes"]) == 600
        assert [n["name"] for n in report["nodes"]] == sorted(n["name"] for n in report["nodes"])
        assert any(n["fits"] for n in report["nodes"]) and not all(n["fits"] for n in report["nodes"])
