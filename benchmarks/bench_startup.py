"""Install size and start-up: what each runtime dependency costs on disk and in import time, and how long
the everyday commands take from process start to exit.

    VENV/bin/python benchmarks/bench_startup.py [--runs 9] [--krew-bin DIR] [--krew-lib DIR]

Run it with the python of a venv kubectl-dra is installed in (its console scripts are timed): a plain
`pip install .`/pipx/uv venv, whose bytecode was written at install time, shows what users get; an editable
dev venv without bytecode does not. --krew-bin/--krew-lib: a krew-style install of the archive from
scripts/build_krew.py (the `bin` dir on PATH and the store's `lib`), timed the same way. Every command
runs without PYTHONDONTWRITEBYTECODE, after one warm-up run (bytecode, CEL parser cache). Figures go to
stdout as Markdown tables (benchmarks/RESULTS.md, "Install and start-up").
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cluster.yaml"
BIN = Path(sys.executable).parent

# What kubectl-dra imports of each direct dependency (and when).
IMPORTS = {
    "typer": ("import typer", "every command"),
    "rich": ("import rich.console, rich.tree, rich.table", "every command (text output, help)"),
    "kubernetes": ("from kubernetes import client, config", "live cluster only"),
    "PyYAML": ("import yaml", "YAML input/output, live source"),
    "jsonschema": ("import jsonschema", "validate only"),
    "cel-python": ("import kubectl_dra.cel.syntax", "CEL parsing (its parser module + lark only)"),
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(reqs: list[str]) -> list[str]:
    """Names of the requirements that are no extras' (markers otherwise ignored: what is not installed is skipped)."""
    return [re.match(r"[A-Za-z0-9_.-]+", r)[0] for r in reqs if "extra ==" not in r.split(";", 1)[-1]]


def runtime_closure(root: str = "kubectl-dra") -> dict[str, set[str]]:
    """Installed distributions kubectl-dra needs at run time -> the direct dependencies that pull each in."""
    owners: dict[str, set[str]] = {}
    for top in _names(metadata.requires(root) or []):
        todo, seen = [top], set()
        while todo:
            name = canonical(todo.pop())
            if name in seen:
                continue
            seen.add(name)
            try:
                reqs = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue
            owners.setdefault(name, set()).add(top)
            todo += _names(reqs)
    return owners


def dist_size(name: str) -> int:
    dist = metadata.distribution(name)
    total = 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    return total


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def import_time(stmt: str, runs: int, env: dict | None = None, python: str = sys.executable) -> float:
    """Median wall time of `python -c stmt` minus that of `python -c pass` (seconds)."""
    def once(code):
        t0 = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env=env, capture_output=True)
        return time.perf_counter() - t0
    base = statistics.median(once("pass") for _ in range(runs))
    return statistics.median(once(stmt) for _ in range(runs)) - base


