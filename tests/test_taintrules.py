"""DeviceTaintRules: read in every served version, which devices a rule selects (the slice tracker's and the
eviction controller's readings), the gates that put rules in force per release, and the API checks."""

from __future__ import annotations

import pytest

from kubectl_dra import taintrules
from kubectl_dra.errors import InputError
from kubectl_dra.features import defaults_for_version, parse_feature_gates
from kubectl_dra.normalize import normalize_object
from kubectl_dra.snapshot import DeviceKey
from tests.builders import DRIVER_A, DRIVER_B, NODE1, NODE2, POOL1, POOL2, device, device_class, resource_slice, snapshot


def rule(name: str, selector=..., *, key="example.com/broken", value="true", effect="NoExecute",
         api_version="resource.k8s.io/v1beta2") -> dict:
    spec: dict = {"taint": {"key": key, "effect": effect, **({"value": value} if value else {})}}
    if selector is not ...:
        spec["deviceSelector"] = selector
    return {"apiVersion": api_version, "kind": "DeviceTaintRule", "metadata": {"name": name}, "spec": spec}


def cluster(*extra):
    return snapshot(
        resource_slice("s1", NODE1, POOL1, DRIVER_A, device("gpu-0", attrs={"model": "a100"}),
                       device("gpu-1", attrs={"model": "h100"},
                              taints=[{"key": "driver/own", "effect": "NoSchedule"}])),
        resource_slice("s2", NODE2, POOL2, DRIVER_B, device("nic-0")),
        *extra)


def taints(snap, driver, pool, name):
    return list(snap.devices_by_key[DeviceKey(driver, pool, name)].device.get("taints") or [])


# -- reading --------------------------------------------------------------------------------------

def test_v1alpha3_and_v1beta2_read_as_the_same_rule():
    a = normalize_object(rule("r", {"driver": DRIVER_A}, api_version="resource.k8s.io/v1alpha3"))
    b = normalize_object(rule("r", {"driver": DRIVER_A}))
    assert a == b and a["apiVersion"] == "resource.k8s.io/v1beta2"


def test_a_version_that_never_served_the_kind_is_bad_input():
    with pytest.raises(InputError, match="DeviceTaintRule 'r': unsupported apiVersion 'resource.k8s.io/v1'"):
        normalize_object(rule("r", {}, api_version="resource.k8s.io/v1"))


def test_the_snapshot_keeps_rules_and_dump_writes_them_back():
    snap = cluster(rule("r", {"driver": DRIVER_A}, api_version="resource.k8s.io/v1alpha3"))
    assert list(snap.device_taint_rules) == ["r"]
    assert [o["kind"] for o in snap.objects()].count("DeviceTaintRule") == 1
    # straight from the source, the slices are as the drivers published them
    assert taints(snap, DRIVER_A, POOL1, "gpu-0") == []


# -- applying (the slice tracker: what kube-scheduler sees) ----------------------------------------

def test_a_rule_appends_its_taint_after_the_drivers_own_and_names_itself():
    snap = taintrules.apply(cluster(rule("r", {"driver": DRIVER_A, "device": "gpu-1"})))
    assert taints(snap, DRIVER_A, POOL1, "gpu-1") == [
        {"key": "driver/own", "effect": "NoSchedule"},
        {"key": "example.com/broken", "value": "true", "effect": "NoExecute", "rule": "r"}]
    assert taints(snap, DRIVER_A, POOL1, "gpu-0") == []
    assert taintrules.source_of_taint(snap, f"{DRIVER_A}/{POOL1}/gpu-1", {"key": "driver/own", "effect": "NoSchedule"}) == "slice s1"
    assert taintrules.source_of_taint(snap, f"{DRIVER_A}/{POOL1}/gpu-1", {"key": "example.com/broken", "value": "true",
                                                                         "effect": "NoExecute"}) == "rule r"


@pytest.mark.parametrize("selector, selected", [
    (..., 3),                                  # no deviceSelector: the tracker taints every device
    ({}, 3),                                   # the empty selector: every device
    ({"driver": DRIVER_B}, 1),
    ({"pool": POOL1}, 2),
    ({"driver": DRIVER_A, "pool": POOL2}, 0),
    ({"device": "gpu-0"}, 1),
])
def test_driver_pool_device_narrow_the_selection(selector, selected):
    snap = taintrules.apply(cluster(rule("r", selector)))
    assert sum(1 for ts in snap.rule_taints.values() for name, _ in ts if name == "r") == selected


