"""Seeded fuzzing of the file loaders and every command: no input may end in an internal error or a traceback.

python scripts/fuzz_inputs.py [--inputs 10000] [--seed 1] [--budget SECONDS] [--show 20]

Each input is a mutation of a real cluster (``examples/cluster.yaml``, the driver fixtures, a taint rule):
a value replaced by one of the wrong type, a key dropped, a list item swapped for null or a number, an
object's ``metadata`` or ``spec`` made a list, or the text itself damaged (cut short, a byte flipped,
deep brackets, non-UTF-8 bytes, an alias bomb).  Written as YAML or JSON, it is given to one command
(get, explain, why-pending, match, validate, dump, preview), in process (Typer's runner, as the test
suite does).  Any exit code is fine except an "internal error" (exit 1 with that text) or a traceback:
every bad input must be one ``error:`` line (exit 3) or a finding.

``tests/cli/test_fuzz.py`` runs a small, fixed number of these in the suite; this script is for the
large runs (its figures are recorded in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

WRONG_VALUES = (None, 0, -1, 3, 2**70, 1.5, True, False, "", "x", "gpu", "1Gi", "-5", [], [None], [1, "a"], {},
                {"a": 1}, {"string": 1}, {"int": "x"}, [[{}]], "'\"${}[]\x1b[31m")


def seed_documents() -> list[list[dict]]:
    """The clusters mutations start from (lists of objects)."""
    import yaml

    def load(path: str) -> list[dict]:
        docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
        out: list[dict] = []
        for d in docs:
            out += d["items"] if d.get("kind") == "List" else [d]
        return out

    base = load(os.path.join(ROOT, "examples", "cluster.yaml"))
    seeds = [base]
    drivers = os.path.join(ROOT, "tests", "fixtures", "drivers")
    for f in sorted(os.listdir(drivers)):
        seeds.append(base[:4] + load(os.path.join(drivers, f)))
    rules = os.path.join(ROOT, "tests", "fixtures", "taintrules", "cluster.yaml")
    if os.path.exists(rules):
        seeds.append(load(rules))
    return seeds


def _paths(obj, prefix=()):
    """Every (path, value) inside obj."""
    out = [(prefix, obj)]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _set(root, path, value):
    cur = root
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value


def _delete(root, path):
    cur = root
    for p in path[:-1]:
        cur = cur[p]
    del cur[path[-1]]


def mutate_objects(rng: random.Random, objects: list[dict]) -> list:
    """1-3 structural mutations of a deep copy of ``objects``."""
    objs = copy.deepcopy(objects)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(objs))
        target = objs[i]
        op = rng.random()
        if op < 0.05:
            objs[i] = rng.choice(WRONG_VALUES)  # an item that is no object
            continue
        if not isinstance(target, dict):
            continue
        paths = [p for p, _ in _paths(target) if p]
        if not paths:
            continue
        path = rng.choice(paths)
        if op < 0.55:
            _set(target, path, copy.deepcopy(rng.choice(WRONG_VALUES)))
        elif op < 0.75:
            _delete(target, path)
        elif op < 0.85:
            key = rng.choice(["metadata", "spec", "status", "kind", "apiVersion", "items"])
            target[key] = copy.deepcopy(rng.choice(WRONG_VALUES))
        else:
            # a value moved elsewhere: a right value in the wrong place
            other = rng.choice(paths)
            cur = target
            for p in other:
                cur = cur[p]
            _set(target, path, copy.deepcopy(cur))
    return objs


def damage_text(rng: random.Random, text: str) -> bytes:
    data = text.encode("utf-8")
    op = rng.randrange(6)
    if op == 0:
        return data[: rng.randrange(len(data) + 1)]
    if op == 1:
        pos = rng.randrange(len(data))
        return data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:]
    if op == 2:
        n = rng.choice([50, 99, 100, 101, 1000, 100_000])
        pos = rng.randrange(len(data))
        return data[:pos] + b"[" * n + b"]" * n + data[pos:]
    if op == 3:
        return data + b"\n# \xff\xfe\n"
    if op == 4:
        return b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
               + data
    return data.replace(b"\n", b"\n  ", rng.randrange(1, 5))


COMMANDS = (
    ["get", "devices"], ["get", "devices", "-o", "wide"], ["get", "devices", "-o", "json"],
    ["get", "devices", "-o", "yaml"], ["get", "devices", "--free"], ["get", "classes"], ["get", "slices", "-o", "wide"],
    ["get", "claims", "-A"], ["get", "claims", "-A", "-o", "json"], ["get", "templates", "-A"],
    ["explain", "pod/trainer"], ["explain", "claim/trainer-gpus-q9t4m"], ["explain", "class/gpu.nvidia.com"],
    ["explain", "node/gpu-node-1"], ["explain", "slice/gpu-node-1-gpu.nvidia.com-x8kq2"],
    ["why-pending", "pod/trainer"], ["why-pending", "pod/trainer", "-o", "json"],
    ["why-pending", "claim/trainer-gpus-q9t4m", "--verbose"], ["why-pending", "pod/eval", "-n", "team-a"],
    ["match", 'device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA")'],
    ["match", "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('10Gi')) > 0", "-o", "json"],
    ["validate"], ["validate", "-o", "json"], ["dump"], ["dump", "-o", "json"],
)


def bad_result(code: int, out: str, err: str) -> str | None:
    """Why this run is a failure (None: it is not)."""
    text = out + err
    if "internal error" in text or "Traceback (most recent call last)" in text:
        return (err or out).strip().splitlines()[-1][:300]
    return None


class Runner:
    def __init__(self, workdir: str):
        from typer.testing import CliRunner

        from kubectl_dra.cli import app

        self.app = app
        try:
            self.runner = CliRunner(mix_stderr=False)
        except TypeError:  # click 8.2+: stderr is always separate
            self.runner = CliRunner()
        self.workdir = workdir
        self.seeds = seed_documents()
        self.rule = os.path.join(ROOT, "tests", "fixtures", "taintrules", "node-c-noschedule.yaml")

    def one(self, rng: random.Random) -> tuple[list[str], bytes, str | None]:
        """Run one input; (argv, the input's bytes, why it failed or None)."""
        seed = rng.choice(self.seeds)
        objs = mutate_objects(rng, seed)
        fmt = rng.choice(("yaml", "json", "list-json", "list-yaml"))
        if fmt.startswith("list"):
            doc = {"apiVersion": "v1", "kind": "List", "items": objs}
            if rng.random() < 0.2:
                doc["items"] = mutate_objects(rng, [doc])[0] if rng.random() < 0.5 else doc["items"]
            text = json.dumps(doc, default=str) if fmt == "list-json" else _yaml([doc])
        else:
            text = json.dumps(objs, default=str) if fmt == "json" else _yaml(objs)
        data = text.encode("utf-8") if rng.random() < 0.8 else damage_text(rng, text)
        path = os.path.join(self.workdir, "input.json" if "json" in fmt else "input.yaml")
        with open(path, "wb") as fh:
            fh.write(data)
        cmd = list(rng.choice(COMMANDS))
        if rng.random() < 0.1:
            argv = [*cmd, "-f", "-"]
            stdin = data
        else:
            argv = [*cmd, "-f", path]
            stdin = None
        if rng.random() < 0.05:
            argv = ["preview", self.rule, "-f", path]
        return argv, data, self.run(argv, stdin)

    def run(self, argv: list[str], stdin: bytes | None) -> str | None:
        result = self.runner.invoke(self.app, argv, input=stdin, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            return "uncaught " + "".join(traceback.format_exception_only(type(result.exception),
                                                                         result.exception)).strip()[:300]
        try:
            err = result.stderr
        except ValueError:
            err = ""
        return bad_result(result.exit_code, result.stdout, err)


def _yaml(docs: list) -> str:
    import yaml

    return yaml.safe_dump_all([d for d in docs], sort_keys=False) if docs else ""


def fuzz(inputs: int, seed: int, budget: float | None = None, show: int = 20, log=None, every: int = 0) -> dict:
    """Run ``inputs`` inputs (or until ``budget`` seconds pass); a summary with the failures."""
    rng = random.Random(seed)
    failures: dict[str, tuple[list[str], bytes]] = {}
    t0 = time.monotonic()
    done = 0
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kubectl-dra-fuzz-") as tmp:
        os.environ.setdefault("NO_COLOR", "1")
        empty = os.path.join(tmp, "kubeconfig")
        with open(empty, "w") as fh:
            fh.write("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
        os.environ["KUBECONFIG"] = empty  # never a real cluster
        os.environ.pop("KUBERNETES_SERVICE_HOST", None)
        runner = Runner(tmp)
        for _ in range(inputs):
            if budget is not None and time.monotonic() - t0 > budget:
                break
            argv, data, why = runner.one(rng)
            done += 1
            if log and every and done % every == 0:
                log(f"... {done} inputs, {failed} with an internal error, {time.monotonic() - t0:.0f} s")
            if why is not None:
                failed += 1
                key = why.split(":")[0] + ":" + why[-80:]
                if key not in failures:
                    failures[key] = (argv, data)
                    if log:
                        log(f"[{done}] {' '.join(argv)}: {why}")
    return {"inputs": done, "failed": failed, "seconds": round(time.monotonic() - t0, 1), "failures": failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--progress", type=int, default=500, help="print a progress line every N inputs")
    ap.add_argument("--save", default=None, help="directory to write each distinct failing input to")
    args = ap.parse_args()
    def progress(line: str) -> None:
        print(line, flush=True)

    summary = fuzz(args.inputs, args.seed, args.budget, log=progress, every=args.progress)
    print(f"inputs: {summary['inputs']}, seconds: {summary['seconds']}, inputs with an internal error: "
          f"{summary['failed']}, distinct: {len(summary['failures'])}", flush=True)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        for i, (argv, data) in enumerate(summary["failures"].values()):
            with open(os.path.join(args.save, f"{i}.input"), "wb") as fh:
                fh.write(data)
            with open(os.path.join(args.save, f"{i}.argv"), "w") as fh:
                fh.write(json.dumps(argv))
    sys.exit(1 if summary["failures"] else 0)


if __name__ == "__main__":
    main()
