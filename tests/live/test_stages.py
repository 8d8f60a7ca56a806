"""why-pending's later stages through the real kubectl and the test API server: what the live source reads for
them (and nothing more), what it says when the cluster refuses one of those reads, and that a `dump` of the
same cluster gives the same answer offline (quota, prepare, binding judged by the server's clock)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from tests.analysis.why_pending.stage_objects import (
    CLASS, NODE, allocated, bound, dranet_bound_pod0, dranet_plugin, event, example_driver, namespace, plugin_pod,
    quota, template,
)
from tests.builders import pod
from tests.live.apiserver import ApiServer

pytestmark = pytest.mark.live

# The resourceclaim controller's and the kubelet's own words (pkg/controller/resourceclaim, pkg/kubelet/cm/dra).
QUOTA_MESSAGE = ('PodResourceClaim gpu: resource claim template "single-gpu": resourceclaims.resource.k8s.io '
                 '"pod0-gpu-7xk2p" is forbidden: exceeded quota: gpu-quota, requested: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=2, used: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=7, limited: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=8')
PREPARE_ERROR = ("Failed to prepare dynamic resources: prepare dynamic resources: NodePrepareResources failed for "
                 "ResourceClaim default/pod0-gpu: rpc error: code = Unknown desc = error preparing devices for claim "
                 "uid-pod0-gpu: unable to create CDI spec file for claim: open /var/run/cdi: read-only file system")
NOT_REGISTERED = ("Failed to prepare dynamic resources: get gRPC client for DRA driver gpu.example.com: "
                  "DRA driver gpu.example.com is not registered")
PLUGIN = "dra-example-driver-kubeletplugin-x7q2m"
READY, FAILED = "dra.example.com/attached", "dra.example.com/attach-failed"  # a fabric-attached GPU's conditions
DEVICES = f"{CLASS}.deviceclass.resource.k8s.io/devices"


@pytest.fixture(autouse=True)
def _needs_binaries():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")


@pytest.fixture
def run(kubectl_env, tmp_path):
    """run(srv, *args) -> CompletedProcess of `kubectl dra ARGS` against that server (None: no cluster, -f)."""
    def go(srv: ApiServer | None, *args: str) -> subprocess.CompletedProcess:
        env = dict(kubectl_env)
        if srv is not None:
            env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / f"kc-{srv.port}"))
        return subprocess.run(["kubectl", "dra", *args], env=env, capture_output=True, text=True, timeout=120)
    return go


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------------- scenarios

def quota_exceeded() -> list[dict]:
    """A template claim the resourceclaim controller could not create: the namespace's quota of
    gpu.example.com devices is used up (7 of 8; the template asks for 2)."""
    return example_driver() + [
        namespace("default"), template("single-gpu", count=2), pod("pod0", ("gpu", "template", "single-gpu")),
        quota("gpu-quota", {DEVICES: "8"}, {DEVICES: "7"}),
        event("pod0", "FailedResourceClaimCreation", QUOTA_MESSAGE, source="resource_claim")]


def _bound_pod0() -> list[dict]:
    return [allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",)), bound(pod("pod0", ("gpu", "claim", "pod0-gpu")))]


def prepare_failed() -> list[dict]:
    """Scheduled on the kind worker, the example driver's plugin runs there, its NodePrepareResources failed."""
    return example_driver() + _bound_pod0() + [
        plugin_pod(PLUGIN), event("pod0", "FailedPrepareDynamicResources", PREPARE_ERROR)]


def driver_not_running() -> list[dict]:
    """Scheduled on the kind worker, where the example driver's kubelet plugin crash-loops (never registered)."""
    return example_driver() + _bound_pod0() + [
        plugin_pod(PLUGIN, ready=False, waiting="CrashLoopBackOff"),
        plugin_pod("dra-example-driver-kubeletplugin-abcde", node="kind-worker2"),  # another node's: no matter
        event("pod0", "FailedPrepareDynamicResources", NOT_REGISTERED)]


def dranet_not_running() -> list[dict]:
    """A pod with a dranet NIC, bound to rdma-node-1, where dranet's own DaemonSet pod crash-loops."""
    return dranet_bound_pod0() + [dranet_plugin(ready=False, waiting="CrashLoopBackOff")]


