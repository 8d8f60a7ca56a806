"""Cases ported from upstream's allocator test table (allocatortesting/allocator_testing.go).

Each test names the upstream case it ports; see PORTED.md for the full list.
Device names as upstream's helpers: device-1, device-2 ...; class-a selects driver-a.
"""

from __future__ import annotations


from tests.builders import (
    ALL, DRIVER_A, DRIVER_B, G134, NODE1, NODE2, POOL1, POOL2, allocated_claim, claim, device, device_class,
    first_available, label_in, local_selector, node, picked, request, resource_slice, run, sel_capacity_at_least,
    sel_error, subrequest,
)
from kubectl_dra.features import parse_feature_gates

CA = device_class("class-a", driver=DRIVER_A)
CB = device_class("class-b", driver=DRIVER_B)


def one(name="slice-1", node=NODE1, pool=POOL1, driver=DRIVER_A, **kw):
    return resource_slice(name, node, pool, driver, "device-1", **kw)


def test_empty():
    out = run([CA], [])
    assert out.fits and out.results == {}


def test_simple():
    out = run([CA, one()], [claim("claim-0", request("req-0"))])
    assert out.fits
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_other_node():
    objs = [CA, node(NODE1), node(NODE2), one("slice-1", NODE1, POOL1, DRIVER_B), one("slice-2", NODE2, POOL2, DRIVER_A)]
    out = run(objs, [claim("claim-0", request("req-0"))], node_name=NODE2)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL2, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE2)


def _mem_slice(order):
    devs = {"device-1": "1Gi", "device-2": "2Gi"}
    return resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *[device(n, capacity={"memory": devs[n]}) for n in order])


def _small_large_requests():
    return [request("req-0", selectors=[sel_capacity_at_least("memory", "1Gi")]),
            request("req-1", selectors=[sel_capacity_at_least("memory", "2Gi")])]


def test_small_and_large():
    out = run([CA, _mem_slice(["device-1", "device-2"])], [claim("claim-0", *_small_large_requests())])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-2")])]


def test_small_and_large_backtrack_requests():
    out = run([CA, _mem_slice(["device-2", "device-1"])], [claim("claim-0", *_small_large_requests())])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-2")])]


def test_small_and_large_backtrack_claims():
    r0, r1 = _small_large_requests()
    out = run([CA, _mem_slice(["device-2", "device-1"])], [claim("claim-0", r0), claim("claim-1", r1)])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")]),
                           ("claim-1", [("req-1", DRIVER_A, POOL1, "device-2")])]


def test_devices_split_across_different_slices():
    objs = [CA, one("slice-1", pool=POOL1), one("slice-2", pool=POOL2)]
    out = run(objs, [claim("claim-0", request("req-0", count=2))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL2, "device-1")])]


def test_obsolete_slice():
    # Two objects with one name: the later one (newer generation, pool of 2 slices) replaces the first.
    old = resource_slice("slice-1-obsolete", NODE1, POOL1, DRIVER_A, "device-1", count=2)
    new = resource_slice("slice-1-obsolete", NODE1, POOL1, DRIVER_A, "device-2", count=2, generation=2)
    out = run([CA, old, new], [claim("claim-0", request("req-0"))])
    assert not out.fits and out.error is None


def test_obsolete_generation_is_ignored_when_newer_exists_elsewhere():
    # Not an upstream case: a newer generation of the pool on another node makes this node's older slice obsolete.
    old = resource_slice("s-old", NODE1, POOL1, DRIVER_A, "device-1", count=2)
    new = resource_slice("s-new", NODE2, POOL1, DRIVER_A, "device-2", count=2, generation=2)
    out = run([CA, old, new], [claim("claim-0", request("req-0"))])
    assert not out.fits and out.error is None
    assert out.trace.pools == []


def test_duplicate_slice():
    a = one("slice-1", count=2)
    b = one("slice-1-2", count=2)
    out = run([CA, a, b], [claim("claim-0", request("req-0"))])
    assert not out.fits and out.error is None
    assert "invalid resource pools were encountered" in out.unschedulable_reason


def test_no_slices():
    out = run([CA], [claim("claim-0", request("req-0"))])
    assert not out.fits and out.error is None


def test_not_enough_suitable_devices():
    out = run([CA, one()], [claim("claim-0", request("req-0")), claim("claim-0", request("req-1"))])
    assert not out.fits and out.error is None


def test_no_classes():
    out = run([one()], [claim("claim-0", request("req-0"))])
    assert "could not retrieve device class class-a" in out.error


def test_unknown_class():
    out = run([CA, one()], [claim("claim-0", request("req-0", "unknown-class"))])
    assert "could not retrieve device class unknown-class" in out.error


