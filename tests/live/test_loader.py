"""load_live against the test API server: paging, concurrency, versions, errors, read-only."""

from __future__ import annotations

import base64
import socket
import time

import pytest
import yaml

from kubectl_dra.errors import ClusterError, InputError
from kubectl_dra.normalize import normalize_object
from kubectl_dra.sources import kubeconfig, live
from kubectl_dra.sources.live import load_live


def load(kubeconfig, **kw):
    args = dict(kubeconfig=str(kubeconfig) if kubeconfig else None, context=None, namespace=None,
                all_namespaces=False)
    args.update(kw)
    return load_live(**args)


def names(objects, kind):
    return sorted((o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects if o["kind"] == kind)


def assert_one_line(err):
    msg = str(err.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


# ----------------------------------------------------------------------------- happy path


def test_loads_every_kind_with_kind_and_api_version(apiserver, tmp_path):
    objects, info = load(apiserver.kubeconfig(tmp_path / "kc"), include_events_for=("default", "trainer"))
    assert names(objects, "Node") == [("", "node-0"), ("", "node-1"), ("", "node-2")]
    assert names(objects, "DeviceClass") == [("", "gpu.example.com")]
    assert len(names(objects, "ResourceSlice")) == 3
    # claims from every namespace: the scheduler counts all allocated claims
    assert names(objects, "ResourceClaim") == [("default", "my-gpu"), ("team-b", "other-team-gpu")]
    assert names(objects, "ResourceClaimTemplate") == [("default", "gpu-template")]
    assert names(objects, "Pod") == [("default", "trainer")]
    assert names(objects, "Event") == [("default", "trainer.1")]  # only the pod's events
    assert names(objects, "Namespace") == [("", "default")]  # why-pending's stages read the pod's namespace
    for o in objects:
        assert o["apiVersion"] == ("v1" if o["kind"] in ("Node", "Pod", "Event", "Namespace") else "resource.k8s.io/v1")
    assert info.kind == "cluster"
    assert info.description == f"test ({apiserver.url})"
    assert info.namespace == "default"
    assert info.server_version == "v1.34.1"
    assert info.resource_api_version == "v1"
    assert info.warnings == ()
    ev = [r for r in apiserver.requests if r.path.endswith("/events") and "involvedObject.kind=Pod" in r.param("fieldSelector")]
    assert ev[0].path == "/api/v1/namespaces/default/events"
    assert set(ev[0].param("fieldSelector").split(",")) >= {
        "involvedObject.name=trainer", "involvedObject.namespace=default"}


def test_no_thread_outlives_the_load(apiserver, tmp_path):
    """why-pending splits its dry runs with fork only when no other thread runs: the loader's own
    worker threads must all have ended when it returns."""
    import threading

    before = set(threading.enumerate())
    load(apiserver.kubeconfig(tmp_path / "kc"), include_events_for=("default", "trainer"))
    # (the test server's own per-request threads may still be closing their connections)
    left = [t.name for t in threading.enumerate() if t not in before and "process_request" not in t.name]
    assert left == []


def test_only_get_requests_and_bearer_token(apiserver, tmp_path):
    load(apiserver.kubeconfig(tmp_path / "kc"), all_namespaces=True, include_events_for=("default", "trainer"))
    assert apiserver.requests, "nothing was requested"
    assert apiserver.methods() == {"GET"}
    assert {r.authorization for r in apiserver.requests} == {f"Bearer {apiserver.token}"}


def test_namespace_flag_context_namespace_and_all_namespaces(apiserver, tmp_path):
    kc = apiserver.kubeconfig(tmp_path / "kc", namespace="team-b")
    objects, info = load(kc)
    assert info.namespace == "team-b" and names(objects, "Pod") == []
    assert apiserver.requests_for("/namespaces/team-b/pods")
    objects, info = load(kc, namespace="default")
    assert info.namespace == "default" and names(objects, "Pod") == [("default", "trainer")]
    apiserver.clear_requests()
    objects, info = load(kc, all_namespaces=True)
    assert names(objects, "ResourceClaimTemplate") == [("default", "gpu-template")]
    paths = {r.path for r in apiserver.requests}
    assert "/api/v1/pods" in paths and "/apis/resource.k8s.io/v1/resourceclaimtemplates" in paths


def test_paging_follows_continue_tokens(apiserver, tmp_path, monkeypatch):
    monkeypatch.setattr(live, "PAGE_SIZE", 2)
    objects, _ = load(apiserver.kubeconfig(tmp_path / "kc"))
    assert len(names(objects, "ResourceSlice")) == 3 and len(names(objects, "Node")) == 3
    slices = apiserver.requests_for("/apis/resource.k8s.io/v1/resourceslices")
    assert [r.param("limit") for r in slices] == ["2", "2"]
    assert slices[0].param("continue") is None
    token = slices[1].param("continue")
    assert token and base64.urlsafe_b64decode(token)  # the server's opaque token, passed back verbatim
    assert len(apiserver.requests_for("/api/v1/nodes")) == 2


def test_many_pages(make_server, tmp_path):
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i:04d}"}} for i in range(1201)]
    srv = make_server(nodes)
    objects, _ = load(srv.kubeconfig(tmp_path / "kc"))
    assert len({o["metadata"]["name"] for o in objects if o["kind"] == "Node"}) == 1201
    reqs = srv.requests_for("/api/v1/nodes")
    assert [r.param("limit") for r in reqs] == ["500"] * 3
    assert [r.param("continue") is None for r in reqs] == [True, False, False]


def test_expired_continue_token_restarts_the_list_once(apiserver, tmp_path, monkeypatch):
    monkeypatch.setattr(live, "PAGE_SIZE", 2)
    apiserver.expire_continue = 1
    objects, _ = load(apiserver.kubeconfig(tmp_path / "kc"))
    # no duplicates, nothing lost
    assert len(names(objects, "ResourceSlice")) == 3 and len(names(objects, "Node")) == 3
    assert len(objects) == len({(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
                                for o in objects})


def test_lists_are_fetched_concurrently(make_server, tmp_path):
    srv = make_server(delay=0.15)
    t0 = time.perf_counter()
    load(srv.kubeconfig(tmp_path / "kc"))
    elapsed = time.perf_counter() - t0
    n = len(srv.requests)
    assert n >= 8
    assert srv.max_in_flight >= 4
    assert elapsed < n * 0.15  # strictly faster than one request after the other


@pytest.mark.parametrize("versions,expected", [
    (("v1", "v1beta2", "v1beta1"), "v1"),
    (("v1beta2", "v1beta1"), "v1beta2"),
    (("v1beta1",), "v1beta1"),
])
def test_reads_the_newest_served_version(make_server, tmp_path, small_objects, versions, expected):
    srv = make_server(versions=versions)
    objects, info = load(srv.kubeconfig(tmp_path / "kc"), all_namespaces=True)
    assert info.resource_api_version == expected
    dra = [o for o in objects if o["apiVersion"].startswith("resource.k8s.io/")]
    assert dra and {o["apiVersion"] for o in dra} == {f"resource.k8s.io/{expected}"}
    # every list in that version (discovery documents aside: a served v1beta2 is asked whether it has
    # DeviceTaintRules, which it serves from 1.36 on)
    lists = [r.path for r in srv.requests if r.path.startswith("/apis/resource.k8s.io/") and r.path.count("/") > 3]
    assert {p.split("/")[3] for p in lists} == {expected}
    # after normalization the objects are exactly what the server was given
    got = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): normalize_object(o) for o in objects}
    for orig in small_objects:
        if orig["kind"] == "Event":
            continue
        key = (orig["kind"], orig["metadata"].get("namespace"), orig["metadata"]["name"])
        obj = {k: v for k, v in got[key].items()}
        obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "creationTimestamp")}
        assert obj == orig


