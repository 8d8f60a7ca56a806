"""Upstream allocator table: network-attached devices, multi-host pools, invalid / incomplete pools,
and the "check-combinations" search cases.

Each test names the upstream case it ports; the features are exactly those the upstream case enables.
Upstream's table reuses one slice name for several slices; our snapshot keys slices by name, so such
slices get distinct names here (slices of one pool are searched in name order, which the names keep).
"""

from __future__ import annotations

from tests.builders import (
    DRIVER_A, NODE1, NODE2, POOL1, POOL2, REGION1, REGION2, claim, device, device_class, feats, first_available,
    in_use, label_selector, local_selector, no_fit, picked, request, resource_slice, run_cel, subrequest,
    upstream_node,
)

CA = device_class("class-a", driver=DRIVER_A)
POOL3, POOL4 = "pool-3", "pool-4"


def one(name, node, pool, **kw):
    return resource_slice(name, node, pool, DRIVER_A, "device-1", **kw)


def nodes():
    return [upstream_node(NODE1, REGION1), upstream_node(NODE2, REGION2)]


# ---- network-attached devices ------------------------------------------------------------------------

def test_network_attached_device():
    sel = label_selector("region", REGION1)
    out = run_cel([CA, one("slice-1", None, POOL1, node_selector=sel)], [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == sel


def test_unsuccessful_allocation_network_attached_device():
    objs = [CA, *nodes(), one("slice-1", None, POOL1, node_selector=label_selector("region", REGION1))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))], node_name=NODE2))


def test_many_network_attached_devices():
    objs = [CA, one("slice-1a", None, POOL1, node_selector=label_selector("region", REGION1)),
            one("slice-1b", None, POOL2, all_nodes=True),
            one("slice-1c", None, POOL3, node_selector=label_selector("planet", "earth")),
            one("slice-1d", None, POOL4, node_selector=local_selector(NODE1))]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=4))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, p, "device-1") for p in (POOL1, POOL2, POOL3, POOL4)])]
    # The union of the single-term selectors, one term.
    sel = out.allocations[("default", "claim-0")]["nodeSelector"]
    assert len(sel["nodeSelectorTerms"]) == 1
    term = sel["nodeSelectorTerms"][0]
    assert sorted(map(str, term["matchExpressions"])) == sorted(map(str, [
        {"key": "region", "operator": "In", "values": [REGION1]}, {"key": "planet", "operator": "In", "values": ["earth"]}]))
    assert term["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": [NODE1]}]


def test_local_and_network_attached_devices():
    objs = [CA, one("slice-1a", None, POOL1, node_selector=label_selector("region", REGION1)), one("slice-1b", NODE1, POOL2)]
    out = run_cel(objs, [claim("claim-0", request("req-0", count=2))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL2, "device-1")])]
    # Any node-local device pins the allocation to the node.
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


# ---- multi-host pools ------------------------------------------------------------------------------------

def ms(name, node, dev, generation=1, count=2):
    return resource_slice(name, node, POOL1, DRIVER_A, dev, generation=generation, count=count)


def test_allocation_mode_all_with_multi_host_resource_pool():
    objs = [CA, *nodes(), ms("slice-1", NODE1, "device-1"), ms("slice-2", NODE2, "device-2")]
    out = run_cel(objs, [claim("claim-0", request("req-0", mode="All"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_multi_host_resource_pool_with_stale_slice_for_current_node():
    objs = [CA, *nodes(), ms("slice-1", NODE1, "device-1", 1), ms("slice-2", NODE2, "device-2", 2)]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))]))


def test_multi_host_resource_pool_complete_update_from_node_1_to_node_2():
    # Upstream would rather not allocate here, but a complete old generation on this node is still used.
    objs = [CA, *nodes(), ms("slice-1a", NODE1, "device-1", 1), ms("slice-1b", NODE1, "device-2", 1),
            ms("slice-2a", NODE2, "device-1", 2), ms("slice-2b", NODE2, "device-2", 2)]
    out = run_cel(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_multi_host_resource_pool_complete_update_from_node_2_to_node_1():
    objs = [CA, *nodes(), ms("slice-1a", NODE2, "device-1", 1), ms("slice-1b", NODE2, "device-2", 1),
            ms("slice-2a", NODE1, "device-1", 2), ms("slice-2b", NODE1, "device-2", 2)]
    out = run_cel(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_multi_host_resource_pool_incomplete_update_from_node_1_to_node_2():
    objs = [CA, *nodes(), ms("slice-1a", NODE1, "device-1", 1), ms("slice-1b", NODE1, "device-2", 1),
            ms("slice-2a", NODE2, "device-1", 2)]
    out = run_cel(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_multi_host_resource_pool_incomplete_update_from_node_2_to_node_1():
    # This node only has one slice of the new generation: incomplete, nothing allocated.
    objs = [CA, *nodes(), ms("slice-1a", NODE2, "device-1", 1), ms("slice-1b", NODE2, "device-2", 1),
            ms("slice-2a", NODE1, "device-1", 2)]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))]))


