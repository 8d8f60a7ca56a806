"""Upstream allocator table: consumable capacity (multi-allocatable devices) and distinctAttribute.

Each test names the upstream case it ports; the features are exactly those the upstream case enables.
Upstream replaces every shareID with a fixed value before comparing; we check that a shareID is set
(``True`` in :func:`consumed`'s tuples) and compare consumed capacity as exact quantities.
"""

from __future__ import annotations

from fractions import Fraction

from tests.builders import (
    CAP0, CAP1, CS1, CS2, DRIVER_A, NODE1, POOL1, claim, consumed, device, device_class, feats, first_available,
    in_use, local_selector, no_fit, range_policy, request, resource_slice, run_cel,
    sel_driver_and_multi_allocations, shared_use, subrequest, values_policy,
)

CA = device_class("class-a", driver=DRIVER_A)
MULTI = device_class("class-a", sel_driver_and_multi_allocations(DRIVER_A, True))
SINGLE = device_class("class-a", sel_driver_and_multi_allocations(DRIVER_A, False))
CC = feats(consumable=True)
D1 = (DRIVER_A, POOL1, "device-1")


def q(n):
    return Fraction(n)


def mdev(name, capacity=None, **kw):
    """A multi-allocatable device; capacity {name: qty or policy dict}."""
    return device(name, capacity=capacity, multi=True, **kw)


def one_slice(*devs):
    return resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)


def creq(name="req-0", amount=None, **kw):
    return request(name, capacity={CAP0: str(amount)} if amount is not None else None, **kw)


def test_consumable_capacity_disabled_feature():
    out = run_cel([CA, one_slice("device-1")], [claim("claim-0", creq(amount=1))], gates=feats(binding=True))
    assert "claim default/claim-0, request req-0: has capacity requests, but the DRAConsumableCapacity feature is disabled" in out.error


def test_consumable_capacity_disabled_feature_with_prioritized_list():
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", capacity={CAP0: "1"}), subrequest("subReq-1", capacity={CAP0: "1"})))
    out = run_cel([CA, one_slice("device-1")], [c], gates=feats(binding=True, prioritized=True))
    assert "claim default/claim-0, subrequest subReq-0: has capacity requests, but the DRAConsumableCapacity feature is disabled" in out.error


def test_multi_allocatable_device_with_missing_capacity_request():
    # The request names capacity-0, the device only has capacity-1.
    out = run_cel([CA, one_slice(mdev("device-1", {CAP1: "1"}))], [claim("claim-0", creq(amount=1))], gates=CC)
    assert no_fit(out)


def test_multi_allocatable_device_allocation_mode_all_with_missing_capacity_request():
    out = run_cel([MULTI, one_slice(mdev("device-1", {CAP1: "1"}))], [claim("claim-0", creq(amount=1, mode="All"))], gates=CC)
    assert no_fit(out)


def test_multi_allocatable_device_without_capacity_without_capacity_request():
    out = run_cel([MULTI, one_slice(mdev("device-1"))], [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", None, True)]), ("claim-1", [("req-0", "device-1", None, True)])]
    assert out.allocations[("default", "claim-1")]["nodeSelector"] == local_selector(NODE1)


def test_multi_allocatable_device_without_policy_without_capacity_request():
    # No policy, no request: each allocation takes the whole capacity, so the claims get different devices.
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: "1"}), mdev("device-2", {CAP0: "1"}))]
    out = run_cel(objs, [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1)}, True)]),
                             ("claim-1", [("req-0", "device-2", {CAP0: q(1)}, True)])]


def test_multi_allocatable_device_without_policy_without_capacity_request_block():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: "2"}))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))], gates=CC))


def test_multi_allocatable_device_without_policy_with_capacity_request():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: "2"}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=1)), claim("claim-1", creq(amount=1))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1)}, True)]),
                             ("claim-1", [("req-0", "device-1", {CAP0: q(1)}, True)])]


def test_multi_allocatable_device_with_policy_without_capacity_request():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(4)}))]
    out = run_cel(objs, [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)]),
                             ("claim-1", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_zero_request_policy():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: values_policy(1, 0)}))]
    out = run_cel(objs, [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(0)}, True)]),
                             ("claim-1", [("req-0", "device-1", {CAP0: q(0)}, True)])]


def test_multi_allocatable_device_violates_zero_request_policy():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: values_policy(1, 0)}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1))], gates=CC))