def test_server_warnings_are_passed_on_once(apiserver, tmp_path):
    apiserver.warning = "resource.k8s.io/v1 ResourceSlice is deprecated (test)"
    _, info = load(apiserver.kubeconfig(tmp_path / "kc"))
    assert info.warnings == ("the API server warned: resource.k8s.io/v1 ResourceSlice is deprecated (test)",)


def test_dra_not_served(make_server, tmp_path):
    srv = make_server(versions=())
    with pytest.raises(ClusterError) as err:
        load(srv.kubeconfig(tmp_path / "kc"))
    msg = assert_one_line(err)
    assert "does not serve the resource.k8s.io API group" in msg and "not enabled" in msg


# ----------------------------------------------------------------------------- authz / authn


def test_wrong_token_is_an_authentication_error(apiserver, tmp_path):
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc", token="not-the-token", context="prod"))
    msg = assert_one_line(err)
    assert msg.startswith("authentication failed for context 'prod'") and "401" in msg
    assert err.value.exit_code == 4


def test_forbidden_pods_names_resource_verb_and_namespace(apiserver, tmp_path):
    apiserver.forbid("pods")
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"), namespace="team-b")
    msg = assert_one_line(err)
    assert 'cannot list resource "pods"' in msg and 'in the namespace "team-b"' in msg


