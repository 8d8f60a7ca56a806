"""Issue 12's "What is wrong today", one CLI test per bullet: `kubectl dra why-pending -o json` over a
manifest must give kube-scheduler 1.36's verdict and devices (each scenario was a disagreement with the
real upstream allocator; the expected answers are upstream's).  1.36's default gates unless a test says
otherwise: DRAConsumableCapacity, DRAPartitionableDevices and DRADeviceTaints on, so the incubating
implementation; DRAListTypeAttributes (alpha, off) switches to the experimental one."""

from __future__ import annotations

import json

import yaml

from tests.builders import (
    CS1, DRIVER_A, NODE1, NODE2, POOL1, allocated_claim, allocation, claim, device, device_class, node, pod,
    request, resource_slice, shared_use,
)

SHARE_ID = "11111111-2222-3333-4444-555555555555"


def why_pending(cli, tmp_path, objs, *flags):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(objs))
    r = cli("why-pending", "pod/p", "-n", "default", "-f", str(path), "-o", "json", "--kubernetes-version", "1.36",
            *flags)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def cluster(*devices, counters=None, extra=()):
    """node-1 with one slice of driver-a's devices, node-2 without devices, class-a, and pod p using claim c."""
    return [node(NODE1), node(NODE2), device_class("class-a", driver=DRIVER_A),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devices, counters=counters), *extra,
            pod("p", ("c", "claim", "c"))]


def node_of(report, name=NODE1):
    return next(n for n in report["nodes"] if n["name"] == name)


def devices_of(report, name=NODE1, claim_name="c"):
    return [(r["request"], r["device"]) for r in node_of(report, name)["allocation"][claim_name]]


def codes(node_report):
    return [r["code"] for r in node_report["reasons"]]


def test_list_type_attributes_in_cel_and_match_attribute(cli, tmp_path):
    # DRAListTypeAttributes: list values are read, includes() works on them, matchAttribute over lists
    # needs a common element. dev-0 and dev-1 share "y"; dev-2 has no "y".
    devs = [device("dev-0", attrs={"models": {"strings": ["x", "y"]}}),
            device("dev-1", attrs={"models": {"strings": ["y", "z"]}}),
            device("dev-2", attrs={"models": {"strings": ["w"]}})]
    c = claim("c", request("gpus", count=2, selectors=['device.attributes["driver-a"].models.includes("y")']),
              constraints=[{"matchAttribute": "driver-a/models"}])
    r = why_pending(cli, tmp_path, cluster(*devs, extra=[c]), "--feature-gates", "DRAListTypeAttributes=true")
    assert r["fits"] is True
    assert devices_of(r) == [("gpus", "dev-0"), ("gpus", "dev-1")]
    assert node_of(r, NODE2)["fits"] is False
    # and the inventory prints the lists, not None
    listed = cli("get", "devices", "-o", "wide", "-f", str(tmp_path / "cluster.yaml")).stdout
    assert "models=[x y]" in listed and "models=[w]" in listed and "None" not in listed


def test_pod_without_claims_fits_every_node_for_dra(cli, tmp_path):
    objs = cluster("dev-0")[:-1] + [pod("p")]
    r = why_pending(cli, tmp_path, objs)
    assert r["fits"] is True
    assert [(n["name"], n["fits"], n["allocation"]) for n in r["nodes"]] == [(NODE1, True, {}), (NODE2, True, {})]
    assert [x["code"] for x in r["reasons"]] == ["no-claims"]


def test_count_two_never_gets_one_multi_allocatable_device_twice(cli, tmp_path):
    roomy = {"mem": "8Gi"}
    one = cluster(device("dev-0", multi=True, capacity=roomy),
                  extra=[claim("c", request("gpus", count=2, capacity={"mem": "1Gi"}))])
    r = why_pending(cli, tmp_path, one)
    assert r["fits"] is False and node_of(r)["fits"] is False
    two = cluster(device("dev-0", multi=True, capacity=roomy), device("dev-1", multi=True, capacity=roomy),
                  extra=[claim("c", request("gpus", count=2, capacity={"mem": "1Gi"}))])
    r = why_pending(cli, tmp_path, two)
    assert r["fits"] is True
    assert devices_of(r) == [("gpus", "dev-0"), ("gpus", "dev-1")]


def test_all_mode_with_a_device_without_capacity_map(cli, tmp_path):
    # The default-gates path: DRAConsumableCapacity on, a device publishing no capacity at all.
    objs = cluster("dev-0", device("dev-1", capacity={"mem": "4Gi"}),
                   extra=[claim("c", request("all", count=None, mode="All"))])
    r = why_pending(cli, tmp_path, objs)
    assert r["fits"] is True
    assert devices_of(r) == [("all", "dev-0"), ("all", "dev-1")]


