"""The Step-1 API the allocator relies on: compile_expression / evaluate / errors."""

import pytest

from kubectl_dra.cel import CelCompileError, CelEvaluationError, compile_expression
from kubectl_dra.errors import InputError
from kubectl_dra.snapshot import DeviceEntry

H100 = dict(
    driver="gpu.nvidia.com",
    attributes={"productName": {"string": "NVIDIA H100 80GB HBM3"}, "architecture": {"string": "Hopper"},
                "driverVersion": {"version": "550.54.15"}, "cudaComputeCapability": {"version": "9.0.0"},
                "index": {"int": 0}, "gpu.nvidia.com/uuid": {"string": "GPU-4b2c"},
                "resource.kubernetes.io/pcieRoot": {"string": "pci0000:00"}},
    capacity={"memory": {"value": "80Gi"}},
)


def ev(expr, dev=H100, **kw):
    return compile_expression(expr).evaluate(**{**dev, **kw})


def test_bare_names_belong_to_driver_domain():
    assert ev('device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"')
    assert ev('device.attributes["gpu.nvidia.com"].uuid == "GPU-4b2c"')
    assert ev('device.attributes["resource.kubernetes.io"].pcieRoot == "pci0000:00"')
    assert ev('device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80Gi")) == 0')


def test_driver_and_typing():
    assert ev('device.driver == "gpu.nvidia.com"')
    assert ev('device.attributes["gpu.nvidia.com"].index == 0')
    assert ev('device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("550.0.0"))')
    assert ev('type(device.attributes["gpu.nvidia.com"].driverVersion) == type(semver("1.0.0"))')


def test_missing_key_is_runtime_error_not_false():
    e = compile_expression('device.attributes["gpu.nvidia.com"].productname == "x"')
    with pytest.raises(CelEvaluationError) as ei:
        e.evaluate(**H100)
    assert "no such key: productname" in str(ei.value)
    assert ei.value.missing_key == "productname"
    # a missing domain behaves like an empty map: the name lookup fails
    with pytest.raises(CelEvaluationError, match="no such key: productName"):
        ev('device.attributes["nvidia.com"].productName == "x"')


def test_has_and_in_do_not_fail():
    assert ev('has(device.attributes["gpu.nvidia.com"].productName)')
    assert not ev('has(device.attributes["gpu.nvidia.com"].mig)')
    assert ev('"gpu.nvidia.com" in device.attributes')
    assert not ev('"nvidia.com" in device.attributes')
    assert not ev('"mig" in device.attributes["gpu.nvidia.com"]')


def test_non_bool_result_is_evaluation_error():
    with pytest.raises(CelEvaluationError, match="could not be converted to bool"):
        ev('device.attributes["gpu.nvidia.com"].productName')


def test_compile_error_has_column_and_caret():
    text = 'device.attributes["gpu.nvidia.com"].productName =='
    with pytest.raises(CelCompileError) as ei:
        compile_expression(text)
    err = ei.value
    assert isinstance(err, InputError) and err.exit_code == 3
    assert err.column == len(text)  # the end of input, where the operand is missing
    assert err.caret().splitlines()[-1] == " | " + "." * len(text) + "^"
    assert "Syntax error: mismatched input '<EOF>'" in str(err)
    with pytest.raises(CelCompileError) as ei:
        compile_expression('device.attributes["gpu.nvidia.com"].index +* 2 > 1')
    assert ei.value.column == 43  # the "*" after "+"



def test_static_non_bool_rejected():
    with pytest.raises(CelCompileError, match="must evaluate to bool or the unknown type, not int"):
        compile_expression("1 + 2")


def test_compile_is_cached():
    assert compile_expression('device.driver == "a"') is compile_expression('device.driver == "a"')


def test_evaluate_device_entry():
    entry = DeviceEntry(driver="gpu.nvidia.com", pool="node-1", slice_name="node-1-gpu",
                        device={"name": "gpu-0", "attributes": H100["attributes"], "capacity": H100["capacity"]},
                        node_name="node-1", node_selector=None, all_nodes=False)
    e = compile_expression('device.attributes["gpu.nvidia.com"].architecture == "Hopper"')
    assert e.evaluate_device(entry) is True
    bad = compile_expression('device.attributes["gpu.nvidia.com"].arch == "Hopper"')
    with pytest.raises(CelEvaluationError) as ei:
        bad.evaluate_device(entry)
    assert "gpu.nvidia.com/node-1/gpu-0" in str(ei.value)


def test_allow_multiple_allocations_exposed():
    assert ev("device.allowMultipleAllocations", allow_multiple_allocations=True)
    assert not ev("device.allowMultipleAllocations", allow_multiple_allocations=None)


def test_memo_gives_same_answers_as_fresh_evaluation():
    e = compile_expression('device.attributes["gpu.nvidia.com"].index > 3 || '
                           'device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA A")')
    outcomes = []
    for i in range(10):
        for name in ("NVIDIA A100", "NVIDIA H100"):
            attrs = {"index": {"int": i}, "productName": {"string": name}}
            outcomes.append((i, name, e.evaluate("gpu.nvidia.com", attrs, {})))
    for i, name, got in outcomes:
        assert got == (i > 3 or name.startswith("NVIDIA A"))
    assert e.stats["memo_hits"] >= 1
