"""--feature-gates / --kubernetes-version, shared by every command that runs the allocator, shows taints or
evaluates selectors on devices: checked before any I/O, and honoured (list-type attributes in match)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import EXAMPLE

RULE = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "DeviceTaintRule", "metadata": {"name": "r"},
        "spec": {"deviceSelector": {"driver": "gpu.example.com"}, "taint": {"key": "k", "effect": "NoSchedule"}}}

SLICE = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": "s1"},
         "spec": {"driver": "gpu.example.com", "nodeName": "n1",
                  "pool": {"name": "n1", "generation": 1, "resourceSliceCount": 1},
                  "devices": [{"name": "gpu-0", "attributes": {"links": {"ints": [1, 2]}, "model": {"string": "a"}}},
                              {"name": "gpu-1", "attributes": {"links": {"ints": [3]}, "model": {"string": "a"}}}]}}
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}


def commands(rule_file: str) -> list[list[str]]:
    return [["why-pending", "pod/trainer"], ["get", "devices"], ["explain", "node/gpu-node-1"], ["match", "true"],
            ["preview", rule_file], ["validate", "-f", str(EXAMPLE), "--live"],
            ["scaffold", "claim", "--name", "x", "--class", "c", "--like", "n/p/d"]]


@pytest.mark.parametrize("flags, message", [
    (["--feature-gates", "DRANope=true"], "unknown feature gate 'DRANope'"),
    (["--feature-gates", "DRADeviceTaints=maybe"], "invalid value 'maybe' for feature gate DRADeviceTaints"),
    (["--kubernetes-version", "1.20"], "invalid --kubernetes-version '1.20'"),
])
def test_bad_gate_flags_are_usage_errors_before_any_io(cli, tmp_path, monkeypatch, flags, message):
    # a kubeconfig that points nowhere: any read of the cluster would fail with exit 4, not 2
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    rule = tmp_path / "r.yaml"
    rule.write_text(yaml.safe_dump(RULE))
    for argv in commands(str(rule)):
        if argv[0] == "validate" and flags[0] == "--kubernetes-version":
            continue  # validate's own --kubernetes-version names schema releases (tests/cli/test_validate*)
        res = cli(*argv, *flags)
        assert res.exit_code == 2, (argv, res.stderr)
        assert res.stderr.startswith("error: ") and message in res.stderr, (argv, res.stderr)


def test_match_reads_list_type_attributes_only_with_their_gate(cli, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all([SLICE, NODE]))
    expr = 'device.attributes["gpu.example.com"].links == [1, 2]'
    on = cli("match", expr, "-f", str(f), "-o", "json", "--feature-gates", "DRAListTypeAttributes=true")
    assert on.exit_code == 0, on.stderr
    assert json.loads(on.stdout)["counts"]["match"] == 1
    # 1.36's defaults: the gate is off, a list attribute holds no value the selector can read
    off = json.loads(cli("match", expr, "-f", str(f), "-o", "json").stdout)
    assert off["counts"]["match"] == 0
    incl = 'device.attributes["gpu.example.com"].links.includes(3)'
    got = cli("match", incl, "-f", str(f), "-o", "json", "--feature-gates", "DRAListTypeAttributes=true")
    assert got.exit_code == 0 and json.loads(got.stdout)["counts"]["match"] == 1
    # without the gate, includes() does not exist: a compile error (exit 3), as the API server would say, naming the gate
    bad = cli("match", incl, "-f", str(f))
    assert bad.exit_code == 3 and "undeclared reference to 'includes'" in bad.stderr
    assert bad.stderr.rstrip().endswith("exist only with the DRAListTypeAttributes feature gate "
                                        "(--feature-gates DRAListTypeAttributes=true)")
    typo = cli("match", incl.replace("includes", "inclues"), "-f", str(f))
    assert typo.exit_code == 3 and "DRAListTypeAttributes" not in typo.stderr


def test_validate_compiles_includes_only_with_the_list_gate(cli, tmp_path):
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "c"},
             "spec": {"devices": {"requests": [{"name": "r", "exactly": {"deviceClassName": "gpu.example.com", "selectors": [
                 {"cel": {"expression": 'device.attributes["gpu.example.com"].links.includes(3)'}}]}}]}}}
    f = tmp_path / "claim.yaml"
    f.write_text(yaml.safe_dump(claim))
    off = cli("validate", "-f", str(f), "-o", "json")
    (diag,) = json.loads(off.stdout)["diagnostics"]
    assert off.exit_code == 1 and diag["code"] == "cel-compile" and "DRAListTypeAttributes=true" in diag["message"]
    on = cli("validate", "-f", str(f), "-o", "json", "--feature-gates", "DRAListTypeAttributes=true")
    assert on.exit_code == 0 and json.loads(on.stdout)["diagnostics"] == []
    # against a cluster: the selector runs on the devices' list values
    c = tmp_path / "c.yaml"
    c.write_text(yaml.safe_dump_all([SLICE, NODE, {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
                                                    "metadata": {"name": "gpu.example.com"}, "spec": {}}]))
    live = cli("validate", "-f", str(f), "--cluster-file", str(c), "-o", "json", "--feature-gates", "DRAListTypeAttributes=true")
    assert live.exit_code == 0 and json.loads(live.stdout)["diagnostics"] == []


def test_explain_class_matches_list_type_attributes_only_with_their_gate(cli, tmp_path):
    cls = {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": "three"},
           "spec": {"selectors": [{"cel": {"expression": 'device.attributes["gpu.example.com"].links == [3]'}}]}}
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all([SLICE, NODE, cls]))

    def explained(*flags):
        res = cli("explain", "class/three", "-f", str(f), "-o", "json", *flags)
        assert res.exit_code == 0, res.stderr
        return json.loads(res.stdout)

    on = explained("--feature-gates", "DRAListTypeAttributes=true")
    assert (on["matching"], on["nodes"][0]["devices"], on["errors"]) == (1, ["gpu-1"], [])
    # the gate off (1.36's default): a list value is no value the selector can read, a runtime error on each device
    off = explained()
    assert off["matching"] == 0
    assert [e["device"] for e in off["errors"]] == ["gpu-0", "gpu-1"]
    assert "unsupported attribute value" in off["errors"][0]["error"]


def test_scaffold_compiles_includes_only_with_the_list_gate(cli):
    args = ("scaffold", "claim", "--name", "x", "--class", "gpu.example.com", "--selector",
            'device.attributes["gpu.example.com"].links.includes(3)')
    off = cli(*args)
    assert off.exit_code == 3 and off.stdout == "" and "--feature-gates DRAListTypeAttributes=true" in off.stderr
    on = cli(*args, "--feature-gates", "DRAListTypeAttributes=true", "-o", "json")
    assert on.exit_code == 0, on.stderr
    assert json.loads(on.stdout)["spec"]["devices"]["requests"][0]["exactly"]["selectors"][0]["cel"]["expression"] \
        == args[-1]
