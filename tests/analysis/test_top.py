"""`kubectl dra top`: devices used/free per node, class, driver or pool, counters and consumable capacity used.

Golden text and JSON on the bundled example and on a realistic partitionable cluster (an A100 publishing its
MIG partitions with shared counters, and the dra-example-driver's consumable-capacity NIC demo); the counts
are checked against `get devices`' STATE, which says the same thing device by device.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DRIVERS, EXAMPLE, FIXTURES

GOLDEN = Path(__file__).parent / "golden"
PARTITIONABLE = FIXTURES / "top" / "partitionable.yaml"
UPDATE = os.environ.get("KUBECTL_DRA_UPDATE_GOLDEN")


def golden(name: str, text: str) -> str:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    return path.read_text()


def top(cli, *args):
    r = cli("top", *args)
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.parametrize("name,source,args", [
    ("top-example.txt", EXAMPLE, ()),
    ("top-example-by-class.txt", EXAMPLE, ("--by", "class")),
    ("top-partitionable.txt", PARTITIONABLE, ()),
    ("top-partitionable-by-class.txt", PARTITIONABLE, ("--by", "class")),
    ("top-partitionable-by-pool-sort-used.txt", PARTITIONABLE, ("--by", "pool", "--sort-by", "used")),
    ("top-partitionable-sum.txt", PARTITIONABLE, ("--sum",)),
])
def test_golden_text(cli, name, source, args):
    out = top(cli, *args, "-f", source).stdout
    assert out == golden(name, out)


def test_golden_json(cli):
    out = top(cli, "-o", "json", "-f", PARTITIONABLE).stdout
    assert out == golden("top-partitionable.json", out)
    data = json.loads(out)
    assert list(data) == ["by", "sortBy", "groups", "total"]
    dgx = data["groups"][0]
    # gpu-0: one 3g.20gb (4 slices, 20Gi) and two 1g.5gb in use; gpu-1 whole (8 slices, 40Gi)
    assert dgx["counters"] == [
        {"driver": "gpu.nvidia.com", "name": "memory", "used": "70Gi", "total": "80Gi", "percent": 87},
        {"driver": "gpu.nvidia.com", "name": "memorySlices", "used": "14", "total": "16", "percent": 87}]
    # the demo's two claims share nic-0: 10G+5G in, 5G+5G out, of 2 x 100G
    assert data["groups"][1]["capacity"] == [
        {"driver": "net.example.com", "name": "egressBandwidth", "used": "10G", "total": "200G", "percent": 5},
        {"driver": "net.example.com", "name": "ingressBandwidth", "used": "15G", "total": "200G", "percent": 7}]
    assert top(cli, "-o", "yaml", "-f", PARTITIONABLE).stdout.startswith("by: node\nsortBy: name\ngroups:\n")


TAINTED = (FIXTURES / "taintrules" / "cluster.yaml", FIXTURES / "taintrules" / "node-c-noschedule.yaml")


INCOMPLETE = FIXTURES / "top" / "incomplete-pool.yaml"


@pytest.mark.parametrize("source", [EXAMPLE, PARTITIONABLE, DRIVERS, TAINTED, INCOMPLETE],
                         ids=["example", "partitionable", "drivers", "taint-rule", "incomplete-pool"])
def test_counts_agree_with_get_devices(cli, source):
    """Per node, per driver and per pool, the counts are `get devices`' STATE column counted up; every
    device is in exactly one node group; used = held + unavailable, total = used + free."""
    files = [a for f in (source if isinstance(source, tuple) else (source,)) for a in ("-f", f)]
    # the rule in force, so that its taints are counted
    sources = files + (["--feature-gates", "DRADeviceTaintRules=true"] if source is TAINTED else [])
    devices = json.loads(cli("get", "devices", "-o", "json", *sources).stdout)["items"]
    from kubectl_dra.snapshot import Snapshot
    from kubectl_dra.sources.files import load_files

    pools = Snapshot.from_objects(load_files([str(s) for s in files[1::2]])[0]).pools
    incomplete = {tuple(k) for k, p in pools.items() if not p.complete}
    for by, key in (("node", lambda d: d["node"]), ("driver", lambda d: d["driver"]),
                    ("pool", lambda d: (d["driver"], d["pool"]))):
        data = json.loads(top(cli, "--by", by, "-o", "json", *sources).stdout)
        seen = {}
        for g in data["groups"]:
            k = (g["driver"], g["name"]) if by == "pool" else g["name"]
            states = Counter(d["availability"]["state"] for d in devices if key(d) == k)
            c = g["devices"]
            tainted = sum(1 for d in devices if key(d) == k and d["availability"]["free"]
                          and any(t.get("effect") in ("NoSchedule", "NoExecute") for t in d["taints"]))
            unseen = sum(1 for d in devices if key(d) == k and d["availability"]["free"]
                         and (d["driver"], d["pool"]) in incomplete)
            assert c == {"total": sum(states.values()), "used": states["used"] + states["unavailable"],
                         "free": states["free"] + states["partly used"], "held": states["used"],
                         "unavailable": states["unavailable"], "partlyUsed": states["partly used"],
                         "tainted": tainted, "incompletePool": unseen}, (by, k)
            assert c["total"] == c["used"] + c["free"] and c["used"] == c["held"] + c["unavailable"]
            seen[k] = c["total"]
        assert sum(seen.values()) == len(devices) == data["total"]["devices"]["total"]


def test_class_groups_count_what_the_class_selects(cli):
    data = json.loads(top(cli, "--by", "class", "-o", "json", "-f", PARTITIONABLE).stdout)
    for g in data["groups"]:
        matched = json.loads(cli("match", "true", "--class", g["name"], "-o", "json", "-f", PARTITIONABLE).stdout)
        assert g["devices"]["total"] == matched["counts"]["match"], g["name"]
        assert g["celErrors"] == 0
    mig = next(g for g in data["groups"] if g["name"] == "mig.nvidia.com")
    assert mig["devices"] == {"total": 18, "used": 13, "free": 5, "held": 3, "unavailable": 10, "partlyUsed": 0,
                              "tainted": 0, "incompletePool": 0}


def test_sort_by_is_most_first_ties_by_name(cli):
    names = lambda *a: [line.split()[0] for line in top(cli, "--no-headers", *a, "-f", EXAMPLE).stdout.splitlines()]  # noqa: E731
    assert names() == ["gpu-node-1", "gpu-node-2", "gpu-node-3"]
    assert names("--sort-by", "free") == ["gpu-node-3", "gpu-node-1", "gpu-node-2"]
    assert names("--sort-by", "used") == ["gpu-node-1", "gpu-node-2", "gpu-node-3"]
    assert names("--sort-by", "counters", "-f", PARTITIONABLE)[:1] == ["dgx-a100-1"]
    assert names("--sort-by", "capacity", "-f", PARTITIONABLE)[:1] == ["net-1"]


def test_names_filter_and_not_found(cli, tmp_path):
    out = top(cli, "gpu-node-3", "-f", EXAMPLE).stdout.splitlines()
    assert [line.split()[0] for line in out] == ["NODE", "gpu-node-3"]
    # a node of the cluster with no device bound to it is shown, with nothing
    assert top(cli, "cpu-1", "-f", PARTITIONABLE).stdout.splitlines()[1].split()[:4] == ["cpu-1", "0", "0", "0"]
    for args, message in ((("nope",), 'error: nodes "nope" not found'),
                          (("--by", "class", "nope"), 'error: deviceclasses.resource.k8s.io "nope" not found'),
                          (("--by", "driver", "nope"), 'error: no ResourceSlice publishes devices of driver "nope"')):
        r = cli("top", *args, "-f", EXAMPLE)
        assert r.exit_code == 5 and r.stderr.strip() == message and r.stdout == ""


@pytest.mark.parametrize("args,message", [
    (("--by", "rack"), "error: --by accepts only node, class, driver or pool, not 'rack'"),
    (("--sort-by", "cpu"), "error: --sort-by accepts only name, devices, used, free, counters or capacity, not 'cpu'"),
    (("-o", "wide"), "error: unsupported output format 'wide' (choose from: (default), json, yaml)"),
])
def test_usage_errors(cli, args, message):
    r = cli("top", *args, "-f", EXAMPLE)
    assert r.exit_code == 2 and r.stderr.strip() == message and r.stdout == ""


def test_no_devices(cli, tmp_path):
    f = tmp_path / "empty.json"
    f.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    r = top(cli, "-f", f)
    assert r.stdout == "" and r.stderr == "No devices found.\n"
    assert json.loads(top(cli, "-o", "json", "-f", f).stdout)["groups"] == []


def test_bar_widths():
    from kubectl_dra.render.top import bar_widths

    w = lambda held, unavailable, free, tainted=0, unseen=0: bar_widths({  # noqa: E731
        "total": held + unavailable + free, "held": held, "unavailable": unavailable, "free": free, "tainted": tainted,
        "incompletePool": unseen})
    z = {"held": 0, "unavailable": 0, "tainted": 0, "incompletePool": 0, "free": 0}
    assert w(3, 0, 1) == {**z, "held": 15, "free": 5}
    assert w(1, 0, 999) == {**z, "held": 1, "free": 19}      # one held device still shows
    assert w(999, 1, 0) == {**z, "held": 19, "unavailable": 1}
    assert w(0, 0, 0) == z
    assert w(0, 0, 4, tainted=1) == {**z, "tainted": 5, "free": 15}
    assert w(0, 0, 4, tainted=2, unseen=3) == {**z, "tainted": 5, "incompletePool": 15}  # (both: drawn as unseen)
    for held in range(0, 12):
        for unavailable in range(0, 12):
            for free in range(0, 5):
                if held + unavailable + free:
                    got = w(held, unavailable, free)
                    assert sum(got.values()) == 20
                    assert all((got[k] > 0) == (v > 0) for k, v in
                               (("held", held), ("unavailable", unavailable), ("free", free)))
                    assert got["tainted"] == got["incompletePool"] == 0


def test_devices_not_bound_to_a_node_get_their_own_row(cli, tmp_path):
    """Network-attached devices (allNodes, a node selector) are counted once, under where they are available,
    never on every node they reach."""
    import yaml

    from tests import builders as b

    objs = [b.node("n-1", {"rack": "a"}), b.node("n-2", {"rack": "a"}),
            b.resource_slice("local", "n-1", "n-1", "gpu.example.com", "gpu-0", "gpu-1"),
            b.resource_slice("fabric", None, "fabric", "fabric.example.com", "link-0", "link-1", "link-2", all_nodes=True),
            b.resource_slice("rack-a", None, "rack-a", "fabric.example.com", "switch-0",
                             node_selector={"nodeSelectorTerms": [{"matchExpressions": [
                                 {"key": "rack", "operator": "In", "values": ["a"]}]}]})]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    data = json.loads(top(cli, "-o", "json", "-f", f).stdout)
    assert [(g["name"], g["devices"]["total"]) for g in data["groups"]] == [
        ("all nodes", 3), ("n-1", 2), ("node selector", 1)]
    assert data["total"]["devices"]["total"] == 6


def test_free_but_tainted_devices_are_told_apart(cli):
    """A DeviceTaintRule (NoSchedule) on node-c's two free GPUs: still free (a request that tolerates it gets
    them), said in FREE and drawn as ! in the bar."""
    args = [a for f in TAINTED for a in ("-f", f)]
    rows = {line.split()[0]: line for line in top(cli, *args, "--feature-gates", "DRADeviceTaintRules=true")
            .stdout.splitlines()}
    assert "   2 (2 tainted)   [!!!!!!!!!!!!!!!!!!!!]   0%" in rows["node-c"]
    assert "tainted" not in rows["node-d"] and "[....................]" in rows["node-d"]


def test_a_rule_the_gates_leave_inert_taints_nothing(cli):
    """1.36's defaults have DRADeviceTaintRules off: the scheduler ignores the rule, so top does too (as get devices
    does), and says so in one warning line."""
    args = [a for f in TAINTED for a in ("-f", f)]
    res = top(cli, *args)
    rows = {line.split()[0]: line for line in res.stdout.splitlines()}
    assert "tainted" not in rows["node-c"] and "[....................]" in rows["node-c"]
    assert "DRADeviceTaintRules" in res.stderr


def shared_partition_cluster() -> list[dict]:
    """The dra-example-driver's gpu-allow-multiple-allocations-partitionable demo, allocated: its two claims
    (8Gi and 10 compute each) share one partition of gpu-0 (allowMultipleAllocations, consumable capacity);
    the partition draws half of gpu-0's counters, so the whole gpu-0 no longer fits, the other half does."""
    from tests import builders as b

    drv, ns, node = "gpu.example.com", "gpu-allow-multiple-allocations-partitionable", "worker-1"
    cs = {"gpu-0-counters": {"memory": "80Gi", "compute": "100"}}
    pol = {"default": "1", "validRange": {"min": "1"}}
    whole = b.device("gpu-0", capacity={"memory": "80Gi", "compute": "100"},
                     consumes={"gpu-0-counters": {"memory": "80Gi", "compute": "100"}})
    halves = [b.device(f"gpu-0-part-{i}", multi=True,
                       capacity={"memory": {"value": "40Gi", "requestPolicy": pol},
                                 "compute": {"value": "50", "requestPolicy": pol}},
                       consumes={"gpu-0-counters": {"memory": "40Gi", "compute": "50"}}) for i in range(2)]
    objs = [b.node(node), b.resource_slice("worker-1-gpu", node, node, drv, whole, *halves, counters=cs),
            b.device_class(drv, driver=drv)]
    for i, sid in enumerate(("5b1c7a52-0d51-4c3e-9b8e-6f0e2a7c1d01", "5b1c7a52-0d51-4c3e-9b8e-6f0e2a7c1d02")):
        objs.append(b.claim(f"shared-partition-pod{i}", b.request("gpu", drv, 1, capacity={"memory": "8Gi", "compute": "10"}),
                            namespace=ns, reserved_for=[f"pod{i}"],
                            allocation=b.allocation(("gpu", drv, node, "gpu-0-part-0",
                                                     {"shareID": sid, "consumedCapacity": {"memory": "8Gi", "compute": "10"}}),
                                                    node_name=node)))
    return objs


