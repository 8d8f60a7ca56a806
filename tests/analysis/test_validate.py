"""`kubectl dra validate`: one wrong manifest per diagnostic, with the expected message; exit codes; JSON."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE


def claim(requests: str, constraints: str = "", api: str = "v1", name: str = "c") -> str:
    return (f"apiVersion: resource.k8s.io/{api}\nkind: ResourceClaim\nmetadata:\n  name: {name}\n"
            f"spec:\n  devices:\n    requests:\n{requests}{constraints}")


GOOD = claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n")

CASES = {
    # code: (manifest, needs cluster, path, message fragment)
    "schema": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        count: two\n"),
               False, "spec.devices.requests[0].exactly.count", "must be integer, not str 'two'"),
    "name": ("apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {}\nspec: {}\n",
             False, "metadata.name", "metadata.name is required"),
    "request-shape": (claim("    - name: gpu\n"), False, "spec.devices.requests[0]",
                      "sets neither of exactly or firstAvailable"),
    "constraint-domain": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n",
                                "    constraints:\n    - matchAttribute: numa\n"),
                          False, "spec.devices.constraints[0].matchAttribute", "must include the attribute's domain"),
    "cel-compile": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        selectors:\n"
                          "        - cel:\n            expression: 'device.driver =='\n"),
                    False, "spec.devices.requests[0].exactly.selectors[0].cel.expression", "^"),
    "cel-hint": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        selectors:\n"
                       "        - cel:\n            expression: 'device.attributes[\"gpu.nvidia.com\"].memory.compareTo(quantity(\"40Gi\")) >= 0'\n"),
                 True, "spec.devices.requests[0].exactly.selectors[0].cel.expression",
                 'is published as a capacity, not an attribute: use device.capacity["gpu.nvidia.com"].memory'),
    "class-missing": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidai.com\n"),
                      True, "spec.devices.requests[0].exactly.deviceClassName", "did you mean gpu.nvidia.com"),
    "cel-runtime": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        selectors:\n"
                          "        - cel:\n            expression: 'device.attributes[\"gpu.nvidia.com\"].numa == 0'\n"),
                    True, "spec.devices.requests[0].exactly.selectors[0].cel.expression", "no such key"),
    "no-match": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        selectors:\n"
                       "        - cel:\n            expression: 'device.attributes[\"gpu.nvidia.com\"].productName == \"B200\"'\n"),
                 True, "spec.devices.requests[0].exactly.selectors[0].cel.expression",
                 "matches none of the 12 devices of class gpu.nvidia.com"),
    "unsatisfiable": (claim("    - name: gpu\n      exactly:\n        deviceClassName: gpu.nvidia.com\n        count: 5\n"),
                      True, "spec.devices.requests[0]", "no node has that many matching devices (most on one node: 4"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_diagnostic(cli, tmp_path, code):
    text, needs_cluster, path, fragment = CASES[code]
    f = tmp_path / "m.yaml"
    f.write_text(text)
    args = ["validate", "-f", f, "-o", "json"] + (["--cluster-file", EXAMPLE] if needs_cluster else [])
    r = cli(*args)
    data = json.loads(r.stdout)
    hits = [d for d in data["diagnostics"] if d["code"] == code]
    assert hits, data["diagnostics"]
    assert hits[0]["path"] == path and fragment in hits[0]["message"], hits[0]
    assert hits[0]["file"] == str(f) and hits[0]["document"] == 1
    assert r.exit_code == (1 if data["errors"] else 0)


def test_good_manifest_passes_offline_and_against_the_cluster(cli, tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text(GOOD)
    r = cli("validate", "-f", f)
    assert r.exit_code == 0 and "1 DRA object(s) in 1 file(s): 0 errors, 0 warnings" in r.stdout
    r = cli("validate", "-f", f, "--cluster-file", EXAMPLE)
    assert r.exit_code == 0


def test_warnings_only_exit_zero_errors_exit_one(cli, tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text("apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata:\n  name: b200\nspec:\n  selectors:\n"
                 "  - cel:\n      expression: 'device.attributes[\"gpu.nvidia.com\"].productName == \"B200\"'\n")
    r = cli("validate", "-f", f, "--cluster-file", EXAMPLE)
    assert r.exit_code == 0 and "warning:" in r.stdout and "0 errors" in r.stdout
    f.write_text(CASES["schema"][0])
    r = cli("validate", "-f", f)
    assert r.exit_code == 1
    assert f"{f}:1: ResourceClaim/c: spec.devices.requests[0].exactly.count: error: must be integer" in r.stdout


def test_v1beta1_paths_use_the_documents_shape(cli, tmp_path):
    f = tmp_path / "b1.yaml"
    f.write_text(claim("    - name: gpu\n      deviceClassName: gpu.nvidia.com\n      selectors:\n"
                       "      - cel:\n          expression: 'device.driver =='\n", api="v1beta1"))
    data = json.loads(cli("validate", "-f", f, "-o", "json").stdout)
    assert [d["path"] for d in data["diagnostics"]] == ["spec.devices.requests[0].selectors[0].cel.expression"]


def test_unparsable_file_and_multiple_documents(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    two = tmp_path / "two.yaml"
    two.write_text(GOOD + "---\n" + CASES["request-shape"][0].replace("name: c", "name: d"))
    r = cli("validate", "-f", bad, "-f", two, "-o", "json")
    data = json.loads(r.stdout)
    assert r.exit_code == 1
    assert {(d["file"], d["document"], d["code"]) for d in data["diagnostics"]} == {
        (str(bad), None, "parse"), (str(two), 2, "request-shape")}


def test_bundled_example_is_clean_of_errors(cli):
    r = cli("validate", "-f", EXAMPLE, "--cluster-file", EXAMPLE)
    assert r.exit_code == 0 and "12 DRA object(s) in 1 file(s): 0 errors" in r.stdout


def test_usage_errors(cli, tmp_path):
    assert cli("validate", "-o", "json").exit_code == 2
    f = tmp_path / "ok.yaml"
    f.write_text(GOOD)
    r = cli("validate", "-f", f, "--cluster-file", EXAMPLE, "--live")
    assert r.exit_code == 2 and "exclude each other" in r.stderr