def test_the_eviction_controller_reads_a_missing_selector_as_no_device():
    snap = cluster()
    m = taintrules.RuleMatcher(snap)
    dev = snap.devices[0]
    assert m.selects(rule("r"), dev.driver, dev.pool, dev.device) is True
    assert m.selects(rule("r"), dev.driver, dev.pool, dev.device, for_eviction=True) is False
    assert m.selects(rule("r", {}), dev.driver, dev.pool, dev.device, for_eviction=True) is True


def test_cel_selectors_and_class_count_up_to_134_only():
    sel = {"selectors": [{"cel": {"expression": 'device.attributes["driver-a"].model == "h100"'}}]}
    snap = cluster(rule("r", sel))
    m134 = taintrules.RuleMatcher(snap, 34)
    m136 = taintrules.RuleMatcher(snap, 36)
    by = {d.name: d for d in snap.devices}
    assert [n for n, d in by.items() if m134.selects(rule("r", sel), d.driver, d.pool, d.device)] == ["gpu-1"]
    assert sorted(n for n, d in by.items() if m136.selects(rule("r", sel), d.driver, d.pool, d.device)) == \
        ["gpu-0", "gpu-1", "nic-0"]
    assert taintrules.ignored_fields(rule("r", sel), 36) == ["spec.deviceSelector.selectors"]
    # a class that does not exist: the rule does not apply (1.34)
    d = by["gpu-0"]
    assert not m134.selects(rule("r", {"deviceClassName": "nope"}), d.driver, d.pool, d.device)
    with_class = cluster(device_class("only-a", 'device.driver == "driver-a"'))
    m = taintrules.RuleMatcher(with_class, 34)
    assert m.selects(rule("r", {"deviceClassName": "only-a"}), d.driver, d.pool, d.device)
    nic = next(x for x in with_class.devices if x.name == "nic-0")
    assert not m.selects(rule("r", {"deviceClassName": "only-a"}), nic.driver, nic.pool, nic.device)


# -- gates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("release, overrides, needed", [
    ("1.34", None, ["DRADeviceTaints"]),
    ("1.34", "DRADeviceTaints=true", []),                              # 1.34: one gate for both
    ("1.35", "DRADeviceTaints=true", ["DRADeviceTaintRules"]),
    ("1.35", "DRADeviceTaints=true,DRADeviceTaintRules=true", []),
    ("1.36", None, ["DRADeviceTaintRules"]),                           # off by default in 1.36
    ("1.36", "DRADeviceTaintRules=true", []),
])
def test_gates_that_put_rules_in_force(release, overrides, needed):
    gates = parse_feature_gates(overrides, base=defaults_for_version(release))
    assert taintrules.gates_needed(gates) == needed
    snap = cluster(rule("r", {}))
    applied = taintrules.apply(snap, gates)
    assert bool(applied.rule_taints) == (not needed)


# -- API checks per release -----------------------------------------------------------------------

def _messages(obj, minor):
    return [(p, s) for p, s, _ in taintrules.check_rule(obj, minor)]


def test_effect_none_exists_from_135():
    assert ("spec.taint.effect", "error") in _messages(rule("r", {}, effect="None", api_version="resource.k8s.io/v1alpha3"), 34)
    assert ("spec.taint.effect", "error") not in _messages(rule("r", {"driver": "x"}, effect="None"), 35)


def test_cel_selector_fields_are_unknown_from_135():
    obj = rule("r", {"selectors": [{"cel": {"expression": "true"}}]}, api_version="resource.k8s.io/v1alpha3")
    assert ("spec.deviceSelector.selectors", "error") in _messages(obj, 35)
    assert ("spec.deviceSelector.selectors", "error") not in _messages(obj, 34)


def test_v1beta2_serves_the_kind_from_136():
    assert ("apiVersion", "error") in _messages(rule("r", {"driver": "x"}), 35)
    assert _messages(rule("r", {"driver": "x"}), 36) == []


def test_missing_taint_key_and_effect():
    obj = {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule", "metadata": {"name": "r"},
           "spec": {"deviceSelector": {"driver": "x"}, "taint": {"value": "v"}}}
    assert _messages(obj, 36) == [("spec.taint.key", "error"), ("spec.taint.effect", "error")]


def test_selectors_that_select_everything_or_nothing_are_warned():
    assert _messages(rule("r", {}), 36) == [("spec.deviceSelector", "warning")]
    assert _messages(rule("r"), 36) == [("spec.deviceSelector", "warning")]