def test_different_resourceslices_in_pool_can_target_different_nodes():
    objs = [CA, *nodes(), ms("slice-1", NODE2, "device-1"), ms("slice-2", NODE1, "device-2")]
    out = run_cel(objs, [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2")])]


# ---- invalid / incomplete pools ----------------------------------------------------------------------------

def _dup_pool():
    return [ms("slice-1", NODE1, "device-1"), ms("slice-2", NODE1, "device-1"),
            resource_slice("slice-3", NODE1, POOL2, DRIVER_A, "device-2")]


def test_invalid_pool_is_ok_if_devices_can_be_allocated_from_other():
    out = run_cel([CA, *_dup_pool()], [claim("claim-0", request("req-0"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL2, "device-2")])]


def test_invalid_pool_is_error_if_no_other_device_can_be_allocated():
    out = run_cel([CA, *_dup_pool(), in_use((DRIVER_A, POOL2, "device-2"))], [claim("claim-0", request("req-0"))])
    assert not out.fits and "invalid resource pools were encountered" in out.unschedulable_reason


def test_no_allocation_from_incomplete_pools():
    assert no_fit(run_cel([CA, ms("slice-1", NODE1, "device-1")], [claim("claim-0", request("req-0"))]))


# ---- search: combinations and backtracking --------------------------------------------------------------
# Upstream also checks how often its search recursed (expectNumAllocateOneInvocations); that counter
# is Go-internal and not ported.  The outcome (no fit / devices chosen) is.

FOUR = ["device-1", "device-2", "device-3", "device-4"]


def test_check_combinations_within_single_request_single_pool_single_slice():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *FOUR)]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=5))]))


def test_check_combinations_within_single_request_single_pool_multiple_slices():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *FOUR[:2], count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, *FOUR[2:], count=2)]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=5))]))


def test_check_combinations_within_single_request_multiple_pools_multiple_slices():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, "device-2", count=2),
            resource_slice("slice-3", NODE1, POOL2, DRIVER_A, "device-3", "device-4")]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=5))]))


def test_check_combinations_within_single_request_many_pools():
    objs = [CA, *[resource_slice(f"slice-{i}", NODE1, f"pool-{i}", DRIVER_A, f"device-{i}") for i in (1, 2, 3, 4)]]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=5))]))


def tdev(name, t, **kw):
    return device(name, attrs={"type": t}, **kw)


TYPE_X = f'device.attributes["{DRIVER_A}"].type == "X"'
TYPE_Y = f'device.attributes["{DRIVER_A}"].type == "Y"'


def test_check_combinations_with_backtracking():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, tdev("device-1", "X"), tdev("device-2", "Y"), tdev("device-3", "Y"))]
    out = run_cel(objs, [claim("claim-0", request("req-1", count=2), request("req-2", selectors=[TYPE_X]))])
    assert picked(out) == [("claim-0", [("req-1", DRIVER_A, POOL1, "device-2"), ("req-1", DRIVER_A, POOL1, "device-3"),
                                        ("req-2", DRIVER_A, POOL1, "device-1")])]


def test_check_combinations_with_backtracking_across_slices_and_pools():
    d3 = tdev("device-3", "Y")
    d3["bindingConditions"] = ["IsPrepare"]
    d3["bindingFailureConditions"] = []
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, tdev("device-1", "X"), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, tdev("device-2", "Y"), count=2),
            resource_slice("slice-3", NODE1, POOL2, DRIVER_A, d3)]
    out = run_cel(objs, [claim("claim-0", request("req-1", count=2), request("req-2", selectors=[TYPE_X]))], gates=feats(binding=True))
    assert picked(out) == [("claim-0", [("req-1", DRIVER_A, POOL1, "device-2"), ("req-1", DRIVER_A, POOL2, "device-3"),
                                        ("req-2", DRIVER_A, POOL1, "device-1")])]
    assert [r.binding_conditions for r in out.results[("default", "claim-0")]] == [None, ["IsPrepare"], None]


def test_check_combinations_with_prioritized_list():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, tdev("device-1", "X"), tdev("device-2", "Y"), tdev("device-3", "Y"))]
    c = claim("claim-0", first_available("req-1", subrequest("subReq-0", count=3, selectors=[TYPE_Y]), subrequest("subReq-1", count=2)),
              first_available("req-2", subrequest("subReq-0", count=2), subrequest("subReq-1", selectors=[TYPE_X])))
    out = run_cel(objs, [c], gates=feats(prioritized=True))
    assert picked(out) == [("claim-0", [("req-1/subReq-1", DRIVER_A, POOL1, "device-2"), ("req-1/subReq-1", DRIVER_A, POOL1, "device-3"),
                                        ("req-2/subReq-1", DRIVER_A, POOL1, "device-1")])]
