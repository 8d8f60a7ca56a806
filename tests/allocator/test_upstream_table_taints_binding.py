"""Upstream allocator table: device taints and binding conditions.

Each test names the upstream case it ports; the features are exactly those the upstream case enables.
"""

from __future__ import annotations

from tests.builders import (
    CS1, CS2, DRIVER_A, DRIVER_B, NODE1, POOL1, claim, device, device_class, feats, first_available, in_use,
    label_selector, local_selector, no_fit, picked, request, resource_slice, run_cel, subrequest,
)

CA = device_class("class-a", driver=DRIVER_A)
CB = device_class("class-b", driver=DRIVER_B)

NO_SCHEDULE = {"key": "taint-key", "value": "taint-value", "effect": "NoSchedule"}
NO_EXECUTE = {"key": "taint-key", "value": "taint-value-2", "effect": "NoExecute"}
NONE_EFFECT = {"key": "taint-key", "value": "taint-value", "effect": "None"}
TOL_NO_SCHEDULE = {"operator": "Exists", "key": "taint-key", "effect": "NoSchedule"}
TOL_NO_EXECUTE = {"operator": "Equal", "key": "taint-key", "value": "taint-value-2", "effect": "NoExecute"}
TOL_KEY1 = {"operator": "Exists", "key": "key1", "effect": "NoSchedule"}

TAINTS = feats(taints=True)


def tainted(*devs):
    return resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)


def tdev(name, *taints):
    return device(name, taints=list(taints))


def tolerations(out):
    return [r.tolerations for c in out.results.values() for r in c]


# ---- taints ----------------------------------------------------------------------------------------

def test_tainted_two_devices():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE), tdev("device-2", NO_EXECUTE))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=TAINTS))


def test_tainted_one_device_two_taints():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE, NO_EXECUTE))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=TAINTS))


def test_tainted_two_devices_tolerated():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE), tdev("device-2", NO_EXECUTE))]
    out = run_cel(objs, [claim("claim-0", request("req-0", tolerations=[TOL_NO_EXECUTE]))], gates=TAINTS)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]
    assert tolerations(out) == [[TOL_NO_EXECUTE]]


def test_tainted_two_devices_prioritized_list_tolerated():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE), tdev("device-2", NO_EXECUTE))]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0"), subrequest("subReq-1", tolerations=[TOL_NO_EXECUTE])))
    out = run_cel(objs, [c], gates=feats(taints=True, prioritized=True))
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-2")])]
    assert tolerations(out) == [[TOL_NO_EXECUTE]]


def test_tainted_no_effect():
    out = run_cel([CA, tainted(tdev("device-1", NONE_EFFECT))], [claim("claim-0", request("req-0"))], gates=TAINTS)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_tainted_one_device_two_taints_both_tolerated():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE, NO_EXECUTE))]
    out = run_cel(objs, [claim("claim-0", request("req-0", tolerations=[TOL_NO_SCHEDULE, TOL_NO_EXECUTE]))], gates=TAINTS)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert tolerations(out) == [[TOL_NO_SCHEDULE, TOL_NO_EXECUTE]]


def test_tainted_disabled():
    objs = [CA, tainted(tdev("device-1", NO_SCHEDULE, NO_EXECUTE))]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=feats(taints=False))
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def _pl_claim():
    return claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-b"), subrequest("subReq-1", "class-a")))


def test_tainted_prioritized_list():
    objs = [CA, CB, tainted(tdev("device-1", NO_SCHEDULE))]
    assert no_fit(run_cel(objs, [_pl_claim()], gates=feats(taints=True, prioritized=True)))


def test_tainted_prioritized_list_disabled():
    objs = [CA, CB, tainted(tdev("device-1", NO_SCHEDULE))]
    out = run_cel(objs, [_pl_claim()], gates=feats(taints=False, prioritized=True))
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def _admin_objs():
    return [CA, tainted(tdev("device-1", NO_SCHEDULE)), in_use((DRIVER_A, POOL1, "device-1"), (DRIVER_A, POOL1, "device-2"))]


def test_tainted_admin_access():
    # Admin access does not bypass taints.
    out = run_cel(_admin_objs(), [claim("claim-0", request("req-0", admin_access=True))], gates=feats(taints=True, admin=True))
    assert no_fit(out)


def test_tainted_admin_access_disabled():
    out = run_cel(_admin_objs(), [claim("claim-0", request("req-0", admin_access=True))], gates=feats(taints=False, admin=True))
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.results[("default", "claim-0")][0].admin_access is True


def test_tainted_all_devices_single():
    out = run_cel([CA, tainted(tdev("device-1", NO_SCHEDULE))], [claim("claim-0", request("req-0", mode="All"))], gates=TAINTS)
    assert no_fit(out)


def test_tainted_all_devices_single_disabled():
    out = run_cel([CA, tainted(tdev("device-1", NO_SCHEDULE))], [claim("claim-0", request("req-0", mode="All"))],
                  gates=feats(taints=False))
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


# ---- binding conditions ---------------------------------------------------------------------------

BIND = feats(binding=True)


def bdev(name, conds, failures, **kw):
    d = device(name, **kw)
    d["bindingConditions"] = list(conds)
    d["bindingFailureConditions"] = list(failures)
    return d


