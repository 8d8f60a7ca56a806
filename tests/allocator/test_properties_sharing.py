"""Property tests for sharing semantics (consumable capacity, shared counters, deletion), each against a
small model of its own written from upstream's rules, on random small clusters:

* one request never gets the same device twice, even a multi-allocatable one with room to spare
  (upstream ``allocateOne``'s start location), and the search is complete over such assignments;
* ``allocationMode: All`` over devices with and without a ``capacity`` map takes exactly every selectable
  device whose capacity fits, or fails as a whole when one of them is held;
* counters consumed by devices that other claims hold only through shared (``shareID``) allocations count
  for every later claim, and a device already shared does not consume them again;
* a claim with a deletion timestamp blocks the pod before its allocation is looked at.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kubectl_dra.analysis.why_pending import why_pending
from tests.builders import (
    ALL, CS1, DRIVER_A, NODE1, NODE2, POOL1, allocated_claim, allocation, claim, device, device_class, feats,
    first_available, node, pod, request, resource_slice, run, sel_attr_eq, shared_use, snapshot, subrequest,
)

# The two implementations that know multi-allocatable devices: incubating (DRAConsumableCapacity with the
# 1.36 defaults' companions) and experimental (every gate, DRAListTypeAttributes among them).
INCUBATING = feats(consumable=True, partitionable=True, taints=True, prioritized=True, admin=True)
IMPLEMENTATIONS = pytest.mark.parametrize("gates", [INCUBATING, ALL], ids=["incubating", "experimental"])
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


def _names(outcome, claim_name="claim-0"):
    return [(r.request, r.device) for r in outcome.results[("default", claim_name)]]


# ---- one request, never the same device twice ------------------------------------------------------------

@st.composite
def sharing_scenario(draw):
    devs = []
    for i in range(draw(st.integers(1, 4))):
        multi = draw(st.booleans())
        cap = draw(st.sampled_from([None, 2, 4, 8]))
        devs.append({"name": f"dev-{i}", "multi": multi, "cap": cap,
                     # multi-allocatable: capacity other claims already consume (a shareID result);
                     # otherwise: held whole by another claim
                     "held": draw(st.sampled_from([0, 2]) if multi and cap else st.sampled_from([0, 0, 1]))})
    reqs = [{"name": f"req-{j}", "count": draw(st.integers(1, 3)), "cap": draw(st.sampled_from([None, 1, 2, 4]))}
            for j in range(draw(st.integers(1, 2)))]
    return devs, reqs


def _sharing_objects(devs, reqs):
    slice_devs = [device(d["name"], multi=True if d["multi"] else None,
                         capacity={"mem": str(d["cap"])} if d["cap"] else None) for d in devs]
    objs = [device_class("class-a", driver=DRIVER_A), resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *slice_devs)]
    for d in devs:
        if d["held"] and d["multi"]:
            objs.append(shared_use((DRIVER_A, POOL1, d["name"]), {"mem": str(d["held"])}, name=f"sharer-{d['name']}"))
        elif d["held"]:
            objs.append(allocated_claim(f"holder-{d['name']}", (DRIVER_A, POOL1, d["name"])))
    requests = [request(r["name"], count=r["count"], capacity={"mem": str(r["cap"])} if r["cap"] else None)
                for r in reqs]
    return objs, claim("claim-0", *requests)


def _consumes(d, r):
    """What one allocation of device d for request r consumes of its "mem" capacity; None: does not fit it."""
    if d["cap"] is None:
        return None if r["cap"] else 0
    return r["cap"] if r["cap"] else d["cap"]


def _sharing_valid(choice, devs, reqs) -> bool:
    """choice: per request, a tuple of device indexes. The model: a device without allowMultipleAllocations
    serves one request of one claim and none if held; a multi-allocatable one serves many, within its
    capacity (what others consume plus every allocation's own)."""
    used: dict[int, int] = {}
    exclusive: list[int] = []
    for r, picked in zip(reqs, choice):
        if len(set(picked)) != len(picked):
            return False
        for i in picked:
            d = devs[i]
            amount = _consumes(d, r)
            if amount is None or (d["cap"] is not None and amount > d["cap"]):
                return False
            if d["multi"]:
                used[i] = used.get(i, 0) + amount
            else:
                if d["held"]:
                    return False
                exclusive.append(i)
    if len(set(exclusive)) != len(exclusive):
        return False
    return all(devs[i]["cap"] is None or devs[i]["held"] + amount <= devs[i]["cap"] for i, amount in used.items())


@IMPLEMENTATIONS
@SETTINGS
@given(sc=sharing_scenario())
def test_no_device_twice_in_one_request_and_search_complete(gates, sc):
    devs, reqs = sc
    objs, c = _sharing_objects(devs, reqs)
    out = run(objs, [c], gates=gates)
    assert out.error is None
    if out.fits:
        got = _names(out)
        assert [req for req, _ in got] == [r["name"] for r in reqs for _ in range(r["count"])]
        index = {d["name"]: i for i, d in enumerate(devs)}
        choice, pos = [], 0
        for r in reqs:
            choice.append(tuple(index[dev] for _, dev in got[pos:pos + r["count"]]))
            pos += r["count"]
        for r, picked in zip(reqs, choice):
            assert len(set(picked)) == len(picked), f"{r['name']} got one device twice: {got}"
        assert _sharing_valid(choice, devs, reqs), got
    else:
        options = [list(itertools.combinations(range(len(devs)), r["count"])) for r in reqs]
        assert not any(_sharing_valid(ch, devs, reqs) for ch in itertools.product(*options)), \
            "no fit reported but an assignment exists"


def test_count_two_on_one_roomy_multi_allocatable_device_does_not_fit():
    # The smallest case of the property: one multi-allocatable device with room for both devices of the
    # request still serves the request once.
    objs, c = _sharing_objects([{"name": "dev-0", "multi": True, "cap": 8, "held": 0}],
                               [{"name": "req-0", "count": 2, "cap": 2}])
    for gates in (INCUBATING, ALL):
        out = run(objs, [c], gates=gates)
        assert not out.fits and out.error is None


# ---- allocationMode All with mixed capacity maps -----------------------------------------------------------

@st.composite
def all_scenario(draw):
    devs = []
    for i in range(draw(st.integers(1, 4))):
        multi = draw(st.booleans())
        cap = draw(st.sampled_from([None, None, 2, 4]))
        devs.append({"name": f"dev-{i}", "multi": multi, "cap": cap, "model": draw(st.sampled_from(["a", "b"])),
                     "held": draw(st.sampled_from([0, 2]) if multi and cap else st.sampled_from([0, 0, 0, 1]))})
    return devs, draw(st.sampled_from([None, 1, 2])), draw(st.sampled_from([None, "a"]))


@IMPLEMENTATIONS
@SETTINGS
@given(sc=all_scenario())
def test_all_mode_takes_every_device_that_fits_with_or_without_capacity(gates, sc):
    devs, cap_request, model = sc
    objs, _ = _sharing_objects([dict(d) for d in devs], [])
    objs[1]["spec"]["devices"] = [device(d["name"], multi=True if d["multi"] else None, attrs={"model": d["model"]},
                                         capacity={"mem": str(d["cap"])} if d["cap"] else None) for d in devs]
    c = claim("claim-0", request("req-0", count=None, mode="All",
                                 selectors=[sel_attr_eq("model", model)] if model else (),
                                 capacity={"mem": str(cap_request)} if cap_request else None))
    out = run(objs, [c], gates=gates)
    assert out.error is None

    def capacity_fits(d):
        amount = _consumes(d, {"cap": cap_request})
        if amount is None:
            return False
        return d["cap"] is None or amount + (d["held"] if d["multi"] else 0) <= d["cap"]

    # Upstream collects the selectable devices whose capacity fits when the request is validated; being
    # held is only found when each is taken, and then the whole request fails.
    candidates = [d for d in devs if (model is None or d["model"] == model) and capacity_fits(d)]
    if not candidates or any(d["held"] and not d["multi"] for d in candidates):
        assert not out.fits
    else:
        assert out.fits
        assert _names(out) == [("req-0", d["name"]) for d in candidates]


def test_all_mode_one_device_without_capacity_map_fits():
    # The default-gates path issue 12 reported: one device, no capacity map, one All request.
    objs = [device_class("class-a", driver=DRIVER_A), resource_slice("slice-1", NODE1, POOL1, DRIVER_A, "dev-0")]
    out = run(objs, [claim("claim-0", request("req-0", count=None, mode="All"))], gates=ALL)
    assert out.fits and _names(out) == [("req-0", "dev-0")]


# ---- counters consumed through shareIDs --------------------------------------------------------------------

@st.composite
def counter_scenario(draw):
    devs = [{"name": f"dev-{i}", "multi": draw(st.booleans()), "uses": draw(st.sampled_from([2, 4])),
             "held": draw(st.sampled_from([False, False, True]))} for i in range(draw(st.integers(1, 4)))]
    counts = [draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2)))]
    return devs, draw(st.sampled_from([4, 6, 8])), counts


