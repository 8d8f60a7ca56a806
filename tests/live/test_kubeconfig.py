"""The one kubeconfig reader (kubectl_dra.sources.kubeconfig): which files, how they merge, which context,
which namespace -- and the live source and shell completion, both reading through it, agreeing on the
namespace a command works in."""

from __future__ import annotations

import os

import pytest
import yaml

from kubectl_dra.errors import InputError
from kubectl_dra.sources import kubeconfig
from kubectl_dra.sources.live import load_live


def write(path, **doc):
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", **doc}))
    return path


def ctx(name, ns=None, cluster="c", user="u"):
    body = {"cluster": cluster, "user": user}
    if ns:
        body["namespace"] = ns
    return {"name": name, "context": body}


@pytest.fixture
def no_pod(monkeypatch, tmp_path):
    """Not in a pod, whatever the machine running the tests is."""
    monkeypatch.setattr(kubeconfig, "SA_DIR", str(tmp_path / "no-service-account"))
    monkeypatch.delenv("POD_NAMESPACE", raising=False)


@pytest.fixture
def in_pod(monkeypatch, tmp_path):
    """A pod's service account, namespace team-b (the token is not used: the tests read namespaces)."""
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t")
    (sa / "namespace").write_text("team-b\n")
    monkeypatch.setattr(kubeconfig, "SA_DIR", str(sa))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    return sa


# ----------------------------------------------------------------------------------------------- files


def test_files_kubeconfig_flag_then_env_list_then_home(tmp_path, monkeypatch, no_pod):
    a = write(tmp_path / "a", contexts=[ctx("alpha")])
    b = write(tmp_path / "b", contexts=[ctx("beta")])
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), str(b), "", str(a)]))
    assert kubeconfig.locate(None) == [str(b), str(a)]  # missing files skipped, order kept
    assert kubeconfig.locate(str(a)) == [str(a)]        # --kubeconfig wins
    with pytest.raises(InputError) as e:
        kubeconfig.locate(str(tmp_path / "nope"))
    assert e.value.message == f"kubeconfig {str(tmp_path / 'nope')!r} does not exist"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(InputError) as e:
        kubeconfig.locate(None)
    assert e.value.message.startswith("no kubeconfig found: none of the files in KUBECONFIG=")
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(InputError) as e:
        kubeconfig.locate(None)
    assert "~/.kube/config does not exist" in e.value.message
    (tmp_path / ".kube").mkdir()
    home_config = write(tmp_path / ".kube" / "config", contexts=[ctx("home")])
    assert kubeconfig.locate(None) == [str(home_config)]


def test_no_file_in_a_pod_means_in_cluster(tmp_path, monkeypatch, in_pod):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    assert kubeconfig.locate(None) is None and kubeconfig.load(None) is None
    assert kubeconfig.default_namespace(None) == "team-b"
    monkeypatch.setenv("POD_NAMESPACE", "from-downward-api")
    assert kubeconfig.default_namespace(None) == "from-downward-api"


def test_env_list_merges_like_kubectl(tmp_path, no_pod):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = write(tmp_path / "one" / "a", **{
        "current-context": "alpha",
        "clusters": [{"name": "c", "cluster": {"server": "https://a"}}],
        "users": [{"name": "u", "user": {"token": "from-a"}}],
        "contexts": [ctx("alpha"), ctx("shared", "ns-a")]})
    b = write(tmp_path / "two" / "b", **{
        "current-context": "beta",
        "clusters": [{"name": "c", "cluster": {"server": "https://b"}}, {"name": "c2", "cluster": {"server": "https://b2"}}],
        "contexts": [ctx("beta", "team-b", cluster="c2"), ctx("shared", "ns-b")]})
    kc = kubeconfig.read([str(a), str(b)])
    assert kc.current == "alpha"                                   # the first file that sets it
    assert sorted(kc.contexts) == ["alpha", "beta", "shared"]
    assert kc.contexts["shared"]["namespace"] == "ns-a"            # the first file to define a name wins
    assert kc.clusters["c"]["server"] == "https://a" and kc.clusters["c2"]["server"] == "https://b2"
    assert kc.base_dir("clusters", "c") == str(tmp_path / "one")   # relative paths: from the defining file
    assert kc.base_dir("clusters", "c2") == str(tmp_path / "two")
    assert kc.description == f"KUBECONFIG={a}{os.pathsep}{b}"
    assert kc.require_context(None) == "alpha" and kc.require_context("beta") == "beta"
    with pytest.raises(InputError) as e:
        kc.require_context("gamma")
    assert e.value.message == f"context 'gamma' not found in {kc.description} (available: alpha, beta, shared)"
    assert kubeconfig.read([str(b), str(a)]).current == "beta"


def test_context_namespace_kubectls_rule(tmp_path, no_pod, monkeypatch):
    kc = kubeconfig.read([str(write(tmp_path / "kc", **{
        "current-context": "plain", "contexts": [ctx("plain"), ctx("ml", "ml-team"), ctx("empty", "")]}))])
    assert kc.namespace() == "default"
    assert kc.namespace("ml") == "ml-team"          # --context picks the context's namespace
    assert kc.namespace("empty") == "default"
    assert kc.namespace("undefined") == "default"
    monkeypatch.setenv("POD_NAMESPACE", "ignored-outside-a-pod")
    assert kc.namespace() == "default"


def test_in_a_pod_a_context_without_namespace_takes_the_pods(tmp_path, in_pod):
    kc = kubeconfig.read([str(write(tmp_path / "kc", **{
        "current-context": "plain", "contexts": [ctx("plain"), ctx("ml", "ml-team")]}))])
    assert kc.namespace() == "team-b"       # client-go: the in-cluster namespace fills in
    assert kc.namespace("ml") == "ml-team"  # an explicit namespace still wins