def test_a_shared_partition_takes_its_counters_once(cli, tmp_path):
    """As the allocator counts it (upstream checkAvailableCounters): a device held only through shared
    allocations takes its counters, once; top, get devices and why-pending agree on it."""
    import yaml

    from tests import builders as b

    objs = shared_partition_cluster()
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    g = json.loads(top(cli, "-o", "json", "-f", f).stdout)["groups"][0]
    assert g["devices"] == {"total": 3, "used": 1, "free": 2, "held": 0, "unavailable": 1, "partlyUsed": 1, "tainted": 0,
                            "incompletePool": 0}
    assert g["counters"] == [
        {"driver": "gpu.example.com", "name": "compute", "used": "50", "total": "100", "percent": 50},
        {"driver": "gpu.example.com", "name": "memory", "used": "40Gi", "total": "80Gi", "percent": 50}]
    assert g["capacity"] == [  # the two partitions' capacity, 8Gi + 8Gi and 10 + 10 of it consumed
        {"driver": "gpu.example.com", "name": "compute", "used": "20", "total": "100", "percent": 20},
        {"driver": "gpu.example.com", "name": "memory", "used": "16Gi", "total": "80Gi", "percent": 20}]
    states = {d["device"]: d["availability"]["state"]
              for d in json.loads(cli("get", "devices", "-o", "json", "-f", f).stdout)["items"]}
    assert states == {"gpu-0": "unavailable", "gpu-0-part-0": "partly used", "gpu-0-part-1": "free"}
    # the scheduler's dry run agrees: the whole GPU no longer fits
    want = b.claim("whole", b.request("gpu", "gpu.example.com", 1,
                                      selectors=['device.capacity["gpu.example.com"].compute.compareTo(quantity("100")) >= 0']))
    f.write_text(yaml.safe_dump_all(objs + [want, b.pod("trainer", ("gpu", "claim", "whole"))]))
    report = json.loads(cli("why-pending", "pod/trainer", "-o", "json", "-f", f).stdout)
    assert report["fits"] is False
    assert report["nodes"][0]["reasons"][0]["code"] == "counters-exhausted"