def binding_waits() -> list[dict]:
    """Allocated at 10:00 on a device with binding conditions the driver has not set: the pod waits in PreBind."""
    return example_driver() + [
        allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",),
                  extra={"bindingConditions": [READY], "bindingFailureConditions": [FAILED]}),
        pod("pod0", ("gpu", "claim", "pod0-gpu"))]


def _server(objs: list[dict], now: str | None = None) -> ApiServer:
    srv = ApiServer(copy.deepcopy(objs), versions=("v1",), server_version="v1.35.0")
    srv.now = _at(now) if now else None
    return srv


def _codes(report: dict) -> list[str]:
    return [r["code"] for r in report["reasons"]]


# ---------------------------------------------------------------------------------------------- what is read

def _reads(srv: ApiServer) -> set[tuple[str, str | None]]:
    return {(r.path, r.param("fieldSelector")) for r in srv.requests}


def test_a_bound_pod_reads_its_events_claims_events_quotas_namespace_and_node_pods(run):
    with _server(prepare_failed()) as srv:
        res = run(srv, "why-pending", "pod/pod0", "-o", "json")
        assert res.returncode == 0, res.stderr
        reads = _reads(srv)
        assert srv.methods() == {"GET"}
    stage_reads = {
        ("/api/v1/namespaces/default/events",
         "involvedObject.kind=Pod,involvedObject.name=pod0,involvedObject.namespace=default"),
        ("/api/v1/namespaces/default/events",
         "involvedObject.kind=ResourceClaim,involvedObject.name=pod0-gpu,involvedObject.namespace=default"),
        ("/api/v1/namespaces/default/resourcequotas", None),
        ("/api/v1/namespaces/default", None),
        ("/api/v1/pods", f"spec.nodeName={NODE}"),
    }
    # exactly these, nothing more: no cluster-wide events, quotas or namespaces, no other node's pods
    extra = {(p, s) for p, s in reads if p.endswith(("/events", "/resourcequotas")) or "/namespaces" in p
             and p.count("/") == 4 or (s or "").startswith("spec.nodeName=")}
    assert extra == stage_reads
    # lists are paged
    assert all(r.param("limit") for r in srv.requests if r.path.endswith(("/events", "/resourcequotas", "/pods")))


def test_an_unscheduled_or_running_pod_reads_no_node_pods(run):
    waiting = binding_waits()
    running = example_driver() + _bound_pod0()
    running[-1]["status"] = {"phase": "Running", "containerStatuses": [
        {"name": "main", "ready": True, "state": {"running": {"startedAt": "2026-12-01T10:01:00Z"}}}]}
    for objs in (waiting, running):
        with _server(objs) as srv:
            assert run(srv, "why-pending", "pod/pod0", "-o", "json").returncode == 0
            assert not [r for r in srv.requests if (r.param("fieldSelector") or "").startswith("spec.nodeName=")]


def test_the_servers_clock_is_now(run):
    """The Date of the server's answers is "now" for binding timeouts, whatever this machine's clock says."""
    with _server(binding_waits(), now="2026-12-01T10:02:00Z") as srv:
        early = json.loads(run(srv, "why-pending", "pod/pod0", "-o", "json").stdout)
    assert early["stage"] == "binding" and _codes(early)[-1] == "binding-conditions-pending"
    assert "480s left" in early["reasons"][-1]["message"]
    with _server(binding_waits(), now="2026-12-01T10:11:00Z") as srv:
        late = json.loads(run(srv, "why-pending", "pod/pod0", "-o", "json").stdout)
    assert late["stage"] == "binding" and _codes(late)[-1] == "binding-failed"
    assert late["reasons"][-1]["details"]["timedOut"] is True
    with _server(binding_waits(), now="2026-12-01T10:11:00Z") as srv:  # --now still wins
        forced = json.loads(run(srv, "why-pending", "pod/pod0", "-o", "json", "--now", "2026-12-01T10:02:00Z").stdout)
    assert _codes(forced)[-1] == "binding-conditions-pending"


# ---------------------------------------------------------------------------------------------- live == offline

