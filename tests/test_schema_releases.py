"""Per-release schemas against upstream's own round-trip objects (k8s.io/api testdata of each release).

Each testdata file sets every field of its kind in that release, so it must pass its own release's schema
(field names, nesting, types, required fields) and a field a later release added must be refused by an
earlier release, naming the field and the releases that have it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_dra.schema import RELEASES, validate_object
from kubectl_dra.sources.files import parse_text
from tests.conftest import ROOT

_CANDIDATES = [p / "shared" / "reference" / "api-testdata" for p in (ROOT.parent, ROOT.parent.parent)]
TESTDATA = next((p for p in _CANDIDATES if p.is_dir()), None)
pytestmark = pytest.mark.skipif(TESTDATA is None, reason="the reference api-testdata is not on this machine")


def _files():
    if TESTDATA is None:
        return []
    return sorted((r, f) for r in RELEASES for f in (TESTDATA / r).glob("*.json"))


def _own_release(release: str, path: Path) -> str:
    """The release whose serialization a file is: an ``after_roundtrip`` file of 1.34 is 1.35 reading it."""
    if path.name.endswith(".after_roundtrip.json") and release == "1.34":
        return "1.35"
    return release


def _placeholder_enum(issue) -> bool:
    # The testdata fills enum-typed fields with "<field>Value" placeholders (effectValue, operatorValue, ...):
    # valid for decoding, not for the enum list a live server's OpenAPI carries.
    return "Value' is not one of" in issue.message


@pytest.mark.parametrize("release,path", _files(), ids=lambda x: getattr(x, "name", x))
def test_every_round_trip_object_passes_its_own_release(release, path):
    obj = json.loads(path.read_text())
    issues = validate_object(obj, release=_own_release(release, path))
    structural = [(i.path, i.message) for i in issues if not _placeholder_enum(i)]
    assert structural == [], path
    # The YAML twin is the same object.
    yaml_twin = path.with_suffix(".yaml")
    assert parse_text(yaml_twin.read_text(), str(yaml_twin)) == [obj]


def test_enum_placeholders_are_the_only_value_findings_and_are_reported():
    obj = json.loads((TESTDATA / "1.36" / "resource.k8s.io.v1.ResourceSlice.json").read_text())
    issues = validate_object(obj, release="1.36")
    assert issues and all(_placeholder_enum(i) for i in issues)
    assert ("spec.devices[0].taints[0].effect",
            "'effectValue' is not one of 'NoExecute', 'NoSchedule', 'None'") in [(i.path, i.message) for i in issues]


def test_a_1_36_field_is_refused_by_1_34_and_1_35_naming_field_and_release():
    obj = json.loads((TESTDATA / "1.36" / "resource.k8s.io.v1.ResourceSlice.json").read_text())
    for older in ("1.34", "1.35"):
        by_path = {i.path: i.message for i in validate_object(obj, release=older)}
        msg = by_path["spec.devices[0]"]
        assert msg.startswith("unknown field 'nodeAllocatableResourceMappings' (allowed: ")
        assert msg.endswith(f"'nodeAllocatableResourceMappings' is a field of Kubernetes 1.36, not of {older}")
        # list-type attributes (DRAListTypeAttributes) are 1.36 fields too
        attrs = by_path["spec.devices[0].attributes.attributesKey"]
        for field in ("bools", "ints", "strings", "versions"):
            assert f"'{field}' is a field of Kubernetes 1.36, not of {older}" in attrs


def test_a_field_removed_in_1_35_is_refused_by_1_35_naming_the_release_that_had_it():
    obj = json.loads((TESTDATA / "1.34" / "resource.k8s.io.v1alpha3.DeviceTaintRule.json").read_text())
    assert [i for i in validate_object(obj, release="1.34") if not _placeholder_enum(i)] == []
    msg = {i.path: i.message for i in validate_object(obj, release="1.35")}["spec.deviceSelector"]
    assert msg.startswith("unknown fields 'deviceClassName', 'selectors' (allowed: device, driver, pool)")
    assert "'deviceClassName' is a field of Kubernetes 1.34, not of 1.35" in msg


def _rule(effect: str, api: str = "resource.k8s.io/v1alpha3") -> dict:
    return {"apiVersion": api, "kind": "DeviceTaintRule", "metadata": {"name": "r"},
            "spec": {"deviceSelector": {"driver": "gpu.example.com"}, "taint": {"key": "k", "effect": effect}}}


def test_an_enum_value_of_a_later_release_names_the_releases_that_accept_it():
    assert validate_object(_rule("None"), release="1.35") == []
    [issue] = validate_object(_rule("None"), release="1.34")
    assert (issue.path, issue.message) == (
        "spec.taint.effect", "'None' is not one of 'NoExecute', 'NoSchedule' in Kubernetes 1.34 "
                             "('None' is accepted by 1.35, 1.36)")


def test_versions_and_kinds_a_release_does_not_serve():
    # DeviceTaintRule v1beta2 exists from 1.36 only.
    assert validate_object(_rule("NoSchedule", "resource.k8s.io/v1beta2"), release="1.36") == []
    [issue] = validate_object(_rule("NoSchedule", "resource.k8s.io/v1beta2"), release="1.35")
    assert (issue.path, issue.message) == (
        "apiVersion", "Kubernetes 1.35 does not serve DeviceTaintRule in resource.k8s.io/v1beta2; "
                      "it serves it in resource.k8s.io/v1alpha3")
    # A tutorial's v1alpha3 claim: no 1.34+ server serves it; say what to write instead.
    claim = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "ResourceClaim", "metadata": {"name": "c"},
             "spec": {"devices": {"requests": [{"name": "gpu", "deviceClassName": "gpu.example.com"}]}}}
    [issue] = validate_object(claim, release="1.34")
    assert issue.path == "apiVersion"
    assert issue.message.startswith("Kubernetes 1.34 does not serve ResourceClaim in resource.k8s.io/v1alpha3; "
                                    "it serves it in resource.k8s.io/v1, resource.k8s.io/v1beta1, "
                                    "resource.k8s.io/v1beta2")
    assert "Kubernetes 1.31-1.33: resource.k8s.io/v1beta1 has the same shape" in issue.message
    status_request = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "ResourcePoolStatusRequest",
                      "metadata": {"name": "s"}}
    [issue] = validate_object(status_request, release="1.34")
    assert issue.message == "Kubernetes 1.34 does not serve ResourcePoolStatusRequest in any version (served from 1.36)"


def test_status_is_checked_for_decoding_only_and_generation_may_be_omitted():
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "c"},
             "spec": {"devices": {"requests": []}},
             "status": {"reservedFor": [{"resource": "pods", "name": "p"}],          # no uid
                        "devices": [{"driver": "d", "pool": "p", "device": "x",
                                     "conditions": [{"type": "Ready", "status": "Maybe", "reason": "R",
                                                     "message": ""}]}]}}        # no lastTransitionTime
    assert validate_object(claim, release="1.36") == []  # the API server resets status on create/update
    claim["status"]["reservedFor"][0]["uid"] = 7                                 # but a wrong type fails decoding
    claim["status"]["bogus"] = True
    assert sorted((i.path, i.message.split(" (")[0]) for i in validate_object(claim, release="1.36")) == [
        ("status", "unknown field 'bogus'"), ("status.reservedFor[0].uid", "must be string, not int 7")]
    slice_ = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": "s"},
              "spec": {"driver": "d.example.com", "nodeName": "n", "pool": {"name": "n", "resourceSliceCount": 1}}}
    assert validate_object(slice_, release="1.34") == []
    del slice_["spec"]["pool"]["resourceSliceCount"]  # 0 is refused ("must be greater than zero")
    assert [(i.path, i.message) for i in validate_object(slice_, release="1.34")] == [
        ("spec.pool", "'resourceSliceCount' is required")]


def test_an_empty_class_and_a_claim_without_spec_are_accepted_as_the_api_server_does():
    for kind in ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate"):
        obj = {"apiVersion": "resource.k8s.io/v1", "kind": kind, "metadata": {"name": "x"}}
        assert validate_object(obj, release="1.34") == [], kind
    template = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": {"name": "t"},
                "spec": {"metadata": {"labels": {"a": "b"}}}}
    assert validate_object(template, release="1.36") == []
    # a slice's spec is not optional: driver and pool are needed
    slice_ = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": "s"}}
    assert [(i.path, i.message) for i in validate_object(slice_, release="1.36")] == [("(root)", "'spec' is required")]


def test_null_is_not_set_as_for_the_api_servers_decoder():
    # `kubectl create --dry-run=client -o yaml` writes creationTimestamp: null; null anywhere decodes as unset.
    template = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
                "metadata": {"name": "t", "creationTimestamp": None},
                "spec": {"metadata": {"creationTimestamp": None}, "spec": {"devices": {"requests": [
                    {"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com", "selectors": None}}]}}}}
    assert validate_object(template, release="1.35") == []
    template["spec"]["spec"]["devices"]["requests"][0]["exactly"]["count"] = "2"  # a wrong type still is one
    assert [i.path for i in validate_object(template, release="1.35")] == [
        "spec.spec.devices.requests[0].exactly.count"]
