"""CompiledExpression.evaluate reads memo keys straight from the raw device fields: it must give
exactly what a fresh, memo-less evaluation of the same device gives (values and errors)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from kubectl_dra.cel import CelEvaluationError, compile_expression
from kubectl_dra.cel.device import DeviceInput

DRIVER = "gpu.example.com"
EXPRESSIONS = [
    'device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "a100"',
    'device.attributes["gpu.example.com"].model == "a100"',
    'has(device.attributes["gpu.example.com"].numa) && device.attributes["gpu.example.com"].numa > 0',
    'device.attributes["other.io"].model == "a100"',
    'device.capacity["gpu.example.com"].memory.compareTo(quantity("40Gi")) >= 0',
    'device.allowMultipleAllocations || device.attributes["gpu.example.com"].healthy',
    '"model" in device.attributes["gpu.example.com"]',
    'device.attributes["gpu.example.com"].driverVersion.isGreaterThan(semver("1.2.0"))',
]

attr_value = st.one_of(
    st.fixed_dictionaries({"string": st.sampled_from(["a100", "h100", "x"])}),
    st.fixed_dictionaries({"int": st.integers(-2, 3)}),
    st.fixed_dictionaries({"bool": st.booleans()}),
    st.fixed_dictionaries({"version": st.sampled_from(["1.2.0", "1.10.1", "0.9.0"])}),
    st.just({}),
)
# bare names belong to the driver's domain; qualified ones may name it or another domain
attr_name = st.sampled_from(["model", "numa", "healthy", "driverVersion", "gpu.example.com/model",
                             "gpu.example.com/numa", "other.io/model", "gpu.example.com/healthy"])
devices = st.fixed_dictionaries({
    "driver": st.sampled_from([DRIVER, "other.io", ""]),
    "attributes": st.one_of(st.none(), st.dictionaries(attr_name, attr_value, max_size=5)),
    "capacity": st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["memory", "gpu.example.com/memory", "other.io/memory"]),
        st.fixed_dictionaries({"value": st.sampled_from(["40Gi", "80Gi", "1", "bad-q"])}), max_size=2)),
    "allow": st.sampled_from([None, True, False]),
})


def _outcome(fn):
    try:
        return ("ok", fn())
    except CelEvaluationError as e:
        return ("error", e.detail, e.missing_key, e.device)


@settings(max_examples=150, deadline=None)
@given(st.lists(devices, min_size=1, max_size=12))
def test_memo_hits_agree_with_fresh_evaluation(devs):
    for text in EXPRESSIONS:
        memo = compile_expression(text)
        for d in devs:
            fresh = compile_expression(text, cost_limit=memo.cost_limit + 1)  # another object: empty memo
            want = _outcome(lambda: fresh.evaluate_input(
                DeviceInput(d["driver"], d["attributes"], d["capacity"], d["allow"], label="dev-1")))
            got = _outcome(lambda: memo.evaluate(d["driver"], d["attributes"], d["capacity"], d["allow"],
                                                 device_label="dev-1"))
            again = _outcome(lambda: memo.evaluate(d["driver"], d["attributes"], d["capacity"], d["allow"],
                                                   device_label="dev-1"))
            assert got == want, (text, d)
            assert again == want, (text, d)


@settings(max_examples=150, deadline=None)
@given(st.lists(devices, min_size=1, max_size=12))
def test_memo_value_answers_only_what_evaluate_would(devs):
    """memo_value (the allocator's probe before a full evaluation) is either None or exactly the
    boolean evaluate gives; it never answers for a device whose evaluation is an error."""
    for text in EXPRESSIONS:
        memo = compile_expression(text, cost_limit=10**6 + len(text))  # its own memo for this test
        answered = 0
        for d in devs + devs:  # the second round finds what the first one memoized
            args = (d["driver"] or "", d["attributes"] or {}, d["capacity"] or {}, bool(d["allow"]))
            probe = memo.memo_value(*args)
            want = _outcome(lambda: memo.evaluate(d["driver"], d["attributes"], d["capacity"], d["allow"]))
            if probe is not None:
                answered += 1
                assert want == ("ok", probe), (text, d)
        if all(_outcome(lambda: memo.evaluate(d["driver"], d["attributes"], d["capacity"], d["allow"]))[0] == "ok"
               for d in devs):
            assert answered >= len(devs), text  # every repeat was answered from the memo


def test_second_device_with_the_same_values_is_a_memo_hit():
    e = compile_expression('device.attributes["gpu.example.com"].model == "a100" && device.driver == "gpu.example.com"')
    a = {"model": {"string": "a100"}, "uuid": {"string": "GPU-1"}}
    b = {"gpu.example.com/model": {"string": "a100"}, "uuid": {"string": "GPU-2"}}  # qualified name, same value
    assert e.evaluate(DRIVER, a) is True
    hits = e.stats["memo_hits"]
    assert e.evaluate(DRIVER, b) is True
    assert e.stats["memo_hits"] == hits + 1
    # && with false on the other side hides the error (CEL's commutative short-circuit)
    assert e.evaluate("other.io", a) is False
    # bare name on a device of another driver: not the attribute's domain, so no such key
    only = compile_expression('device.attributes["gpu.example.com"].model == "a100"')
    try:
        only.evaluate("other.io", a)
    except CelEvaluationError as err:
        assert err.missing_key == "model"
    else:
        raise AssertionError("expected a missing-key error")