def test_empty_class():
    out = run([CA, one()], [claim("claim-0", request("req-0", ""))])
    assert "claim default/claim-0, request req-0: missing device class name (unsupported request type?)" == out.error


def test_no_claims_to_allocate():
    out = run([CA, one()], [])
    assert out.fits and out.results == {}


def _all(name="req-0", cls="class-a"):
    return request(name, cls, mode="All")


def test_all_devices_single():
    out = run([CA, one()], [claim("claim-0", _all())])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_all_devices_many():
    out = run([CA, one("slice-1", pool=POOL1), one("slice-1b", pool=POOL2)], [claim("claim-0", _all())])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL2, "device-1")])]


def test_all_devices_of_the_incomplete_pool():
    out = run([CA, one(count=2)], [claim("claim-0", _all())])
    assert out.error == ("claim default/claim-0, request req-0: asks for all devices, "
                         "but resource pool driver-a/pool-1 is currently being updated")


def test_all_devices_plus_another():
    objs = [CA, CB, one("slice-1", driver=DRIVER_A), one("slice-1b", driver=DRIVER_B)]
    claims = [claim("claim-0", _all()), claim("claim-1", request("req-0", "class-b"))]
    out = run(objs, claims)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")]),
                           ("claim-1", [("req-0", DRIVER_B, POOL1, "device-1")])]


def test_all_devices_plus_another_reversed():
    objs = [CA, CB, one("slice-1", driver=DRIVER_A), one("slice-1b", driver=DRIVER_B)]
    claims = [claim("claim-1", request("req-0", "class-b")), claim("claim-0", _all())]
    out = run(objs, claims)
    assert picked(out) == [("claim-1", [("req-0", DRIVER_B, POOL1, "device-1")]),
                           ("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_all_devices_in_use_does_not_fit():
    # An "All" request includes devices held by others: it cannot be satisfied.
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2"),
            allocated_claim("holder", (DRIVER_A, POOL1, "device-1"))]
    out = run(objs, [claim("claim-0", _all())])
    assert not out.fits and out.error is None


def test_already_allocated_devices_are_skipped():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2"),
            allocated_claim("holder", (DRIVER_A, POOL1, "device-1"))]
    out = run(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]
    tr = [t for t in out.trace.requests if t.request == "req-0"][0]
    assert tr.rejected_allocated == [{"device": "driver-a/pool-1/device-1", "holders": ["default/holder"]}]