def test_counters_consumed_through_a_share_id_count_for_other_claims(cli, tmp_path):
    # dev-0 (shareable) uses all 4 counters and another claim holds it through a shareID: dev-1 (4 counters)
    # cannot be allocated; the shareable dev-0 itself still can.
    devs = [device("dev-0", attrs={"kind": "shared"}, multi=True, consumes={CS1: {"mem": "4"}}),
            device("dev-1", attrs={"kind": "plain"}, consumes={CS1: {"mem": "4"}})]
    sharer = allocated_claim("sharer", (DRIVER_A, POOL1, "dev-0", {"shareID": SHARE_ID}))
    plain = claim("c", request("gpu", selectors=['device.attributes["driver-a"].kind == "plain"']))
    r = why_pending(cli, tmp_path, cluster(*devs, counters={CS1: {"mem": "4"}}, extra=[sharer, plain]))
    assert r["fits"] is False
    assert codes(node_of(r)) == ["counters-exhausted"]
    shared = claim("c", request("gpu", selectors=['device.attributes["driver-a"].kind == "shared"']))
    r = why_pending(cli, tmp_path, cluster(*devs, counters={CS1: {"mem": "4"}}, extra=[sharer, shared]))
    assert r["fits"] is True and devices_of(r) == [("gpu", "dev-0")]


def test_capacity_exhausted_is_reported_not_held(cli, tmp_path):
    # The shared device is held by another claim, but what blocks is its capacity: 8Gi of 8Gi consumed.
    objs = cluster(device("dev-0", multi=True, capacity={"mem": "8Gi"}),
                   extra=[shared_use((DRIVER_A, POOL1, "dev-0"), {"mem": "8Gi"}),
                          claim("c", request("gpu", capacity={"mem": "1Gi"}))])
    r = why_pending(cli, tmp_path, objs)
    assert r["fits"] is False
    assert codes(node_of(r)) == ["capacity-exhausted"]


def test_distinct_attribute_keeps_one_value_per_request(cli, tmp_path):
    # Reproduced upstream 1.36.2 behaviour (distinctAttributeConstraint keeps the latest value per request):
    # numa 0, 1, 0 inside one request passes, two devices with numa 0 do not.
    devs = [device(f"dev-{i}", attrs={"numa": n}) for i, n in enumerate([0, 1, 0])]
    three = claim("c", request("gpus", count=3), constraints=[{"distinctAttribute": "driver-a/numa"}])
    r = why_pending(cli, tmp_path, cluster(*devs, extra=[three]))
    assert r["fits"] is True
    assert devices_of(r) == [("gpus", "dev-0"), ("gpus", "dev-1"), ("gpus", "dev-2")]
    same = [device("dev-0", attrs={"numa": 0}), device("dev-1", attrs={"numa": 0})]
    two = claim("c", request("gpus", count=2), constraints=[{"distinctAttribute": "driver-a/numa"}])
    r = why_pending(cli, tmp_path, cluster(*same, extra=[two]))
    assert r["fits"] is False
    assert codes(node_of(r)) == ["constraint-unsatisfiable"]


def test_counters_of_a_rejected_partition_are_not_given_back(cli, tmp_path):
    # Reproduced upstream 1.36.2 behaviour (allocateDevice takes the counters before the taint check and
    # keeps them when the taint rejects the device): the tainted partition dev-0 spends the 4 counters,
    # so the untainted dev-1 finds none left. Without the taint dev-0 itself is taken.
    taint = {"key": "example.com/broken", "value": "true", "effect": "NoSchedule"}
    c = claim("c", request("gpu"))
    objs = cluster(device("dev-0", consumes={CS1: {"mem": "4"}}, taints=[taint]),
                   device("dev-1", consumes={CS1: {"mem": "4"}}), counters={CS1: {"mem": "4"}}, extra=[c])
    r = why_pending(cli, tmp_path, objs)
    assert r["fits"] is False and node_of(r)["fits"] is False
    objs = cluster(device("dev-0", consumes={CS1: {"mem": "4"}}),
                   device("dev-1", consumes={CS1: {"mem": "4"}}), counters={CS1: {"mem": "4"}}, extra=[c])
    r = why_pending(cli, tmp_path, objs)
    assert r["fits"] is True and devices_of(r) == [("gpu", "dev-0")]


def test_allocated_claim_being_deleted_is_refused(cli, tmp_path):
    c = claim("c", request("gpu"), allocation=allocation(("gpu", DRIVER_A, POOL1, "dev-0"), node_name=NODE1))
    r = why_pending(cli, tmp_path, cluster("dev-0", "dev-1", extra=[c]))
    assert r["fits"] is True and node_of(r)["fits"] is True
    c["metadata"]["deletionTimestamp"] = "2026-12-01T10:00:00Z"
    c["metadata"]["finalizers"] = ["resource.kubernetes.io/delete-protection"]
    r = why_pending(cli, tmp_path, cluster("dev-0", "dev-1", extra=[c]))
    assert r["fits"] is False
    assert [x["code"] for x in r["reasons"]] == ["claim-deleting"]
    assert not any(n["fits"] for n in r["nodes"])