def _counter_objects(devs, total, counts):
    slice_devs = [device(d["name"], multi=True if d["multi"] else None, consumes={CS1: {"mem": str(d["uses"])}})
                  for d in devs]
    objs = [device_class("class-a", driver=DRIVER_A),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *slice_devs, counters={CS1: {"mem": str(total)}})]
    for d in devs:
        if d["held"] and d["multi"]:
            # held only through a shared allocation: a result with a shareID (no capacity map, nothing consumed)
            objs.append(allocated_claim(f"sharer-{d['name']}", (DRIVER_A, POOL1, d["name"],
                                                                 {"shareID": "11111111-2222-3333-4444-555555555555"})))
        elif d["held"]:
            objs.append(allocated_claim(f"holder-{d['name']}", (DRIVER_A, POOL1, d["name"])))
    return objs, claim("claim-0", *[request(f"req-{j}", count=n) for j, n in enumerate(counts)])


@IMPLEMENTATIONS
@SETTINGS
@given(sc=counter_scenario())
def test_counters_of_shared_devices_count_for_other_claims(gates, sc):
    devs, total, counts = sc
    objs, c = _counter_objects(devs, total, counts)
    out = run(objs, [c], gates=gates)
    assert out.error is None
    by_name = {d["name"]: d for d in devs}
    held_use = sum(d["uses"] for d in devs if d["held"])
    if out.fits:
        taken = {dev for _, dev in _names(out)}
        assert not any(by_name[n]["held"] and not by_name[n]["multi"] for n in taken)
        # every device taken that nobody holds yet consumes its counters once, on top of what every held
        # device (shared or not) already consumes; a shared device consumes nothing more
        new_use = sum(by_name[n]["uses"] for n in taken if not by_name[n]["held"])
        if new_use:
            assert held_use + new_use <= total, (f"took {sorted(taken)}: {held_use} held + {new_use} new "
                                                 f"> {total} counters")
    if all(n == 1 for n in counts) and any(d["held"] and d["multi"] for d in devs):
        # a device already shared skips the counter check, so count-1 requests can always share it
        assert out.fits