def test_multi_allocatable_device_with_range_policy_with_capacity_request():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(4)}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=1)), claim("claim-1", creq(amount=1))], gates=CC)
    # Rounded up to the range's minimum.
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)]),
                             ("claim-1", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_range_policy_step():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(4)}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=3))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(4)}, True)])]


def test_multi_allocatable_device_with_valid_values_policy():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: values_policy(4, 1, 2)}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_valid_values_policy_round_up():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: values_policy(3, 1, 3)}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(3)}, True)])]


def test_multi_allocatable_device_with_exceeded_consumable_capacity_request():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(2)}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1)), claim("claim-1", creq(amount=2))], gates=CC))


def test_multi_allocatable_device_with_request_over_max_sharing_policy():
    # 6 < 10 but the policy's maximum is 4.
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(10)}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=6))], gates=CC))


def test_multi_allocatable_device_with_allocated_capacity_use_remaining():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(4)})), shared_use(D1, {CAP0: "2"})]
    out = run_cel(objs, [claim("claim-0", creq(amount=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_allocated_capacity_next_device():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(2)}), mdev("device-2", {CAP0: range_policy(2)})),
            shared_use(D1, {CAP0: "2"})]
    out = run_cel(objs, [claim("claim-0", creq(amount=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-2", {CAP0: q(2)}, True)])]


def test_consumable_capacity_with_multi_allocatable_device_backtrack():
    d2 = mdev("device-2", {CAP0: range_policy(2)}, attrs={"stringAttribute": "stringAttributeValue1"})
    d1 = mdev("device-1", {CAP0: range_policy(4)}, attrs={"stringAttribute": "stringAttributeValue2"})
    c0 = claim("claim-0", creq("req-0", 2), creq("req-1", 2), constraints=[{"matchAttribute": f"{DRIVER_A}/stringAttribute"}])
    out = run_cel([CA, one_slice(d2, d1)], [c0, claim("claim-1", creq(amount=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True), ("req-1", "device-1", {CAP0: q(2)}, True)]),
                             ("claim-1", [("req-0", "device-2", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_subrequest():
    # Upstream lists two subrequests named subReq-1; the first one that fits wins.
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", capacity={CAP0: "4"}), subrequest("subReq-1", capacity={CAP0: "2"}),
                                         subrequest("subReq-1")))
    out = run_cel([MULTI, one_slice(mdev("device-1", {CAP0: range_policy(2)}))], [c], gates=feats(consumable=True, prioritized=True))
    assert consumed(out) == [("claim-0", [("req-0/subReq-1", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_with_no_available_consumable_capacity():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(2)})), shared_use(D1, {CAP0: "2"})]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=2))], gates=CC))


def test_multi_allocatable_device_allocation_mode_all_filter_out_no_capacity():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: "2"}), mdev("device-2"))]
    out = run_cel(objs, [claim("claim-0", creq(amount=2, mode="All"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_allocation_mode_all_filter_out_insufficient_capacity():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: "2"}), mdev("device-2", {CAP0: "1"}))]
    out = run_cel(objs, [claim("claim-0", creq(amount=2, mode="All"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True)])]


def test_multi_allocatable_device_allocation_mode_all_allocating_sufficient():
    objs = [CA, one_slice(mdev("device-1", {CAP0: "2"}), mdev("device-2", {CAP0: "1"}))]
    out = run_cel(objs, [claim("claim-0", creq("req-0", 1), creq("req-1", 1, mode="All"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1)}, True), ("req-1", "device-1", {CAP0: q(1)}, True),
                                          ("req-1", "device-2", {CAP0: q(1)}, True)])]


def test_multi_allocatable_device_allocation_mode_all_in_use_sufficient():
    objs = [CA, one_slice(mdev("device-1", {CAP0: "2"}), mdev("device-2", {CAP0: "1"})), shared_use(D1, {CAP0: "1"})]
    out = run_cel(objs, [claim("claim-0", creq(amount=1, mode="All"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1)}, True), ("req-0", "device-2", {CAP0: q(1)}, True)])]


def test_multi_allocatable_device_allocation_mode_all_allocating_insufficient():
    objs = [CA, one_slice(mdev("device-1", {CAP0: "1"}), mdev("device-2", {CAP0: "1"}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq("req-0", 1), creq("req-1", 1, mode="All"))], gates=CC))


