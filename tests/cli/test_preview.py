"""`kubectl dra preview RULE_FILE`: the scenarios of issue 16 (empty selector, NoExecute with and without
tolerations, NoSchedule removing the last fit, a rule without selector, gates that leave rules inert), the JSON
keys against the README's contract block, and golden text.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/cli/test_preview.py` and review the
diff of tests/cli/golden/."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, ROOT

HERE = FIXTURES / "taintrules"
CLUSTER = ("-f", str(HERE / "cluster.yaml"))
GOLDEN = Path(__file__).parent / "golden"


def preview(cli, rule: str, *args: str) -> dict:
    res = cli("preview", str(HERE / rule), *CLUSTER, "-o", "json", *args)
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def names(items) -> list[str]:
    return [f"{x['namespace']}/{x['name']}" for x in items]


def test_empty_selector_selects_everything_loudly_and_evicts_what_does_not_tolerate(cli):
    out = preview(cli, "all-noexecute.yaml")
    assert out["selectsAll"] is True and out["devices"]["selected"] == out["devices"]["total"] == 7
    assert out["inForce"] is False and out["gatesNeeded"] == ["DRADeviceTaintRules"]
    assert names(out["allocatedClaims"]) == ["ml/batch-0", "ml/server-0", "ml/trainer-0", "ml/trainer-1"]
    ev = {f"{e['namespace']}/{e['name']}": e for e in out["evictions"]}
    # no toleration: at once; NoExecute toleration with tolerationSeconds: after them; for ever: stays
    assert ev["ml/trainer-0"]["afterSeconds"] == 0 and "tolerationWithoutEffect" not in ev["ml/trainer-0"]
    assert ev["ml/trainer-1"]["afterSeconds"] == 300
    assert names(out["tolerating"]) == ["ml/server-0"]
    # a toleration without effect lets the scheduler allocate, but does not count for eviction (upstream)
    assert ev["ml/batch-0"]["afterSeconds"] == 0 and ev["ml/batch-0"]["tolerationWithoutEffect"] is True
    assert names(out["pendingPods"]["losingLastPlace"]) == ["ml/pinned", "ml/waiting"]
    text = cli("preview", str(HERE / "all-noexecute.yaml"), *CLUSTER).stdout
    assert "!!! WARNING: the selector selects EVERY device in the cluster (7 of 7)" in text


def test_noschedule_takes_the_last_place_of_a_pinned_pod_only_and_evicts_nobody(cli):
    out = preview(cli, "node-c-noschedule.yaml")
    assert out["devices"]["groups"] == [{"node": "node-c", "driver": "gpu.example.com", "pool": "node-c",
                                         "count": 2, "devices": ["gpu-0", "gpu-1"]}]
    assert out["evictions"] == [] and out["allocatedClaims"] == []
    assert out["pendingPods"] == {"checked": 2, "losingLastPlace": [
        {"namespace": "ml", "name": "pinned", "nodesBefore": ["node-c"]}]}  # waiting still fits on node-d
    assert out["selectsAll"] is False


def test_a_rule_without_selector_taints_everything_for_the_scheduler_but_evicts_nobody(cli):
    out = preview(cli, "no-selector.yaml")
    assert out["rule"]["deviceSelector"] is None
    assert out["selectsAll"] is True and out["evictions"] == [] and out["tolerating"] == []
    assert any("no deviceSelector" in n for n in out["notes"])
    assert len(out["pendingPods"]["losingLastPlace"]) == 2


def test_noexecute_on_one_pool_v1alpha3(cli):
    out = preview(cli, "node-a-noexecute-v1alpha3.yaml")
    assert names(out["evictions"]) == ["ml/trainer-0", "ml/trainer-1"]
    assert [e["afterSeconds"] for e in out["evictions"]] == [0, 300]
    assert out["pendingPods"]["losingLastPlace"] == []
    assert out["problems"] == []


@pytest.mark.parametrize("args, in_force, needed", [
    ((), False, ["DRADeviceTaintRules"]),
    (("--feature-gates", "DRADeviceTaintRules=true"), True, []),
    (("--kubernetes-version", "1.34"), False, ["DRADeviceTaints"]),
    (("--kubernetes-version", "1.34", "--feature-gates", "DRADeviceTaints=true"), True, []),
])
def test_gates_in_force_come_first_and_the_rest_is_the_same(cli, args, in_force, needed):
    out = preview(cli, "node-a-noexecute-v1alpha3.yaml", *args)
    assert (out["inForce"], out["gatesNeeded"]) == (in_force, needed)
    assert names(out["evictions"]) == ["ml/trainer-0", "ml/trainer-1"]
    text = cli("preview", str(HERE / "node-a-noexecute-v1alpha3.yaml"), *CLUSTER, *args).stdout
    assert text.splitlines()[1].startswith("! Not in force") == (not in_force)


def test_the_release_decides_the_fields(cli, tmp_path):
    rule = yaml.safe_load((HERE / "node-c-noschedule.yaml").read_text())
    out = preview(cli, "node-c-noschedule.yaml", "--kubernetes-version", "1.35")
    assert [p["path"] for p in out["problems"]] == ["apiVersion"]  # v1beta2 serves the kind from 1.36
    rule["apiVersion"] = "resource.k8s.io/v1alpha3"
    rule["spec"]["deviceSelector"]["selectors"] = [{"cel": {"expression": "device.attributes['gpu.example.com'].index == 0"}}]
    f = tmp_path / "cel.yaml"
    f.write_text(yaml.safe_dump(rule))
    old = json.loads(cli("preview", str(f), *CLUSTER, "-o", "json", "--kubernetes-version", "1.34").stdout)
    assert old["devices"]["selected"] == 1 and old["problems"] == []   # 1.34 evaluates the CEL selector
    new = json.loads(cli("preview", str(f), *CLUSTER, "-o", "json").stdout)
    assert new["devices"]["selected"] == 2                              # 1.36 does not know it
    assert [p["path"] for p in new["problems"]] == ["spec.deviceSelector.selectors"]
    assert any("only up to Kubernetes 1.34" in n for n in new["notes"])


def test_a_rule_of_the_same_name_in_the_cluster_is_replaced(cli, tmp_path):
    rule = yaml.safe_load((HERE / "node-c-noschedule.yaml").read_text())
    f = tmp_path / "cluster-with-rule.yaml"
    f.write_text((HERE / "cluster.yaml").read_text() + "\n---\n" + yaml.safe_dump(rule))
    res = cli("preview", str(HERE / "node-c-noschedule.yaml"), "-f", str(f), "-o", "json")
    out = json.loads(res.stdout)
    assert out["replaces"] is True
    # the rule already taints node-c in the cluster, so pinned has no place now: nothing left to lose
    assert out["pendingPods"]["losingLastPlace"] == []


@pytest.mark.parametrize("content, message", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "expected one DeviceTaintRule, found 0 (the file holds: Pod)"),
    ("kind: [", "error"),
])
def test_a_rule_file_without_exactly_one_rule_is_bad_input(cli, tmp_path, content, message):
    f = tmp_path / "r.yaml"
    f.write_text(content)
    res = cli("preview", str(f), *CLUSTER)
    assert res.exit_code == 3 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def _keys(value, out: set) -> set:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def test_json_keys_are_the_readme_contract(cli):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### preview", 1)[1].split("```\n{", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r'"([A-Za-z]+)":', "{" + block))
    seen: set = set()
    for rule in ("all-noexecute.yaml", "node-c-noschedule.yaml", "no-selector.yaml", "node-a-noexecute-v1alpha3.yaml"):
        _keys(preview(cli, rule), seen)
    _keys(preview(cli, "node-c-noschedule.yaml", "--kubernetes-version", "1.35"), seen)  # with problems
    _keys(json.loads(cli("preview", "dtr/node-c-broken", "-f", str(HERE / "cluster.yaml"),
                         "-f", str(HERE / "node-c-noschedule.yaml"), "-o", "json").stdout), seen)  # a cluster's rule
    seen -= {"key", "value", "effect"} - documented  # the taint's own keys are documented inside rule.taint
    assert seen - {"incomplete"} == documented - {"incomplete"}


CASES = {"all-noexecute": ("all-noexecute.yaml",), "node-c-noschedule": ("node-c-noschedule.yaml",),
         "no-selector": ("no-selector.yaml",),
         "node-a-in-force-134": ("node-a-noexecute-v1alpha3.yaml", "--kubernetes-version", "1.34",
                                 "--feature-gates", "DRADeviceTaints=true")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_output_matches_golden(cli, name):
    rule, *args = CASES[name]
    res = cli("preview", str(HERE / rule), *CLUSTER, *args)
    assert res.exit_code == 0, res.stderr
    path = GOLDEN / f"preview-{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(res.stdout)
    assert res.stdout == path.read_text(), f"text output changed; see {path}"
