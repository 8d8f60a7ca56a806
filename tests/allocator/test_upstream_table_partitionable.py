"""Upstream allocator table: partitionable devices (shared counters, per-device node selection).

Each test names the upstream case it ports; the features are exactly those the upstream case enables.
Upstream's "fromCounters" devices publish their consumed counters as capacity; ``cdev`` does the same.
"""

from __future__ import annotations

from tests.builders import (
    CS1, CS2, DRIVER_A, DRIVER_B, NODE1, NODE2, POOL1, POOL2, REGION1, claim, device, device_class, feats,
    first_available, in_use, label_selector, local_selector, no_fit, picked, request, resource_slice, run_cel,
    subrequest, upstream_node,
)

CA = device_class("class-a", driver=DRIVER_A)
CB = device_class("class-b", driver=DRIVER_B)
PART = feats(partitionable=True)
PART_PL = feats(partitionable=True, prioritized=True)


def mem(n):
    return f'device.capacity["{DRIVER_A}"].memory.compareTo(quantity("{n}")) >= 0'


def cdev(name, consumes, *, capacity=True, **kw):
    """A device consuming counters {set: {counter: qty}}; capacity = the counters (upstream fromCounters)."""
    cap = {c: q for cs in consumes.values() for c, q in cs.items()} if capacity else None
    return device(name, capacity=cap, consumes=consumes, **kw)


def pool_of(devs, counters, *, pool=POOL1, driver=DRIVER_A, names=("slice-1", "slice-2"), node=NODE1):
    return [resource_slice(names[0], node, pool, driver, *devs, count=2),
            resource_slice(names[1], node, pool, driver, counters=counters, count=2)]


def test_partitionable_devices_single_device():
    objs = [CA, *pool_of([cdev("device-1", {CS1: {"memory": "4Gi"}}, capacity=False)], {CS1: {"memory": "8Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def _4_6_4():
    return [cdev("device-1", {CS1: {"memory": "4Gi"}}), cdev("device-2", {CS1: {"memory": "6Gi"}}),
            cdev("device-3", {CS1: {"memory": "4Gi"}})]


def _pl_claim():
    return claim("claim-0", request("req-0"),
                 first_available("req-1", subrequest("subReq-0", selectors=[mem("6Gi")]), subrequest("subReq-1", selectors=[mem("4Gi")])))


def test_partitionable_devices_prioritized_list():
    objs = [CA, *pool_of(_4_6_4(), {CS1: {"memory": "8Gi"}})]
    out = run_cel(objs, [_pl_claim()], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1/subReq-1", DRIVER_A, POOL1, "device-3")])]


def test_partitionable_devices_multiple_devices():
    objs = [CA, *pool_of(_4_6_4(), {CS1: {"memory": "8Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"))], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-3")])]


def test_partitionable_devices_multiple_capacity_pools():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}, CS2: {"cpus": "4"}}),
            cdev("device-2", {CS1: {"memory": "6Gi"}, CS2: {"cpus": "6"}}),
            cdev("device-3", {CS1: {"memory": "4Gi"}, CS2: {"cpus": "4"}})]
    objs = [CA, *pool_of(devs, {CS1: {"memory": "18Gi"}, CS2: {"cpus": "8"}})]
    out = run_cel(objs, [_pl_claim()], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1/subReq-1", DRIVER_A, POOL1, "device-3")])]


def test_partitionable_devices_multiple_counters():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi", "cpus": "6"}, CS2: {"cpus": "4", "memory": "2Gi"}}),
            cdev("device-2", {CS1: {"memory": "6Gi", "cpus": "4"}, CS2: {"cpus": "6", "memory": "6Gi"}}),
            cdev("device-3", {CS1: {"memory": "4Gi", "cpus": "4"}, CS2: {"cpus": "4", "memory": "4Gi"}})]
    # Capacity from counters: the later counter set wins on equal names, like upstream's map fill.
    objs = [CA, *pool_of(devs, {CS1: {"cpus": "8", "memory": "18Gi"}, CS2: {"cpus": "12", "memory": "18Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"))], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2"), ("req-1", DRIVER_A, POOL1, "device-3")])]


def test_partitionable_devices_multiple_pools():
    p1 = [cdev("device-1", {CS1: {"cpus": "6", "memory": "4Gi"}}), cdev("device-2", {CS1: {"cpus": "4", "memory": "6Gi"}}),
          cdev("device-3", {CS1: {"cpus": "4", "memory": "4Gi"}})]
    p2 = [cdev("device-1", {CS1: {"cpus": "6", "memory": "4Gi"}}), cdev("device-2", {CS1: {"cpus": "1", "memory": "7Gi"}}),
          cdev("device-3", {CS1: {"cpus": "1", "memory": "7Gi"}})]
    counters = {CS1: {"cpus": "8", "memory": "18Gi"}}
    objs = [CA, *pool_of(p1, counters), *pool_of(p2, counters, pool=POOL2, names=("slice-3", "slice-4")),
            in_use((DRIVER_A, POOL1, "device-2"), (DRIVER_A, POOL1, "device-3"), (DRIVER_A, POOL2, "device-1"))]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"))], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL2, "device-2"), ("req-1", DRIVER_A, POOL2, "device-3")])]


def test_partitionable_devices_unused_counters_in_counter_set():
    devs = [cdev("device-1", {CS1: {"memory": "5Gi"}}, capacity=False), cdev("device-2", {CS1: {"memory": "4Gi"}}, capacity=False),
            cdev("device-3", {CS1: {"memory": "4Gi"}}, capacity=False)]
    objs = [CA, *pool_of(devs, {CS1: {"memory": "8Gi", "unused": "1Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=2))], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2"), ("req-0", DRIVER_A, POOL1, "device-3")])]


def _one_slice_pool(devs, counters):
    # Upstream's slices here each claim a pool of one slice (generation 1) while the pool has two.
    return [resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters=counters)]


def test_partitionable_devices_no_capacity_available():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}), cdev("device-2", {CS1: {"memory": "16Gi"}})]
    objs = [CA, *_one_slice_pool(devs, {CS1: {"memory": "18Gi"}}), in_use((DRIVER_A, POOL1, "device-2"))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_overallocated_capacity_pool():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}), cdev("device-2", {CS1: {"memory": "20Gi"}})]
    objs = [CA, *_one_slice_pool(devs, {CS1: {"memory": "18Gi"}}), in_use((DRIVER_A, POOL1, "device-2"))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_disabled_device_consumes_counters():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}, capacity=False)]
    objs = [CA, *_one_slice_pool(devs, {CS1: {"memory": "18Gi"}})]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=feats(partitionable=False)))


