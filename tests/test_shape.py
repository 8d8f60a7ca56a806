"""Shape checks at the edge (kubectl_dra.shape): a malformed object is one line, exit 3, naming the file, the
object and the field; validate reports it as a schema finding; nothing downstream sees a wrongly typed field."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from kubectl_dra import shape
from kubectl_dra.errors import InputError
from kubectl_dra.sources import SourceOptions, load_snapshot
from tests.conftest import EXAMPLE

BASE = yaml.safe_load(EXAMPLE.read_text())


def _first(doc: dict, kind: str, pred=lambda o: True) -> dict:
    return next(o for o in doc["items"] if o["kind"] == kind and pred(o))


SLICE = "ResourceSlice 'gpu-node-1-gpu.nvidia.com-x8kq2'"


def _attr_not_a_map(d):
    _first(d, "ResourceSlice")["spec"]["devices"][0]["attributes"]["type"] = "gpu"
    return (f"{SLICE}: spec.devices[0].attributes.type: must be an object with one of int, bool, string, version "
            f"(e.g. {{string: ...}}), not a string")


def _slice_without_spec(d):
    del _first(d, "ResourceSlice")["spec"]
    return f"{SLICE}: spec: is required"


def _metadata_list(d):
    _first(d, "ResourceClaim")["metadata"] = ["a"]
    return "ResourceClaim: metadata: must be an object, not a list"


def _items_null_and_number(d):
    d["items"] = [None, 3]
    return "List: items[0]: must be an object, not null"


def _generation_string(d):
    _first(d, "ResourceSlice")["spec"]["pool"]["generation"] = "x"
    return f"{SLICE}: spec.pool.generation: must be an integer, not a string"


def _metadata_generation_string(d):
    _first(d, "DeviceClass")["metadata"]["generation"] = "x"
    return "DeviceClass 'gpu.nvidia.com': metadata.generation: must be an integer, not a string"


def _reserved_for_without_name(d):
    claim = _first(d, "ResourceClaim", lambda o: (o.get("status") or {}).get("reservedFor"))
    del claim["status"]["reservedFor"][0]["name"]
    return f"ResourceClaim team-a/'{claim['metadata']['name']}': status.reservedFor[0].name: is required"


def _capacity_bool(d):
    _first(d, "ResourceSlice")["spec"]["devices"][1]["capacity"]["memory"] = {"value": True}
    return f"{SLICE}: spec.devices[1].capacity.memory.value: must be a quantity, not a boolean"


def _capacity_not_a_quantity(d):
    _first(d, "ResourceSlice")["spec"]["devices"][1]["capacity"]["memory"] = {"value": "40 GB"}
    return (f"{SLICE}: spec.devices[1].capacity.memory.value: must be a quantity (e.g. 40Gi, 500m, 8), "
            f"not '40 GB'")


def _node_allocatable_not_a_quantity(d):
    _first(d, "Node")["status"] = {"allocatable": {"cpu": "lots"}}
    return "Node 'gpu-node-1': status.allocatable.cpu: must be a quantity (e.g. 40Gi, 500m, 8), not 'lots'"


def _request_count_string(d):
    claim = _first(d, "ResourceClaim", lambda o: o["metadata"]["name"] == "eval-gpus")
    claim["spec"]["devices"]["requests"][0]["exactly"]["count"] = "two"
    return "ResourceClaim team-a/'eval-gpus': spec.devices.requests[0].exactly.count: must be an integer, not a string"


def _pod_claim_name_number(d):
    pod = _first(d, "Pod", lambda o: o["metadata"]["name"] == "trainer")
    pod["spec"]["resourceClaims"][0]["name"] = 3
    return "Pod default/'trainer': spec.resourceClaims[0].name: must be a string, not an integer"


def _node_labels_list(d):
    _first(d, "Node")["metadata"]["labels"] = ["a=b"]
    return "Node 'gpu-node-1': metadata.labels: must be an object, not a list"


def _device_taints_string(d):
    _first(d, "ResourceSlice")["spec"]["devices"][2]["taints"] = "NoSchedule"
    return f"{SLICE}: spec.devices[2].taints: must be a list, not a string"


def _kind_number(d):
    _first(d, "Node")["kind"] = 7
    return "object 'gpu-node-1': kind: must be a string, not an integer"


CASES = [_attr_not_a_map, _slice_without_spec, _metadata_list, _items_null_and_number, _generation_string,
         _metadata_generation_string, _reserved_for_without_name, _capacity_bool, _request_count_string,
         _pod_claim_name_number, _node_labels_list, _device_taints_string, _kind_number, _capacity_not_a_quantity,
         _node_allocatable_not_a_quantity]


@pytest.mark.parametrize("mutate", CASES, ids=[c.__name__.strip("_") for c in CASES])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_malformed_object_is_one_line_naming_file_object_and_field(cli, tmp_path, mutate, fmt):
    doc = copy.deepcopy(BASE)
    expected = mutate(doc)
    f = tmp_path / f"cluster.{fmt}"
    f.write_text(json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc))
    for args in (["get", "devices", "-o", "json"], ["why-pending", "pod/trainer"], ["explain", "node/gpu-node-1"],
                 ["dump"]):
        res = cli(*args, "-f", str(f))
        assert res.exit_code == 3, (args, res.output)
        assert res.stderr == f"error: {f}: {expected}\n", args


def test_the_file_named_is_the_one_holding_the_object(cli, tmp_path):
    doc = copy.deepcopy(BASE)
    slices = [o for o in doc["items"] if o["kind"] == "ResourceSlice"]
    rest = {"apiVersion": "v1", "kind": "List", "items": [o for o in doc["items"] if o["kind"] != "ResourceSlice"]}
    slices[-1]["spec"]["devices"][0]["attributes"]["type"] = {"string": 5}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(rest))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump_all(slices))
    res = cli("get", "devices", "-f", str(tmp_path))
    assert res.exit_code == 3
    assert res.stderr == (f"error: {tmp_path / 'b.yaml'}: ResourceSlice '{slices[-1]['metadata']['name']}': "
                          f"spec.devices[0].attributes.type.string: must be a string, not an integer\n")


@pytest.mark.parametrize("mutate", [_attr_not_a_map, _generation_string, _reserved_for_without_name,
                                    _request_count_string, _capacity_bool, _device_taints_string])
def test_validate_reports_a_schema_finding_instead(cli, tmp_path, mutate):
    doc = copy.deepcopy(BASE)
    expected = mutate(doc)
    field = expected.split(": ")[1]
    f = tmp_path / "cluster.yaml"
    f.write_text(yaml.safe_dump(doc))
    res = cli("validate", "-f", str(f), "-o", "json")
    assert res.exit_code == 1, res.output
    findings = json.loads(res.stdout)["diagnostics"]
    assert [d["code"] for d in findings if d["severity"] == "error"] == ["schema"]
    assert findings[0]["path"] == field


def test_null_fields_count_as_absent_and_unknown_fields_are_not_judged(tmp_path):
    doc = copy.deepcopy(BASE)
    node = _first(doc, "Node")
    node["metadata"]["creationTimestamp"] = None       # as kubectl prints objects created from manifests
    node["spec"] = {"somethingNew": [1, {"x": None}]}
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(doc))
    snap = load_snapshot(SourceOptions(filenames=(str(f),)))
    assert len(snap.devices) > 0


def test_old_versions_are_checked_in_v1_shape_and_unconvertible_ones_are_named(tmp_path):
    text = """