def test_multi_allocatable_device_allocation_mode_all_in_use_insufficient():
    # device-1 has no capacity left, so "All" is only device-2.
    objs = [CA, one_slice(mdev("device-1", {CAP0: "1"}), mdev("device-2", {CAP0: "1"})), shared_use(D1, {CAP0: "1"})]
    out = run_cel(objs, [claim("claim-0", creq(amount=1, mode="All"))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-2", {CAP0: q(1)}, True)])]


def test_consumable_capacity_dedicated_device_with_consumable_capacity_request():
    # A dedicated device satisfies a capacity request without recording consumption or a shareID.
    out = run_cel([SINGLE, one_slice(device("device-1", capacity={CAP0: "1"}))], [claim("claim-0", creq(amount=1))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", None, False)])]


def test_consumable_capacity_dedicated_device_with_multiple_consumable_capacity_request():
    objs = [SINGLE, one_slice(device("device-1", capacity={CAP0: range_policy(2)}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1)), claim("claim-1", creq(amount=1))], gates=CC))


def test_allow_multiple_allocations_exclude_multi_allocatable_device_by_class_selector():
    objs = [SINGLE, one_slice(mdev("device-1", {CAP0: "1"}))]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1))], gates=CC))


def test_allow_multiple_allocations_not_allocate_multi_allocatable_device_which_already_dedicated():
    objs = [MULTI, one_slice(mdev("device-1", {CAP0: range_policy(2)})), in_use(D1)]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1))], gates=CC))


def test_allow_multiple_allocations_not_allocate_dedicated_device_which_change_from_multi_allocatable():
    # The class wants multi-allocatable devices, and the device (no longer multi-allocatable) is shared already.
    objs = [MULTI, one_slice(device("device-1", capacity={CAP0: range_policy(2)})), shared_use(D1, {CAP0: "1"})]
    assert no_fit(run_cel(objs, [claim("claim-0", creq(amount=1))], gates=CC))


def mem(n):
    return f'device.capacity["{DRIVER_A}"].memory.compareTo(quantity("{n}")) >= 0'


def test_allow_multiple_allocations_with_partitionable_device():
    def d(name, m):
        return device(name, capacity={"memory": m}, consumes={CS1: {"memory": m}}, multi=True)
    objs = [MULTI, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, d("device-1", "4Gi"), d("device-2", "6Gi"), d("device-3", "4Gi"), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {"memory": "8Gi"}}, count=2)]
    c = claim("claim-0", request("req-0"),
              first_available("req-1", subrequest("subReq-0", selectors=[mem("6Gi")]), subrequest("subReq-1", selectors=[mem("4Gi")])))
    out = run_cel(objs, [c], gates=feats(prioritized=True, partitionable=True, consumable=True))
    gi4 = q(4 * 1024 ** 3)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {"memory": gi4}, True), ("req-1/subReq-1", "device-3", {"memory": gi4}, True)])]


def test_consumable_capacity_with_partitionable_device_multiple_capacity_pools():
    def d(name, c0):
        return device(name, capacity={CAP0: c0, CAP1: range_policy(4)}, consumes={CS1: {CAP0: c0}, CS2: {CAP1: "4"}}, multi=True)
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, d("device-1", "2"), d("device-2", "4"), d("device-3", "2"), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, counters={CS1: {CAP0: "4"}, CS2: {CAP1: "8"}}, count=2)]

    def cap_at_least(n):
        return f'device.capacity["{DRIVER_A}"]["{CAP0}"].compareTo(quantity("{n}")) >= 0'
    c = claim("claim-0", creq("req-0", 1), creq("req-2", 2),
              first_available("req-1", subrequest("subReq-0", selectors=[cap_at_least(4)], capacity={CAP0: "1"}),
                              subrequest("subReq-1", selectors=[cap_at_least(2)], capacity={CAP0: "1"})))
    out = run_cel(objs, [c], gates=feats(prioritized=True, partitionable=True, consumable=True))
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1), CAP1: q(2)}, True),
                                          ("req-2", "device-3", {CAP0: q(2), CAP1: q(2)}, True),
                                          ("req-1/subReq-1", "device-1", {CAP0: q(1), CAP1: q(2)}, True)])]


# ---- distinctAttribute (needs an implementation newer than "stable": ConsumableCapacity selects it) ----

