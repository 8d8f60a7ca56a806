"""Upstream allocator table: admin access and prioritized lists (firstAvailable).

Each test names the upstream case it ports; the features are exactly those the upstream case enables.
"""

from __future__ import annotations

from tests.builders import (
    DRIVER_A, DRIVER_B, NODE1, NODE2, POOL1, POOL2, claim, device, device_class, feats, first_available, in_use,
    local_selector, no_fit, picked, request, resource_slice, run_cel, subrequest,
)

CA = device_class("class-a", driver=DRIVER_A)
CB = device_class("class-b", driver=DRIVER_B)
ADMIN = feats(admin=True)
PL = feats(prioritized=True)


def mem(n):
    return f'device.capacity["{DRIVER_A}"].memory.compareTo(quantity("{n}")) >= 0'


def gen(v):
    return f'device.attributes["{DRIVER_A}"].generation == "{v}"'


def mdev(name, memory, **attrs):
    d = device(name, capacity={"memory": memory})
    if attrs:
        d["attributes"] = {k: {"version": v} for k, v in attrs.items()}
    return d


def two():
    return resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2")


def admin_req(name="req-0", **kw):
    return request(name, admin_access=True, **kw)


# ---- admin access ------------------------------------------------------------------------------

def test_all_devices_some_allocated_admin_access():
    objs = [CA, two(), in_use((DRIVER_A, POOL1, "device-1"))]
    out = run_cel(objs, [claim("claim-0", admin_req(mode="All"))], gates=ADMIN)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")])]
    assert [r.admin_access for r in out.results[("default", "claim-0")]] == [True, True]


def test_all_devices_some_allocating_admin_access():
    # The first (admin) request takes a device of this claim, so "All" of the second cannot have it.
    c = claim("claim-0", admin_req("req-0"), admin_req("req-1", mode="All"))
    assert no_fit(run_cel([CA, two()], [c], gates=ADMIN))


def test_count_devices_some_allocated_admin_access():
    objs = [CA, two(), in_use((DRIVER_A, POOL1, "device-1"))]
    out = run_cel(objs, [claim("claim-0", admin_req(count=2))], gates=ADMIN)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")])]
    assert all(r.admin_access for r in out.results[("default", "claim-0")])


def test_separate_claims_share_device_admin_access():
    out = run_cel([CA, two()], [claim("claim-0", admin_req()), claim("claim-1", admin_req())], gates=ADMIN)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")]),
                           ("claim-1", [("req-0", DRIVER_A, POOL1, "device-1")])]


def test_admin_access_claims_device_allocating_for_non_admin_access():
    out = run_cel([CA, two()], [claim("claim-0", request("req-0")), claim("claim-1", admin_req())], gates=ADMIN)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")]),
                           ("claim-1", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert [r.admin_access for c in out.results.values() for r in c] == [None, True]


def test_admin_access_disabled():
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")], [claim("claim-0", admin_req())],
                  gates=feats(admin=False))
    assert "claim default/claim-0, request req-0: admin access is requested, but the feature is disabled" in out.error


def test_admin_access_enabled():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1"),
            in_use((DRIVER_A, POOL1, "device-1"), (DRIVER_A, POOL1, "device-2"))]
    out = run_cel(objs, [claim("claim-0", admin_req())], gates=ADMIN)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.results[("default", "claim-0")][0].admin_access is True
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


# ---- prioritized list ----------------------------------------------------------------------------

def all_first(*rest, cls="class-a"):
    return first_available("req-0", subrequest("subReq-0", cls, mode="All"), *rest)


def test_all_devices_slice_without_devices_prioritized_list():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A), resource_slice("slice-2", NODE1, POOL2, DRIVER_B, "device-1")]
    out = run_cel(objs, [claim("claim-0", all_first(subrequest("subReq-1", "class-b")))], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_B, POOL2, "device-1")])]


def test_all_devices_no_slices_prioritized_list():
    objs = [CA, CB, resource_slice("slice-2", NODE1, POOL2, DRIVER_B, "device-1")]
    out = run_cel(objs, [claim("claim-0", all_first(subrequest("subReq-1", "class-b")))], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_B, POOL2, "device-1")])]


def test_all_devices_some_allocated_prioritized_list():
    objs = [CA, CB, two(), resource_slice("slice-2", NODE1, POOL2, DRIVER_B, "device-1"), in_use((DRIVER_A, POOL1, "device-1"))]
    out = run_cel(objs, [claim("claim-0", all_first(subrequest("subReq-1", "class-b")))], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_B, POOL2, "device-1")])]


