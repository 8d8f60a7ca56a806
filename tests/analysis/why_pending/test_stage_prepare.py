"""Stages prepare and running: pinned pods, the kubelet's prepare call, the driver's kubelet plugin, device health."""

from __future__ import annotations

from kubectl_dra.analysis.why_pending import reasons, why_pending
from kubectl_dra.features import defaults_for_version
from kubectl_dra.snapshot import Gap, Snapshot, SourceInfo
from tests.analysis.why_pending.stage_objects import (
    CLASS, NODE, allocated, bound, dranet_bound_pod0, dranet_plugin, event, example_driver, plugin_pod,
)
from tests.builders import claim, pod, request, snapshot

GATES = defaults_for_version(None)
PREPARE_ERROR = ("Failed to prepare dynamic resources: prepare dynamic resources: NodePrepareResources failed for "
                 "ResourceClaim default/pod0-gpu: rpc error: code = Unknown desc = error preparing devices for claim "
                 "uid-pod0-gpu: unable to create CDI spec file for claim: open /var/run/cdi: read-only file system")
NOT_REGISTERED = ("Failed to prepare dynamic resources: get gRPC client for DRA driver gpu.example.com: "
                  "DRA driver gpu.example.com is not registered")


def _bound_pod():
    return bound(pod("pod0", ("gpu", "claim", "pod0-gpu")))


