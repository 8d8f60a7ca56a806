"""DeviceTaintRules from a live cluster, through the real kubectl binary and the test API server: read in
whichever version the server serves them (v1beta2, else v1alpha3: one stderr line, normalized), the same
answers as the same objects read from a file, and a forbidden rule list as a gap (exit 6) where the answer
depends on it."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.live.apiserver import ApiServer
from tests.live.test_incomplete import _needs_binaries, busy_cluster  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.live

# node-3's GPUs are the only free ones in busy_cluster: with this rule in force, trainer fits nowhere
NODE_3_BROKEN = {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule",
                 "metadata": {"name": "node-3-broken", "creationTimestamp": "2026-12-01T10:00:00Z"},
                 "spec": {"deviceSelector": {"driver": "gpu.example.com", "pool": "node-3"},
                          "taint": {"key": "example.com/ecc", "value": "uncorrectable", "effect": "NoSchedule"}}}
ON = ("--feature-gates", "DRADeviceTaintRules=true")
ALPHA_LINE = ("warning: DeviceTaintRules read as resource.k8s.io/v1alpha3, the only version the cluster serves them "
              "in (alpha; resource.k8s.io/v1beta2 from Kubernetes 1.36), and normalized to v1beta2\n")


def one_namespace_cluster() -> list[dict]:
    """busy_cluster() with every object in "default": live reads the other namespaces' running pods only with
    -A, the file twin holds them all, and that difference is not what these tests are about."""
    objs = busy_cluster()
    for o in objs:
        if (o.get("metadata") or {}).get("namespace"):
            o["metadata"]["namespace"] = "default"
    return objs


def kubectl(env, *args):
    return subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def cluster(kubectl_env, tmp_path):
    """Factory: (env, file twin) for a started server holding busy_cluster() and the rule."""
    servers = []

    def make(*, taint_rule_versions, server_version, forbid=False):
        srv = ApiServer(one_namespace_cluster() + [NODE_3_BROKEN], taint_rule_versions=taint_rule_versions,
                        server_version=server_version).start()
        servers.append(srv)
        if forbid:
            srv.forbid("devicetaintrules")
        env = dict(kubectl_env, KUBECONFIG=str(srv.kubeconfig(tmp_path / f"kc-{srv.port}")))
        twin = tmp_path / f"twin-{srv.port}.json"
        # the twin records the server's version, as `kubectl dra dump` does: offline uses the same gates
        twin.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": srv.objects(), "metadata": {
            "annotations": {"kubectl-dra.io/server-version": server_version}}}))
        return srv, env, str(twin)

    yield make
    for srv in servers:
        srv.stop()


COMMANDS = [("get", "taintrules", "-o", "wide", *ON), ("get", "devices", *ON), ("get", "devices"),
            ("explain", "dtr/node-3-broken", "-o", "json", *ON), ("explain", "node/node-3", *ON),
            ("why-pending", "pod/trainer", "-o", "json", *ON), ("why-pending", "pod/trainer", "-o", "json"),
            ("preview", "dtr/node-3-broken", "-o", "json")]


@pytest.mark.parametrize("versions, release", [(("v1beta2",), "v1.36.0"), (("v1alpha3",), "v1.35.0"),
                                               (("v1beta2", "v1alpha3"), "v1.36.0")])
def test_live_equals_offline_whichever_version_serves_the_rules(cluster, versions, release):
    srv, env, twin = cluster(taint_rule_versions=versions, server_version=release)
    # kubectl itself reads the test server's rules
    assert "node-3-broken" in kubectl(env, "get", "devicetaintrules", "-o", "name").stdout
    srv.clear_requests()
    for args in COMMANDS:
        live = kubectl(env, "dra", *args)
        offline = kubectl(env, "dra", *args, "-f", twin)
        assert (live.returncode, live.stdout) == (offline.returncode, offline.stdout), args
        assert live.returncode == 0, (args, live.stderr)
        # one line names the alpha version (only where it is all the cluster has), before the lines both have
        alpha = ALPHA_LINE if versions == ("v1alpha3",) else ""
        assert live.stderr == alpha + offline.stderr, args
    assert srv.methods() == {"GET"}
    read = {r.path.split("/")[3] for r in srv.requests if r.path.endswith("/devicetaintrules")}
    assert read == {versions[0]}


def test_the_rule_read_live_takes_effect_only_under_the_gates(cluster):
    _, env, _ = cluster(taint_rule_versions=("v1beta2",), server_version="v1.36.0")
    on = json.loads(kubectl(env, "dra", "why-pending", "pod/trainer", "-o", "json", *ON).stdout)
    assert on["fits"] is False
    node3 = next(n for n in on["nodes"] if n["name"] == "node-3")
    assert node3["reasons"][0]["code"] == "taint" and "(from rule node-3-broken)" in node3["reasons"][0]["message"]
    off = kubectl(env, "dra", "why-pending", "pod/trainer", "-o", "json")
    assert json.loads(off.stdout)["fits"] is True
    assert "DeviceTaintRule node-3-broken not in force in Kubernetes 1.36" in off.stderr
    table = kubectl(env, "dra", "get", "devices", "--node", "node-3", *ON).stdout
    assert table.count("example.com/ecc=uncorrectable:NoSchedule (rule node-3-broken)") == 2
    # a dump carries the rules, so the same answers come offline from it
    dump = json.loads(kubectl(env, "dra", "dump", "-o", "json").stdout)
    assert [i["spec"] for i in dump["items"] if i["kind"] == "DeviceTaintRule"] == [NODE_3_BROKEN["spec"]]


def test_a_cluster_without_rules_served_reads_none_and_says_nothing(cluster):
    srv, env, _ = cluster(taint_rule_versions=(), server_version="v1.36.0")
    res = kubectl(env, "dra", "get", "taintrules")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "No resources found.\n")
    devices = kubectl(env, "dra", "get", "devices", *ON)
    assert devices.returncode == 0 and devices.stderr == "" and "rule" not in devices.stdout
    assert not [r for r in srv.requests if "devicetaintrules" in r.path]


def test_a_forbidden_rule_list_is_a_gap_where_the_answer_depends_on_it(cluster):
    _, env, _ = cluster(taint_rule_versions=("v1beta2",), server_version="v1.36.0", forbid=True)
    line = ("warning: incomplete: cannot list devicetaintrules.resource.k8s.io at the cluster scope (forbidden): "
            "DeviceTaintRules could not be read")
    rules = kubectl(env, "dra", "get", "taintrules", "-o", "json")
    assert rules.returncode == 6 and rules.stderr.startswith(line)
    assert json.loads(rules.stdout)["incomplete"][0]["resource"] == "devicetaintrules"
    # the gates put rules in force: the devices' taints are unknown
    assert kubectl(env, "dra", "get", "devices", *ON).returncode == 6
    assert kubectl(env, "dra", "explain", "node/node-3", *ON).returncode == 6
    wp = kubectl(env, "dra", "why-pending", "pod/trainer", "-o", "json", *ON)
    report = json.loads(wp.stdout)
    assert wp.returncode == 6 and report["fits"] is False and report["couldFit"] is True
    node3 = next(n for n in report["nodes"] if n["name"] == "node-3")
    assert node3["wouldFit"] is True and node3["reasons"][0]["code"] == "incomplete-view"
    assert "tainted by DeviceTaintRules kubectl-dra could not read" in node3["reasons"][0]["message"]
    # 1.36's defaults leave rules inert: these answers do not depend on them
    for args in (("get", "devices"), ("why-pending", "pod/trainer")):
        res = kubectl(env, "dra", *args)
        assert res.returncode == 0 and "incomplete" not in res.stderr, args
    # a rule asked for by name could not be read: an error, never "not found"
    named = kubectl(env, "dra", "explain", "dtr/node-3-broken")
    assert named.returncode == 4
    assert named.stderr == ('error: devicetaintrules.resource.k8s.io "node-3-broken" could not be read: cannot list '
                            'devicetaintrules.resource.k8s.io (forbidden)\n')
    assert kubectl(env, "dra", "preview", "dtr/node-3-broken").returncode == 4


def test_rule_names_complete_from_the_cluster(cluster):
    _, env, _ = cluster(taint_rule_versions=("v1alpha3",), server_version="v1.35.0")
    res = subprocess.run(["kubectl_complete-dra", "__complete", "get", "taintrules", ""], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.stdout.splitlines()[0] == "node-3-broken"
    res = subprocess.run(["kubectl_complete-dra", "__complete", "preview", "dtr/"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.stdout.splitlines()[0].startswith("dtr/node-3-broken")
