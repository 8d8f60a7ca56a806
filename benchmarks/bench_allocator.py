"""Time JSON parse, snapshot build and allocation of one pod across all nodes.

python benchmarks/bench_allocator.py [--sizes 100,1000,5000,10000]
Uses the real CEL module (kubectl_dra.cel) and 1.34 default feature gates
plus DRAPartitionableDevices (so the MIG slices with shared counters count).
Each size runs in a fresh process (cold caches); "parse" is json.loads in that process with the
cyclic GC on (like `python -c "import json; json.load(...)"`), "allocator init" includes the
Allocator and the claim lookup, "allocate all nodes" is one dry run per node (first use of every
selector on every device, CEL compilation included).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.synth import make_cluster  # noqa: E402
from kubectl_dra.allocator import Allocator, gc_paused  # noqa: E402
from kubectl_dra.features import defaults_for_version, parse_feature_gates  # noqa: E402
from kubectl_dra.snapshot import Snapshot  # noqa: E402


def bench(nodes: int) -> dict:
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": make_cluster(nodes)})
    gc.collect()
    t0 = time.perf_counter()
    doc = json.loads(text)
    t1 = time.perf_counter()
    snap = Snapshot.from_objects(doc["items"])
    t2 = time.perf_counter()
    from kubectl_dra.cel import compile_expression
    compile_expression("device.driver == 'x'")  # builds CEL's parser: a fixed cost per process
    t2c = time.perf_counter()
    cel_parser_s = t2c - t2
    t2 = t2c
    gates = parse_feature_gates("DRAPartitionableDevices=true", base=defaults_for_version("1.34"))
    alloc = Allocator(snap, gates)
    pod = snap.pods[("default", "trainer")]
    claims = [pc.claim for pc in snap.pod_claims(pod) if pc.state == "pending"]
    t3 = time.perf_counter()
    fits = 0
    with gc_paused():  # as why-pending runs it
        for name in snap.nodes:
            if alloc.allocate(name, claims).fits:
                fits += 1
    t4 = time.perf_counter()
    devices = sum(len((s.get("spec") or {}).get("devices") or []) for s in snap.resource_slices)
    return {"nodes": nodes, "devices": devices, "json_mb": len(text) / 1e6, "parse_s": t1 - t0,
            "snapshot_s": t2 - t1 - cel_parser_s, "cel_parser_s": cel_parser_s, "allocator_init_s": t3 - t2, "allocate_s": t4 - t3, "fits_on": fits}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,5000,10000")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(bench(args.one)))
        return 0
    print("| nodes | devices | JSON MB | parse s | snapshot s | CEL parser s | allocator init s | allocate all nodes s "
          "| allocate / parse | nodes that fit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in args.sizes.split(",")]:
        # A fresh process per size: CEL's compiled expressions and their memo are per process.
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", str(n)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr)
        r = json.loads(out.stdout)
        print(f"| {r['nodes']} | {r['devices']} | {r['json_mb']:.1f} | {r['parse_s']:.3f} | {r['snapshot_s']:.3f} | "
              f"{r['cel_parser_s']:.3f} | {r['allocator_init_s']:.3f} | {r['allocate_s']:.3f} | "
              f"{r['allocate_s'] / r['parse_s']:.2f} | {r['fits_on']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
