"""Upstream allocator table, general cases: allocation mode All, constraints, configs, errors, limits.

Each test names the upstream case (allocatortesting/allocator_testing.go) it ports; PORTED.md has the list.
Our own code and wording; the real CEL module; the features each upstream case enables, nothing more.
"""

from __future__ import annotations

from tests.builders import (
    DRIVER_A, DRIVER_B, NODE1, POOL1, claim, device, device_class, in_use, local_selector, no_fit, picked, request,
    resource_slice, run_cel,
)

CA = device_class("class-a", driver=DRIVER_A)
CB = device_class("class-b", driver=DRIVER_B)
A = f"{DRIVER_A}/"


def one(name="slice-1", node=NODE1, pool=POOL1, driver=DRIVER_A, **kw):
    return resource_slice(name, node, pool, driver, "device-1", **kw)


def all_req(name="req-0", cls="class-a", **kw):
    return request(name, cls, mode="All", **kw)


def two(name="slice-1", driver=DRIVER_A, *devs):
    return resource_slice(name, NODE1, POOL1, driver, *(devs or ("device-1", "device-2")))


# ---- allocation mode All ---------------------------------------------------------------

def test_all_devices_many_plus_another():
    # Slices named apart: our snapshot keys slices by name (upstream's table reuses "slice-1").
    objs = [CA, CB, two("slice-1a"), one("slice-1b", driver=DRIVER_B)]
    out = run_cel(objs, [claim("claim-0", all_req()), claim("claim-1", request("req-0", "class-b"))])
    assert picked(out) == [
        ("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")]),
        ("claim-1", [("req-0", DRIVER_B, POOL1, "device-1")])]


def test_all_devices_many_plus_another_reversed():
    objs = [CA, CB, two("slice-1a"), one("slice-1b", driver=DRIVER_B)]
    out = run_cel(objs, [claim("claim-1", request("req-0", "class-b")), claim("claim-0", all_req())])
    assert picked(out) == [
        ("claim-1", [("req-0", DRIVER_B, POOL1, "device-1")]),
        ("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")])]


def test_all_devices_no_solution():
    # One device, an ExactCount claim takes it, then "All" needs it too.
    out = run_cel([CA, one()], [claim("claim-1", request("req-0")), claim("claim-0", all_req())])
    assert no_fit(out)


def test_all_devices_no_solution_reversed():
    out = run_cel([CA, one()], [claim("claim-0", all_req()), claim("claim-1", request("req-0"))])
    assert no_fit(out)


def test_all_devices_slice_without_devices():
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A)], [claim("claim-0", all_req())])
    assert no_fit(out)


def test_all_devices_no_slices():
    assert no_fit(run_cel([CA], [claim("claim-0", all_req())]))


def test_all_devices_some_allocated():
    objs = [CA, two(), in_use((DRIVER_A, POOL1, "device-1"))]
    assert no_fit(run_cel(objs, [claim("claim-0", all_req())]))


# ---- several drivers, in-use devices ---------------------------------------------------------

def test_several_different_drivers():
    # Upstream names both claims "claim-0"; our results are keyed by claim, so the second is "claim-0b".
    objs = [CA, CB, two("slice-1a"), one("slice-1b", driver=DRIVER_B)]
    out = run_cel(objs, [claim("claim-0", request("req-0")), claim("claim-0b", request("req-0", "class-b"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")]),
                           ("claim-0b", [("req-0", DRIVER_B, POOL1, "device-1")])]


def test_already_allocated_devices():
    objs = [CA, one(), in_use((DRIVER_A, POOL1, "device-1"), (DRIVER_A, POOL1, "device-2"))]
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0"))]))


# ---- matchAttribute constraints -------------------------------------------------------------

def attrs_dev(name, **attrs):
    typed = {}
    for k, v in attrs.items():
        if k == "driverVersion":
            typed[k] = {"version": v}
        elif isinstance(v, bool):
            typed[k] = {"bool": v}
        elif isinstance(v, int):
            typed[k] = {"int": v}
        else:
            typed[k] = {"string": v}
    d = device(name)
    d["attributes"] = typed
    return d


def match_on(attr, *requests):
    c = {"matchAttribute": A + attr}
    if requests:
        c["requests"] = list(requests)
    return c


ALL_ATTRS = dict(driverVersion="1.0.0", numa=1, stringAttribute="stringAttributeValue", boolAttribute=True)


def test_with_constraint():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, attrs_dev("device-1", **ALL_ATTRS),
                       attrs_dev("device-2", **ALL_ATTRS))]
    cons = [match_on("numa"), match_on("driverVersion"), match_on("stringAttribute"), match_on("boolAttribute")]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"), constraints=cons)])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-2")])]
    assert out.allocations[("default", "claim-0")]["nodeSelector"] == local_selector(NODE1)


