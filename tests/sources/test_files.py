"""Loading objects from files: formats, lists, versions, and clear errors."""

from __future__ import annotations

import json

import pytest

from kubectl_dra.errors import InputError
from kubectl_dra.sources import SourceOptions, load_snapshot
from kubectl_dra.sources.files import load_files, parse_text
from tests.conftest import EXAMPLE

V1BETA1_SLICE = """
apiVersion: resource.k8s.io/v1beta1
kind: ResourceSlice
metadata: {name: node-a-gpu}
spec:
  driver: gpu.example.com
  nodeName: node-a
  pool: {name: node-a, generation: 3, resourceSliceCount: 1}
  devices:
  - name: gpu-0
    basic:
      attributes:
        model: {string: LATEST-GPU-MODEL}
        driverVersion: {version: 1.0.0}
      capacity:
        memory: {value: 80Gi}
"""

V1BETA1_CLAIM = """
apiVersion: resource.k8s.io/v1beta1
kind: ResourceClaim
metadata: {name: c, namespace: ns}
spec:
  devices:
    requests:
    - name: gpu
      deviceClassName: gpu.example.com
      count: 2
      selectors: [{cel: {expression: 'device.attributes["gpu.example.com"].model == "x"'}}]
    - name: any
      firstAvailable:
      - {name: big, deviceClassName: big.example.com}
      - {name: small, deviceClassName: small.example.com, count: 2}
"""


def test_v1beta1_slice_devices_are_unwrapped_to_v1_shape():
    (obj,) = parse_text(V1BETA1_SLICE, "x.yaml")
    from kubectl_dra.snapshot import Snapshot

    snap = Snapshot.from_objects([obj])
    (s,) = snap.resource_slices
    assert s["apiVersion"] == "resource.k8s.io/v1"
    dev = s["spec"]["devices"][0]
    assert "basic" not in dev
    assert dev["attributes"]["model"] == {"string": "LATEST-GPU-MODEL"}
    assert dev["capacity"]["memory"] == {"value": "80Gi"}
    assert [d.name for d in snap.devices] == ["gpu-0"]


def test_v1beta1_claim_requests_move_under_exactly_and_keep_first_available():
    from kubectl_dra.snapshot import Snapshot

    snap = Snapshot.from_objects(parse_text(V1BETA1_CLAIM, "c.yaml"))
    claim = snap.resource_claims[("ns", "c")]
    gpu, anyreq = claim["spec"]["devices"]["requests"]
    assert gpu == {"name": "gpu", "exactly": {
        "deviceClassName": "gpu.example.com", "count": 2,
        "selectors": [{"cel": {"expression": 'device.attributes["gpu.example.com"].model == "x"'}}]}}
    assert [s["name"] for s in anyreq["firstAvailable"]] == ["big", "small"]
    assert "exactly" not in anyreq


def test_unknown_api_version_is_a_one_line_input_error():
    # v1alpha2 is classic DRA (Kubernetes 1.26-1.30): a different API, not convertible.
    text = V1BETA1_SLICE.replace("v1beta1", "v1alpha2")
    from kubectl_dra.snapshot import Snapshot

    with pytest.raises(InputError, match=r"ResourceSlice 'node-a-gpu': unsupported apiVersion 'resource.k8s.io/v1alpha2'"):
        Snapshot.from_objects(parse_text(text, "x.yaml"))


def test_broken_yaml_names_file_and_line():
    with pytest.raises(InputError, match=r"bad.yaml: invalid YAML at line 4 column 1: did not find expected .,. or .\]."):
        parse_text("kind: Pod\nmetadata:\n  name: [unclosed\n", "bad.yaml")


def test_broken_json_names_file_and_line():
    with pytest.raises(InputError, match=r"bad.json: invalid JSON at line 1"):
        parse_text('{"kind": "Pod",', "bad.json")


def test_raw_api_list_items_get_kind_from_the_list():
    raw = {"kind": "ResourceSliceList", "apiVersion": "resource.k8s.io/v1", "metadata": {},
           "items": [{"metadata": {"name": "s"}, "spec": {"driver": "d", "nodeName": "n",
                                                          "pool": {"name": "p", "generation": 1, "resourceSliceCount": 1},
                                                          "devices": [{"name": "x"}]}}]}
    objs = parse_text(json.dumps(raw), "list.json")
    assert objs[0]["kind"] == "ResourceSlice"


def test_directory_multi_document_and_stdin(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(V1BETA1_SLICE + "\n---\n" + V1BETA1_CLAIM)
    (tmp_path / "notes.txt").write_text("ignored")
    objs, files = load_files([str(tmp_path)])
    assert [o["kind"] for o in objs] == ["ResourceSlice", "ResourceClaim"]
    assert files == [str(tmp_path / "a.yaml")]
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(V1BETA1_CLAIM))
    objs, _ = load_files(["-"])
    assert objs[0]["metadata"]["name"] == "c"


def test_missing_file_is_an_input_error():
    with pytest.raises(InputError, match="nope.yaml: no such file or directory"):
        load_files(["nope.yaml"])


def test_example_snapshot_indexes():
    snap = load_snapshot(SourceOptions(filenames=(str(EXAMPLE),)))
    assert sorted(snap.nodes) == ["cpu-node-1", "gpu-node-1", "gpu-node-2", "gpu-node-3"]
    assert len(snap.devices) == 12
    held = {str(k): [h.claim for h in v] for k, v in snap.holders.items()}
    assert held["gpu.nvidia.com/gpu-node-1/gpu-2"] == ["notebook-gpu"]
    trainer = snap.pods[("default", "trainer")]
    (pc,) = snap.pod_claims(trainer)
    assert (pc.pod_claim_name, pc.claim_name, pc.template_name, pc.state) == ("gpus", "trainer-gpus-q9t4m", "trainer-gpus", "pending")


def test_pools_keep_only_the_newest_generation_and_count_slices():
    from kubectl_dra.snapshot import Snapshot

    def sl(name, gen, count, devs):
        return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": name},
                "spec": {"driver": "d", "nodeName": "n", "pool": {"name": "p", "generation": gen, "resourceSliceCount": count},
                         "devices": [{"name": d} for d in devs]}}

    snap = Snapshot.from_objects([sl("old", 1, 1, ["a"]), sl("new-1", 2, 2, ["b"])])
    pool = snap.pools[("d", "p")]
    assert pool.generation == 2 and not pool.complete and [d.name for d in snap.devices] == ["b"]
    assert [s["metadata"]["name"] for s in pool.stale_slices] == ["old"]