def test_forbidden_slices_at_cluster_scope(apiserver, tmp_path):
    apiserver.forbid("resourceslices")
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"))
    msg = assert_one_line(err)
    assert 'cannot list resource "resourceslices" in API group "resource.k8s.io" at the cluster scope' in msg


def test_forbidden_cluster_wide_claims_fall_back_to_the_namespace(apiserver, tmp_path):
    apiserver.forbid("resourceclaims", "")  # cluster-wide list forbidden, namespaced allowed
    objects, info = load(apiserver.kubeconfig(tmp_path / "kc"))
    assert names(objects, "ResourceClaim") == [("default", "my-gpu")]
    assert info.warnings == ()  # not a warning: a gap, which the answers that depend on it report
    (gap,) = info.incomplete
    assert (gap.resource, gap.group, gap.namespace, gap.reason, gap.read_namespaces) == (
        "resourceclaims", "resource.k8s.io", None, "forbidden", ("default",))
    assert "other namespaces are invisible" in gap.effect and "cannot list" in gap.message
    paths = [r.path for r in apiserver.requests if r.path.endswith("resourceclaims")]
    assert paths == ["/apis/resource.k8s.io/v1/resourceclaims",
                     "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims"]


def test_forbidden_claims_everywhere_is_an_error(apiserver, tmp_path):
    apiserver.forbid("resourceclaims")
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"))
    assert 'in the namespace "default"' in assert_one_line(err)


def test_forbidden_events_only_warn(apiserver, tmp_path):
    apiserver.forbid("events")
    objects, info = load(apiserver.kubeconfig(tmp_path / "kc"), include_events_for=("default", "trainer"))
    assert names(objects, "Event") == [] and names(objects, "Pod") == [("default", "trainer")]
    assert [(g.resource, g.namespace) for g in info.incomplete] == [("events", "default")]


# ----------------------------------------------------------------------------- transport


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server(apiserver, tmp_path):
    server = f"https://127.0.0.1:{_free_port()}"
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc", server=server))
    assert assert_one_line(err) == f"cannot reach the cluster at {server}: connection refused"


def test_timeout_is_honored(make_server, tmp_path):
    srv = make_server(delay=2.0)
    t0 = time.perf_counter()
    with pytest.raises(ClusterError) as err:
        load(srv.kubeconfig(tmp_path / "kc"), request_timeout=0.3)
    assert time.perf_counter() - t0 < 1.8
    msg = assert_one_line(err)
    assert "did not answer within 300ms" in msg