apiVersion: resource.k8s.io/v1beta1
kind: ResourceSlice
metadata: {name: s}
spec:
  driver: d
  nodeName: n
  pool: {name: p, generation: 1, resourceSliceCount: 1}
  devices:
  - name: gpu-0
    basic: [1, 2]
"""
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(InputError, match=rf"^{f}: ResourceSlice 's': is not a well-formed resource.k8s.io/v1beta1 "
                                         r"ResourceSlice$"):
        load_snapshot(SourceOptions(filenames=(str(f),)))
    f.write_text(text.replace("basic: [1, 2]", "basic: {attributes: {model: {int: '7'}}}"))
    with pytest.raises(InputError, match=r"ResourceSlice 's': spec.devices\[0\].attributes.model.int: must be an "
                                         r"integer, not a string"):
        load_snapshot(SourceOptions(filenames=(str(f),)))


def test_shapes_cover_every_field_of_the_dra_schemas():
    # Every property of the generated schemas has a shape (nothing silently unchecked but devices, which
    # the columns cover), and the required fields kubectl-dra reads are required.
    claim = shape.shape_of("ResourceClaim")
    results = claim[1]["status"][1]["allocation"][1]["devices"][1]["results"][1]
    assert results[0] == shape.OBJ and set(results[2]) == {"request", "driver", "pool", "device"}
    assert shape.shape_of("ResourceSlice")[1]["spec"][2] == ("driver", "pool")
    assert shape.shape_of("DeviceTaintRule")[0] == shape.OBJ
    assert shape.shape_of("ConfigMap") is None


@pytest.mark.parametrize("dev, message", [
    ({"name": "d", "attributes": {"a": {"ints": [1, "2"]}}}, "spec.devices[0].attributes.a.ints[1]: must be an "
                                                              "integer, not a string"),
    ({"name": "d", "attributes": {"a": {"bool": "true"}}}, "spec.devices[0].attributes.a.bool: must be a boolean, "
                                                           "not a string"),
    ({"name": "d", "capacity": {"m": {"value": "1Gi", "requestPolicy": {"default": []}}}},
     "spec.devices[0].capacity.m.requestPolicy.default: must be a quantity, not a list"),
    ({"name": "d", "capacity": {"m": {}}}, "spec.devices[0].capacity.m.value: is required"),
    ({"name": "d", "consumesCounters": [{"counterSet": "s", "counters": {"c": {"value": {}}}}]},
     "spec.devices[0].consumesCounters[0].counters.c.value: must be a quantity, not an object"),
    ({"attributes": {}}, "spec.devices[0].name: is required"),
    ("gpu-0", "spec.devices[0]: must be an object, not a string"),
])
def test_device_checks(dev, message):
    good = {"kind": "ResourceSlice", "metadata": {"name": "good"},
            "spec": {"driver": "d", "pool": {"name": "p"}, "devices": [{"name": "x"}]}}
    bad = {"kind": "ResourceSlice", "metadata": {"name": "s"},
           "spec": {"driver": "d", "pool": {"name": "p"}, "devices": [dev]}}
    shape.check_all([good])
    with pytest.raises(InputError) as e:
        shape.check_all([good, bad], lambda o: {id(good): "a.yaml", id(bad): "f.yaml"}[id(o)])
    assert e.value.message == f"f.yaml: ResourceSlice 's': {message}"


def test_real_driver_slices_pass(drivers_dir):
    snap = load_snapshot(SourceOptions(filenames=(drivers_dir,)))
    assert len(snap.devices) > 10


def test_null_fields_are_removed_and_null_map_values_are_errors(cli, tmp_path):
    # found by scripts/fuzz_inputs.py: `obj.get(field, default)` downstream must never get None
    doc = copy.deepcopy(BASE)
    s = _first(doc, "ResourceSlice")
    s["spec"]["nodeName"] = None
    s["metadata"]["labels"] = None
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    res = cli("get", "slices", "-o", "wide", "-f", str(f))
    assert res.exit_code == 0, res.output
    s["spec"]["pool"]["name"] = None
    f.write_text(json.dumps(doc))
    res = cli("get", "slices", "-o", "wide", "-f", str(f))
    assert res.exit_code == 3 and res.stderr.endswith(": spec.pool.name: is required\n"), res.stderr
    doc = copy.deepcopy(BASE)
    _first(doc, "ResourceSlice")["spec"]["devices"][0]["attributes"]["architecture"] = None
    f.write_text(json.dumps(doc))
    res = cli("get", "devices", "-o", "wide", "-f", str(f))
    assert res.exit_code == 3 and res.stderr.endswith(
        ": spec.devices[0].attributes.architecture: must be an object with one of int, bool, string, version "
        "(e.g. {string: ...}), not null\n"), res.stderr


def test_an_item_whose_kind_is_a_list(cli, tmp_path):
    # found by scripts/fuzz_inputs.py (seed 2000): a List's item with `kind: [...]` reached is_list
    doc = copy.deepcopy(BASE)
    _first(doc, "Node", lambda o: o["metadata"]["name"] == "cpu-node-1")["kind"] = ["Node"]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(doc))
    res = cli("get", "devices", "-o", "json", "-f", str(f))
    assert res.exit_code == 3
    assert res.stderr == f"error: {f}: object 'cpu-node-1': kind: must be a string, not a list\n"


def test_a_null_name_is_no_name(cli, tmp_path):
    # found by scripts/fuzz_inputs.py (seed 3000): the snapshot's keys are built before the shape checks
    doc = copy.deepcopy(BASE)
    _first(doc, "ResourceSlice")["metadata"]["name"] = None
    _first(doc, "Node")["metadata"]["name"] = None
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    res = cli("dump", "-o", "json", "-f", str(f))
    assert res.exit_code == 0, res.output
    assert sum(1 for o in json.loads(res.stdout)["items"] if "name" not in o["metadata"]) == 2