def test_shared_allocation_alone_uses_up_the_counters():
    # dev-0 (multi-allocatable, 4 of 4 counters) is held by another claim only through a shareID; dev-1
    # (non-shareable, 4) does not fit any more, while dev-0 itself can be shared again.
    devs = [{"name": "dev-0", "multi": True, "uses": 4, "held": True},
            {"name": "dev-1", "multi": False, "uses": 4, "held": False}]
    objs, _ = _counter_objects(devs, 4, [1])
    for d, model in zip(objs[1]["spec"]["devices"], ("y", "x")):
        d["attributes"] = {"model": {"string": model}}
    only_dev1 = claim("claim-0", request("req-0", count=1, selectors=[sel_attr_eq("model", "x")]))
    out = run(objs, [only_dev1], gates=ALL)
    assert out.error is None and not out.fits
    assert out.trace.requests[0].rejected_counters[0]["device"] == "driver-a/pool-1/dev-1"
    out = run(objs, [claim("claim-0", request("req-0"))], gates=ALL)
    assert out.fits and _names(out) == [("req-0", "dev-0")]


# ---- a deleting claim is refused before its allocation is looked at ----------------------------------------

@st.composite
def deletion_scenario(draw):
    claims = [{"name": f"c-{i}", "allocated": draw(st.booleans()), "deleting": draw(st.booleans())}
              for i in range(draw(st.integers(1, 3)))]
    return claims, draw(st.integers(0, 3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=deletion_scenario())
def test_deleting_claim_blocks_before_its_allocation(sc):
    claims, free = sc
    n_devices = sum(1 for c in claims if c["allocated"]) + free
    devs = [f"dev-{i}" for i in range(n_devices)]
    objs = [node(NODE1), node(NODE2), device_class("class-a", driver=DRIVER_A),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs) if devs else None]
    objs = [o for o in objs if o is not None]
    next_dev = 0
    for c in claims:
        alloc = None
        if c["allocated"]:
            alloc = allocation(("req-0", DRIVER_A, POOL1, devs[next_dev]), node_name=NODE1)
            next_dev += 1
        obj = claim(c["name"], request("req-0"), allocation=alloc)
        if c["deleting"]:
            obj["metadata"]["deletionTimestamp"] = "2026-12-01T10:00:00Z"
            obj["metadata"]["finalizers"] = ["resource.kubernetes.io/delete-protection"]
        objs.append(obj)
    objs.append(pod("p", *[(c["name"], "claim", c["name"]) for c in claims]))
    report = why_pending(snapshot(*objs), "Pod", "p", "default", ALL)
    codes = [r["code"] for r in report["reasons"]]
    deleting = [c["name"] for c in claims if c["deleting"]]
    if deleting:
        assert report["fits"] is False
        assert [r.get("claim") for r in report["reasons"] if r["code"] == "claim-deleting"] == deleting
        assert not any(n["fits"] for n in report["nodes"])
    else:
        assert "claim-deleting" not in codes
        pending = sum(1 for c in claims if not c["allocated"])
        fits_node1 = pending <= free
        assert report["fits"] is fits_node1
        assert [n["name"] for n in report["nodes"] if n["fits"]] == ([NODE1] if fits_node1 else [])


