"""get / explain / dump / match on every realistic driver fixture (NVIDIA, Intel, example driver, dranet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_dra.sources.files import load_files
from tests.conftest import FIXTURES

DRIVER_FIXTURES = sorted((FIXTURES / "drivers").glob("*.yaml"))


def _objects(path: Path) -> list[dict]:
    return load_files([str(path)])[0]


@pytest.fixture(params=DRIVER_FIXTURES, ids=lambda p: p.stem)
def fixture(request):
    return request.param


def test_get_devices_lists_every_published_device(cli, fixture):
    slices = [o for o in _objects(fixture) if o["kind"] == "ResourceSlice"]
    published = sorted((s["spec"]["driver"], s["spec"]["pool"]["name"], d["name"])
                       for s in slices for d in s["spec"]["devices"])
    res = cli("get", "devices", "-o", "json", "-f", fixture)
    assert res.exit_code == 0, res.stderr
    listed = sorted((d["driver"], d["pool"], d["device"]) for d in json.loads(res.stdout)["items"])
    assert listed == published and listed


def test_explain_every_class_agrees_with_match(cli, fixture):
    classes = [o["metadata"]["name"] for o in _objects(fixture) if o["kind"] == "DeviceClass"]
    assert classes, "every driver fixture ships at least one DeviceClass"
    for name in classes:
        facts = json.loads(cli("explain", f"deviceclass/{name}", "-o", "json", "-f", fixture).stdout)
        matched = json.loads(cli("match", "true", "--class", name, "-o", "json", "-f", fixture).stdout)
        assert facts["matching"] == matched["counts"]["match"], name
        assert facts["errors"] == []


def test_explain_every_slice_and_node(cli, fixture):
    objs = _objects(fixture)
    for s in (o for o in objs if o["kind"] == "ResourceSlice"):
        facts = json.loads(cli("explain", f"slice/{s['metadata']['name']}", "-o", "json", "-f", fixture).stdout)
        assert [d["device"] for d in facts["devices"]] == [d["name"] for d in s["spec"]["devices"]]
        assert facts["driver"] == s["spec"]["driver"]
    for n in (o for o in objs if o["kind"] == "Node"):
        facts = json.loads(cli("explain", f"node/{n['metadata']['name']}", "-o", "json", "-f", fixture).stdout)
        assert facts["devices"] == facts["free"] + facts["allocated"]
        text = cli("explain", f"node/{n['metadata']['name']}", "-f", fixture).stdout
        assert text.startswith(f"Node {n['metadata']['name']}")


def test_dump_then_get_is_stable(cli, fixture, tmp_path):
    out = tmp_path / "dump.yaml"
    out.write_text(cli("dump", "-f", fixture).stdout)
    assert cli("get", "devices", "-f", out).stdout == cli("get", "devices", "-f", fixture).stdout
    assert cli("get", "slices", "-o", "wide", "-f", out).stdout == cli("get", "slices", "-o", "wide", "-f", fixture).stdout


def _slice(name, pool, generation, **spec):
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": name},
            "spec": {"driver": "d.example.com", "pool": {"name": pool, "generation": generation, "resourceSliceCount": 1},
                     **spec}}


def test_device_node_names_are_the_nodes_devices_name():
    """The node names why-pending reads from the allocator's slice index agree with the snapshot's
    per-device index, on every fixture and on the corner cases: per-device node selection, stale
    generations, empty and shared slices."""
    from kubectl_dra.allocator.pools import PoolIndex
    from kubectl_dra.snapshot import Snapshot

    corner = [
        _slice("per-device", "p1", 1, perDeviceNodeSelection=True,
               devices=[{"name": "a", "nodeName": "n-1"}, {"name": "b", "allNodes": True}, {"name": "c", "nodeName": "n-2"}]),
        _slice("stale", "p2", 1, nodeName="n-old", devices=[{"name": "x"}]),
        _slice("fresh", "p2", 2, nodeName="n-3", devices=[{"name": "x"}]),
        _slice("empty", "p3", 1, nodeName="n-empty", devices=[]),
        _slice("shared", "p4", 1, allNodes=True, devices=[{"name": "s"}]),
    ]
    cases = [_objects(f) for f in DRIVER_FIXTURES] + [corner]
    for objs in cases:
        snap = Snapshot.from_objects(objs)
        assert PoolIndex(snap.resource_slices).device_node_names() == set(snap.devices_by_node_name)
    assert PoolIndex(Snapshot.from_objects(corner).resource_slices).device_node_names() == {"n-1", "n-2", "n-3"}