def test_with_constraint_non_existent_attribute():
    out = run_cel([CA, one()], [claim("claim-0", request("req-0"), constraints=[match_on("NonExistentAttribute")])])
    assert no_fit(out)


def _two_differing(attr, v1, v2):
    return [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, attrs_dev("device-1", **{attr: v1}),
                           attrs_dev("device-2", **{attr: v2}))]


def test_with_constraint_not_matching_int_attribute():
    out = run_cel(_two_differing("numa", 1, 2), [claim("claim-0", request("req-0", count=2), constraints=[match_on("numa")])])
    assert no_fit(out)


def test_with_constraint_not_matching_int_attribute_all_devices():
    out = run_cel(_two_differing("numa", 1, 2), [claim("claim-0", all_req(), constraints=[match_on("numa")])])
    assert out.error is not None and ("claim default/claim-0, request req-0: cannot add device "
                                      "driver-a/pool-1/device-2 because a claim constraint would not be satisfied") in out.error


def test_with_constraint_not_matching_string_attribute():
    objs = _two_differing("stringAttribute", "stringAttributeValue", "stringAttributeValue2")
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=2), constraints=[match_on("stringAttribute")])]))


def test_with_constraint_not_matching_bool_attribute():
    objs = _two_differing("boolAttribute", True, False)
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=2), constraints=[match_on("boolAttribute")])]))


def test_with_constraint_not_matching_version_attribute():
    objs = _two_differing("driverVersion", "1.0.0", "2.0.0")
    assert no_fit(run_cel(objs, [claim("claim-0", request("req-0", count=2), constraints=[match_on("driverVersion")])]))


def test_with_constraint_for_request():
    objs = _two_differing("driverVersion", "1.0.0", "2.0.0")
    c = claim("claim-0", request("req-0"), request("req-1"), constraints=[match_on("driverVersion", "req-0")])
    out = run_cel(objs, [c])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-1", DRIVER_A, POOL1, "device-2")])]


def test_with_constraint_for_request_retry():
    # device-1 satisfies the per-request constraint but not the claim-wide one: backtracking needed.
    objs = [CA, CB, resource_slice("slice-1", NODE1, POOL1, DRIVER_A,
                           attrs_dev("device-1", driverVersion="1.0.0", stringAttribute="a"),
                           attrs_dev("device-2", driverVersion="2.0.0", stringAttribute="b"),
                           attrs_dev("device-3", driverVersion="3.0.0", stringAttribute="b"))]
    c = claim("claim-0", request("req-0"), request("req-1"),
              constraints=[match_on("driverVersion", "req-0"), match_on("stringAttribute")])
    out = run_cel(objs, [c])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-2"), ("req-1", DRIVER_A, POOL1, "device-3")])]


# ---- configuration ----------------------------------------------------------------------------

def opaque(driver, attribute):
    return {"opaque": {"driver": driver, "parameters": {attribute: attribute + "Value"}}}


def with_config(cls, cfg):
    cls = dict(cls)
    cls["spec"] = dict(cls["spec"], config=[cfg])
    return cls