def _objs(*more, claim_obj=None):
    return example_driver() + [claim_obj or allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",)), _bound_pod(), *more]


def _codes(r):
    return [x["code"] for x in r["reasons"]]


def test_node_name_set_by_hand_bypasses_the_scheduler():
    p = bound(pod("pinned", ("gpu", "claim", "c")), scheduled=False)
    r = why_pending(snapshot(example_driver(), claim("c", request("gpu", CLASS)), p), "Pod", "pinned", "default", GATES)
    assert r["stage"] == "prepare" and r["fits"] is False
    assert _codes(r) == [reasons.NODE_NAME_BYPASSES_SCHEDULER]
    assert "claim c is not allocated" in r["reasons"][0]["message"]
    assert [n["name"] for n in r["nodes"]] == [NODE]
    assert any("nodeSelector" in f for f in r["fixes"])


def test_the_kubelets_failed_prepare_event():
    r = why_pending(snapshot(_objs(plugin_pod("dra-example-driver-kubeletplugin-x7q2m"),
                                   event("pod0", "FailedPrepareDynamicResources", PREPARE_ERROR))),
                    "Pod", "pod0", "default", GATES)
    assert r["stage"] == "prepare" and r["fits"] is False
    assert _codes(r) == [reasons.KUBELET_PREPARE_FAILED]
    assert "read-only file system" in r["reasons"][0]["message"]


def test_a_crash_looping_plugin_is_the_driver_not_running():
    crashing = plugin_pod("dra-example-driver-kubeletplugin-x7q2m", ready=False, waiting="CrashLoopBackOff")
    r = why_pending(snapshot(_objs(crashing, event("pod0", "FailedPrepareDynamicResources", NOT_REGISTERED))),
                    "Pod", "pod0", "default", GATES)
    assert _codes(r) == [reasons.DRIVER_NOT_RUNNING]
    d = r["reasons"][0]["details"]
    assert d["pod"] == "dra-example-driver/dra-example-driver-kubeletplugin-x7q2m" and d["matchedBy"] == "env"
    assert "CrashLoopBackOff" in d["state"] and "ResourceSlices for kind-worker are still published" in r["reasons"][0]["message"]


def test_plugin_on_another_node_does_not_count_and_the_kubelet_event_says_not_registered():
    elsewhere = plugin_pod("dra-example-driver-kubeletplugin-abcde", node="kind-worker2")
    r = why_pending(snapshot(_objs(elsewhere, event("pod0", "FailedPrepareDynamicResources", NOT_REGISTERED))),
                    "Pod", "pod0", "default", GATES)
    assert _codes(r) == [reasons.DRIVER_NOT_RUNNING]
    assert "is not registered" in r["reasons"][0]["message"]


def test_a_plugin_matched_by_its_daemonset_or_label():
    by_ds = plugin_pod("plugin-1", env_driver=None, owner="gpu-example-com-kubelet-plugin", ready=False,
                       waiting="ImagePullBackOff")
    r = why_pending(snapshot(_objs(by_ds)), "Pod", "pod0", "default", GATES)
    assert r["reasons"][0]["details"]["matchedBy"] == "daemonset"
    by_label = plugin_pod("plugin-2", env_driver=None, owner="x", labels={"driver": "gpu.example.com"}, ready=False,
                          waiting="CrashLoopBackOff")
    assert why_pending(snapshot(_objs(by_label)), "Pod", "pod0", "default", GATES)["reasons"][0]["details"]["matchedBy"] == "label"


def test_when_no_rule_can_tell_which_pod_is_the_plugin_it_says_so():
    anonymous = plugin_pod("some-daemon-zz9", env_driver=None, owner="node-agent", labels={"app": "agent"})
    r = why_pending(snapshot(_objs(anonymous)), "Pod", "pod0", "default", GATES)
    assert r["stage"] == "prepare" and _codes(r) == [] and r["fits"] is False
    assert r["unchecked"] == [{"stage": "prepare", "resource": None,
                               "message": "cannot tell which pod on node kind-worker runs driver gpu.example.com's "
                                          "kubelet plugin (no pod there carries the driver: its plugin directory, env, "
                                          "DaemonSet, an event, a label, args or a known plugin name; pods holding "
                                          "claims are consumers, not plugins)"}]


def test_a_ready_plugin_and_no_events_is_nothing_dra_related():
    r = why_pending(snapshot(_objs(plugin_pod("dra-example-driver-kubeletplugin-x7q2m"))), "Pod", "pod0", "default", GATES)
    assert r["stage"] == "prepare" and r["fits"] is True and _codes(r) == [] and "unchecked" not in r


def test_pods_on_the_node_that_could_not_be_read_leave_prepare_unchecked():
    info = SourceInfo(kind="cluster", pod_namespaces=("default",), incomplete=(
        Gap("pods", "", None, "forbidden", ("default",), "pods of other namespaces are unknown"),))
    r = why_pending(Snapshot.from_objects(_objs(), source=info), "Pod", "pod0", "default", GATES)
    assert r["stage"] == "prepare" and r["fits"] is False
    assert [(u["stage"], u["resource"]) for u in r["unchecked"]] == [("prepare", "pods")]
    assert [g["resource"] for g in r["incomplete"]] == ["pods"]


UNHEALTHY = [{"driver": "gpu.example.com", "pool": "kind-worker", "device": "gpu-0",
              "conditions": [{"type": "Ready", "status": "False", "reason": "XidError",
                              "message": "Xid 79: GPU has fallen off the bus"}]}]


def test_an_unhealthy_device_blocks_prepare_and_warns_once_running():
    sick = allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",), status_devices=UNHEALTHY)
    r = why_pending(snapshot(_objs(plugin_pod("dra-example-driver-kubeletplugin-x7q2m"), claim_obj=sick)),
                    "Pod", "pod0", "default", GATES)
    assert r["stage"] == "prepare" and r["fits"] is False and _codes(r) == [reasons.DEVICE_UNHEALTHY]
    assert "Xid 79" in r["reasons"][0]["message"]
    running = _bound_pod()
    running["status"] = {"phase": "Running", "containerStatuses": [
        {"name": "main", "ready": True, "state": {"running": {}},
         "allocatedResourcesStatus": [{"name": "claim:pod0-gpu/gpu", "resources": [
             {"resourceID": "gpu.example.com/kind-worker/gpu-0", "health": "Unhealthy"}]}]}]}
    r = why_pending(snapshot(example_driver(), allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",)), running),
                    "Pod", "pod0", "default", GATES)
    assert r["stage"] == "running" and r["fits"] is True
    assert _codes(r) == [reasons.DEVICE_UNHEALTHY] and r["reasons"][0]["details"]["source"] == "pod"


def test_a_running_pod_is_running():
    running = _bound_pod()
    running["status"] = {"phase": "Running", "containerStatuses": [{"name": "main", "ready": True,
                                                                    "state": {"running": {}}}]}
    r = why_pending(snapshot(example_driver(), allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",)), running),
                    "Pod", "pod0", "default", GATES)
    assert r["stage"] == "running" and r["fits"] is True and r["reasons"] == []


def _anonymous_plugin(name="node-agent-q8d4k", **kw):
    """A pod that names no driver in env, labels, owner or name (the example driver's chart labels its pods
    app.kubernetes.io/name=dra-example-driver, which names no driver)."""
    return plugin_pod(name, env_driver=None, owner="node-agent", labels={"app": "agent"}, **kw)


def test_a_plugin_matched_by_its_hostpath_plugin_directory():
    crashing = _anonymous_plugin(ready=False, waiting="CrashLoopBackOff")
    crashing["spec"]["volumes"] = [{"name": "plugins-registry", "hostPath": {"path": "/var/lib/kubelet/plugins_registry"}},
                                   {"name": "plugin", "hostPath": {"path": "/var/lib/kubelet/plugins/gpu.example.com/",
                                                                   "type": "DirectoryOrCreate"}}]
    r = why_pending(snapshot(_objs(crashing)), "Pod", "pod0", "default", GATES)
    assert _codes(r) == [reasons.DRIVER_NOT_RUNNING] and r["reasons"][0]["details"]["matchedBy"] == "hostPath"
    # the driver's registration socket (the kubelet plugin helper's "<driver>-reg.sock") says the same
    crashing["spec"]["volumes"][1]["hostPath"]["path"] = "/var/lib/kubelet/plugins_registry/gpu.example.com-reg.sock"
    assert why_pending(snapshot(_objs(crashing)), "Pod", "pod0", "default", GATES)["reasons"][0]["details"]["matchedBy"] \
        == "hostPath"
    # the kubelet's plugin directories as a whole (every driver's) or another driver's directory tell nothing
    for path in ("/var/lib/kubelet/plugins", "/var/lib/kubelet/plugins/gpu.example.com.old-driver",
                 "/var/lib/kubelet/plugins/gpu.nvidia.com"):
        crashing["spec"]["volumes"][1]["hostPath"]["path"] = path
        r = why_pending(snapshot(_objs(crashing)), "Pod", "pod0", "default", GATES)
        assert _codes(r) == [] and [u["resource"] for u in r["unchecked"]] == [None], path


def test_a_plugin_matched_by_a_driver_name_env_var_of_an_init_container():
    p = _anonymous_plugin(ready=False, waiting="CrashLoopBackOff")
    p["spec"]["initContainers"] = [{"name": "init", "image": "x", "env": [{"name": "DRA_DRIVER_NAME",
                                                                           "value": "gpu.example.com"}]}]
    r = why_pending(snapshot(_objs(p)), "Pod", "pod0", "default", GATES)
    assert r["reasons"][0]["details"]["matchedBy"] == "env"


def _dranet_pod0(plugin):
    return snapshot(dranet_bound_pod0(), plugin)


def test_dranets_plugin_is_known_by_its_own_naming():
    r = why_pending(_dranet_pod0(dranet_plugin(ready=False, waiting="CrashLoopBackOff")), "Pod", "pod0", "default",
                    GATES)
    assert r["stage"] == "prepare" and _codes(r) == [reasons.DRIVER_NOT_RUNNING]
    d = r["reasons"][0]["details"]
    assert d["driver"] == "dra.net" and d["pod"] == "kube-system/dranet-7hx2k" and d["matchedBy"] == "known-name"
    healthy = why_pending(_dranet_pod0(dranet_plugin()), "Pod", "pod0", "default", GATES)
    assert healthy["stage"] == "prepare" and _codes(healthy) == [] and "unchecked" not in healthy
    # the naming alone (no DaemonSet owner, no labels) still says it
    bare = dranet_plugin(ready=False, waiting="CrashLoopBackOff", ownerReferences=[], labels={})
    assert why_pending(_dranet_pod0(bare), "Pod", "pod0", "default", GATES)["reasons"][0]["details"]["matchedBy"] == \
        "known-name"
    # a pod merely named like it is not ("dranet-test" is no DaemonSet pod name)
    lookalike = dranet_plugin(ready=False, waiting="CrashLoopBackOff", ownerReferences=[], labels={}, name="dranet-test")
    assert _codes(why_pending(_dranet_pod0(lookalike), "Pod", "pod0", "default", GATES)) == []


def test_a_pod_that_holds_claims_is_a_consumer_never_the_plugin():
    """A crash-looping workload on the node that names the driver everywhere, but holds a claim of its own."""
    consumer = plugin_pod("gpu-example-com-burner", ready=False, waiting="CrashLoopBackOff")
    consumer["spec"]["resourceClaims"] = [{"name": "gpu", "resourceClaimName": "burner-gpu"}]
    r = why_pending(snapshot(_objs(consumer)), "Pod", "pod0", "default", GATES)
    assert reasons.DRIVER_NOT_RUNNING not in _codes(r)
    assert [u["resource"] for u in r["unchecked"]] == [None] and "consumers, not plugins" in r["unchecked"][0]["message"]
    # the same with a generated claim named only in its status
    consumer["spec"].pop("resourceClaims")
    consumer["status"]["resourceClaimStatuses"] = [{"name": "gpu", "resourceClaimName": "burner-gpu-x7k2p"}]
    assert reasons.DRIVER_NOT_RUNNING not in _codes(why_pending(snapshot(_objs(consumer)), "Pod", "pod0", "default", GATES))