def test_prioritized_list_first_unavailable():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-b"), subrequest("subReq-1", "class-a")))
    out = run_cel(objs, [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_non_available():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1"),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_B, "device-1")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-b", 2), subrequest("subReq-1", "class-a", 2)))
    assert no_fit(run_cel(objs, [c], gates=PL))


def opaque(driver, attribute):
    return {"opaque": {"driver": driver, "parameters": {attribute: attribute + "Value"}}}


def test_prioritized_list_device_config():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_B, "device-1", "device-2")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-a"), subrequest("subReq-1", "class-b", 2)),
              config=[{"requests": ["req-0/subReq-0"], **opaque(DRIVER_A, "foo")},
                      {"requests": ["req-0/subReq-1"], **opaque(DRIVER_B, "bar")}])
    out = run_cel(objs, [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_B, POOL1, "device-1"),
                                        ("req-0/subReq-1", DRIVER_B, POOL1, "device-2")])]
    assert out.allocations[("default", "claim-0")]["devices"]["config"] == [
        {"source": "FromClaim", "requests": ["req-0/subReq-1"], **opaque(DRIVER_B, "bar")}]


def test_prioritized_list_class_config():
    ca = device_class("class-a", driver=DRIVER_A)
    ca["spec"]["config"] = [opaque(DRIVER_A, "foo")]
    cb = device_class("class-b", driver=DRIVER_B)
    cb["spec"]["config"] = [opaque(DRIVER_B, "bar")]
    objs = [ca, cb, resource_slice("slice-1", NODE1, POOL1, DRIVER_B, "device-1", "device-2"),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_A, "device-3")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-a", 2), subrequest("subReq-1", "class-b", 2)))
    out = run_cel(objs, [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_B, POOL1, "device-1"),
                                        ("req-0/subReq-1", DRIVER_B, POOL1, "device-2")])]
    assert out.allocations[("default", "claim-0")]["devices"]["config"] == [
        {"source": "FromClass", "requests": ["req-0/subReq-1"], **opaque(DRIVER_B, "bar")}]


def test_prioritized_list_subrequests_with_expressions():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, mdev("device-1", "2Gi"), mdev("device-2", "2Gi"),
                       mdev("device-3", "1Gi"))]
    c = claim("claim-0", request("req-0", selectors=[mem("1Gi")]),
              first_available("req-1", subrequest("subReq-0", selectors=[mem("4Gi")]), subrequest("subReq-1", count=2, selectors=[mem("2Gi")])))
    out = run_cel(objs, [c], gates=PL)
    # Found by backtracking: req-0 first takes device-1, which leaves only one 2Gi device for subReq-1.
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-3"), ("req-1/subReq-1", DRIVER_A, POOL1, "device-1"),
                                        ("req-1/subReq-1", DRIVER_A, POOL1, "device-2")])]


def _ref_slices(with_device3=True):
    s2 = [mdev("device-2", "2Gi", driverVersion="2.0.0")]
    if with_device3:
        s2.append(mdev("device-3", "1Gi", driverVersion="1.0.0"))
    return [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, mdev("device-1", "8Gi", driverVersion="1.0.0")),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_A, *s2)]


def _ref_claim(constraint_requests):
    return claim("claim-0", request("req-0", selectors=[mem("8Gi")]),
                 first_available("req-1", subrequest("subReq-0", selectors=[mem("2Gi")]), subrequest("subReq-1", selectors=[mem("1Gi")])),
                 constraints=[{"requests": constraint_requests, "matchAttribute": f"{DRIVER_A}/driverVersion"}])


