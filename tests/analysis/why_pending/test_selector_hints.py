"""One selector diagnosis for `match` and `why-pending` (kubectl_dra.cel.diagnostics.selector_hints): the
classic mistakes get the same hint in both, why-pending prints the failing expression, and a guard with
has() is offered only where it keeps devices (never when it would turn the error into a silent no-match).
Objects: shaped like the DRA example driver's GPUs (driverVersion, index, model, memory capacity).

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/analysis/why_pending/test_selector_hints.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.builders import claim, device, device_class, node, pod, request, resource_slice

GOLDEN = Path(__file__).parent.parent / "golden"
GPU = "gpu.example.com"
WORKER = "dra-example-driver-cluster-worker"

MISTAKES = {
    # selector -> the hint both commands give
    "capacity-as-attribute": ("device.attributes['gpu.example.com'].memory.compareTo(quantity('40Gi')) >= 0",
                              '"memory" is published as a capacity, not an attribute: '
                              'use device.capacity["gpu.example.com"].memory'),
    "semver-as-string": ("device.attributes['gpu.example.com'].driverVersion >= '1.0.0'",
                         'use device.attributes["gpu.example.com"].driverVersion.compareTo(semver("1.0.0")) >= 0'),
    "wrong-domain": ("device.attributes['example.com'].model == 'LATEST-GPU-MODEL'",
                     '"model" is published under domain "gpu.example.com", not "example.com"'),
    "misspelled-name": ("device.attributes['gpu.example.com'].modle == 'LATEST-GPU-MODEL'",
                        'no device publishes attribute "modle" in domain "gpu.example.com"; did you mean model?'),
}


def cluster(selector: str, *, numa_on: int = 0) -> list[dict]:
    gpus = [device(f"gpu-{i}", attrs={"driverVersion": "v1.0.0", "index": i, "model": "LATEST-GPU-MODEL",
                                      **({"numaNode": i // 4} if i < numa_on else {})},
                   capacity={"memory": "80Gi"}) for i in range(8)]
    return [device_class(GPU, f"device.driver == '{GPU}'"), node(WORKER, hostname_label=True),
            resource_slice(f"{WORKER}-{GPU}", WORKER, WORKER, GPU, *gpus),
            claim("gpu", request("gpu", GPU, selectors=[selector])), pod("p", ("gpu", "claim", "gpu"))]


def write(tmp_path, objs) -> str:
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    return str(f)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_the_same_hint_in_match_and_why_pending(cli, tmp_path, name):
    selector, hint = MISTAKES[name]
    f = write(tmp_path, cluster(selector))
    report = json.loads(cli("why-pending", "p", "-o", "json", "-f", f).stdout)
    reason = report["nodes"][0]["reasons"][0]
    assert reason["code"] == "cel-error"
    assert f"expression: {selector}" in reason["message"]
    assert any(hint in h for h in reason["details"]["hints"]), reason["details"]["hints"]
    assert any(hint in x for x in report["fixes"])
    assert not any("has(" in x for x in report["fixes"]), "a guard would turn the error into a silent no-match"
    matched = json.loads(cli("match", selector, "--class", GPU, "-o", "json", "-f", f).stdout)
    assert [h["message"] for h in matched["hints"]] == reason["details"]["hints"]


def test_cel_error_text_golden(cli, tmp_path):
    f = write(tmp_path, cluster(MISTAKES["capacity-as-attribute"][0]))
    text = cli("why-pending", "p", "-f", f).stdout
    path = GOLDEN / "why-pending-capacity-as-attribute.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
    assert "guard" not in text


def test_a_guard_is_offered_when_some_devices_publish_the_key(cli, tmp_path):
    """Only gpu-0..gpu-3 publish numaNode (0): asking for NUMA node 1 errors on gpu-4, and has() keeps the
    four that publish it (the error becomes the no-match it is)."""
    f = write(tmp_path, cluster("device.attributes['gpu.example.com'].numaNode == 1", numa_on=4))
    report = json.loads(cli("why-pending", "p", "-o", "json", "-f", f).stdout)
    reason = report["nodes"][0]["reasons"][0]
    assert reason["code"] == "cel-error"
    assert reason["details"]["hints"] == [
        'some devices of gpu.example.com publish "numaNode" and others do not: guard the lookup with has(...) && ... '
        "to skip the ones without it"]


def test_a_value_no_device_has_gets_did_you_mean(cli, tmp_path):
    f = write(tmp_path, cluster("device.attributes['gpu.example.com'].model == 'LATEST'"))
    report = json.loads(cli("why-pending", "p", "-o", "json", "-f", f).stdout)
    assert report["nodes"][0]["reasons"][0]["code"] == "selector-matches-nothing"
    assert report["fixes"] == ['no device has device.attributes["gpu.example.com"].model == "LATEST"; '
                               'did you mean "LATEST-GPU-MODEL"? (values: "LATEST-GPU-MODEL")']


def test_a_list_attribute_compared_with_equals_points_at_includes(cli, tmp_path):
    """DRAListTypeAttributes: a list equals no string, so `models == "b"` matches nothing; the hint names
    includes(), and the selector it suggests does allocate."""
    gpus = [device(f"gpu-{i}", attrs={"models": {"strings": ["a", "b"] if i else ["c"]}}) for i in range(2)]
    objs = cluster("true")
    objs[2] = resource_slice(f"{WORKER}-{GPU}", WORKER, WORKER, GPU, *gpus)
    selector = "device.attributes['gpu.example.com'].models == 'b'"
    objs[3] = claim("gpu", request("gpu", GPU, selectors=[selector]))
    gates = ("--feature-gates", "DRAListTypeAttributes=true")
    hint = ('device.attributes["gpu.example.com"].models is a list attribute (strings): == compares the whole list '
            'with "b" and is never true there; use device.attributes["gpu.example.com"].models.includes("b") '
            "(DRAListTypeAttributes)")
    report = json.loads(cli("why-pending", "p", "-o", "json", "-f", write(tmp_path, objs), *gates).stdout)
    assert report["fits"] is False
    assert report["nodes"][0]["reasons"][0]["code"] == "selector-matches-nothing"
    assert hint in report["fixes"]
    matched = json.loads(cli("match", selector, "--class", GPU, "-o", "json", "-f", write(tmp_path, objs)).stdout)
    assert hint in [h["message"] for h in matched["hints"]]
    objs[3] = claim("gpu", request("gpu", GPU, selectors=["device.attributes['gpu.example.com'].models.includes('b')"]))
    report = json.loads(cli("why-pending", "p", "-o", "json", "-f", write(tmp_path, objs), *gates).stdout)
    assert report["fits"] is True
    assert [r["device"] for r in report["nodes"][0]["allocation"]["gpu"]] == ["gpu-1"]
