"""`kubectl dra get taintrules`, `preview deviceTaintRule/NAME` (a rule already in the cluster or -f), and the
completion of rule names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubectl_dra.render.get import age
from tests.conftest import DRIVERS, FIXTURES

GPU = str(DRIVERS / "example-gpu.yaml")
TAINTS = FIXTURES / "taintrules"

BROKEN = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "DeviceTaintRule",
          "metadata": {"name": "gpu-3-broken", "creationTimestamp": "2026-12-01T10:00:00Z", "labels": {"team": "a"}},
          "spec": {"deviceSelector": {"driver": "gpu.example.com", "device": "gpu-3"},
                   "taint": {"key": "example.com/ecc", "value": "uncorrectable", "effect": "NoSchedule"}}}
EVERYTHING = {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule", "metadata": {"name": "all"},
              "spec": {"taint": {"key": "maint", "effect": "NoExecute"}}}


def dump_at(tmp_path: Path, server_time: str, *objs) -> str:
    """A `kubectl dra dump`-style List that records the server's time (AGE counts to it)."""
    p = tmp_path / "dump.yaml"
    items = [d for d in yaml.safe_load_all(Path(GPU).read_text()) if d] + list(objs)
    p.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {
        "annotations": {"kubectl-dra.io/server-time": server_time, "kubectl-dra.io/server-version": "v1.36.0"}}}))
    return str(p)


def test_the_table_names_the_selector_the_effect_and_the_age(cli, tmp_path):
    f = dump_at(tmp_path, "2026-12-03T15:30:00Z", BROKEN, EVERYTHING)
    res = cli("get", "taintrules", "-f", f)
    assert res.exit_code == 0
    lines = [line.split() for line in res.stdout.splitlines()]
    assert lines == [["NAME", "DRIVER", "POOL", "DEVICE", "EFFECT", "AGE"],
                     ["all", "<all>", "<all>", "<all>", "NoExecute", "<unknown>"],
                     ["gpu-3-broken", "gpu.example.com", "<any>", "gpu-3", "NoSchedule", "2d5h"]]
    # 1.36's defaults leave rules inert: said once on stderr
    assert res.stderr.count("\n") == 1 and "2 DeviceTaintRules (all, gpu-3-broken) not in force" in res.stderr


def test_wide_adds_the_taint_the_devices_selected_and_whether_it_is_in_force(cli, tmp_path):
    f = dump_at(tmp_path, "2026-12-03T15:30:00Z", BROKEN, EVERYTHING)
    off = cli("get", "dtr", "-f", f, "-o", "wide").stdout.splitlines()
    assert off[0].split() == ["NAME", "DRIVER", "POOL", "DEVICE", "EFFECT", "AGE", "TAINT", "SELECTED", "IN", "FORCE"]
    assert off[2].split()[6:] == ["example.com/ecc=uncorrectable", "1", "of", "8", "no:", "DRADeviceTaintRules", "off"]
    on = cli("get", "taintrules", "-f", f, "-o", "wide", "--feature-gates", "DRADeviceTaintRules=true")
    assert on.stderr == ""
    rows = [line.split() for line in on.stdout.splitlines()[1:]]
    assert [r[6:] for r in rows] == [["maint", "8", "of", "8", "yes"],
                                     ["example.com/ecc=uncorrectable", "1", "of", "8", "yes"]]
    # 1.34: DRADeviceTaints is the gate, and its defaults have it off
    old = cli("get", "taintrules", "gpu-3-broken", "-f", f, "-o", "wide", "--kubernetes-version", "1.34").stdout
    assert old.splitlines()[1].split()[-3:] == ["no:", "DRADeviceTaints", "off"]


def test_json_is_the_rules_names_and_label_selector_filter(cli, tmp_path):
    f = dump_at(tmp_path, "2026-12-03T15:30:00Z", BROKEN, EVERYTHING)
    doc = json.loads(cli("get", "taintrules", "-f", f, "-o", "json").stdout)
    assert doc["kind"] == "List" and [i["metadata"]["name"] for i in doc["items"]] == ["all", "gpu-3-broken"]
    assert doc["items"][1]["spec"]["taint"]["effect"] == "NoSchedule"
    assert cli("get", "taintrules", "-f", f, "-o", "name", "-l", "team=a").stdout == \
        "devicetaintrule.resource.k8s.io/gpu-3-broken\n"
    none = cli("get", "taintrules", "-f", GPU)
    assert none.exit_code == 0 and none.stdout == "" and none.stderr == "No resources found.\n"