def test_partitionable_devices_disabled_other_device_do_not_consume_counters():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}, capacity=False), device("device-2")]
    objs = [CA, *pool_of(devs, {CS1: {"memory": "18Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=feats(partitionable=False))
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]


def test_partitionable_devices_disabled_per_device_node_selection():
    objs = [CA, resource_slice("slice-1", None, POOL1, DRIVER_A, device("device-2", node_name=NODE1), per_device=True)]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=feats(partitionable=False)))


def _per_device_pool(devs, counters):
    return [resource_slice("slice-1", None, POOL1, DRIVER_A, *devs, count=2, per_device=True),
            resource_slice("slice-2", None, POOL1, DRIVER_A, counters=counters, count=2, per_device=True)]


def test_partitionable_devices_per_device_node_selection_nodename():
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}, node_name=NODE1),
            cdev("device-2", {CS1: {"memory": "6Gi"}}, node_name=NODE2)]
    objs = [CA, *_per_device_pool(devs, {CS1: {"memory": "18Gi"}})]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", selectors=[mem("6Gi")]), subrequest("subReq-1", selectors=[mem("4Gi")])))
    out = run_cel(objs, [c], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_partitionable_devices_per_device_node_selection_node_selector():
    sel = label_selector("region", REGION1)
    objs = [CA, *_per_device_pool([cdev("device-1", {CS1: {"memory": "4Gi"}}, node_selector=sel)], {CS1: {"memory": "18Gi"}})]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == sel


def test_partitionable_devices_per_device_node_selection_node_selector_multiple_devices():
    a = [cdev("device-1", {CS1: {"memory": "4Gi"}}, node_selector=label_selector("region", REGION1)),
         cdev("device-2", {CS1: {"memory": "4Gi"}}, node_name=NODE1),
         cdev("device-3", {CS1: {"memory": "4Gi"}}, all_nodes=True)]
    b = [cdev(f"device-{i}", {CS2: {"memory": "4Gi"}}) for i in (1, 2, 3)]
    objs = [CA, CB, *_per_device_pool(a, {CS1: {"memory": "18Gi"}}),
            *pool_of(b, {CS2: {"memory": "12Gi"}}, pool=POOL2, driver=DRIVER_B, names=("slice-3", "slice-4"))]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=3), request("req-1", "class-b", count=3))], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, f"device-{i}") for i in (1, 2, 3)] +
                            [("req-1", DRIVER_B, POOL2, f"device-{i}") for i in (1, 2, 3)])]
    # A node-local device pins the whole allocation to the node.
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_partitionable_devices_with_attribute_selector():
    def d(name, special, cpu):
        x = device(name, attrs={"special": special}, consumes={CS1: {cpu: "1"}, CS2: {"mem": "10Gi"}})
        return x
    devs = [d("device-1", True, "cpu1"), d("device-2", False, "cpu2"), d("device-3", False, "cpu3")]
    objs = [CA, *pool_of(devs, {CS1: {"cpu1": "1", "cpu2": "1", "cpu3": "1"}, CS2: {"mem": "30Gi"}})]
    c = claim("claim-0", request("req-0", count=2), request("req-1", selectors=[f'device.attributes["{DRIVER_A}"].special']))
    out = run_cel(objs, [c], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2"), ("req-0", DRIVER_A, POOL1, "device-3"),
                                        ("req-1", DRIVER_A, POOL1, "device-1")])]


