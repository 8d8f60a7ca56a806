"""The generated schemas: present for every kind/version, self-contained, and they accept/reject the right things."""

from __future__ import annotations

import json

import pytest

from kubectl_dra.schema import KINDS, VERSIONS, load_schema, validate_object
from kubectl_dra.sources.files import parse_text
from tests.conftest import EXAMPLE, FIXTURES, ROOT


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_self_contained_and_matches_the_repo_copy(version, kind):
    shipped = load_schema(version, kind)
    committed = json.loads((ROOT / "schemas" / version / f"{kind.lower()}.json").read_text())
    assert shipped == committed
    text = json.dumps(shipped)
    assert "$ref" not in text and '"description"' not in text
    assert shipped["properties"]["apiVersion"]["enum"] == [f"resource.k8s.io/{version}"]
    assert shipped["properties"]["kind"]["enum"] == [kind]


def test_bundled_example_and_driver_fixtures_are_valid():
    files = [EXAMPLE] + sorted((FIXTURES / "drivers").glob("*.yaml"))
    checked = 0
    for f in files:
        for obj in parse_text(f.read_text(), str(f)):
            if str(obj.get("apiVersion", "")).startswith("resource.k8s.io/"):
                assert validate_object(obj) == [], (f, obj["metadata"]["name"])
                checked += 1
    assert checked >= 20


def test_v1beta1_shape_differs_from_v1():
    v1 = load_schema("v1", "ResourceClaim")
    b1 = load_schema("v1beta1", "ResourceClaim")
    req_v1 = v1["properties"]["spec"]["properties"]["devices"]["properties"]["requests"]["items"]["properties"]
    req_b1 = b1["properties"]["spec"]["properties"]["devices"]["properties"]["requests"]["items"]["properties"]
    assert "exactly" in req_v1 and "deviceClassName" not in req_v1
    assert "exactly" not in req_b1 and "deviceClassName" in req_b1
    dev_b1 = load_schema("v1beta1", "ResourceSlice")["properties"]["spec"]["properties"]["devices"]["items"]
    assert "basic" in dev_b1["properties"]


def _claim(**exactly):
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "c"},
            "spec": {"devices": {"requests": [{"name": "r", "exactly": {"deviceClassName": "x", **exactly}}]}}}


def test_schema_errors_name_the_path():
    assert validate_object(_claim(count=2)) == []
    issues = validate_object(_claim(count="2"))
    assert [(i.path, i.message) for i in issues] == [
        ("spec.devices.requests[0].exactly.count", "must be integer, not str '2'")]
    issues = validate_object(_claim(capacity={"requests": {"memory": "ten gigs"}}))
    assert issues[0].path == "spec.devices.requests[0].exactly.capacity.requests.memory"
    assert "not a Kubernetes quantity" in issues[0].message
    issues = validate_object(_claim(selector=[]))
    assert "unknown field 'selector'" in issues[0].message


def test_duplicate_map_keys_are_reported():
    obj = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "c"},
           "spec": {}, "status": {"reservedFor": [{"resource": "pods", "name": "a", "uid": "1"},
                                                  {"resource": "pods", "name": "b", "uid": "1"}]}}
    issues = validate_object(obj)
    assert [i.path for i in issues] == ["status.reservedFor[1]"]
    assert "duplicate entry (same uid as item 0)" in issues[0].message


def test_generator_round_trip(tmp_path):
    """The generator turns an OpenAPI document into the schema shape kubectl_dra.schema expects."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "scripts" / "gen_schemas.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    P = "#/components/schemas/"
    comps = {"io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
             "M": {"type": "object", "properties": {"name": {"type": "string", "description": "d"}}}}
    for v in gen.VERSIONS:
        schemas = dict(comps)
        for k in gen.KINDS:
            schemas[f"K.{k}"] = {
                "type": "object", "required": ["spec"], "description": "x",
                "x-kubernetes-group-version-kind": [{"group": "resource.k8s.io", "kind": k, "version": v}],
                "properties": {"metadata": {"allOf": [{"$ref": P + "M"}], "default": {}},
                               "spec": {"type": "object", "properties": {
                                   "q": {"allOf": [{"$ref": P + "io.k8s.apimachinery.pkg.api.resource.Quantity"}]},
                                   "n": {"type": "integer", "format": "int32"},
                                   "ios": {"x-kubernetes-int-or-string": True}}}}}
        (tmp_path / f"apis__resource.k8s.io__{v}_openapi.json").write_text(json.dumps({"components": {"schemas": schemas}}))
    out = tmp_path / "out"
    assert gen.main([str(tmp_path), "--out", str(out), "--package-out", ""]) == 0
    s = json.loads((out / "v1" / "resourceclaim.json").read_text())
    assert s["required"][:2] == ["apiVersion", "kind"] and "spec" in s["required"]
    assert s["properties"]["metadata"] == {"type": "object", "properties": {"name": {"type": "string"}},
                                           "additionalProperties": False}
    spec_s = s["properties"]["spec"]["properties"]
    assert spec_s["q"]["oneOf"][0]["pattern"] == gen.QUANTITY_PATTERN
    assert (spec_s["n"]["minimum"], spec_s["n"]["maximum"]) == (-(2**31), 2**31 - 1)
    assert spec_s["ios"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert gen.main([str(tmp_path / "missing"), "--out", str(out), "--package-out", ""]) == 1