def adev(name, multi=True, **attrs):
    d = device(name, multi=multi)
    typed = {}
    for k, v in attrs.items():
        typed[k] = {"version": v} if k == "driverVersion" else {"bool": v} if isinstance(v, bool) else \
            {"int": v} if isinstance(v, int) else {"string": v}
    d["attributes"] = typed
    return d


def distinct(attr, *requests):
    c = {"distinctAttribute": f"{DRIVER_A}/{attr}"}
    if requests:
        c["requests"] = list(requests)
    return c


def test_with_distinct_constraints():
    devs = [adev("device-1", driverVersion="1.0.0", numa=0, boolAttribute=True),
            adev("device-2", driverVersion="1.0.1", numa=1, boolAttribute=False),
            adev("device-3", driverVersion="1.0.2", numa=2, boolAttribute=True),
            adev("device-4", driverVersion="1.0.0", numa=3, boolAttribute=True)]
    c = claim("claim-0", request("req-0"), request("req-1"), request("req-2"), request("req-3"),
              constraints=[distinct("boolAttribute", "req-0", "req-1"), distinct("driverVersion", "req-0", "req-1", "req-2"),
                           distinct("numa", "req-0", "req-1", "req-2", "req-3")])
    out = run_cel([CA, one_slice(*devs)], [c], gates=CC)
    assert consumed(out) == [("claim-0", [(f"req-{i}", f"device-{i + 1}", None, True) for i in range(4)])]


def test_with_distinct_constraints_attribute_not_set():
    c = claim("claim-0", request("req-0"), constraints=[distinct("boolAttribute", "req-0")])
    assert no_fit(run_cel([CA, one_slice(mdev("device-1"))], [c], gates=CC))


def test_with_distinct_constraints_with_subrequests():
    bool_sel = f'device.attributes["{DRIVER_A}"].boolAttribute'

    def pl(name):
        return first_available(name, subrequest("subReq-0", selectors=[bool_sel]), subrequest("subReq-1"))
    c = claim("claim-0", pl("req-0"), pl("req-1"), pl("req-2"), constraints=[distinct("boolAttribute", "req-0", "req-1")])
    devs = [adev("device-1", boolAttribute=True), adev("device-2", boolAttribute=False)]
    out = run_cel([CA, one_slice(*devs)], [c], gates=feats(consumable=True, prioritized=True))
    assert consumed(out) == [("claim-0", [("req-0/subReq-0", "device-1", None, True), ("req-1/subReq-1", "device-2", None, True),
                                          ("req-2/subReq-0", "device-1", None, True)])]


def test_distinct_constraint_one_multi_allocatable_device_with_distinct_constraint():
    d = mdev("device-1", {CAP0: range_policy(2)}, attrs={"stringAttribute": "stringAttributeValue"})
    c = claim("claim-0", creq("req-0", 1), creq("req-1", 1), constraints=[distinct("stringAttribute")])
    assert no_fit(run_cel([MULTI, one_slice(d)], [c], gates=CC))


def test_distinct_constraint_two_multi_allocatable_devices_with_distinct_constraint():
    # Upstream puts the two devices in two slices of one name; ours are named apart.
    d1 = mdev("device-1", {CAP0: range_policy(4)}, attrs={"stringAttribute": "stringAttributeValue1"})
    d2 = mdev("device-2", {CAP0: range_policy(4)}, attrs={"stringAttribute": "stringAttributeValue2"})
    objs = [MULTI, resource_slice("slice-1a", NODE1, POOL1, DRIVER_A, d1, count=2), resource_slice("slice-1b", NODE1, POOL1, DRIVER_A, d2, count=2)]
    c = claim("claim-0", creq("req-0", 2), creq("req-1", 2), constraints=[distinct("stringAttribute")])
    out = run_cel(objs, [c], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(2)}, True), ("req-1", "device-2", {CAP0: q(2)}, True)])]


def _counter_devices():
    """Two multi-allocatable devices sharing one counter that only one of them can take."""
    return [mdev(name, {CAP0: "1"}, attrs={"mode": mode}, consumes={CS1: {CAP0: "1"}})
            for name, mode in (("device-1", "a"), ("device-2", "b"))]