def test_a_repeated_continue_token_is_an_error_not_an_endless_list(apiserver, tmp_path):
    apiserver.page_limit = 1
    apiserver.repeat_continue = True
    t0 = time.perf_counter()
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"), request_timeout=0)  # no deadline to save it either
    assert time.perf_counter() - t0 < 10
    msg = assert_one_line(err)
    assert f"the cluster at {apiserver.url} sent the same continue token twice while listing" in msg
    assert "the list would never end" in msg
    # the first page's token was followed once, and its repetition not at all
    pages = apiserver.requests_for("/api/v1/nodes")
    assert 2 <= len(pages) <= 3 and pages[0].param("continue") is None


def test_an_answer_past_the_size_limit_is_an_error_not_unbounded_memory(apiserver, tmp_path, monkeypatch):
    # (the limit made small: a real 1 GiB answer would take the suite's time, not its logic)
    monkeypatch.setattr(live, "MAX_BODY_BYTES", 100)
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"), request_timeout=0)  # no deadline: the size alone stops it
    msg = assert_one_line(err)
    assert f"the cluster at {apiserver.url} sent more than 100 bytes for GET " in msg


def test_a_list_without_end_stops_at_max_pages(apiserver, tmp_path, monkeypatch):
    monkeypatch.setattr(live, "MAX_PAGES", 2)
    apiserver.page_limit = 1  # 3 nodes: 3 pages
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"), request_timeout=0)
    assert "kept sending continue tokens while listing" in assert_one_line(err) and "after 2 pages" in str(err.value)
    monkeypatch.setattr(live, "MAX_PAGES", 3)
    objects, _ = load(apiserver.kubeconfig(tmp_path / "kc"), request_timeout=0)
    assert len(names(objects, "Node")) == 3


def test_short_pages_are_followed(apiserver, tmp_path):
    apiserver.page_limit = 1  # a server may return fewer items than the limit asks
    objects, _ = load(apiserver.kubeconfig(tmp_path / "kc"))
    assert len(names(objects, "Node")) == 3 and len(apiserver.requests_for("/api/v1/nodes")) == 3


def test_one_deadline_for_the_whole_load(make_server, tmp_path):
    """Every request answers well within the timeout, but the pages together do not: the load stops at the
    deadline instead of granting each request the full timeout."""
    srv = make_server(delay=0.25)
    srv.page_limit = 1  # 3 nodes, 3 slices: pages one after the other
    t0 = time.perf_counter()
    with pytest.raises(ClusterError) as err:
        load(srv.kubeconfig(tmp_path / "kc"), request_timeout=0.6)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.2, elapsed
    assert f"the cluster at {srv.url} did not answer within 600ms" in assert_one_line(err)
    # the same server, given the time, answers in full
    srv.clear_requests()
    objects, _ = load(srv.kubeconfig(tmp_path / "kc"), request_timeout=0)
    assert len(names(objects, "ResourceSlice")) == 3


def test_a_trickling_answer_does_not_outlast_the_deadline(make_server, tmp_path):
    """Bytes keep coming, so no socket timeout ever fires; the deadline still does."""
    srv = make_server()
    srv.trickle = 0.1  # a slice list is ~1.5 kB: 2-3 s this way
    t0 = time.perf_counter()
    with pytest.raises(ClusterError) as err:
        load(srv.kubeconfig(tmp_path / "kc"), request_timeout=0.8)
    assert time.perf_counter() - t0 < 1.6
    assert "did not answer within 800ms" in assert_one_line(err)


