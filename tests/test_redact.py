"""`dump` redacts by default (kubectl_dra.redact), says so in its header, and gives the same answers;
`--no-redact` keeps everything."""

from __future__ import annotations

import copy
import json

import yaml

from kubectl_dra.redact import ANNOTATION, LAST_APPLIED, REDACTED, redact
from tests.conftest import EXAMPLE

BASE = yaml.safe_load(EXAMPLE.read_text())

POD_EXTRAS = {
    "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "MODE", "value": "train"},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
    "envFrom": [{"secretRef": {"name": "all-secrets"}}, {"configMapRef": {"name": "settings"}}],
    "args": ["--epochs=3", "--api-token=abc123"],
}


def _cluster_with_secrets() -> dict:
    doc = copy.deepcopy(BASE)
    pod = next(o for o in doc["items"] if o["kind"] == "Pod" and o["metadata"]["name"] == "trainer")
    pod["spec"]["containers"][0].update(copy.deepcopy(POD_EXTRAS))
    pod["spec"]["volumes"] = [{"name": "creds", "secret": {"secretName": "creds"}}]
    pod["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(pod), "example.com/auth-token": "s3cr3t",
                                      "example.com/team": "ml"}
    pod["metadata"]["managedFields"] = [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {}}}]
    claim = next(o for o in doc["items"] if o["kind"] == "ResourceClaim")
    claim["spec"]["devices"]["config"] = [{"opaque": {"driver": "gpu.nvidia.com", "parameters": {
        "apiVersion": "gpu.nvidia.com/v1", "kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"},
        "licenseToken": "L-123", "nested": {"password": "p"}}}}]
    return doc


def test_redact_replaces_values_and_keeps_names():
    doc = _cluster_with_secrets()
    pod = next(o for o in doc["items"] if o["kind"] == "Pod" and o["metadata"]["name"] == "trainer")
    before = copy.deepcopy(pod)
    out = redact(pod)
    assert pod == before  # the object given is not changed
    c = out["spec"]["containers"][0]
    assert [e.get("value") for e in c["env"]] == [REDACTED, REDACTED, None]
    assert c["env"][2]["valueFrom"] == {"secretKeyRef": {"name": "db", "key": "password"}}  # names: kept
    assert c["envFrom"] == POD_EXTRAS["envFrom"]
    assert c["args"] == ["--epochs=3", REDACTED]
    assert out["spec"]["volumes"] == [{"name": "creds", "secret": {"secretName": "creds"}}]
    assert out["metadata"]["annotations"] == {"example.com/auth-token": REDACTED, "example.com/team": "ml"}
    assert "managedFields" not in out["metadata"]
    assert out["spec"]["resourceClaims"] == pod["spec"]["resourceClaims"]
    claim = redact(next(o for o in doc["items"] if o["kind"] == "ResourceClaim"))
    params = claim["spec"]["devices"]["config"][0]["opaque"]["parameters"]
    assert params == {"apiVersion": "gpu.nvidia.com/v1", "kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"},
                      "licenseToken": REDACTED, "nested": {"password": REDACTED}}


def test_dump_redacts_by_default_says_so_and_gives_the_same_answers(cli, tmp_path):
    src = tmp_path / "cluster.yaml"
    src.write_text(yaml.safe_dump(_cluster_with_secrets()))
    res = cli("dump", "-f", str(src))
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[0]
    assert header.startswith("# kubectl dra dump: container env values and secret-looking values replaced by "
                             "REDACTED") and "--no-redact" in header
    doc = yaml.safe_load(res.stdout)
    items = json.dumps(doc["items"])
    for secret in ("hunter2", "abc123", "s3cr3t", "L-123", LAST_APPLIED, "managedFields"):
        assert secret not in items
    assert ANNOTATION in doc["metadata"]["annotations"]
    shared = tmp_path / "shared.yaml"
    shared.write_text(res.stdout)
    for args in (["why-pending", "pod/trainer", "-o", "json"], ["get", "devices", "-o", "json"],
                 ["explain", "claim/trainer-gpus-q9t4m", "-o", "json"]):
        assert cli(*args, "-f", str(shared)).stdout == cli(*args, "-f", str(src)).stdout, args
    js = cli("dump", "-o", "json", "-f", str(src))
    assert json.loads(js.stdout)["metadata"]["annotations"][ANNOTATION] and "hunter2" not in js.stdout


def test_no_redact_keeps_everything(cli, tmp_path):
    src = tmp_path / "cluster.yaml"
    original = _cluster_with_secrets()
    src.write_text(yaml.safe_dump(original))
    res = cli("dump", "--no-redact", "-o", "json", "-f", str(src))
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert "metadata" not in doc or ANNOTATION not in (doc["metadata"].get("annotations") or {})
    pod = next(o for o in doc["items"] if o["kind"] == "Pod" and o["metadata"]["name"] == "trainer")
    want = next(o for o in original["items"] if o["kind"] == "Pod" and o["metadata"]["name"] == "trainer")
    assert pod == want
    assert not cli("dump", "--no-redact", "-f", str(src)).stdout.startswith("#")


def test_an_env_value_that_names_a_driver_of_the_dump_is_kept():
    """A driver's kubelet plugin pod carries its driver's name in its env (DRIVER_NAME): a public DNS name, and
    what why-pending's prepare stage tells the plugin by, so the redacted dump still gives the same answer."""
    from kubectl_dra.redact import driver_names

    doc = _cluster_with_secrets()
    keep = driver_names(doc["items"])
    assert "gpu.nvidia.com" in keep
    plugin = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gpu-plugin-x", "namespace": "kube-system"},
              "spec": {"containers": [{"name": "plugin", "env": [
                  {"name": "DRIVER_NAME", "value": "gpu.nvidia.com"}, {"name": "NODE_NAME", "value": "gpu-node-1"}]}]}}
    env = redact(plugin, keep)["spec"]["containers"][0]["env"]
    assert env == [{"name": "DRIVER_NAME", "value": "gpu.nvidia.com"}, {"name": "NODE_NAME", "value": REDACTED}]
    assert redact(plugin)["spec"]["containers"][0]["env"][0]["value"] == REDACTED  # nothing kept unless named
