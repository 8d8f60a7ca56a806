"""The one device-selector evaluator (kubectl_dra.selection): its verdicts, its caches, and the
attribute decoding every command shares."""

from __future__ import annotations

import gc
from types import MappingProxyType

from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.devices import ClassMatcher
from kubectl_dra.analysis.match import match_devices
from kubectl_dra.cel import CelCompileError, CelEvaluationError, compile_expression
from kubectl_dra.selection import (
    MATCH, NO_MATCH, Kind, SelectorEvaluator, Verdict, attribute_key, attribute_plain, compile_selector, for_snapshot,
    lookup_attribute, unsupported_attribute,
)
from tests.builders import device, device_class, resource_slice, snapshot

DRIVER = "gpu.example.com"
A100 = device("gpu-0", attrs={"model": "a100", "index": 0}, capacity={"memory": "40Gi"})
H100 = device("gpu-1", attrs={"model": "h100", "index": 1}, capacity={"memory": "80Gi"})
NO_MODEL = device("gpu-2", attrs={"index": 2})
LISTY = device("gpu-3", attrs={"model": "a100", "tags": {"stringValues": ["x", "y"]}})

IS_A100 = f'device.attributes["{DRIVER}"].model == "a100"'
BIG = (f'has(device.capacity["{DRIVER}"].memory) && '
       f'device.capacity["{DRIVER}"].memory.compareTo(quantity("64Gi")) >= 0')


def test_match_and_no_match_are_the_shared_verdicts():
    sel = SelectorEvaluator()
    assert sel.evaluate(IS_A100, DRIVER, A100) is MATCH
    assert sel.evaluate(IS_A100, DRIVER, H100) is NO_MATCH
    assert MATCH.matched and not NO_MATCH.matched and not NO_MATCH.failed
    # a list stops at its first false selector: the erroring one after it is never evaluated
    assert sel.evaluate_all([IS_A100, f'device.attributes["{DRIVER}"].nope'], DRIVER, H100) is NO_MATCH
    assert sel.evaluate_all([IS_A100, f'device.driver == "{DRIVER}"'], DRIVER, A100) is MATCH
    assert sel.evaluate_all([], DRIVER, A100) is MATCH


def test_a_compile_error_is_the_same_verdict_on_every_device():
    sel = SelectorEvaluator()
    v = sel.evaluate("device.driver ==", DRIVER, A100)
    assert v.kind is Kind.COMPILE_ERROR and v.failed and not v.matched
    assert isinstance(v.error, CelCompileError)
    assert v.message == str(v.error) and "^" in v.message  # the compiler's text, caret line included
    assert sel.evaluate("device.driver ==", DRIVER, H100) is v
    assert sel.evaluate_all([f'device.driver == "{DRIVER}"', "device.driver =="], DRIVER, A100) is v
    assert type(sel.compile("device.driver ==")) is Verdict
    # over the cost budget in the worst case (cheap in fact): it compiles when the budget is not
    # checked (classes already in a cluster), cached apart from the checked compile
    costly = "[1,2,3,4,5,6,7,8,9,10].exists(a, " * 6 + "true" + ")" * 6
    assert sel.compile(costly).kind is Kind.COMPILE_ERROR
    assert "exceeds the budget" in sel.evaluate(costly, DRIVER, A100).message
    assert sel.evaluate(costly, DRIVER, A100, check_cost=False) is MATCH


def test_a_runtime_error_names_what_failed_but_not_the_device():
    sel = SelectorEvaluator()
    v = sel.evaluate(IS_A100, DRIVER, NO_MODEL)
    assert v.kind is Kind.RUNTIME_ERROR and v.failed
    assert isinstance(v.error, CelEvaluationError)
    assert v.message == "no such key: model" and v.missing_key == "model"
    # a result that is not a bool is a runtime error too
    v = sel.evaluate(f'device.attributes["{DRIVER}"].index', DRIVER, A100)
    assert v.kind is Kind.RUNTIME_ERROR and "could not be converted to bool" in v.message


def test_strict_inputs_reject_a_device_upstream_cannot_convert():
    sel = SelectorEvaluator()
    v = sel.evaluate(IS_A100, DRIVER, LISTY, strict_inputs=True)
    assert v.kind is Kind.RUNTIME_ERROR and v.message == "attribute tags: unsupported attribute value"
    assert sel.input_error(LISTY) is v and sel.input_error(A100) is None
    # every selector gets the same verdict; a compile error still comes first
    assert sel.evaluate(f'device.driver == "{DRIVER}"', DRIVER, LISTY, strict_inputs=True) is v
    assert sel.evaluate_all([IS_A100], DRIVER, LISTY, strict_inputs=True) is v
    assert sel.evaluate("device.driver ==", DRIVER, LISTY, strict_inputs=True).kind is Kind.COMPILE_ERROR
    entries = [((DRIVER, "p", d["name"]), d) for d in (A100, LISTY)]
    assert sel.selector_flags([IS_A100], [], entries, strict_inputs=True) is None
    assert sel.selector_flags([], [], entries, strict_inputs=True) == [2, 2]  # no selector, nothing to reject
    # without the input check, the same cache answers: the attribute fails only an expression reading it
    assert sel.evaluate(IS_A100, DRIVER, LISTY) is MATCH
    assert sel.selector_flags([IS_A100], [], entries) == [2, 2]
    read = sel.evaluate(f'device.attributes["{DRIVER}"].tags == "x"', DRIVER, LISTY)
    assert read.kind is Kind.RUNTIME_ERROR and "unsupported attribute value" in read.message
    assert sel.evaluate(IS_A100, DRIVER, A100, strict_inputs=True) is MATCH