def test_shared_device_counter_cross_cycle():
    # upstream: allow-multiple-allocations-with-shared-device-counter-cross-cycle. device-1 is already held
    # through a shared (shareID) allocation, so its counters are spent: device-2 cannot take them.
    objs = [MULTI, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *_counter_devices(), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, count=2, counters={CS1: {CAP0: "1"}}),
            shared_use(D1, {CAP0: "1"})]
    out = run_cel(objs, [claim("claim-0", _wants_device_2())], gates=feats(consumable=True, partitionable=True))
    assert no_fit(out)


def _wants_device_2():
    return creq(amount=1, selectors=['device.attributes["driver-a"].mode == "b"'])


def test_shared_device_counters_counted_once_however_many_share_it():
    # device-1 is shared by two claims but spends its counters once: 1 of 2 left, enough for device-2.
    objs = [MULTI, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *_counter_devices(), count=2),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_A, count=2, counters={CS1: {CAP0: "2"}}),
            shared_use(D1, {CAP0: "0"}, name="sharer-1"), shared_use(D1, {CAP0: "0"}, name="sharer-2")]
    out = run_cel(objs, [claim("claim-0", _wants_device_2())], gates=feats(consumable=True, partitionable=True))
    assert consumed(out) == [("claim-0", [("req-0", "device-2", {CAP0: q(1)}, True)])]


def test_all_mode_takes_devices_without_a_capacity_map():
    # allocationMode All under DRAConsumableCapacity (on by default in 1.36): a device without a capacity map
    # consumes nothing and is taken like any other; so is a multi-allocatable one with capacity beside it.
    plain = [device("device-1"), device("device-2")]
    out = run_cel([CA, one_slice(*plain)], [claim("claim-0", request("req-0", mode="All", count=None))], gates=CC)
    assert [(r[0], r[1]) for r in consumed(out)[0][1]] == [("req-0", "device-1"), ("req-0", "device-2")]

    mixed = [device("device-1"), mdev("device-2", {CAP0: "4"})]
    out = run_cel([CA, one_slice(*mixed)], [claim("claim-0", request("req-0", mode="All", count=None))], gates=CC)
    assert [(r[0], r[1]) for r in consumed(out)[0][1]] == [("req-0", "device-1"), ("req-0", "device-2")]


def test_one_request_never_gets_the_same_multi_allocatable_device_twice():
    # count 2 on multi-allocatable devices with room for both: two different devices, never device-1 twice;
    # with only one such device the request does not fit.
    two = one_slice(mdev("device-1", {CAP0: "4"}), mdev("device-2", {CAP0: "4"}))
    out = run_cel([MULTI, two], [claim("claim-0", creq(amount=1, count=2))], gates=CC)
    assert consumed(out) == [("claim-0", [("req-0", "device-1", {CAP0: q(1)}, True),
                                          ("req-0", "device-2", {CAP0: q(1)}, True)])]
    out = run_cel([MULTI, one_slice(mdev("device-1", {CAP0: "4"}))], [claim("claim-0", creq(amount=1, count=2))],
                  gates=CC)
    assert no_fit(out)
    # two requests of one claim may still share the device
    out = run_cel([MULTI, one_slice(mdev("device-1", {CAP0: "4"}))],
                  [claim("claim-0", creq("req-0", 1), creq("req-1", 1))], gates=CC)
    assert [(r[0], r[1]) for r in consumed(out)[0][1]] == [("req-0", "device-1"), ("req-1", "device-1")]


def test_distinct_attribute_keeps_one_value_per_request():
    # Reproduced upstream 1.36.2 behaviour (distinctAttributeConstraint keeps one value per request name):
    # within one request only the latest device's value is remembered, so numa 0, 1, 0 passes.
    devs = [adev("device-1", multi=False, numa=0), adev("device-2", multi=False, numa=1),
            adev("device-3", multi=False, numa=0)]
    c = claim("claim-0", request("req-0", count=3), constraints=[distinct("numa")])
    out = run_cel([CA, one_slice(*devs)], [c], gates=CC)
    assert [(r[0], r[1]) for r in consumed(out)[0][1]] == [("req-0", "device-1"), ("req-0", "device-2"),
                                                           ("req-0", "device-3")]
    # across requests the values stay distinct: two requests cannot both have numa 0
    c = claim("claim-0", request("req-0"), request("req-1"), constraints=[distinct("numa")])
    out = run_cel([CA, one_slice(devs[0], devs[2])], [c], gates=CC)
    assert no_fit(out)