@pytest.mark.parametrize("text, message", [
    ("- a\n- list\n", "is not a kubeconfig (expected a mapping, got list)"),
    ("contexts: {a: b}\n", "'contexts' must be a list"),
    ("clusters: [unclosed\n", ": invalid YAML at line 2"),
])
def test_strict_reading_says_what_is_wrong_lenient_reading_skips_it(tmp_path, text, message):
    bad = tmp_path / "bad"
    bad.write_text(text)
    good = write(tmp_path / "good", **{"current-context": "ok", "contexts": [ctx("ok", "good-ns")]})
    with pytest.raises(InputError) as e:
        kubeconfig.read([str(bad), str(good)])
    assert message in e.value.message and "\n" not in e.value.message
    kc = kubeconfig.read([str(bad), str(good)], strict=False)  # completion: what can be read
    assert kc.current == "ok" and kc.namespace() == "good-ns"


# ------------------------------------------------------------------------ live and completion agree


def _completion_namespace(kubeconfig_path, context):
    from kubectl_dra.completion.lookup import Lookup, SourceSpec, reset_deadline

    reset_deadline()
    return Lookup(SourceSpec(kubeconfig=kubeconfig_path, context=context)).default_namespace()


def _completed_claims(kubeconfig_path, context):
    from kubectl_dra.cli import app
    from kubectl_dra.completion import cobra
    from kubectl_dra.completion.lookup import reset_deadline

    reset_deadline()
    words = (["get"] + (["--kubeconfig", kubeconfig_path] if kubeconfig_path else [])
             + (["--context", context] if context else []) + ["claims", ""])
    return [line.split("\t")[0] for line in cobra.cobra_output(app, words).splitlines()[:-1]]


@pytest.mark.parametrize("setup, context, expected", [
    ("context-namespace", None, "team-b"),
    ("context-namespace", "plain", "default"),
    ("no-namespace", None, "default"),
    ("no-namespace-in-pod", None, "team-b"),
    ("no-namespace-in-pod", "explicit", "default"),
])
def test_live_source_and_completion_use_the_same_namespace(make_server, tmp_path, monkeypatch, setup, context,
                                                           expected, request):
    request.getfixturevalue("in_pod" if setup.endswith("in-pod") else "no_pod")
    monkeypatch.setenv("KUBECTL_DRA_COMPLETION_TIMEOUT", "10")  # a loaded test machine is not a dead cluster
    srv = make_server()
    path = srv.kubeconfig(tmp_path / "kc", namespace="team-b" if setup == "context-namespace" else None)
    cfg = yaml.safe_load(path.read_text())
    extra = dict(cfg["contexts"][0], name="plain")
    extra["context"] = {k: v for k, v in extra["context"].items() if k != "namespace"}
    explicit = dict(cfg["contexts"][0], name="explicit")
    explicit["context"] = dict(explicit["context"], namespace="default")
    cfg["contexts"] += [extra, explicit]
    path.write_text(yaml.safe_dump(cfg))

    _, info = load_live(kubeconfig=str(path), context=context, namespace=None, all_namespaces=False)
    assert info.namespace == expected
    assert _completion_namespace(str(path), context) == expected
    # what a user sees: completion offers the claims of the namespace `get claims` lists
    claims = {"default": ["my-gpu"], "team-b": ["other-team-gpu"]}[expected]
    assert _completed_claims(str(path), context) == claims
    assert srv.methods() == {"GET"}


def test_completion_uses_the_official_client_for_exec_credentials(make_server, tmp_path, monkeypatch):
    """What the small stdlib client cannot do (an exec credential plugin) goes through sources.live.Client."""
    from tests.live.test_loader import _exec_kubeconfig

    monkeypatch.setenv("KUBECTL_DRA_COMPLETION_TIMEOUT", "20")  # importing the kubernetes client takes a while
    srv = make_server()
    cred = ('{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
            f'"status": {{"token": "{srv.token}"}}}}')
    kc = _exec_kubeconfig(srv, tmp_path, f"echo '{cred}'\n")
    assert _completed_claims(str(kc), None) == ["my-gpu"]
    assert {r.authorization for r in srv.requests} == {f"Bearer {srv.token}"}


def test_completion_in_a_pod_without_kubeconfig(make_server, tmp_path, monkeypatch, in_pod):
    """No kubeconfig, a service account: completion lists the pod's namespace, like the live source."""
    from kubernetes.config import incluster_config

    monkeypatch.setenv("KUBECTL_DRA_COMPLETION_TIMEOUT", "20")
    srv = make_server()
    (in_pod / "token").write_text(srv.token)
    (in_pod / "ca.crt").write_text(srv.ca_pem)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(in_pod / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(in_pod / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(srv.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    _, info = load_live(kubeconfig=None, context=None, namespace=None, all_namespaces=False)
    assert info.namespace == "team-b"
    assert _completion_namespace(None, None) == "team-b"
    assert _completed_claims(None, None) == ["other-team-gpu"]


def test_a_kubeconfig_alias_bomb_is_refused_like_any_file(tmp_path):
    """The kubeconfig is read within the input limits every file is (kubectl_dra.sources.limits)."""
    levels = "abcdefghi"
    bomb = ('a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(f"{c}: &{c} [" + ",".join([f"*{levels[i]}"] * 9) + "]\n" for i, c in enumerate(levels[1:])))
    bad = tmp_path / "kc"
    bad.write_text("apiVersion: v1\nkind: Config\n" + bomb)
    with pytest.raises(InputError) as e:
        kubeconfig.read([str(bad)])
    assert "excessive aliasing" in e.value.message and "\n" not in e.value.message
