"""CEL benchmark: 40,000 synthetic devices, realistic selectors.

Run: python benchmarks/bench_cel.py
Reports, per selector:
  raw        interpreter only (closures, no memo), devices/s
  effective  evaluate_input over all devices with the memo trie, devices/s,
             including building each device's input (the allocator's path)
"""

from __future__ import annotations

import time

from kubectl_dra.cel import CompiledExpression, compile_expression
from kubectl_dra.cel import _CACHE
from kubectl_dra.cel.device import DeviceInput, Recorder
from kubectl_dra.cel.interp import Act

N_NODES = 5000
GPUS_PER_NODE = 8


def synthetic_devices():
    products = [("NVIDIA A100-SXM4-40GB", "Ampere", "8.0.0", "40Gi"), ("NVIDIA H100 80GB HBM3", "Hopper", "9.0.0", "80Gi")]
    for n in range(N_NODES):
        product, arch, cc, mem = products[n % 2]
        for i in range(GPUS_PER_NODE):
            yield ("gpu.nvidia.com", {
                "type": {"string": "gpu"}, "uuid": {"string": f"GPU-{n:05d}-{i}"}, "productName": {"string": product},
                "brand": {"string": "Nvidia"}, "architecture": {"string": arch}, "cudaComputeCapability": {"version": cc},
                "driverVersion": {"version": "550.90.7" if n % 10 else "535.161.8"}, "index": {"int": i}, "minor": {"int": i},
                "resource.kubernetes.io/pcieRoot": {"string": f"pci0000:{i // 4 * 64:02x}"},
            }, {"memory": {"value": mem}})


SELECTORS = [
    "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'",
    'device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"',
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) > 0',
    'device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("540.0.0")) && '
    'device.attributes["gpu.nvidia.com"].architecture in ["Hopper", "Blackwell"]',
    'cel.bind(g, device.attributes["gpu.nvidia.com"], g.index < 4 && g.productName.startsWith("NVIDIA"))',
    # reads a per-device unique value: the memo cannot share results
    'device.attributes["gpu.nvidia.com"].uuid.startsWith("GPU-0")',
]


def main() -> None:
    devs = list(synthetic_devices())
    n = len(devs)
    t0 = time.perf_counter()
    inputs = [DeviceInput(d, a, c) for d, a, c in devs]
    t_build = time.perf_counter() - t0
    print(f"{n} devices; building inputs: {t_build:.3f}s ({n / t_build:,.0f}/s)")
    print(f"{'selector':<72} {'raw/s':>10} {'effective/s':>12} {'total s':>8} {'matches':>8}")
    for text in SELECTORS:
        _CACHE.clear()
        expr: CompiledExpression = compile_expression(text)
        # raw: the closure program only, for a sample of 5,000 devices
        sample = inputs[:5000]
        t0 = time.perf_counter()
        for inp in sample:
            try:
                expr._program(Act(Recorder(inp, False)))
            except Exception:
                pass
        raw = len(sample) / (time.perf_counter() - t0)
        # effective: fresh expression (empty memo), all devices, inputs built per device
        _CACHE.clear()
        expr = compile_expression(text)
        t0 = time.perf_counter()
        matches = 0
        for d, a, c in devs:
            ok, err = expr.outcome(DeviceInput(d, a, c))
            matches += ok is True
        total = time.perf_counter() - t0
        short = text if len(text) <= 70 else text[:67] + "..."
        print(f"{short:<72} {raw:>10,.0f} {n / total:>12,.0f} {total:>8.3f} {matches:>8}")


if __name__ == "__main__":
    main()