def test_prioritized_list_subrequests_with_constraints_ref_parent_request():
    out = run_cel(_ref_slices(), [_ref_claim(["req-0", "req-1"])], gates=PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1/subReq-1", DRIVER_A, POOL2, "device-3")])]


def test_prioritized_list_subrequests_with_constraints_ref_sub_request():
    # The constraint names only subReq-0; subReq-1 is free to pick the 2.0.0 device.
    out = run_cel(_ref_slices(with_device3=False), [_ref_claim(["req-0", "req-1/subReq-0"])], gates=PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1/subReq-1", DRIVER_A, POOL2, "device-2")])]


def test_prioritized_list_subrequests_with_allocation_mode_all():
    objs = [CA, two(), in_use((DRIVER_A, POOL1, "device-1"))]
    out = run_cel(objs, [claim("claim-0", all_first(subrequest("subReq-1")))], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-2")])]


def test_prioritized_list_allocation_mode_all_multiple_requests():
    c = claim("claim-0", request("req-0"), first_available("req-1", subrequest("subReq-0", mode="All"), subrequest("subReq-1")))
    out = run_cel([CA, two()], [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1/subReq-1", DRIVER_A, POOL1, "device-2")])]


def test_prioritized_list_disabled():
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0")))
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")], [c], gates=feats(prioritized=False))
    assert "claim default/claim-0, request req-0: has subrequests, but the DRAPrioritizedList feature is disabled" in out.error


def _two_pools_8_4():
    return [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, mdev("device-1", "8Gi")),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_A, mdev("device-2", "4Gi"))]


def test_prioritized_list_multi_request():
    c = claim("claim-0", request("req-1", selectors=[mem("8Gi")]),
              first_available("req-0", subrequest("subReq-0", selectors=[mem("8Gi")]), subrequest("subReq-1", selectors=[mem("4Gi")])))
    out = run_cel(_two_pools_8_4(), [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-1", DRIVER_A, POOL1, "device-1"), ("req-0/subReq-1", DRIVER_A, POOL2, "device-2")])]


def test_prioritized_list_with_backtracking():
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", selectors=[mem("8Gi")]), subrequest("subReq-1", selectors=[mem("4Gi")])),
              request("req-1", selectors=[mem("8Gi")]))
    out = run_cel(_two_pools_8_4(), [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL2, "device-2"), ("req-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_too_many_in_first_subrequest():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", "class-b", 500), subrequest("subReq-1", "class-a")))
    out = run_cel(objs, [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_allocation_mode_all():
    objs = [CA, two(), in_use((DRIVER_A, POOL1, "device-2"))]
    out = run_cel(objs, [claim("claim-0", all_first(subrequest("subReq-1")))], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def gdev(name, generation, **more):
    d = device(name)
    d["attributes"] = {"generation": {"string": generation}, **{k: {"bool": v} for k, v in more.items()}}
    return d


def _v6_then_v5():
    return claim("claim-0", first_available("req-0", subrequest("subReq-0", mode="All", selectors=[gen("v6")]),
                                            subrequest("subReq-1", mode="All", selectors=[gen("v5")])))


def test_prioritized_list_allocation_mode_all_with_selectors():
    # "All" must yield at least one device, else the next subrequest is tried.
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, gdev("device-1", "v5"))]
    out = run_cel(objs, [_v6_then_v5()], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_allocation_mode_all_with_selectors_multiple_pools():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, gdev("device-1", "v5")),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_A, gdev("device-1", "v5"))]
    out = run_cel(objs, [_v6_then_v5()], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1"),
                                        ("req-0/subReq-1", DRIVER_A, POOL2, "device-1")])]


def test_prioritized_list_allocation_mode_all_with_selectors_multiple_pools_across_nodes():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, gdev("device-1", "v5")),
            resource_slice("slice-2", NODE2, POOL2, DRIVER_A, gdev("device-1", "v5"), gdev("device-2", "v6"))]
    out = run_cel(objs, [_v6_then_v5()], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-1")])]


def test_prioritized_list_allocation_mode_all_with_selectors_deviceclass_subset():
    cls = device_class("class-a", f'device.driver == "{DRIVER_A}" && device.attributes["{DRIVER_A}"].selected')
    objs = [cls, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, gdev("device-1", "v6", selected=False),
                        gdev("device-2", "v5", selected=False), gdev("device-3", "v5", selected=True))]
    out = run_cel(objs, [_v6_then_v5()], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-3")])]


def test_prioritized_list_max_allocation_limit_request():
    # Upstream also counts allocateOne invocations here (75); that statistic is Go-internal.
    devs = [f"device-{i}" for i in range(64)]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", count=32), subrequest("subReq-1", count=16)),
              first_available("req-1", subrequest("subReq-0", count=32), subrequest("subReq-1", count=16)))
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)], [c], gates=PL)
    want = [("req-0/subReq-1", DRIVER_A, POOL1, d) for d in devs[:16]] + \
           [("req-1/subReq-1", DRIVER_A, POOL1, d) for d in devs[16:32]]
    assert picked(out) == [("claim-0", want)]


def test_prioritized_list_max_allocation_allocation_mode_all():
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *[f"device-{i}" for i in range(31)]),
            resource_slice("slice-2", NODE1, POOL2, DRIVER_B, "device-0", "device-1")]
    c = claim("claim-0", first_available("req-0", subrequest("subReq-0", mode="All"), subrequest("subReq-1", count=2)),
              request("req-1", "class-b", count=2))
    out = run_cel(objs, [c], gates=PL)
    assert picked(out) == [("claim-0", [("req-0/subReq-1", DRIVER_A, POOL1, "device-0"),
                                        ("req-0/subReq-1", DRIVER_A, POOL1, "device-1"),
                                        ("req-1", DRIVER_B, POOL2, "device-0"), ("req-1", DRIVER_B, POOL2, "device-1")])]
