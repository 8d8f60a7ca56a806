"""The allocator's trace (what why-pending reads), and that it is the same when the Allocator is reused.

Scenarios are built with the allocator test DSL; expected values follow from the search order
(pools by driver/pool name, devices in slice order, first fit, backtracking).
"""

from __future__ import annotations

import os

from kubectl_dra.allocator import Allocator
from kubectl_dra.features import defaults_for_version
from kubectl_dra.snapshot import Snapshot
from tests.builders import (
    DRIVER_A, NODE1, NODE2, POOL1, POOL2, allocated_claim, claim, device, device_class, node, request,
    resource_slice, run, table_cel,
)

CA = device_class("class-a", driver=DRIVER_A)


def _tr(out, request):
    return [t for t in out.trace.requests if t.request == request][0]


def _numa(name, numa):
    return device(name, attrs={"numa": numa})


def test_success_lists_chosen_devices_and_is_not_failed():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2", "device-3"),
            allocated_claim("holder", (DRIVER_A, POOL1, "device-1"))]
    out = run(objs, [claim("claim-0", request("req-0", count=2))])
    assert out.fits
    t = _tr(out, "req-0")
    assert t.chosen == ["driver-a/pool-1/device-2", "driver-a/pool-1/device-3"]
    assert t.failed is False and t.tried is True
    assert t.count == 2
    assert t.reachable == ["driver-a/pool-1/device-1", "driver-a/pool-1/device-2", "driver-a/pool-1/device-3"]
    # device-1 is held by another claim; device-2 was seen by the second slot after the first took it
    assert t.rejected_allocated == [{"device": "driver-a/pool-1/device-1", "holders": ["default/holder"]},
                                    {"device": "driver-a/pool-1/device-2", "holders": [], "self": True}]
    d = out.trace.to_dict()
    assert d["requests"][0]["chosen"] == t.chosen and d["requests"][0]["failed"] is False


def test_success_with_two_requests_each_lists_its_own_devices():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1", "device-2", "device-3")]
    out = run(objs, [claim("claim-0", request("req-0"), request("req-1", count=2))])
    assert out.fits
    assert _tr(out, "req-0").chosen == ["driver-a/pool-1/device-1"]
    assert _tr(out, "req-1").chosen == ["driver-a/pool-1/device-2", "driver-a/pool-1/device-3"]
    # req-1 saw device-1 (req-0's) and device-2 (its own first slot) taken by its own claim in this run
    assert _tr(out, "req-1").rejected_allocated == [{"device": "driver-a/pool-1/device-1", "holders": [], "self": True},
                                                    {"device": "driver-a/pool-1/device-2", "holders": [], "self": True}]


def test_failure_marks_devices_the_claim_took_itself():
    # Two free devices with different numa values, a matchAttribute constraint over both: slot 1 takes
    # device-1, slot 2 finds device-1 taken (by the claim itself) and device-2 on another numa node.
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, _numa("device-1", 0), _numa("device-2", 1),
                       _numa("device-3", 0)),
            allocated_claim("holder", (DRIVER_A, POOL1, "device-3"))]
    c = claim("claim-0", request("req-0", count=2), constraints=[{"requests": ["req-0"], "matchAttribute": f"{DRIVER_A}/numa"}])
    out = run(objs, [c])
    assert not out.fits and out.error is None
    t = _tr(out, "req-0")
    assert t.failed is True and t.chosen == []
    by_dev = {r["device"]: r for r in t.rejected_allocated}
    assert by_dev["driver-a/pool-1/device-1"] == {"device": "driver-a/pool-1/device-1", "holders": [], "self": True}
    assert by_dev["driver-a/pool-1/device-3"] == {"device": "driver-a/pool-1/device-3", "holders": ["default/holder"]}
    assert [r["device"] for r in t.rejected_constraint] == ["driver-a/pool-1/device-2"]


def test_device_taken_by_another_claim_of_the_pod_is_not_self():
    objs = [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "device-1")]
    out = run(objs, [claim("claim-0", request("req-0")), claim("claim-1", request("req-0"))])
    assert not out.fits
    reqs = [t for t in out.trace.requests if t.claim == "default/claim-1"]
    assert reqs[0].rejected_allocated == [{"device": "driver-a/pool-1/device-1", "holders": []}]
    assert reqs[0].failed is True


def test_reused_allocator_gives_the_same_outcome_per_node_in_any_order():
    # One Allocator over many nodes (as why-pending uses it) must answer each node exactly as a fresh one.
    objs = [CA, node(NODE1), node(NODE2),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, _numa("device-1", 0), _numa("device-2", 1)),
            resource_slice("slice-2", NODE2, POOL2, DRIVER_A, _numa("device-1", 0), _numa("device-2", 0), _numa("device-3", 1)),
            allocated_claim("holder", (DRIVER_A, POOL2, "device-1"))]
    c = claim("claim-0", request("req-0", count=2), constraints=[{"requests": ["req-0"], "matchAttribute": f"{DRIVER_A}/numa"}])
    snap = Snapshot.from_objects(objs)
    compile_fn = None if os.environ.get("REAL_CEL") else table_cel

    def fresh(n):
        return Allocator(snap, defaults_for_version("1.34"), cel_compile=compile_fn).allocate(n, [c])

    shared = Allocator(snap, defaults_for_version("1.34"), cel_compile=compile_fn)
    for order in ([NODE1, NODE2, NODE1], [NODE2, NODE1, NODE2]):
        for n in order:
            a, b = shared.allocate(n, [c]), fresh(n)
            assert (a.fits, a.error, a.allocations) == (b.fits, b.error, b.allocations)
            assert a.trace.to_dict() == b.trace.to_dict()
    out = shared.allocate(NODE2, [c])
    assert not out.fits  # device-2 (numa 0) is the only free numa-0 device, device-3 alone on numa 1
    out1 = shared.allocate(NODE1, [c])
    assert not out1.fits
    assert _tr(out1, "req-0").rejected_constraint


def test_selector_flags_agree_with_selectors_pass_and_step_aside_on_errors():
    """The funnel's one-pass view: 0 fails the class, 1 fails the request, 2 passes both; None when
    a selector errors on some device (the caller then words the error device by device)."""
    objs = [CA, node(NODE1),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, _numa("d0", 0), _numa("d1", 1), device("d2"),
                   device("d3", attrs={"numa": 1, "kind": "other"}))]
    alloc = Allocator(Snapshot.from_objects(objs), defaults_for_version(None))
    out = alloc.allocate(NODE1, [claim("c", request("r", count=9))])  # too many: the trace lists every device
    entries = _tr(out, "r").reachable_entries
    assert [e[0][2] for e in entries] == ["d0", "d1", "d2", "d3"]
    cls = ['device.driver == "driver-a"']
    ok = ['has(device.attributes["driver-a"].numa) && device.attributes["driver-a"].numa == 1',
          '!has(device.attributes["driver-a"].kind)']
    flags = alloc.selector_flags(cls, ok, entries)
    assert flags == [1, 2, 1, 1]
    for (key, dev, _), flag in zip(entries, flags):
        assert flag == (alloc.selectors_pass(cls, key[0], dev) + (alloc.selectors_pass(cls + ok, key[0], dev)))
    assert alloc.selector_flags(['device.driver == "driver-b"'], ok, entries) == [0, 0, 0, 0]
    # d2 has no numa: reading it without has() is a runtime error, and a compile error is one too
    assert alloc.selector_flags(cls, ['device.attributes["driver-a"].numa == 1'], entries) is None
    assert alloc.selector_flags(['device.driver =='], ok, entries) is None
