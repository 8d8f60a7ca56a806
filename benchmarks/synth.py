"""Synthetic DRA clusters for benchmarks (and for why-pending demos).

``make_cluster(nodes)`` returns a list of objects; ``python benchmarks/synth.py --nodes 5000 -o /tmp/snap.json``
writes one ``kind: List``.  Per node: one ResourceSlice of 8 whole GPUs (``gpu.example.com``) and one
ResourceSlice (pool ``<node>-mig``) of partitionable MIG-style devices sharing counters with 1.34 layout
(sharedCounters and devices in one slice).  Classes ``gpu.example.com`` and ``mig.example.com``.
``held`` (default 0.9) of the GPUs are held by allocated claims (one claim per node holding them);
one pending pod ``default/trainer`` with a claim template and its generated, unallocated claim asking
for 2 GPUs with ``model == "a100"`` on the same NUMA node.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

DRIVER = "gpu.example.com"


def make_cluster(nodes: int, *, held: float = 0.9, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    objs: list[dict] = []
    objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": "gpu.example.com"},
                 "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{DRIVER}" && device.attributes["{DRIVER}"].type == "gpu"'}}]}})
    objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": "mig.example.com"},
                 "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{DRIVER}" && device.attributes["{DRIVER}"].type == "mig"'}}]}})
    for n in range(nodes):
        name = f"node-{n:05d}"
        objs.append({"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "zone": f"z{n % 3}"}}})
        gpus = []
        for g in range(8):
            gpus.append({"name": f"gpu-{g}", "attributes": {
                "type": {"string": "gpu"}, "model": {"string": "a100" if n % 4 else "h100"},
                "numa": {"int": g // 4}, "uuid": {"string": f"GPU-{n:05d}-{g}"},
                "driverVersion": {"version": "550.54.15"}},
                "capacity": {"memory": {"value": "80Gi"}}})
        objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
                     "metadata": {"name": f"{name}-gpu"},
                     "spec": {"driver": DRIVER, "nodeName": name,
                              "pool": {"name": name, "generation": 1, "resourceSliceCount": 1},
                              "devices": gpus}})
        migs = []
        for p in range(4):
            migs.append({"name": f"mig-1g-{p}", "attributes": {"type": {"string": "mig"}, "profile": {"string": "1g.10gb"}},
                         "capacity": {"memory": {"value": "10Gi"}},
                         "consumesCounters": [{"counterSet": "gpu-7-counters",
                                               "counters": {"memory": {"value": "10Gi"}, "slices": {"value": "1"}}}]})
        objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
                     "metadata": {"name": f"{name}-mig"},
                     "spec": {"driver": DRIVER, "nodeName": name,
                              "pool": {"name": f"{name}-mig", "generation": 1, "resourceSliceCount": 1},
                              "sharedCounters": [{"name": "gpu-7-counters",
                                                  "counters": {"memory": {"value": "40Gi"}, "slices": {"value": "4"}}}],
                              "devices": migs}})
        taken = [g for g in range(8) if rnd.random() < held]
        if taken:
            results = [{"request": "gpus", "driver": DRIVER, "pool": name, "device": f"gpu-{g}"} for g in taken]
            objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                         "metadata": {"name": f"job-{n:05d}", "namespace": "batch"},
                         "spec": {"devices": {"requests": [{"name": "gpus", "exactly": {
                             "deviceClassName": "gpu.example.com", "allocationMode": "ExactCount", "count": len(taken)}}]}},
                         "status": {"allocation": {"devices": {"results": results}, "nodeSelector": {
                             "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [name]}]}]}},
                             "reservedFor": [{"resource": "pods", "name": f"job-{n:05d}-pod", "uid": f"uid-{n}"}]}})
    spec = {"devices": {"requests": [{"name": "gpus", "exactly": {
        "deviceClassName": "gpu.example.com", "allocationMode": "ExactCount", "count": 2,
        "selectors": [{"cel": {"expression": f'device.attributes["{DRIVER}"].model == "a100"'}}]}}],
        "constraints": [{"requests": ["gpus"], "matchAttribute": f"{DRIVER}/numa"}]}}
    objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
                 "metadata": {"name": "trainer-gpus", "namespace": "default"}, "spec": {"spec": spec}})
    objs.append({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                 "metadata": {"name": "trainer-gpus-x7k2p", "namespace": "default",
                              "annotations": {"resource.kubernetes.io/pod-claim-name": "gpus"}},
                 "spec": spec})
    objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "trainer", "namespace": "default"},
                 "spec": {"containers": [{"name": "main", "image": "trainer:1", "resources": {"claims": [{"name": "gpus"}]}}],
                          "resourceClaims": [{"name": "gpus", "resourceClaimTemplateName": "trainer-gpus"}]},
                 "status": {"phase": "Pending", "resourceClaimStatuses": [{"name": "gpus", "resourceClaimName": "trainer-gpus-x7k2p"}]}})
    return objs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--held", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args(argv)
    doc = {"apiVersion": "v1", "kind": "List", "items": make_cluster(args.nodes, held=args.held, seed=args.seed)}
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    json.dump(doc, out)
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