SCENARIOS = {
    "quota-exceeded": (quota_exceeded, None, "claims", "quota-exceeded"),
    "kubelet-prepare-failed": (prepare_failed, None, "prepare", "kubelet-prepare-failed"),
    "driver-not-running": (driver_not_running, None, "prepare", "driver-not-running"),
    "dranet-not-running": (dranet_not_running, None, "prepare", "driver-not-running"),
    "binding-timed-out": (binding_waits, "2026-12-01T10:11:00Z", "binding", "binding-failed"),
    "binding-pending": (binding_waits, "2026-12-01T10:02:00Z", "binding", "binding-conditions-pending"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_live_equals_offline_from_its_dump(run, tmp_path, scenario):
    make, now, stage, code = SCENARIOS[scenario]
    with _server(make(), now=now) as srv:
        live = run(srv, "why-pending", "pod/pod0", "-o", "json")
        live_text = run(srv, "why-pending", "pod/pod0")
        dumped = run(srv, "dump", "-o", "json")
        assert srv.methods() == {"GET"}
    assert live.returncode == 0 and dumped.returncode == 0, live.stderr + dumped.stderr
    report = json.loads(live.stdout)
    assert report["stage"] == stage and code in _codes(report)
    assert "unchecked" not in report and "incomplete" not in report
    dump = tmp_path / "dump.json"
    dump.write_text(dumped.stdout)
    # the dump carries what the stages read, and when and where it read it
    doc = json.loads(dumped.stdout)
    kinds = {o["kind"] for o in doc["items"]}
    assert "Namespace" in kinds and ("Event" in kinds) == any(o["kind"] == "Event" for o in make())
    assert scenario != "quota-exceeded" or "ResourceQuota" in kinds
    annotations = doc["metadata"]["annotations"]
    assert annotations["kubectl-dra.io/server-time"].endswith("Z")
    if stage == "prepare":
        node, plugin = ("rdma-node-1", "dranet-7hx2k") if scenario.startswith("dranet") else (NODE, PLUGIN)
        assert annotations["kubectl-dra.io/pod-nodes"] == node
        assert plugin in {o["metadata"]["name"] for o in doc["items"] if o["kind"] == "Pod"}
    offline = run(None, "why-pending", "pod/pod0", "-o", "json", "-f", str(dump))
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == report
    offline_text = run(None, "why-pending", "pod/pod0", "-f", str(dump))
    assert offline_text.stdout == live_text.stdout


def test_driver_not_running_names_the_crash_looping_plugin(run):
    with _server(driver_not_running()) as srv:
        report = json.loads(run(srv, "why-pending", "pod/pod0", "-o", "json").stdout)
        text = run(srv, "why-pending", "pod/pod0").stdout
    (reason,) = [r for r in report["reasons"] if r["code"] == "driver-not-running"]
    assert reason["details"]["pod"] == f"dra-example-driver/{PLUGIN}"
    assert "CrashLoopBackOff" in reason["details"]["state"]
    assert text.startswith("Pod default/pod0 is scheduled on kind-worker but its devices were never prepared")


# ---------------------------------------------------------------------------------------------- refused reads

def _refused(run, objs, resource, scope, *args):
    with _server(objs) as srv:
        srv.forbid(resource, scope)
        res = run(srv, "why-pending", "pod/pod0", "-o", "json", *args)
        text = run(srv, "why-pending", "pod/pod0", *args)
    assert res.returncode == 6 and text.returncode == 6, res.stderr
    return json.loads(res.stdout), text.stdout


def test_refused_quotas_leave_the_claims_stage_unchecked(run):
    objs = [o for o in quota_exceeded() if o["kind"] != "Event"]  # only the quota itself could tell
    report, text = _refused(run, objs, "resourcequotas", "default")
    assert report["stage"] == "claims" and report["fits"] is False and "quota-exceeded" not in _codes(report)
    assert [(u["stage"], u["resource"]) for u in report["unchecked"]] == [("claims", "resourcequotas")]
    assert [(g["resource"], g.get("namespace")) for g in report["incomplete"]] == [("resourcequotas", "default")]
    assert "ResourceQuotas that may refuse the claim's creation could not be read" in text


def test_refused_node_pods_leave_the_prepare_stage_unchecked_never_running(run):
    """Listing pods outside the pod's namespace is refused: the example driver's plugin on the node cannot be seen."""
    report, text = _refused(run, prepare_failed(), "pods", "")
    assert report["stage"] == "prepare" and report["fits"] is False
    assert ("prepare", "pods") in [(u["stage"], u["resource"]) for u in report["unchecked"]]
    assert any(g["resource"] == "pods" and g["scope"] == "cluster" for g in report["incomplete"])
    assert "running" not in text.splitlines()[0]
    assert "the pods on node kind-worker (the drivers' kubelet plugins) could not be read" in text


def test_refused_events_leave_the_prepare_stage_unchecked(run):
    report, text = _refused(run, prepare_failed(), "events", None)
    assert report["stage"] == "prepare" and report["fits"] is False
    assert "kubelet-prepare-failed" not in _codes(report)
    assert ("prepare", "events") in [(u["stage"], u["resource"]) for u in report["unchecked"]]
    assert [(g["resource"], g.get("namespace")) for g in report["incomplete"]] == [("events", "default")]


def test_a_refused_namespace_leaves_admin_access_unchecked(run):
    objs = example_driver() + [template("monitor", admin=True), pod("pod0", ("gpu", "template", "monitor"))]
    report, text = _refused(run, objs, "namespaces", None)
    assert report["stage"] == "claims" and "admin-access-not-allowed" not in _codes(report)
    assert ("claims", "namespaces") in [(u["stage"], u["resource"]) for u in report["unchecked"]]
    assert any(g["resource"] == "namespaces" for g in report["incomplete"])


def test_a_dump_that_was_refused_says_so_offline_too(run, tmp_path):
    with _server(prepare_failed()) as srv:
        srv.forbid("pods", "")
        dumped = run(srv, "dump", "-o", "json")
        live = json.loads(run(srv, "why-pending", "pod/pod0", "-o", "json").stdout)
    assert dumped.returncode == 6
    dump = tmp_path / "dump.json"
    dump.write_text(dumped.stdout)
    offline = run(None, "why-pending", "pod/pod0", "-o", "json", "-f", str(dump))
    assert offline.returncode == 6
    assert json.loads(offline.stdout) == live


# ---------------------------------------------------------------------------------------------- what dump reads

def test_dump_reads_the_stages_objects_for_every_pod_of_its_scope(tmp_path):
    from kubectl_dra.sources.live import STAGE_EVENT_REASONS, load_live

    unbound = pod("pod1", ("gpu", "template", "single-gpu"))  # waits for no node
    with _server(prepare_failed() + [unbound], now="2026-12-01T10:11:00Z") as srv:
        kc = str(srv.kubeconfig(tmp_path / "kc"))
        objects, info = load_live(kubeconfig=kc, context=None, namespace="default", all_namespaces=False,
                                  include_events_for=(None, None))
        reads = _reads(srv)
        srv.clear_requests()
        _, everywhere = load_live(kubeconfig=kc, context=None, namespace=None, all_namespaces=True,
                                  include_events_for=(None, None))
        reads_all = _reads(srv)
    assert {("/api/v1/namespaces/default/events", f"involvedObject.kind=Pod,reason={r}") for r in STAGE_EVENT_REASONS} \
        | {("/api/v1/namespaces/default/events", "involvedObject.kind=ResourceClaim"),
           ("/api/v1/namespaces/default/resourcequotas", None), ("/api/v1/namespaces/default", None),
           ("/api/v1/pods", f"spec.nodeName={NODE}")} <= reads
    # the pods on the node of the one pod waiting there (pod0), and when it was read
    assert info.pod_nodes == (NODE,) and info.server_time == "2026-12-01T10:11:00Z"
    assert PLUGIN in {o["metadata"]["name"] for o in objects if o["kind"] == "Pod"}
    # -A: every pod is read anyway; quotas and namespaces cluster-wide
    assert everywhere.pod_nodes == () and everywhere.pod_namespaces is None
    assert {("/api/v1/resourcequotas", None), ("/api/v1/namespaces", None)} <= reads_all
    assert not [s for _, s in reads_all if (s or "").startswith("spec.nodeName=")]


def test_refusals_a_stage_does_not_need_are_silent(run):
    """quotas and the Namespace matter only while a template's claim is missing; the node's pods only while the
    pod waits to start there: refused when not needed, the answer is complete (exit 0, no "incomplete")."""
    for objs, resource, scope in ((prepare_failed(), "resourcequotas", None), (prepare_failed(), "namespaces", None),
                                  (binding_waits(), "resourcequotas", None)):
        with _server(objs) as srv:
            srv.forbid(resource, scope)
            res = run(srv, "why-pending", "pod/pod0", "-o", "json")
        assert res.returncode == 0, (resource, res.stderr)
        report = json.loads(res.stdout)
        assert "incomplete" not in report and "unchecked" not in report and res.stderr == ""