def test_free_devices_of_an_incomplete_pool_are_told_apart(cli):
    """gpu-node-1's driver said its pool has 2 slices and published 1: the allocator uses none of its devices
    (why-pending: incomplete-pool) until it sees the whole pool; top says so next to FREE and draws ?."""
    rows = {line.split()[0]: line for line in top(cli, "-f", INCOMPLETE).stdout.splitlines()}
    assert "   2 (2 in incomplete pools)   [????????????????????]   0%" in rows["node-1"]
    assert "[....................]" in rows["node-2"]
    report = json.loads(cli("why-pending", "pod/wants-two", "-o", "json", "-f", INCOMPLETE).stdout)
    codes = {n["name"]: [r["code"] for r in n["reasons"]] for n in report["nodes"]}
    assert "incomplete-pool" in codes["node-1"]


def test_readme_shows_what_top_prints():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("$ kubectl dra top -f tests/fixtures/top/partitionable.yaml\n", 1)[1].split("```", 1)[0]
    assert block == (GOLDEN / "top-partitionable.txt").read_text()


@pytest.mark.parametrize("flag,value", [("--class", "mig.nvidia.com"), ("--class", "gpu.nvidia.com"),
                                        ("--driver", "net.example.com")])
def test_class_and_driver_filters_count_what_get_devices_lists(cli, flag, value):
    devices = json.loads(cli("get", "devices", flag, value, "-o", "json", "-f", PARTITIONABLE).stdout)["items"]
    data = json.loads(top(cli, flag, value, "-o", "json", "-f", PARTITIONABLE).stdout)
    assert {g["name"]: g["devices"]["total"] for g in data["groups"]} == dict(Counter(d["node"] for d in devices))
    assert data["total"]["devices"]["free"] == sum(d["availability"]["free"] for d in devices)
    r = cli("top", "--class", "nope", "-f", PARTITIONABLE)
    assert r.exit_code == 5 and r.stderr.strip() == 'error: deviceclasses.resource.k8s.io "nope" not found'


