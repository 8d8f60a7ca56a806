"""End to end: `kubectl dra why-pending pod/trainer -f snapshot.json -o json` against parsing the file.

python benchmarks/bench_why_pending.py [--sizes 1000,5000,10000] [--repeat 3] [--dir /tmp]

For each size, writes the synthetic cluster of ``benchmarks/synth.py`` to a JSON file (reused when it
exists), then times as subprocesses, ``--repeat`` times each, interleaved:

* parse: ``python -c "import json; json.load(open(FILE))"`` (process start to exit);
* why-pending: the ``kubectl-dra`` console script (``python -m kubectl_dra`` when it is not on PATH)
  with ``why-pending pod/trainer -f FILE -o json``, output to /dev/null (process start to exit);

and reports the best and the median of each, and best why-pending / best parse.  The package is compiled to
bytecode first, as an installed one is (see ``precompile``).  Then, in a fresh
process per size, the phases of the same command (imports, CEL parser construction, load, Allocator
init, why-pending's analysis = its own Allocator + allocation and explanation on every node, on as
many processes as the CLI uses (``KUBECTL_DRA_WORKERS``), JSON rendering), measured once each (first
use, cold caches).  Allocator phases alone: bench_allocator.py.
This is a benchmark, not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.synth import make_cluster  # noqa: E402


def ensure_file(nodes: int, directory: str) -> str:
    path = os.path.join(directory, f"kubectl-dra-bench-{nodes}.json")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": make_cluster(nodes)}, f)
        os.replace(path + ".tmp", path)
    return path


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.run(cmd, stdout=devnull, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return dt


def why_pending_cmd(path: str) -> list[str]:
    exe = shutil.which("kubectl-dra")
    base = [exe] if exe else [sys.executable, "-m", "kubectl_dra"]
    return base + ["why-pending", "pod/trainer", "-f", path, "-o", "json"]


def phases(path: str) -> dict:
    """The command's phases in this process (same code path and GC setting as the CLI's main())."""
    import gc

    gc.disable()
    t0 = time.perf_counter()
    import kubectl_dra.cli  # noqa: F401  (typer and the commands, as the console script imports them)
    from kubectl_dra.allocator import Allocator
    from kubectl_dra.analysis.why_pending import why_pending
    from kubectl_dra.cel import compile_expression
    from kubectl_dra.features import defaults_for_version, parse_feature_gates
    from kubectl_dra.render.output import to_json
    from kubectl_dra.sources import SourceOptions, load_snapshot
    t1 = time.perf_counter()
    compile_expression("device.driver == 'x'")  # CEL parser construction, paid once per process
    t2 = time.perf_counter()
    snap = load_snapshot(SourceOptions(filenames=(path,)))
    t3 = time.perf_counter()
    gates = parse_feature_gates(None, base=defaults_for_version(snap.source.server_version))
    Allocator(snap, gates)  # what why_pending's own Allocator(...) costs up front
    t4 = time.perf_counter()
    report = why_pending(snap, "Pod", "trainer", "default", gates)  # cold, as in the CLI
    t5 = time.perf_counter()
    text = to_json(report)
    t6 = time.perf_counter()
    from kubectl_dra.parallel import available_workers

    fits = sum(1 for x in report["nodes"] if x.get("wouldFit"))
    return {"imports": t1 - t0, "cel_parser": t2 - t1, "load": t3 - t2, "alloc_init": t4 - t3,
            "why_pending_analysis": t5 - t4, "fits": fits, "to_json": t6 - t5, "output_mb": len(text) / 1e6,
            "workers": available_workers()}


def precompile() -> None:
    """Compile kubectl_dra's modules to bytecode first, as ``pip install .`` leaves an installed package: an
    editable checkout has no ``__pycache__`` where ``PYTHONDONTWRITEBYTECODE`` is set (as on these machines),
    and every timed run would then compile the whole package again (about 0.1 s), which is no part of the
    tool's own speed.  The parse baseline imports only ``json``, compiled with the interpreter."""
    import compileall

    import kubectl_dra

    compileall.compile_dir(os.path.dirname(kubectl_dra.__file__), quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--no-phases", action="store_true")
    args = ap.parse_args()
    precompile()
    rows = []
    print("| nodes | JSON MB | parse s (best / median) | why-pending -o json s (best / median) | ratio (best) |")
    print("|---|---|---|---|---|")
    for n in [int(x) for x in args.sizes.split(",")]:
        path = ensure_file(n, args.dir)
        parse_cmd = [sys.executable, "-c", f"import json; json.load(open({path!r}))"]
        wp_cmd = why_pending_cmd(path)
        parse_t, wp_t = [], []
        for _ in range(args.repeat):
            parse_t.append(timed(parse_cmd))
            wp_t.append(timed(wp_cmd))
        row = {"nodes": n, "mb": os.path.getsize(path) / 1e6,
               "parse_best": min(parse_t), "parse_median": statistics.median(parse_t),
               "wp_best": min(wp_t), "wp_median": statistics.median(wp_t)}
        row["ratio"] = row["wp_best"] / row["parse_best"]
        rows.append(row)
        print(f"| {n} | {row['mb']:.1f} | {row['parse_best']:.2f} / {row['parse_median']:.2f} | "
              f"{row['wp_best']:.2f} / {row['wp_median']:.2f} | {row['ratio']:.2f} |", flush=True)
    if not args.no_phases:
        print()
        print("| nodes | imports s | CEL parser s | load s | Allocator init s | why-pending analysis s "
              "| processes | nodes that fit | to_json s | output MB |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for n in [int(x) for x in args.sizes.split(",")]:
            path = ensure_file(n, args.dir)
            out = subprocess.run([sys.executable, __file__, "--phases-of", path], capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr)
            p = json.loads(out.stdout)
            print(f"| {n} | {p['imports']:.2f} | {p['cel_parser']:.2f} | {p['load']:.2f} | {p['alloc_init']:.3f} | "
                  f"{p['why_pending_analysis']:.2f} | {p['workers']} | {p['fits']} | {p['to_json']:.2f} | "
                  f"{p['output_mb']:.1f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--phases-of":
        print(json.dumps(phases(sys.argv[2])))
        raise SystemExit(0)
    raise SystemExit(main())
