"""Start-up of two installs of kubectl-dra side by side (before/after a change), interleaved run by run so
that the machine's load hits both alike; wall time and the process's own CPU time (user + sys).

    python benchmarks/bench_compare_startup.py BEFORE_VENV AFTER_VENV [--runs 11]

Each venv is a plain `pip install .` of one tree (bytecode written at install) and gets its own HOME (its
CEL parser cache). Commands that fail in a venv (a command it does not have) are shown as such.
Figures as a Markdown table on stdout (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "cluster.yaml")
COMMANDS = {
    "kubectl-dra --help": ["kubectl-dra", "--help"],
    "kubectl-dra why-pending pod/trainer -f examples/cluster.yaml": ["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE],
    "kubectl __complete dra '' (kubectl dra <TAB>)": ["kubectl", "__complete", "dra", ""],
    "kubectl_complete-dra get -f examples/cluster.yaml devices ''": ["kubectl_complete-dra", "get", "-f", EXAMPLE, "devices", ""],
    "kubectl-dra top -f examples/cluster.yaml": ["kubectl-dra", "top", "-f", EXAMPLE],
}


def once(cmd: list[str], env: dict) -> tuple[float, float] | None:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return (wall, usage.ru_utime + usage.ru_stime) if os.waitstatus_to_exitcode(status) == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    homes = tempfile.mkdtemp(prefix="dra-bench-")
    envs = {}
    for label, venv in (("before", args.before), ("after", args.after)):
        home = os.path.join(homes, label)
        os.makedirs(home)
        envs[label] = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
                           KUBECONFIG=os.devnull, NO_COLOR="1", HOME=home)
        envs[label].pop("PYTHONDONTWRITEBYTECODE", None)
    load = os.getloadavg()[0]
    print(f"| command | before: wall min / median, CPU median (s) | after: wall min / median, CPU median (s) |")
    print("|---|---|---|")
    for name, cmd in COMMANDS.items():
        got: dict[str, list] = {"before": [], "after": []}
        for label in got:
            once(cmd, envs[label])  # warm-up: bytecode, CEL parser cache
        for _ in range(args.runs):
            for label in got:
                got[label].append(once(cmd, envs[label]))
        cells = []
        for label, runs in got.items():
            ok = [r for r in runs if r is not None]
            cells.append("fails" if not ok else f"{min(w for w, _ in ok):.2f} / {statistics.median(w for w, _ in ok):.2f}, "
                                                f"{statistics.median(c for _, c in ok):.3f}")
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    print(f"\nload average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end; {args.runs} runs each")


if __name__ == "__main__":
    main()