class _Counting:
    """A compiled expression without a memo, counting its evaluations."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def evaluate(self, driver, attributes, capacity, allow_multiple_allocations):
        self.calls += 1
        return self.fn(driver, attributes)


def test_verdicts_are_cached_per_expression_and_device():
    compiled, compiles = {}, []

    def compile_fn(text):
        compiles.append(text)
        if text == "bad":
            raise CelCompileError("nope", expression=text)
        compiled[text] = _Counting(lambda d, a: a["model"]["string"] == text)
        return compiled[text]

    sel = SelectorEvaluator(compile_fn)
    for _ in range(3):
        assert sel.evaluate("a100", DRIVER, A100) is MATCH
        assert sel.evaluate("a100", DRIVER, H100) is NO_MATCH
        assert sel.evaluate("bad", DRIVER, A100).kind is Kind.COMPILE_ERROR
    assert compiles == ["a100", "bad"]          # each text compiled once, its error included
    assert compiled["a100"].calls == 2          # each device evaluated once
    entries = [((DRIVER, "pool", d["name"]), d) for d in (A100, H100)]
    assert sel.selector_flags(["a100"], [], entries) == [2, 0]
    assert compiled["a100"].calls == 2          # the one-pass view reuses the same verdicts
    twin = dict(A100)                           # equal content, another device: evaluated on its own
    assert sel.evaluate("a100", DRIVER, twin) is MATCH and compiled["a100"].calls == 3


def test_selector_flags_step_aside_on_any_error():
    sel = SelectorEvaluator()
    entries = [((DRIVER, "p", d["name"]), d) for d in (A100, H100, NO_MODEL)]
    driver_ok = [f'device.driver == "{DRIVER}"']
    assert sel.selector_flags(driver_ok, [BIG], entries) == [1, 2, 1]
    assert sel.selector_flags(driver_ok, [IS_A100], entries) is None   # runtime error on gpu-2
    assert sel.selector_flags(["device.driver =="], [], entries) is None  # compile error


def _snapshot(*devices):
    return snapshot(device_class("gpu", driver=DRIVER), resource_slice("s", "node-a", "p", DRIVER, *[dict(d) for d in devices]))


def test_one_evaluator_per_snapshot_and_rule_shared_by_the_commands():
    snap = _snapshot(A100, H100, NO_MODEL)
    sel = for_snapshot(snap)
    assert for_snapshot(snap) is sel
    assert for_snapshot(_snapshot(A100)) is not sel
    out = match_devices(snap, IS_A100)
    assert out["counts"]["match"] == 1 and out["counts"]["error"] == 1
    expr = sel.compile(IS_A100)
    assert {k[1] for k in sel.results if k[0] == id(expr)} == {id(e.device) for e in snap.devices}
    # the class matcher (explain, get, why-pending) reads the same verdicts, worded with the device's name
    matcher = ClassMatcher(snap)
    assert matcher.selection is sel and Allocator(snap).selection is sel
    by_name = {e.name: matcher.passes([IS_A100], e) for e in snap.devices}
    assert by_name == {"gpu-0": (True, None), "gpu-1": (False, None),
                       "gpu-2": (False, f"device {DRIVER}/p/gpu-2 (node node-a): no such key: model")}
    assert matcher.passes(["device.driver =="], snap.devices[0])[1] == sel.compile("device.driver ==").message


def test_a_snapshots_evaluator_goes_with_it():
    from kubectl_dra import selection

    snap = _snapshot(A100)
    for_snapshot(snap).evaluate(IS_A100, DRIVER, snap.devices[0].device)
    key = (id(snap), False)  # (snapshot, DRAListTypeAttributes)
    assert key in selection._BY_SNAPSHOT
    del snap
    gc.collect()
    assert key not in selection._BY_SNAPSHOT


def test_compile_selector_for_checks_without_devices():
    assert compile_selector(IS_A100) is compile_expression(IS_A100)
    v = compile_selector("device.")
    assert v.kind is Kind.COMPILE_ERROR and isinstance(v.error, CelCompileError)
    assert compile_selector(["not", "text"]).kind is Kind.COMPILE_ERROR


def test_attribute_values_decode_one_way():
    assert attribute_key({"int": 3}) == ("int", 3)
    assert attribute_key({"version": "1.2.3"}) == ("version", "1.2.3")
    assert attribute_key({"string": None, "bool": False}) == ("bool", False)
    assert attribute_key({}) is None and attribute_key({"stringValues": ["a"]}) is None
    assert attribute_plain({"bool": True}) is True and attribute_plain({"intValues": [1]}) is None
    assert unsupported_attribute(None) is None
    assert unsupported_attribute(A100["attributes"]) is None
    assert unsupported_attribute(MappingProxyType({"a": MappingProxyType({"string": "x"})})) is None
    assert unsupported_attribute({"a": {"int": 1}, "b": {}, "c": {"x": 1}}) == "b"
    assert unsupported_attribute({"a": "not a map"}) == "a"


def test_lookup_attribute_reads_the_bare_name_in_the_drivers_domain():
    dev = {"attributes": {"model": {"string": "a100"}, "other.io/numa": {"int": 0}}}
    assert lookup_attribute(dev, DRIVER, f"{DRIVER}/model") == {"string": "a100"}
    assert lookup_attribute(dev, DRIVER, "other.io/numa") == {"int": 0}
    assert lookup_attribute(dev, DRIVER, "other.io/model") is None
    assert lookup_attribute(dev, DRIVER, "model") == {"string": "a100"}  # exact key
    assert lookup_attribute(dev, DRIVER, "numa") is None