def test_with_class_device_config():
    objs = [with_config(CA, opaque(DRIVER_A, "classAttribute")), one()]
    out = run_cel(objs, [claim("claim-0", request("req-0"))])
    alloc = out.allocations[("default", "claim-0")]
    assert alloc["devices"]["results"] == [{"request": "req-0", "driver": DRIVER_A, "pool": POOL1, "device": "device-1"}]
    assert alloc["devices"]["config"] == [{"source": "FromClass", "requests": ["req-0"], **opaque(DRIVER_A, "classAttribute")}]
    assert alloc["nodeSelector"] == local_selector(NODE1)


def test_with_class_device_config_with_multiple_request_and_configs():
    objs = [with_config(CA, opaque(DRIVER_A, "classAttribute-A")), with_config(CB, opaque(DRIVER_B, "classAttribute-B")),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-0", "device-1"),
            resource_slice("slice-2", NODE1, POOL1, DRIVER_B, "device-1")]
    out = run_cel(objs, [claim("claim-0", request("req-0"), request("req-1"), request("req-2", "class-b"))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-0"), ("req-1", DRIVER_A, POOL1, "device-1"),
                                        ("req-2", DRIVER_B, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["devices"]["config"] == [
        {"source": "FromClass", "requests": ["req-0", "req-1"], **opaque(DRIVER_A, "classAttribute-A")},
        {"source": "FromClass", "requests": ["req-2"], **opaque(DRIVER_B, "classAttribute-B")}]


def test_claim_with_device_config():
    out = run_cel([CA, one()], [claim("claim-0", request("req-0"), config=[opaque(DRIVER_A, "deviceAttribute")])])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1")])]
    assert out.allocations[("default", "claim-0")]["devices"]["config"] == [
        {"source": "FromClaim", **opaque(DRIVER_A, "deviceAttribute")}]


# ---- unknown / invalid input ------------------------------------------------------------------

def test_unknown_selector():
    r = request("req-0")
    r["exactly"]["selectors"] = [{}]  # empty = some future selector type
    out = run_cel([CA, one()], [claim("claim-0", r)])
    assert "CEL expression empty (unsupported selector type?)" in out.error


def test_unknown_allocation_mode():
    r = request("req-0")
    r["exactly"]["allocationMode"] = "future-mode"
    out = run_cel([CA, one()], [claim("claim-0", r)])
    assert "unsupported count mode future-mode" in out.error


def test_unknown_constraint():
    out = run_cel([CA, one()], [claim("claim-0", request("req-0"), constraints=[{}])])
    assert "empty constraint (unsupported constraint type?)" in out.error


def test_invalid_cel_one_device():
    out = run_cel([CA, one()], [claim("claim-0", request("req-0", selectors=["noSuchVar"]))])
    assert "undeclared reference" in out.error


def test_invalid_cel_one_device_class():
    out = run_cel([device_class("class-a", "noSuchVar"), one()], [claim("claim-0", request("req-0"))])
    assert "undeclared reference" in out.error


def test_invalid_cel_all_devices():
    out = run_cel([CA, one()], [claim("claim-0", all_req(selectors=["noSuchVar"]))])
    assert "undeclared reference" in out.error


# ---- limits -------------------------------------------------------------------------------------

def test_too_many_devices_single_request():
    # Upstream's case has no slices and no node object (the harness then uses node-1).
    out = run_cel([CA], [claim("claim-0", request("req-0", count=500))])
    assert "exceeds the claim limit" in out.error


def test_many_devices_okay():
    # Exactly the limit, but no devices at all: no error, just no fit.
    assert no_fit(run_cel([CA], [claim("claim-0", request("req-0", count=32))]))


def test_too_many_devices_total():
    devs = [f"device-{i}" for i in range(33)]
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)],
                  [claim("claim-0", request("req-0", count=32), request("req-1", count=1))])
    assert "exceeds the claim limit" in out.error


def test_all_devices_invalid_cel():
    # Despite its name, upstream's case asks for 500 devices and checks the limit error.
    out = run_cel([CA], [claim("claim-0", request("req-0", count=500))])
    assert "exceeds the claim limit" in out.error


def test_max_number_devices():
    devs = [f"device-{i}" for i in range(32)]
    out = run_cel([CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)], [claim("claim-0", request("req-0", count=32))])
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, d) for d in devs])]