def test_readme_documents_every_json_key(cli):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    contract = readme.split("### top\n", 1)[1].split("### preview\n", 1)[0].split("`-o json`", 1)[1]
    keys: set[str] = set()
    for by in ("node", "class", "pool"):
        data = json.loads(top(cli, "--by", by, "-o", "json", "-f", PARTITIONABLE).stdout)
        keys |= set(data) | set(data["total"]) | set(data["total"]["devices"])
        for g in data["groups"]:
            keys |= set(g) | {k for a in g["counters"] + g["capacity"] for k in a}
    assert keys and not [k for k in sorted(keys) if f'"{k}"' not in contract]


def test_sum_is_the_total_every_device_once(cli):
    """--by class counts a device in every class that selects it; the --sum line counts it once."""
    data = json.loads(top(cli, "--by", "class", "-o", "json", "-f", PARTITIONABLE).stdout)
    lines = top(cli, "--by", "class", "--sum", "-f", PARTITIONABLE).stdout.splitlines()
    assert set(lines[-2].replace(" ", "")) == {"_"}
    t = data["total"]["devices"]
    assert lines[-1].split()[:3] == [str(t["total"]), str(t["used"]), str(t["free"])] == ["22", "15", "7"]
    assert sum(g["devices"]["total"] for g in data["groups"]) == 22  # (here no device is in two classes)