def test_admin_access_uses_allocated_device():
    objs = [CA, one(), allocated_claim("holder", (DRIVER_A, POOL1, "device-1"))]
    out = run(objs, [claim("claim-0", request("req-0", admin_access=True))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.results[("default", "claim-0")][0].admin_access is True


def test_admin_access_disabled():
    gates = parse_feature_gates("DRAAdminAccess=false", base=G134)
    out = run([CA, one()], [claim("claim-0", request("req-0", admin_access=True))], gates=gates)
    assert out.error == "claim default/claim-0, request req-0: admin access is requested, but the feature is disabled"


def test_admin_access_results_do_not_mark_in_use():
    objs = [CA, one(), allocated_claim("admin", (DRIVER_A, POOL1, "device-1", {"adminAccess": True}))]
    out = run(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_too_many_devices_single_request():
    out = run([CA, one()], [claim("claim-0", request("req-0", count=33))])
    assert out.error == "claim default/claim-0: number of requested devices 33 exceeds the claim limit of 32"


def test_prioritized_list_disabled():
    gates = parse_feature_gates("DRAPrioritizedList=false", base=G134)
    c = claim("claim-0", first_available("req-0", subrequest("sub-0")))
    out = run([CA, one()], [c], gates=gates)
    assert out.error == "claim default/claim-0, request req-0: has subrequests, but the DRAPrioritizedList feature is disabled"


def test_prioritized_list_second_subrequest():
    c = claim("claim-0", first_available("req-0", subrequest("sub-0", count=2), subrequest("sub-1", count=1)))
    out = run([CA, one()], [c])
    assert picked(out) == [("claim-0", [("req-0/sub-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_too_many_first_then_fewer():
    c = claim("claim-0", first_available("req-0", subrequest("sub-0", count=33), subrequest("sub-1", count=1)))
    out = run([CA, one()], [c])
    assert picked(out) == [("claim-0", [("req-0/sub-1", DRIVER_A, POOL1, "device-1")])]


def test_constraint_match_attribute():
    devs = [device("device-1", attrs={"numa": 1}), device("device-2", attrs={"numa": 2}),
            device("device-3", attrs={"numa": 2})]
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)]
    c = claim("claim-0", request("req-0"), request("req-1"),
              constraints=[{"requests": ["req-0", "req-1"], "matchAttribute": f"{DRIVER_A}/numa"}])
    out = run(objs, [c])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2"), ("req-1", DRIVER_A, POOL1, "device-3")])]
    tr = [t for t in out.trace.requests if t.request == "req-1"][0]
    assert tr.rejected_constraint and tr.rejected_constraint[0]["attribute"] == f"{DRIVER_A}/numa"


def test_constraint_missing_attribute():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2")]
    c = claim("claim-0", request("req-0", count=2), constraints=[{"matchAttribute": f"{DRIVER_A}/NonExistentAttribute"}])
    out = run(objs, [c])
    assert not out.fits and out.error is None


def test_distinct_attribute_rejected_by_stable():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")]
    c = claim("claim-0", request("req-0"), constraints=[{"distinctAttribute": f"{DRIVER_A}/numa"}])
    out = run(objs, [c])
    assert out.error == "claim default/claim-0, constraint #0: empty constraint (unsupported constraint type?)"


def test_distinct_attribute_experimental():
    devs = [device("device-1", attrs={"numa": 1}), device("device-2", attrs={"numa": 1}),
            device("device-3", attrs={"numa": 2})]
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)]
    c = claim("claim-0", request("req-0", count=2), constraints=[{"distinctAttribute": f"{DRIVER_A}/numa"}])
    out = run(objs, [c], gates=ALL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-3")])]


def test_cel_runtime_error():
    objs = [CA, one()]
    out = run(objs, [claim("claim-0", request("req-0", selectors=[sel_error()]))])
    assert out.error.startswith("claim default/claim-0: selector #0: CEL runtime error:")
    assert out.trace.requests[0].cel_errors


TAINT = {"key": "taint-key", "value": "taint-value", "effect": "NoSchedule"}
TAINT_NONE = {"key": "taint-key", "value": "taint-value", "effect": "None"}


def test_tainted_device_skipped():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", taints=[TAINT]), "device-2")]
    out = run(objs, [claim("claim-0", request("req-0"))], gates=ALL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]
    tr = out.trace.requests[0]
    assert tr.rejected_taint == [{"device": "driver-a/pool-1/device-1", "key": "taint-key",
                                  "value": "taint-value", "effect": "NoSchedule"}]


def test_taint_tolerated():
    tol = {"operator": "Exists", "key": "taint-key", "effect": "NoSchedule"}
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", taints=[TAINT]))]
    out = run(objs, [claim("claim-0", request("req-0", tolerations=[tol]))], gates=ALL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.results[("default", "claim-0")][0].tolerations == [tol]


def test_taint_effect_none_ignored_and_taints_ignored_without_gate():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", taints=[TAINT_NONE]))]
    assert run(objs, [claim("claim-0", request("req-0"))], gates=ALL).fits
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, device("device-1", taints=[TAINT]))]
    assert run(objs, [claim("claim-0", request("req-0"))], gates=G134).fits


def _partitionable(*devs, counter="memory", total="8Gi"):
    return resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs, counters={"gpu-0": {counter: total}})


def test_partitionable_counters():
    devs = [device("part-1", consumes={"gpu-0": {"memory": "4Gi"}}),
            device("part-2", consumes={"gpu-0": {"memory": "4Gi"}}),
            device("part-3", consumes={"gpu-0": {"memory": "4Gi"}})]
    out = run([CA, _partitionable(*devs)], [claim("claim-0", request("req-0", count=3))], gates=ALL)
    assert not out.fits
    out = run([CA, _partitionable(*devs)], [claim("claim-0", request("req-0", count=2))], gates=ALL)
    assert [r.device for r in out.results[("default", "claim-0")]] == ["part-1", "part-2"]


def test_partitionable_counters_consumed_by_allocated():
    devs = [device("whole", consumes={"gpu-0": {"memory": "8Gi"}}),
            device("part-1", consumes={"gpu-0": {"memory": "4Gi"}})]
    objs = [CA, _partitionable(*devs), allocated_claim("holder", (DRIVER_A, POOL1, "whole"))]
    out = run(objs, [claim("claim-0", request("req-0"))], gates=ALL)
    assert not out.fits
    tr = out.trace.requests[0]
    assert tr.rejected_counters == [{"device": "driver-a/pool-1/part-1", "counter_set": "gpu-0", "counter": "memory",
                                     "needed": "4294967296", "left": "0"}]


def test_partitionable_disabled_skips_counter_slices():
    devs = [device("part-1", consumes={"gpu-0": {"memory": "4Gi"}})]
    out = run([CA, _partitionable(*devs)], [claim("claim-0", request("req-0"))], gates=G134)
    assert not out.fits and out.error is None


def test_capacity_requests_need_gate():
    c = claim("claim-0", request("req-0", capacity={"bandwidth": "1Gi"}))
    out = run([CA, one()], [c])
    assert out.error == "claim default/claim-0, request req-0: has capacity requests, but the DRAConsumableCapacity feature is disabled"


def test_consumable_capacity_shares_device():
    dev = device("device-1", multi=True, capacity={"bandwidth": {"value": "10Gi", "requestPolicy": {
        "default": "1Gi", "validRange": {"min": "1Gi", "step": "1Gi"}}}})
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, dev)]
    c = claim("claim-0", request("req-0", capacity={"bandwidth": "1500Mi"}), request("req-1"))
    out = run(objs, [c], gates=ALL)
    res = out.results[("default", "claim-0")]
    assert [(r.device, r.consumed_capacity) for r in res] == [
        ("device-1", {"bandwidth": "2147483648"}), ("device-1", {"bandwidth": "1073741824"})]
    assert res[0].share_id and res[0].share_id != res[1].share_id