def bindings(out):
    """[(device, bindingConditions, bindingFailureConditions)] over all results."""
    return [(r.device, r.binding_conditions, r.binding_failure_conditions) for c in out.results.values() for r in c]


def test_device_binding_conditions():
    objs = [CA, tainted(bdev("device-1", ["IsPrepare"], ["BindingFailed"]))]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=BIND)
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_binding_conditions_multiple_devices():
    objs = [CA, tainted(bdev("device-1", ["IsPrepare"], ["BindingFailed"]), bdev("device-2", ["IsPrepare2"], ["BindingFailed2"]),
                        bdev("device-3", ["IsPrepare3"], ["BindingFailed3"]))]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=2), request("req-1"))], gates=BIND)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2"),
                                        ("req-1", DRIVER_A, POOL1, "device-3")])]
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"]), ("device-2", ["IsPrepare2"], ["BindingFailed2"]),
                             ("device-3", ["IsPrepare3"], ["BindingFailed3"])]


def test_binding_conditions_with_and_without():
    objs = [CA, tainted("device-1", bdev("device-2", ["IsPrepare"], ["BindingFailed"]))]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"))], gates=BIND)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-2")])]
    assert bindings(out) == [("device-1", None, None), ("device-2", ["IsPrepare"], ["BindingFailed"])]


def test_binding_conditions_without_feature_gate():
    objs = [CA, tainted(bdev("device-1", ["IsPrepare"], ["BindingFailed"]))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], gates=feats(binding=False)))


def test_node_restriction():
    # A network-attached device that binds to the node: the allocation is pinned to the node.
    d = device("device-1", binds_to_node=True)
    objs = [CA, resource_slice("slice-1", None, POOL1, DRIVER_A, d, node_selector=label_selector("planet", "earth"))]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=BIND)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def cdev(name, memory, cset=CS1, **kw):
    """A partition: capacity from its counters (upstream fromCounters)."""
    return device(name, capacity={"memory": memory}, consumes={cset: {"memory": memory}}, **kw)


def with_binding(d, conds, failures):
    d["bindingConditions"] = list(conds)
    d["bindingFailureConditions"] = list(failures)
    return d


PART_BIND = feats(partitionable=True, binding=True)


def test_partitionable_devices_with_binding_conditions():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, with_binding(cdev("device-1", "4Gi"), ["IsPrepare"], ["BindingFailed"]), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=2)]
    out = run_cel(objs, [claim("claim-0", request("req-0"))], gates=PART_BIND)
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_partitionable_devices_with_binding_conditions_multiple():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A,
                       with_binding(cdev("device-1", "4Gi"), ["IsPrepare"], ["BindingFailed"]),
                       with_binding(cdev("device-2", "4Gi"), ["IsPrepare2"], ["BindingFailed2"]), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=2)]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=2))], gates=PART_BIND)
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"]), ("device-2", ["IsPrepare2"], ["BindingFailed2"])]


def test_partitionable_devices_with_binding_conditions_some_devices_no_conditions():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A,
                       with_binding(cdev("device-1", "2Gi"), ["IsPrepare"], ["BindingFailed"]),
                       cdev("device-2", "2Gi"),
                       with_binding(cdev("device-3", "4Gi"), ["IsReady"], ["BindingTimeout"]), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=2)]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=3))], gates=PART_BIND)
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"]), ("device-2", None, None),
                             ("device-3", ["IsReady"], ["BindingTimeout"])]


def test_partitionable_devices_with_binding_conditions_multi_slices():
    objs = [CA,
            resource_slice("slice-4", NODE1, POOL1, DRIVER_A, with_binding(cdev("device-1", "4Gi"), ["IsPrepare"], ["BindingFailed"]), count=4),
            resource_slice("slice-3", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=4),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, cdev("device-2", "4Gi", cset=CS2), count=4),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, counters={CS2: {"memory": "8Gi"}}, count=4)]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=2))], gates=PART_BIND)
    assert bindings(out) == [("device-2", None, None), ("device-1", ["IsPrepare"], ["BindingFailed"])]


def _bind_taint_objs(count):
    d1 = with_binding(cdev("device-1", "4Gi"), ["IsPrepare"], ["BindingFailed"])
    d1["taints"] = [{"key": "key1", "value": "value1", "effect": "NoSchedule"}]
    return [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, d1, cdev("device-2", "4Gi"), count=count),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=count)]


def test_partitionable_devices_with_binding_conditions_and_taints():
    # Upstream's slices here claim a pool of one slice each (two slices of generation 1): the pool is
    # incomplete, and device-1's taint is not tolerated either; nothing is allocated.
    out = run_cel(_bind_taint_objs(1), [claim("claim-0", request("req-0", count=2))],
                  gates=feats(partitionable=True, binding=True, taints=True))
    assert no_fit(out)


def test_partitionable_devices_with_binding_conditions_and_taints_tolerated():
    out = run_cel(_bind_taint_objs(2), [claim("claim-0", request("req-0", count=2, tolerations=[TOL_KEY1]))],
                  gates=feats(partitionable=True, binding=True, taints=True))
    assert bindings(out) == [("device-1", ["IsPrepare"], ["BindingFailed"]), ("device-2", None, None)]
    assert tolerations(out) == [[TOL_KEY1], [TOL_KEY1]]
