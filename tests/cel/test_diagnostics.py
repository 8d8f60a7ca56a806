"""Every diagnostic hint, triggered by a realistic wrong selector against the driver fixtures."""

import pytest

from kubectl_dra.cel.diagnostics import diagnose

CASES = [
    ('device.attributes["nvidia.com"].productName == "NVIDIA H100 80GB HBM3"', "wrong-domain",
     'use device.attributes["gpu.nvidia.com"].productName'),
    ('device.attributes["gpu.example.com"].ifName == "eth1"', "wrong-domain",
     'use device.attributes["dra.net"].ifName'),
    ('device.attributes["productName"] == "NVIDIA H100 80GB HBM3"', "name-as-domain",
     'e.g. device.attributes["gpu.nvidia.com"].productName'),
    ('device.attributes["gpu.nvidia.com"].memory > 40', "capacity-not-attribute",
     'use device.capacity["gpu.nvidia.com"].memory'),
    ('device.capacity["gpu.intel.com"].model == "Data Center GPU Flex 170"', "attribute-not-capacity",
     'use device.attributes["gpu.intel.com"].model'),
    ('device.attributes["gpu.nvidia.com"].productname == "NVIDIA H100 80GB HBM3"', "unknown-name",
     "did you mean productName?"),
    ('device.attributes["gpu.nvidia.co"].productName == "x"', "wrong-domain", '"gpu.nvidia.com"'),
    ('device.attributes["gpu.amd.com"].computeUnits >= 304', "unknown-domain", 'domain "gpu.amd.com"'),
    ('device.capacity["gpu.nvidia.com"].memory >= "40Gi"', "quantity-vs-string",
     'memory.compareTo(quantity("40Gi")) >= 0'),
    ('device.capacity["gpu.example.com"].memory == 85899345920', "quantity-vs-number",
     'quantity("85899345920")'),
    ('device.attributes["gpu.nvidia.com"].driverVersion >= "550.0.0"', "version-as-string",
     'driverVersion.compareTo(semver("550.0.0")) >= 0'),
    ('device.attributes["gpu.example.com"].driverVersion == "1.0.0"', "version-as-string",
     'compareTo(semver("1.0.0")) == 0'),
    ('device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan("550.0.0")', "string-argument",
     'isGreaterThan(semver("550.0.0"))'),
    ('device.attributes["dra.net"].mtu == "9000"', "int-vs-string", 'device.attributes["dra.net"].mtu == 9000'),
    ('device.attributes["gpu.nvidia.com"].architecture == 9', "string-vs-int", '== "9"'),
    ('device.attributes["dra.net"].rdma == "true"', "bool-vs-string", "compare it with true/false"),
    ('device.attributes["gpu.nvidia.com"].productName == "H100"', "unknown-value",
     'did you mean "NVIDIA H100 80GB HBM3"?'),
    ('device.driver == "gpu.nvidai.com"', "unknown-driver", 'did you mean "gpu.nvidia.com"?'),
    ('"gpu.nvidia.co" == device.driver', "unknown-driver", 'did you mean "gpu.nvidia.com"?'),
    ('device.driver == "amd.com"', "unknown-driver", 'no device the selector sees comes from driver "amd.com" '
                                                     '(drivers: '),
]


@pytest.mark.parametrize("expr,kind,text", CASES)
def test_hint(driver_snapshot, expr, kind, text):
    hints = diagnose(expr, driver_snapshot.devices)
    kinds = [h.kind for h in hints]
    assert kind in kinds, hints
    hint = hints[kinds.index(kind)]
    assert text in hint.message


def test_correct_selectors_get_no_hints(driver_snapshot):
    for expr in ('device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"',
                 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0',
                 'device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("550.0.0"))',
                 'device.attributes["dra.net"].rdma && device.attributes["dra.net"].mtu >= 9000',
                 'device.driver == "gpu.nvidia.com"', 'device.driver != "gpu.nvidai.com"'):
        assert diagnose(expr, driver_snapshot.devices) == []