@pytest.mark.parametrize("seconds, text", [
    (None, "<unknown>"), (-5, "<invalid>"), (0, "0s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (179 * 60, "179m"),
    (3 * 3600, "3h"), (5 * 3600 + 20 * 60, "5h20m"), (30 * 3600, "30h"), (3 * 86400 + 4 * 3600, "3d4h"),
    (8 * 86400, "8d"), (800 * 86400, "2y70d"), (3000 * 86400, "8y"),
])
def test_age_steps_like_kubectl(seconds, text):
    assert age(seconds) == text


def cluster_with(tmp_path: Path, rule_file: str) -> str:
    f = tmp_path / "cluster-with-rule.yaml"
    f.write_text((TAINTS / "cluster.yaml").read_text() + "\n---\n" + (TAINTS / rule_file).read_text())
    return str(f)


def test_preview_of_a_rule_already_in_the_cluster_is_what_it_does_there(cli, tmp_path):
    f = cluster_with(tmp_path, "node-c-noschedule.yaml")
    name = yaml.safe_load((TAINTS / "node-c-noschedule.yaml").read_text())["metadata"]["name"]
    from_file = json.loads(cli("preview", str(TAINTS / "node-c-noschedule.yaml"), "-f", str(TAINTS / "cluster.yaml"),
                               "-o", "json").stdout)
    res = cli("preview", f"deviceTaintRule/{name}", "-f", f, "-o", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["inCluster"] is True and out["replaces"] is False and out["problems"] == []
    # the same devices, claims and (compared with the cluster without it) the same pending pods losing their place
    for key in ("devices", "allocatedClaims", "evictions", "pendingPods", "inForce", "gatesNeeded"):
        assert out[key] == from_file[key], key
    assert from_file["pendingPods"]["losingLastPlace"]  # the fixture's pinned pod: the comparison is not empty
    assert any("in the cluster already" in n for n in out["notes"])
    text = cli("preview", f"dtr/{name}", "-f", f).stdout
    assert "Note: the rule is in the cluster already" in text
    assert "Pending pods it leaves without a place to fit: 1 (of " in text
    assert "(would fit without it on node-c)" in text


def test_preview_of_a_rule_the_cluster_lacks_is_not_found(cli, tmp_path):
    res = cli("preview", "dtr/nope", "-f", str(TAINTS / "cluster.yaml"))
    assert res.exit_code == 5 and res.stderr == 'error: devicetaintrules.resource.k8s.io "nope" not found\n'


def test_a_file_whose_path_looks_like_a_rule_name_is_still_a_file(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dtr").mkdir()
    (tmp_path / "dtr" / "r.yaml").write_text((TAINTS / "node-c-noschedule.yaml").read_text())
    res = cli("preview", "dtr/r.yaml", "-f", str(TAINTS / "cluster.yaml"), "-o", "json")
    assert res.exit_code == 0 and "inCluster" not in json.loads(res.stdout)


def test_rule_names_complete_for_preview_get_and_explain(tmp_path):
    from tests.completion.test_protocol import answer

    f = dump_at(tmp_path, "2026-12-03T15:30:00Z", BROKEN, EVERYTHING)
    values, descs, directive = answer("preview", "-f", f, "")
    assert values == ["dtr/all", "dtr/gpu-3-broken"] and descs[1] == "taint example.com/ecc:NoSchedule"
    assert answer("preview", "-f", f, "devicet")[0] == ["devicetaintrule/all", "devicetaintrule/gpu-3-broken"]
    # a path: no names, and the shell completes file names (directive 0)
    assert answer("preview", "-f", f, "./ru")[0:3:2] == ([], 0)
    assert answer("get", "taintrules", "-f", f, "")[0] == ["all", "gpu-3-broken"]
    assert "taintrules" in answer("get", "-f", f, "ta")[0]
    assert answer("explain", "-f", f, "dtr/")[0] == ["dtr/all", "dtr/gpu-3-broken"]
