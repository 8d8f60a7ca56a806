"""The API server's limits per release (kubectl_dra.analysis.apirules): claims the same in 1.34-1.36,
slices tightened in 1.35 (taints, devices with taints or counters, counter sets), list values in 1.36."""

from __future__ import annotations

from kubectl_dra.analysis.apirules import claim_violations, limits_for, slice_violations
from tests.builders import CS1, DRIVER_A, NODE1, POOL1, device, first_available, request, resource_slice, subrequest


def paths(violations):
    return [v.path for v in violations]


def spec(*requests, **devices):
    return {"devices": {"requests": list(requests), **devices}}


def test_a_claim_within_every_limit_passes_in_every_release():
    ok = spec(*[request(f"r-{i}") for i in range(32)],
              constraints=[{"matchAttribute": f"{DRIVER_A}/numa", "requests": ["r-0", "r-1"]}])
    for release in ("1.34", "1.35", "1.36"):
        assert claim_violations(ok, limits_for(release)) == []


def test_claim_limits():
    limits = limits_for("1.36")
    assert paths(claim_violations(spec(*[request(f"r-{i}") for i in range(33)]), limits)) == ["spec.devices.requests"]
    v = claim_violations(spec(first_available("r", *[subrequest(f"s-{i}") for i in range(9)])), limits)
    assert [(x.path, x.message) for x in v] == [("spec.devices.requests[0].firstAvailable",
                                                 "must have at most 8 items (has 9)")]
    many = request("r", selectors=['device.driver == "driver-a"'] * 33,
                   tolerations=[{"operator": "Exists"}] * 17)
    assert paths(claim_violations(spec(many), limits)) == ["spec.devices.requests[0].exactly.selectors",
                                                           "spec.devices.requests[0].exactly.tolerations"]
    zero = request("r", count=0)
    assert [x.message for x in claim_violations(spec(zero), limits)] == ["must be greater than zero (is 0)"]
    dangling = spec(request("r"), constraints=[{"matchAttribute": f"{DRIVER_A}/numa", "requests": ["nope"]}])
    assert paths(claim_violations(dangling, limits)) == ["spec.devices.constraints[0].requests[0]"]
    twice = spec(request("r"), request("r"))
    assert paths(claim_violations(twice, limits, prefix="spec.spec")) == ["spec.spec.devices.requests[1].name"]


def test_selectors_too_long_or_too_costly():
    limits = limits_for("1.36")
    long = request("r", selectors=['device.driver == "' + "x" * 10240 + '"'])
    assert [x.message for x in claim_violations(spec(long), limits)] == ["must be at most 10240 bytes long (is 10259)"]
    nested = ("device.attributes['a'].all(a, device.attributes['a'].all(b, device.attributes['a'].all(c, "
              "device.attributes['a'].all(d, a + b + c + d != ''))))")
    v = claim_violations(spec(request("r", selectors=[nested])), limits)
    assert len(v) == 1 and v[0].message.startswith("too complex, exceeds cost limit (estimated cost ")
    # a compile error is the dry run's to report (cel-error), not a limit
    assert claim_violations(spec(request("r", selectors=["device.driver =="])), limits) == []


def test_slice_limits_changed_in_1_35():
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    five_taints = resource_slice("s", NODE1, POOL1, DRIVER_A, device("d", taints=[taint] * 5))["spec"]
    assert paths(slice_violations(five_taints, limits_for("1.34"))) == ["spec.devices[0].taints"]
    assert slice_violations(five_taints, limits_for("1.35")) == []
    tainted_100 = resource_slice("s", NODE1, POOL1, DRIVER_A, device("d-0", taints=[taint]),
                                 *[f"d-{i}" for i in range(1, 100)])["spec"]
    assert slice_violations(tainted_100, limits_for("1.34")) == []
    assert [x.message for x in slice_violations(tainted_100, limits_for("1.36"))] == [
        "must have at most 64 items (a device has taints or consumes counters) (has 100)"]
    assert paths(slice_violations(resource_slice("s", NODE1, POOL1, DRIVER_A,
                                                 *[f"d-{i}" for i in range(129)])["spec"], limits_for("1.36"))) == [
        "spec.devices"]
    three = device("d", consumes={CS1: {"a": "1"}, "cs-2": {"a": "1"}, "cs-3": {"a": "1"}})
    sliced = resource_slice("s", NODE1, POOL1, DRIVER_A, three)["spec"]
    assert paths(slice_violations(sliced, limits_for("1.36"))) == ["spec.devices[0].consumesCounters"]
    assert slice_violations(sliced, limits_for("1.34")) == []
    sets = {f"set-{i}": {"c": "1"} for i in range(9)}
    only_counters = resource_slice("s", NODE1, POOL1, DRIVER_A, counters=sets)["spec"]
    assert paths(slice_violations(only_counters, limits_for("1.35"))) == ["spec.sharedCounters"]
    assert slice_violations(only_counters, limits_for("1.34")) == []


def test_device_attribute_limits():
    full = device("d", attrs={f"a{i}": i for i in range(30)}, capacity={"m": "1", "n": "2", "o": "3"})
    assert [x.message for x in slice_violations(resource_slice("s", NODE1, POOL1, DRIVER_A, full)["spec"],
                                                limits_for("1.34"))] == [
        "the attributes and capacities combined must be at most 32 (has 33)"]
    lists = device("d", attrs={"a": {"strings": [f"v{i}" for i in range(30)]}, "b": {"ints": list(range(19))}})
    s = resource_slice("s", NODE1, POOL1, DRIVER_A, lists)["spec"]
    assert [x.message for x in slice_violations(s, limits_for("1.36"))] == [
        "list attribute values must be at most 48 per device (has 49)"]