# ---- invalid pools -------------------------------------------------------------------------------------

def _invalid(out):
    return not out.fits and out.error is None and "invalid resource pools were encountered" in (out.unschedulable_reason or "")


def test_partitionable_devices_same_counter_set_name_in_different_resource_slices():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", count=4),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {}}, count=4),
            resource_slice("slice-3", NODE1, POOL1, DRIVER_A, "device-2", count=4),
            resource_slice("slice-4", NODE1, POOL1, DRIVER_A, counters={CS1: {}}, count=4)]
    assert _invalid(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_device_counter_consumption_references_unknown_counter_set():
    d = device("device-1")
    d["consumesCounters"] = [{"counterSet": CS2, "counters": {}}]
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, d, count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {}}, count=2)]
    assert _invalid(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_device_counter_consumption_references_unknown_counter_in_counter_set():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", consumes={CS1: {"memory": "8Gi"}}), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"other-memory": "8Gi"}}, count=2)]
    assert _invalid(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_device_counter_consumption_references_counter_set_in_other_pool():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", consumes={CS1: {"memory": "8Gi"}})),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_A, counters={CS1: {"memory": "8Gi"}})]
    assert _invalid(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def test_partitionable_devices_devices_on_different_nodes_consume_same_counter_set():
    # device-3 lives on node-2 but its (in-use) consumption still counts against the shared counter set.
    objs = [CA, node_obj(NODE1), node_obj(NODE2),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=3),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, cdev("device-1", {CS1: {"memory": "6Gi"}}),
                   cdev("device-2", {CS1: {"memory": "2Gi"}}), count=3),
            resource_slice("slice-3", NODE2, POOL1, DRIVER_A, cdev("device-3", {CS1: {"memory": "6Gi"}}, capacity=False), count=3),
            in_use((DRIVER_A, POOL1, "device-3"))]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", selectors=[mem("6Gi")]), subrequest("subReq-1", selectors=[mem("2Gi")])))
    out = run_cel(objs, [c], gates=PART_PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-2")])]


def test_partitionable_devices_validation_error_on_non_targeting_slice():
    # The broken device is in a slice for node-2, but the pool as a whole is invalid.
    objs = [CA, node_obj(NODE1), node_obj(NODE2),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=3),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, cdev("device-1", {CS1: {"memory": "6Gi"}}), count=3),
            resource_slice("slice-3", NODE2, POOL1, DRIVER_A, cdev("device-3", {CS2: {"memory": "6Gi"}}, capacity=False), count=3)]
    assert _invalid(run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART))


def node_obj(name):
    return upstream_node(name, "region-1" if name == NODE1 else "region-2")


NO_SCHEDULE = {"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}


def test_counters_of_a_device_rejected_by_its_taint_stay_consumed():
    # Upstream 1.36.2 takes a device's counters before its taint check and keeps them when the taint rejects
    # it: the second partition, which would fit on its own, finds the counter spent (reproduced on purpose).
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}, capacity=False, taints=[NO_SCHEDULE]),
            cdev("device-2", {CS1: {"memory": "4Gi"}}, capacity=False)]
    gates = feats(partitionable=True, taints=True)
    out = run_cel([CA, *pool_of(devs, {CS1: {"memory": "4Gi"}})], [claim("claim-0", request("req-0"))], gates=gates)
    assert no_fit(out)
    # with counters for both, the untainted partition is taken
    out = run_cel([CA, *pool_of(devs, {CS1: {"memory": "8Gi"}})], [claim("claim-0", request("req-0"))], gates=gates)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]


def test_counters_of_a_device_rejected_by_a_constraint_stay_consumed():
    # Same upstream behaviour for matchAttribute: device-2 (model b) breaks the constraint set by device-1 and
    # keeps its counters, so device-3 (model a) no longer has any left.
    devs = [cdev("device-1", {CS1: {"memory": "4Gi"}}, capacity=False, attrs={"model": "a"}),
            cdev("device-2", {CS1: {"memory": "4Gi"}}, capacity=False, attrs={"model": "b"}),
            cdev("device-3", {CS1: {"memory": "4Gi"}}, capacity=False, attrs={"model": "a"})]
    c = claim("claim-0", request("req-0", count=2), constraints=[{"matchAttribute": f"{DRIVER_A}/model"}])
    out = run_cel([CA, *pool_of(devs, {CS1: {"memory": "8Gi"}})], [c], gates=PART)
    assert no_fit(out)
    out = run_cel([CA, *pool_of(devs, {CS1: {"memory": "12Gi"}})], [c], gates=PART)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-3")])]