def test_consumable_capacity_exhausted_by_existing():
    dev = device("device-1", multi=True, capacity={"bandwidth": {"value": "2Gi"}})
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, dev),
            allocated_claim("holder", (DRIVER_A, POOL1, "device-1", {"shareID": "x", "consumedCapacity": {"bandwidth": "2Gi"}}))]
    out = run(objs, [claim("claim-0", request("req-0", capacity={"bandwidth": "1Gi"}))], gates=ALL)
    assert not out.fits
    assert out.trace.requests[0].rejected_capacity


def test_binding_conditions_gate_and_order():
    bdev = device("device-1", binding=["ready"], binds_to_node=True)
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, bdev), resource_slice("slice-2", NODE1, POOL2, DRIVER_A, "device-1")]
    out = run(objs, [claim("claim-0", request("req-0"))], gates=G134)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL2, "device-1")])]
    # With binding conditions enabled, pools with binding conditions come last.
    out = run(objs, [claim("claim-0", request("req-0", count=2))], gates=ALL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL2, "device-1"), ("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.results[("default", "claim-0")][1].binding_conditions == ["ready"]


def test_network_attached_node_selector():
    sel = {"nodeSelectorTerms": [{"matchExpressions": [label_in("region", "r1")]}]}
    objs = [CA, node(NODE1, {"region": "r1"}), resource_slice("slice-1", None, POOL1, DRIVER_A, "device-1", node_selector=sel)]
    out = run(objs, [claim("claim-0", request("req-0"))])
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == sel
    objs[1] = node(NODE1, {"region": "r2"})
    assert not run(objs, [claim("claim-0", request("req-0"))]).fits


def test_all_nodes_no_selector():
    objs = [CA, resource_slice("slice-1", None, POOL1, DRIVER_A, "device-1", all_nodes=True)]
    out = run(objs, [claim("claim-0", request("req-0"))])
    assert out.fits and "nodeSelector" not in out.allocations[("default", "claim-0")]


def test_per_device_node_selection():
    devs = [device("device-1", node_name=NODE2), device("device-2", node_name=NODE1)]
    objs = [CA, node(NODE1), node(NODE2), resource_slice("slice-1", None, POOL1, DRIVER_A, *devs, per_device=True)]
    out = run(objs, [claim("claim-0", request("req-0"))], gates=ALL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]
    # gate off: per-device slices are ignored
    assert not run(objs, [claim("claim-0", request("req-0"))], gates=G134).fits


def test_class_and_claim_config():
    cfg = {"opaque": {"driver": DRIVER_A, "parameters": {"a": 1}}}
    cls = device_class("class-a", driver=DRIVER_A, config=[cfg])
    c = claim("claim-0", request("req-0"), request("req-1"), config=[{"requests": ["req-1"], **cfg}, cfg])
    objs = [cls, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2")]
    out = run(objs, [c])
    conf = out.allocations[("default", "claim-0")]["devices"]["config"]
    assert conf[0] == {"source": "FromClass", "requests": ["req-0", "req-1"], **cfg}
    assert conf[1] == {"source": "FromClaim", "requests": ["req-1"], **cfg}
    assert conf[2] == {"source": "FromClaim", **cfg}


def test_pool_and_slice_order():
    # Pools sort by driver then pool name; slices within a pool by name, regardless of input order.
    objs = [CA, resource_slice("z-slice", NODE1, "pool-b", DRIVER_A, "device-1", count=2),
            resource_slice("a-slice", NODE1, "pool-b", DRIVER_A, "device-2", count=2),
            resource_slice("m-slice", NODE1, "pool-a", DRIVER_A, "device-9")]
    out = run(objs, [claim("claim-0", request("req-0", count=3))])
    assert [(r.pool, r.device) for r in out.results[("default", "claim-0")]] == [
        ("pool-a", "device-9"), ("pool-b", "device-2"), ("pool-b", "device-1")]