def test_untrusted_certificate(apiserver, tmp_path):
    with pytest.raises(ClusterError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc", ca_data=False))
    msg = assert_one_line(err)
    assert msg.startswith(f"TLS error talking to the cluster at {apiserver.url}: certificate verify failed")


# ----------------------------------------------------------------------------- kubeconfig


def test_missing_kubeconfig_file(tmp_path):
    with pytest.raises(InputError) as err:
        load(tmp_path / "nope")
    assert "does not exist" in assert_one_line(err)
    assert err.value.exit_code == 3


def test_broken_kubeconfig_yaml(tmp_path):
    kc = tmp_path / "kc"
    kc.write_text("clusters: [\n  - name: x\n  oops: : :\n")
    with pytest.raises(InputError) as err:
        load(kc)
    assert ": invalid YAML at line 2" in assert_one_line(err)


def test_kubeconfig_not_a_mapping(tmp_path):
    kc = tmp_path / "kc"
    kc.write_text("- just\n- a list\n")
    with pytest.raises(InputError) as err:
        load(kc)
    assert "expected a mapping" in assert_one_line(err)


def test_unknown_context(apiserver, tmp_path):
    with pytest.raises(InputError) as err:
        load(apiserver.kubeconfig(tmp_path / "kc"), context="staging")
    assert assert_one_line(err).startswith("context 'staging' not found") and "available: test" in str(err.value)


def test_context_with_missing_user(apiserver, tmp_path):
    kc = apiserver.kubeconfig(tmp_path / "kc")
    cfg = yaml.safe_load(kc.read_text())
    cfg["users"] = []
    kc.write_text(yaml.safe_dump(cfg))
    with pytest.raises((InputError, ClusterError)) as err:
        load(kc)
    assert_one_line(err)


def test_empty_kubeconfig_from_environment(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    monkeypatch.setenv("KUBECONFIG", str(empty))
    with pytest.raises(InputError) as err:
        load(None)
    assert "no current context" in assert_one_line(err)


def test_kubeconfig_env_list_merges_files_like_kubectl(make_server, tmp_path, monkeypatch):
    a, b = make_server(), make_server()
    ka = a.kubeconfig(tmp_path / "a", context="alpha")
    kb = b.kubeconfig(tmp_path / "b", context="beta", namespace="team-b")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{ka}:{kb}")
    _, info = load(None)  # the first file that sets current-context wins (kubectl's rule)
    assert info.description == f"alpha ({a.url})" and info.namespace == "default"
    _, info = load(None, context="beta")  # a context from the second file
    assert info.description == f"beta ({b.url})" and info.namespace == "team-b"
    assert b.requests and b.methods() == {"GET"}


def test_in_cluster_service_account(apiserver, tmp_path, monkeypatch):
    from kubernetes.config import incluster_config

    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(apiserver.token)
    (sa / "ca.crt").write_text(apiserver.ca_pem)
    (sa / "namespace").write_text("team-b")
    monkeypatch.setattr(kubeconfig, "SA_DIR", str(sa))
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(sa / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(sa / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(apiserver.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))   # names no existing file
    monkeypatch.setenv("HOME", str(tmp_path))                   # no ~/.kube/config either
    objects, info = load(None)
    assert info.description == f"in-cluster ({apiserver.url})" and info.namespace == "team-b"
    assert names(objects, "ResourceClaim") == [("default", "my-gpu"), ("team-b", "other-team-gpu")]


def _exec_kubeconfig(srv, tmp_path, script_body: str):
    plugin = tmp_path / "cred-plugin"
    plugin.write_text("#!/bin/sh\n" + script_body)
    plugin.chmod(0o755)
    kc = srv.kubeconfig(tmp_path / "kc")
    cfg = yaml.safe_load(kc.read_text())
    cfg["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                                        "interactiveMode": "Never"}}
    kc.write_text(yaml.safe_dump(cfg))
    return kc


def test_exec_credential_plugin(apiserver, tmp_path):
    cred = ('{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
            f'"status": {{"token": "{apiserver.token}"}}}}')
    objects, _ = load(_exec_kubeconfig(apiserver, tmp_path, f"echo '{cred}'\n"))
    assert names(objects, "ResourceSlice")
    assert {r.authorization for r in apiserver.requests} == {f"Bearer {apiserver.token}"}


def test_failing_exec_credential_plugin(apiserver, tmp_path):
    with pytest.raises(ClusterError) as err:
        load(_exec_kubeconfig(apiserver, tmp_path, "echo 'login expired' >&2\nexit 1\n"))
    msg = assert_one_line(err)
    assert msg.startswith("cannot get credentials for context 'test'") and "login expired" in msg
    assert apiserver.requests == []