def test_bad_syntax_gives_no_hints_rather_than_crashing(driver_snapshot):
    assert diagnose('device.attributes["x"', driver_snapshot.devices) == []


def _gpu(i: int, serial: str):
    from kubectl_dra.snapshot import DeviceEntry

    device = {"name": f"gpu-{i}", "attributes": {"serial": {"string": serial}, "model": {"string": "a100"}}}
    return DeviceEntry("gpu.example.com", "node-1", "node-1-gpus", device, "node-1", None, False)


def test_a_value_exists_among_many_distinct_values():
    # Every device has its own serial: the value compared with is the 60th distinct one.  A diagnosis
    # that kept only a sample of the values would claim that no device has it.
    devices = [_gpu(i, f"SN-{i:04d}") for i in range(80)]
    assert diagnose('device.attributes["gpu.example.com"].serial == "SN-0059"', devices) == []
    hints = diagnose('device.attributes["gpu.example.com"].serial == "SN-9999"', devices)
    assert [h.kind for h in hints] == ["unknown-value"]


def test_an_attribute_without_a_decodable_value_is_not_published():
    # "serial" is written on every device, but with no value upstream could decode: not published.
    from kubectl_dra.snapshot import DeviceEntry

    devices = [DeviceEntry("gpu.example.com", "p", "s", {"name": f"gpu-{i}", "attributes": {
        "serial": {"weird": 1}, "model": {"string": "a100"}}}, "node-1", None, False) for i in range(3)]
    hints = diagnose('device.attributes["gpu.example.com"].serial == "x"', devices)
    assert [h.kind for h in hints] == ["unknown-name"]
    assert "names in that domain: model)" in hints[0].message


@pytest.mark.parametrize("expr,reads", [
    ('device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].type == "gpu"',
     (("driver", "", ""), ("attributes", "gpu.example.com", "type"))),
    ('has(device.attributes["x.com"].model) && device.capacity["x.com"]["memory"].compareTo(quantity("1Gi")) > 0',
     (("attributes", "x.com", "model"), ("capacity", "x.com", "memory"))),
    ("device.allowMultipleAllocations", (("allowMultipleAllocations", "", ""),)),
    # the whole map, a macro, the bare variable: the verdict depends on more than named fields
    ('"model" in device.attributes["x.com"]', None),
    ("device.attributes.exists(d, true)", None),
    ("device == device", None),
    ('device.attributes["x"', None),
])
def test_device_reads(expr, reads):
    from kubectl_dra.cel.diagnostics import device_reads

    assert device_reads(expr) == reads


def test_class_devices_grouped_by_what_the_selectors_read_are_every_device_evaluated(driver_snapshot):
    """why-pending's selector diagnosis filters a class's devices once; grouping devices by the fields the class
    selectors read gives the very devices evaluating each one gives."""
    from kubectl_dra.allocator import Allocator
    from kubectl_dra.analysis.why_pending.explainer import _Explainer
    from kubectl_dra.features import parse_feature_gates

    alloc = Allocator(driver_snapshot, parse_feature_gates(None))
    ex = _Explainer(driver_snapshot, {}, alloc)
    devices = driver_snapshot.devices
    for sels in [(f'device.driver == "{d.driver}"',) for d in devices[:1]] + [
            ('device.driver == "gpu.nvidia.com" && '
             'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0',),
            ('has(device.attributes["dra.net"].rdma) && device.attributes["dra.net"].rdma',),
            ('device.driver == "gpu.nvidia.com"',
             'device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"')]:
        grouped = ex._class_devices_by_reads(sels, devices)
        flags = alloc.selection.selector_flags(sels, (), [(e, e.device) for e in devices], strict_inputs=True)
        assert grouped is not None and flags is not None, sels  # (no selector errors on these devices)
        assert grouped == [e for e, f in zip(devices, flags) if f], sels
        assert grouped  # each of these selects some of the fixtures' devices
    # a selector that errors on some device (no such key) leaves it to the device-by-device path
    assert ex._class_devices_by_reads(('device.attributes["gpu.nvidia.com"].productName == "x"',), devices) is None