def importtime_by_package(argv: list[str], env: dict | None = None, python: str = sys.executable,
                          prelude: str = "") -> dict[str, float]:
    """Self import time per top-level package while running kubectl-dra ARGV once (-X importtime), seconds."""
    code = (f"{prelude}import sys; sys.argv = {['kubectl-dra', *argv]!r}\n"
            "from kubectl_dra.cli import main\nmain()")
    res = subprocess.run([python, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    out: dict[str, float] = {}
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)", line)
        if m:
            top = m[3].split(".")[0]
            out[top] = out.get(top, 0.0) + int(m[1]) / 1e6
    return out


def wall(cmd: list[str], runs: int, env: dict | None = None) -> tuple[float, float]:
    subprocess.run(cmd, env=env, capture_output=True, cwd=ROOT)  # warm-up: bytecode, CEL parser cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def commands(bin_dir: Path) -> list[tuple[str, list[str]]]:
    out = [("kubectl-dra --help", [str(bin_dir / "kubectl-dra"), "--help"]),
           ("kubectl-dra why-pending pod/trainer -f examples/cluster.yaml",
            [str(bin_dir / "kubectl-dra"), "why-pending", "pod/trainer", "-f", str(EXAMPLE)]),
           ("kubectl-dra why-pending ... -o json", [str(bin_dir / "kubectl-dra"), "why-pending", "pod/trainer", "-f",
                                                    str(EXAMPLE), "-o", "json"]),
           ("kubectl_complete-dra get -f examples/cluster.yaml devices '' (one <TAB>)",
            [str(bin_dir / "kubectl_complete-dra"), "get", "-f", str(EXAMPLE), "devices", ""])]
    if shutil.which("kubectl"):
        out += [("kubectl dra why-pending pod/trainer -f examples/cluster.yaml",
                 ["kubectl", "dra", "why-pending", "pod/trainer", "-f", str(EXAMPLE)]),
                ("kubectl __complete dra '' (kubectl dra <TAB>)", ["kubectl", "__complete", "dra", ""])]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--krew-bin", type=Path)
    ap.add_argument("--krew-lib", type=Path)
    args = ap.parse_args()
    env = dict(os.environ, NO_COLOR="1", KUBECONFIG=os.devnull)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} at start, {args.runs} runs each\n")

    owners = runtime_closure()
    sizes = {name: dist_size(name) for name in owners}
    site = Path(sysconfig.get_paths()["purelib"])
    print("| distribution | installed MB | pulled in by |\n|---|---|---|")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {size / 1e6:.1f} | {', '.join(sorted(owners[name]))} |")
    print(f"| **all runtime distributions** | **{sum(sizes.values()) / 1e6:.1f}** | |")
    print(f"\nsite-packages on disk (with pip, setuptools and anything else this venv has): {tree_size(site) / 1e6:.0f} MB; "
          f"the whole venv: {tree_size(Path(sys.prefix)) / 1e6:.0f} MB\n")

    per_direct: dict[str, float] = {}
    for name in owners:
        for top in owners[name]:
            per_direct[top] = per_direct.get(top, 0) + sizes[name]
    print("| direct dependency | with what it pulls in, MB | import (what kubectl-dra imports) | s | when |\n"
          "|---|---|---|---|---|")
    for top, (stmt, when) in IMPORTS.items():
        t = import_time(stmt, args.runs, env)
        print(f"| {top} | {per_direct.get(canonical(top), per_direct.get(top, 0)) / 1e6:.1f} | `{stmt}` | {t:.3f} | {when} |")

    print("\nSelf import time by package in one run of each command (s; -X importtime, this venv):\n")
    runs = {"--help": ["--help"], "why-pending -f": ["why-pending", "pod/trainer", "-f", str(EXAMPLE)],
            "validate -f": ["validate", "-f", str(EXAMPLE)]}
    tables = {k: importtime_by_package(v, env) for k, v in runs.items()}
    tops = sorted({t for tab in tables.values() for t, s in tab.items() if s >= 0.005},
                  key=lambda t: -max(tab.get(t, 0) for tab in tables.values()))
    print("| package | " + " | ".join(runs) + " |\n|---|" + "---|" * len(runs))
    for t in tops:
        print(f"| {t} | " + " | ".join(f"{tables[k].get(t, 0):.3f}" for k in runs) + " |")
    print("| **all imports** | " + " | ".join(f"**{sum(tables[k].values()):.3f}**" for k in runs) + " |")

    print("\n| command (process start to exit) | pip venv min / median s |"
          + (" krew archive min / median s |" if args.krew_bin else "") + "\n|---|---|" + ("---|" if args.krew_bin else ""))
    krew_env = None
    if args.krew_bin:
        krew_env = dict(env, PATH=os.pathsep.join([str(args.krew_bin), os.path.dirname(os.path.realpath(
            Path(sys.base_prefix) / "bin" / "python3")), "/usr/bin", "/bin"]))
    venv_env = dict(env, PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]))
    for label, cmd in commands(BIN):
        a = wall(cmd, args.runs, venv_env)
        row = f"| `{label}` | {a[0]:.2f} / {a[1]:.2f} |"
        if args.krew_bin:
            kcmd = [str(args.krew_bin / Path(cmd[0]).name), *cmd[1:]] if cmd[0].startswith(str(BIN)) else cmd
            b = wall(kcmd, args.runs, krew_env)
            row += f" {b[0]:.2f} / {b[1]:.2f} |"
        print(row)
    if args.krew_lib:
        store = args.krew_lib.parent
        pyc = sum(p.stat().st_size for p in store.rglob("*.pyc"))
        print(f"\nkrew install: {(tree_size(store) - pyc) / 1e6:.0f} MB unpacked, "
              f"+{pyc / 1e6:.0f} MB of bytecode written by the runs above")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