def test_multi_allocatable_counters_stay_consumed_after_backtracking():
    """Reproduced upstream behaviour (1.36.2, allocateDevice's rollback gives counters back only for devices
    without allowMultipleAllocations). req-0 first takes the shareable dev-0 (all 4 counters), req-1's dev-2
    then breaks the numa constraint; after backtracking dev-1 finds the counters still spent, so no fit,
    though dev-1 + dev-2 is a valid answer (found when dev-0 is not shareable)."""
    def objects(multi):
        devs = [device("dev-0", attrs={"numa": 1, "kind": "p"}, multi=multi, consumes={CS1: {"mem": "4"}}),
                device("dev-1", attrs={"numa": 0, "kind": "p"}, consumes={CS1: {"mem": "4"}}),
                device("dev-2", attrs={"numa": 0, "kind": "q"})]
        return [device_class("class-a", driver=DRIVER_A),
                resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs, counters={CS1: {"mem": "4"}})]
    c = claim("claim-0", request("req-0", selectors=[sel_attr_eq("kind", "p")]),
              request("req-1", selectors=[sel_attr_eq("kind", "q")]),
              constraints=[{"matchAttribute": f"{DRIVER_A}/numa"}])
    for gates in (INCUBATING, ALL):
        out = run(objects(True), [c], gates=gates)
        assert not out.fits and out.error is None
        out = run(objects(None), [c], gates=gates)
        assert out.fits and _names(out) == [("req-0", "dev-1"), ("req-1", "dev-2")]


def test_all_device_out_of_capacity_keeps_its_constraint_entry():
    """Reproduced upstream behaviour (1.36.2, allocateDevice returns on a capacity failure without undoing the
    constraints it added). req-0 shares dev-0 (6 of 8); req-1's first alternative wants all of the shareable
    devices with 4 each, so dev-0 joins the numa constraint and then fails its capacity check; the constraint
    keeps numa 0, and the second alternative's dev-1 (numa 1) is refused: no fit, though req-1/sub-b = dev-1
    and req-2 = dev-2 satisfy everything (found when the first alternative cannot run out of capacity)."""
    def objects(cap):
        devs = [device("dev-0", attrs={"numa": 0, "kind": "shared"}, multi=True, capacity={"mem": cap}),
                device("dev-1", attrs={"numa": 1, "kind": "plain1"}),
                device("dev-2", attrs={"numa": 1, "kind": "plain2"})]
        return [device_class("class-a", driver=DRIVER_A), resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)]
    c = claim("claim-0",
              request("req-0", selectors=[sel_attr_eq("kind", "shared")], capacity={"mem": "6"}),
              first_available("req-1", subrequest("sub-a", count=None, mode="All", capacity={"mem": "4"},
                                                  selectors=[sel_attr_eq("kind", "shared")]),
                              subrequest("sub-b", selectors=[sel_attr_eq("kind", "plain1")])),
              request("req-2", selectors=[sel_attr_eq("kind", "plain2")]),
              constraints=[{"matchAttribute": f"{DRIVER_A}/numa", "requests": ["req-1", "req-2"]}])
    for gates in (INCUBATING, ALL):
        out = run(objects("8"), [c], gates=gates)
        assert not out.fits and out.error is None
        # with room for both shares (10), sub-a is taken, req-2 then breaks the constraint, backtracking undoes
        # sub-a properly and sub-b + dev-2 fit
        out = run(objects("10"), [c], gates=gates)
        assert out.fits and _names(out) == [("req-0", "dev-0"), ("req-1/sub-b", "dev-1"), ("req-2", "dev-2")]
