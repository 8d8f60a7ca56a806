"""The generated schemas: one set per Kubernetes release, self-contained, and they accept/reject the right things."""

from __future__ import annotations

import json

import pytest

from kubectl_dra.schema import RELEASES, index, load_schema, validate_object
from kubectl_dra.sources.files import parse_text
from tests.conftest import EXAMPLE, FIXTURES, ROOT

SERVED = [(r, v, k) for r, served in index().items() for v, kinds in served.items() for k in kinds]


def test_every_release_serves_the_dra_kinds_and_device_taint_rules_where_upstream_does():
    assert RELEASES == ("1.34", "1.35", "1.36")
    for release in RELEASES:
        for version in ("v1", "v1beta1", "v1beta2"):
            assert {"DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"} <= set(
                index()[release][version])
    # DeviceTaintRule: v1alpha3 in every release, v1beta2 only from 1.36 (the OpenAPI documents say so).
    assert [r for r in RELEASES if "DeviceTaintRule" in index()[r]["v1alpha3"]] == ["1.34", "1.35", "1.36"]
    assert [r for r in RELEASES if "DeviceTaintRule" in index()[r]["v1beta2"]] == ["1.36"]


@pytest.mark.parametrize("release,version,kind", SERVED)
def test_schema_is_self_contained(release, version, kind):
    shipped = load_schema(version, kind, release)
    text = json.dumps(shipped)
    assert "$ref" not in text and '"description"' not in text
    assert shipped["properties"]["apiVersion"]["enum"] == [f"resource.k8s.io/{version}"]
    assert shipped["properties"]["kind"]["enum"] == [kind]
    assert release in shipped["$id"]


def test_shipped_schemas_are_what_the_generator_makes_from_the_reference_documents(tmp_path):
    # scripts/gen_schemas.py's default input, ../shared/reference/openapi/, seen from a checkout or a worktree.
    found = [p / "shared" / "reference" / "openapi" for p in (ROOT.parent, ROOT.parent.parent)]
    openapi = next((p for p in found if p.is_dir()), None)
    if openapi is None:
        pytest.skip("the reference OpenAPI documents are not on this machine")
    gen = _generator()
    assert gen.main([str(openapi), "--out", str(tmp_path)]) == 0
    shipped = ROOT / "kubectl_dra" / "data" / "schemas"
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert made == sorted(p.relative_to(shipped) for p in shipped.rglob("*.json"))
    for rel in made:
        assert (tmp_path / rel).read_text() == (shipped / rel).read_text(), rel


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


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "scripts" / "gen_schemas.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_generator_round_trip(tmp_path):
    """The generator turns a release's OpenAPI documents into the schema shape kubectl_dra.schema expects."""
    gen = _generator()
    P = "#/components/schemas/"
    comps = {"io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
             "M": {"type": "object", "properties": {"name": {"type": "string", "description": "d"}}}}
    docs = tmp_path / "1.40" / "with-enums"
    docs.mkdir(parents=True)
    (tmp_path / "1.40" / "apis__resource.k8s.io__v1_openapi.json").write_text("{}")  # with-enums/ wins
    for v in ("v1", "v1beta2"):
        schemas = dict(comps)
        for k in ("ResourceClaim", "ResourceClaimList"):
            schemas[f"io.k8s.api.resource.{v}.{k}"] = {
                "type": "object", "required": ["spec"], "description": "x",
                "x-kubernetes-group-version-kind": [{"group": "resource.k8s.io", "kind": k, "version": v}],
                "properties": {"metadata": {"allOf": [{"$ref": P + "M"}], "default": {}},
                               "spec": {"type": "object", "properties": {
                                   "q": {"allOf": [{"$ref": P + "io.k8s.apimachinery.pkg.api.resource.Quantity"}]},
                                   "n": {"type": "integer", "format": "int32"},
                                   "ios": {"x-kubernetes-int-or-string": True}}}}}
        (docs / f"apis__resource.k8s.io__{v}_openapi.json").write_text(json.dumps({"components": {"schemas": schemas}}))
    out = tmp_path / "out"
    assert gen.main([str(tmp_path), "--out", str(out)]) == 0
    assert json.loads((out / "index.json").read_text())["releases"]["1.40"]["served"] == {
        "v1": ["ResourceClaim"], "v1beta2": ["ResourceClaim"]}  # no *List kinds
    s = json.loads((out / "1.40" / "v1" / "resourceclaim.json").read_text())
    assert s["required"][:2] == ["apiVersion", "kind"] and "spec" in s["required"]
    assert s["properties"]["metadata"] == {"type": "object", "properties": {"name": {"type": "string"}},
                                           "additionalProperties": False}
    spec_s = s["properties"]["spec"]["properties"]
    assert spec_s["q"]["oneOf"][0]["pattern"] == gen.QUANTITY_PATTERN
    assert (spec_s["n"]["minimum"], spec_s["n"]["maximum"]) == (-(2**31), 2**31 - 1)
    assert spec_s["ios"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert gen.main([str(tmp_path / "missing"), "--out", str(out)]) == 1
