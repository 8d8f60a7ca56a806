"""Property tests: on random small clusters every allocation obeys every rule, and
"does not fit" is confirmed by a brute-force search over all device assignments."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.builders import (
    ALL, DRIVER_A, NODE1, POOL1, allocated_claim, claim, device, device_class, request, resource_slice, run,
    sel_attr_eq,
)

MODELS = ["a", "b"]


@st.composite
def scenario(draw):
    n = draw(st.integers(1, 5))
    devs = []
    for i in range(n):
        devs.append({
            "name": f"dev-{i}",
            "model": draw(st.sampled_from(MODELS)),
            "numa": draw(st.integers(0, 1)),
            "mem": draw(st.sampled_from([0, 2, 4, 8])),  # counter consumption in Gi (0 = none)
            "held": draw(st.booleans()),
        })
    total = draw(st.sampled_from([4, 8, 16]))
    reqs = []
    for j in range(draw(st.integers(1, 2))):
        reqs.append({"name": f"req-{j}", "count": draw(st.integers(1, 2)),
                     "model": draw(st.sampled_from(MODELS + [None]))})
    constrained = draw(st.booleans())
    return devs, total, reqs, constrained


def build(devs, total, reqs, constrained):
    slice_devs = []
    for d in devs:
        kw = {"attrs": {"model": d["model"], "numa": d["numa"]}}
        if d["mem"]:
            kw["consumes"] = {"gpu": {"memory": f"{d['mem']}Gi"}}
        slice_devs.append(device(d["name"], **kw))
    objs = [device_class("class-a", driver=DRIVER_A),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *slice_devs, counters={"gpu": {"memory": f"{total}Gi"}})]
    for d in devs:
        if d["held"]:
            objs.append(allocated_claim(f"holder-{d['name']}", (DRIVER_A, POOL1, d["name"])))
    requests = [request(r["name"], count=r["count"],
                    selectors=[sel_attr_eq("model", r["model"])] if r["model"] else ()) for r in reqs]
    constraints = [{"matchAttribute": f"{DRIVER_A}/numa"}] if constrained else []
    return objs, claim("claim-0", *requests, constraints=constraints)


def valid(assignment, devs, total, reqs, constrained):
    """assignment: list of device indexes, request by request in order."""
    if len(set(assignment)) != len(assignment):
        return False
    held_mem = sum(d["mem"] for d in devs if d["held"])
    used_mem = 0
    pos = 0
    for r in reqs:
        for _ in range(r["count"]):
            d = devs[assignment[pos]]
            pos += 1
            if d["held"]:
                return False
            if r["model"] and d["model"] != r["model"]:
                return False
            used_mem += d["mem"]
    # Counters are checked only when a device that consumes them is taken (upstream), so an
    # over-consumed counter set does not block devices that consume nothing.
    if any(devs[i]["mem"] for i in assignment) and held_mem + used_mem > total:
        return False
    if constrained and len({devs[i]["numa"] for i in assignment}) > 1:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_allocation_is_valid_and_complete(sc):
    devs, total, reqs, constrained = sc
    objs, c = build(devs, total, reqs, constrained)
    out = run(objs, [c], gates=ALL)
    assert out.error is None
    need = sum(r["count"] for r in reqs)
    exists = any(valid(list(p), devs, total, reqs, constrained)
                 for p in itertools.permutations(range(len(devs)), need)) if need <= len(devs) else False
    if out.fits:
        res = out.results[("default", "claim-0")]
        names = [d["name"] for d in devs]
        assignment = [names.index(r.device) for r in res]
        assert len(res) == need
        # results come request by request, in request order
        expected_reqs = [r["name"] for r in reqs for _ in range(r["count"])]
        assert [r.request for r in res] == expected_reqs
        assert valid(assignment, devs, total, reqs, constrained)
    elif constrained and any(d["mem"] and not d["held"] for d in devs):
        # Upstream's allocateDevice (all three implementations in 1.36.2) takes a device's
        # counters before it checks the claim's constraints and does not give them back when a
        # constraint rejects the device, so backtracking sees fewer counters and can miss an
        # assignment that exists. The dry run reproduces that; brute force cannot stand in for it
        # here. test_counter_leak_on_constraint_rejection pins one such case.
        pass
    else:
        assert not exists, "allocator said no fit but a brute-force assignment exists"


def test_counter_leak_on_constraint_rejection():
    """Found by the property test above: dev-1, dev-2, dev-3 would satisfy both requests on numa 0,
    but dev-3 and dev-4 spent all 4Gi while the constraint rejected them under req-0's dev-0 (numa 1),
    so upstream and the dry run say no fit."""
    devs = [{"name": "dev-0", "model": "a", "numa": 1, "mem": 0, "held": False},
            {"name": "dev-1", "model": "a", "numa": 0, "mem": 0, "held": False},
            {"name": "dev-2", "model": "a", "numa": 0, "mem": 0, "held": False},
            {"name": "dev-3", "model": "a", "numa": 0, "mem": 2, "held": False},
            {"name": "dev-4", "model": "a", "numa": 0, "mem": 2, "held": False}]
    reqs = [{"name": "req-0", "count": 1, "model": "a"}, {"name": "req-1", "count": 2, "model": "a"}]
    objs, c = build(devs, 4, reqs, True)
    assert valid([1, 2, 3], devs, 4, reqs, True)
    out = run(objs, [c], gates=ALL)
    assert out.error is None
    assert not out.fits
    # Without the counters in play the same search finds numa 0.
    devs_no_mem = [dict(d, mem=0) for d in devs]
    objs, c = build(devs_no_mem, 4, reqs, True)
    out = run(objs, [c], gates=ALL)
    assert out.fits
    assert [r.device for r in out.results[("default", "claim-0")]] == ["dev-1", "dev-2", "dev-3"]
