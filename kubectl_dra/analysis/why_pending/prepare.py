"""Stages 4 and 5, prepare and running: the pod is on a node; are its devices prepared and healthy?

* ``node-name-bypasses-scheduler``: ``spec.nodeName`` was set by hand, so the scheduler never ran for the
  pod and nothing allocates or reserves its claims; the kubelet cannot prepare unallocated claims.
* ``kubelet-prepare-failed``: the kubelet's ``FailedPrepareDynamicResources`` event on the pod: the driver's
  kubelet plugin is there and its NodePrepareResources call failed (the event's words are shown).
* ``driver-not-running``: the driver's kubelet plugin on that node is missing, not ready, crash-looping or
  never registered (kubelet events saying the driver is not registered count).  Plugin pods are matched to
  a driver by what they carry (:func:`driver_rule`): a hostPath volume of the driver's own plugin directory
  (``/var/lib/kubelet/plugins/<driver>``), an env value naming the driver (``DRIVER_NAME``-like), the
  DaemonSet that owns it, an event on the pod naming the driver, a label, an argument, a known driver's pod
  naming (dranet's ``dranet-xxxxx``).  A pod that holds claims consumes devices and is never taken for a
  plugin.  When no pod on the node can be matched, the report says so instead of guessing.
* ``device-unhealthy``: an allocated device is reported unhealthy or not ready (the claim's
  ``status.devices[].conditions`` Ready/Healthy False, the pod's ``allocatedResourcesStatus``).  For a pod
  whose containers run it is a warning.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from kubectl_dra.analysis.why_pending.claims_stage import event_text, event_time
from kubectl_dra.analysis.why_pending.reasons import (
    DEVICE_UNHEALTHY, DRIVER_NOT_RUNNING, KUBELET_PREPARE_FAILED, NODE_NAME_BYPASSES_SCHEDULER, Reason,
)
from kubectl_dra.snapshot import Snapshot, name_of, namespace_of

if TYPE_CHECKING:
    from kubectl_dra.analysis.why_pending.target import ResolvedTarget

# The kubelet's event reasons when preparing a pod's claims fails (pkg/kubelet/events).
PREPARE_EVENT_REASONS = ("FailedPrepareDynamicResources",)
# Words of the kubelet when the driver's plugin is not there (not registered, its socket gone).
_NOT_REGISTERED = re.compile(r"not registered|not found in the list of registered|no (?:such )?DRA (?:driver|plugin)|"
                             r"connection refused|no such file or directory|code = Unavailable", re.I)


def _allocated_results(target: ResolvedTarget) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for pc in target.allocated:
        for r in ((((pc.claim or {}).get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []:
            out.append((pc.claim_name or "", r))
    return out


def check_node_name_bypass(snap: Snapshot, target: ResolvedTarget, pod: Mapping[str, Any]) -> list[Reason]:
    """A pod on a node whose claims the scheduler never allocated or reserved for it: nodeName set by hand."""
    from kubectl_dra.analysis.why_pending.binding import reserved_for_pod

    node = (pod.get("spec") or {}).get("nodeName")
    if any(c.get("type") == "PodScheduled" and c.get("status") == "True"
           for c in (pod.get("status") or {}).get("conditions") or []):
        return []  # the scheduler bound it (a pinned pod never gets PodScheduled from it)
    unallocated = [name_of(c) for c in target.to_allocate]
    unreserved = [pc.claim_name for pc in target.allocated if not reserved_for_pod(pc.claim or {}, pod)]
    if not unallocated and not unreserved:
        return []
    what = []
    if unallocated:
        what.append(f"claim{'s' if len(unallocated) != 1 else ''} {', '.join(unallocated)} "
                    f"{'are' if len(unallocated) != 1 else 'is'} not allocated")
    if unreserved:
        what.append(f"claim{'s' if len(unreserved) != 1 else ''} {', '.join(x or '' for x in unreserved)} "
                    f"{'are' if len(unreserved) != 1 else 'is'} not reserved for the pod")
    return [Reason(NODE_NAME_BYPASSES_SCHEDULER,
                   f"the pod names node {node} in spec.nodeName, so kube-scheduler never handled it and nothing "
                   f"allocates its claims ({'; '.join(what)}): the kubelet cannot prepare them",
                   details={"node": node, "unallocated": unallocated, "unreserved": unreserved},
                   fixes=[f"remove spec.nodeName and select the node with a nodeSelector "
                          f"(kubernetes.io/hostname: {node}) or node affinity, then recreate the pod"])]


def _pod_events(snap: Snapshot, pod: Mapping[str, Any], reasons: tuple[str, ...] | None = None) -> list[dict]:
    ns, name = namespace_of(pod), name_of(pod)
    out = []
    for e in snap.events:
        io = e.get("involvedObject") or e.get("regarding") or {}
        if io.get("kind") in (None, "Pod") and io.get("name") == name and (io.get("namespace") or namespace_of(e)) == ns \
                and (reasons is None or e.get("reason") in reasons):
            out.append(e)
    return sorted(out, key=event_time)


def _dashed(driver: str) -> str:
    return driver.replace(".", "-").replace("/", "-")


# Drivers whose plugin pods carry a name that the rules below cannot derive from the driver's name: the
# driver's own install manifest names its DaemonSet (and so its pods, "<name>-xxxxx") and labels this way.
# dranet (kubernetes-sigs/dranet, install.yaml): driver dra.net, DaemonSet "dranet" in kube-system, labels
# app=dranet and k8s-app=dranet.
KNOWN_PLUGIN_NAMES = {"dra.net": "dranet"}
_NAME_LABELS = ("app", "k8s-app", "app.kubernetes.io/name")


def holds_claims(pod: Mapping[str, Any]) -> bool:
    """A consumer of devices (a pod with claims, or with a claim for its extended resources): never a plugin."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    return bool(spec.get("resourceClaims") or status.get("resourceClaimStatuses")
                or status.get("extendedResourceClaimStatus"))


def _plugin_dir(driver: str) -> re.Pattern:
    """A host path of the driver's own kubelet plugin directory or registration socket: the kubelet's plugin
    sockets live in <kubelet root>/plugins/<driver>/ and <kubelet root>/plugins_registry/<driver>-reg.sock."""
    d = re.escape(driver)
    return re.compile(rf"/plugins/{d}(?:/|$)|/plugins_registry/{d}(?:-reg\.sock)?$")


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = pod.get("spec") or {}
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def driver_rule(snap: Snapshot, pod: Mapping[str, Any], driver: str) -> str | None:
    """Which rule ties a pod to a driver (None: none does; a pod holding claims consumes devices: never).

    In order: a hostPath volume of the driver's plugin directory (``.../kubelet/plugins/<driver>``), an env
    value naming the driver (``DRIVER_NAME=<driver>`` and the like), the DaemonSet that owns the pod, an
    event on the pod naming the driver, a label value, an argument, a known driver's own pod naming
    (:data:`KNOWN_PLUGIN_NAMES`), the pod's name."""
    if holds_claims(pod):
        return None
    names = (driver, _dashed(driver))
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    plugin_dir = _plugin_dir(driver)
    if any(plugin_dir.search(str(((v.get("hostPath") or {}).get("path")) or "").rstrip("/") or "")
           for v in spec.get("volumes") or [] if isinstance(v, dict)):
        return "hostPath"
    if any(str(e.get("value") or "") == driver for c in _containers(pod) for e in c.get("env") or []):
        return "env"
    owners = [o.get("name") or "" for o in meta.get("ownerReferences") or [] if o.get("kind") == "DaemonSet"]
    if any(n in o for o in owners for n in names):
        return "daemonset"
    for e in _pod_events(snap, pod):
        if driver in event_text(e):
            return "event"
    labels = meta.get("labels") or {}
    if any(isinstance(v, str) and any(n in v for n in names) for v in labels.values()):
        return "label"
    if any(driver in str(a) for c in _containers(pod) for a in (c.get("args") or []) + (c.get("command") or [])):
        return "args"
    known = KNOWN_PLUGIN_NAMES.get(driver)
    if known and (known in owners or any(labels.get(k) == known for k in _NAME_LABELS)
                  or re.fullmatch(re.escape(known) + r"-[a-z0-9]{5}", name_of(pod))):
        return "known-name"
    if any(n in name_of(pod) for n in names):
        return "name"
    return None


def _not_running(pod: Mapping[str, Any]) -> str | None:
    """Why a plugin pod is not serving ("CrashLoopBackOff", "not ready", "phase Pending"); None: it runs."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "being deleted"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return f"container {cs.get('name')} {waiting['reason']} (restarts: {cs.get('restartCount', 0)})"
        if not cs.get("ready"):
            return f"container {cs.get('name')} not ready"
    if status.get("phase") != "Running":
        return f"phase {status.get('phase') or 'unknown'}"
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        return "not ready"
    return None


def check_prepare(snap: Snapshot, target: ResolvedTarget, pod: Mapping[str, Any],
                  node: str) -> tuple[list[Reason], list[tuple[str, str | None, str]]]:
    """(reasons, what could not be read: (resource, namespace, what)) for a bound pod whose containers wait."""
    reasons: list[Reason] = []
    missing: list[tuple[str, str | None, str]] = []
    ns = namespace_of(pod)
    results = _allocated_results(target)
    drivers = sorted({r.get("driver", "") for _, r in results if r.get("driver")})
    if snap.source.gaps("events", ns):
        missing.append(("events", ns, "the kubelet's events on the pod"))
    events = _pod_events(snap, pod, PREPARE_EVENT_REASONS)
    newest = events[-1] if events else None
    pods_known = snap.source.knows_pods_on(node)
    if not pods_known and drivers:  # (no driver: no plugin to look for)
        missing.append(("pods", None, f"the pods on node {node} (the drivers' kubelet plugins)"))
    node_pods = [p for p in snap.pods.values() if (p.get("spec") or {}).get("nodeName") == node and p is not pod]
    unmatched: list[str] = []
    for driver in drivers:
        said = next((e for e in reversed(events) if driver in event_text(e) and _NOT_REGISTERED.search(event_text(e))),
                    None)
        matched = [(p, rule) for p in node_pods if (rule := driver_rule(snap, p, driver))]
        published = any(d.driver == driver for d in snap.devices_by_node_name.get(node, ()))
        slices = f"; its ResourceSlices for {node} are still published" if published else ""
        if matched:
            down = [(p, why, rule) for p, rule in matched if (why := _not_running(p))]
            if len(down) == len(matched):
                p, why, rule = down[0]
                reasons.append(Reason(
                    DRIVER_NOT_RUNNING, f"driver {driver}'s kubelet plugin on node {node} is not running: pod "
                    f"{namespace_of(p)}/{name_of(p)} {why}{slices}",
                    details={"driver": driver, "node": node, "pod": f"{namespace_of(p)}/{name_of(p)}",
                             "state": why, "matchedBy": rule},
                    fixes=[f"kubectl logs -n {namespace_of(p)} {name_of(p)} --previous  (why the plugin fails)"]))
                continue
        if said is not None:
            reasons.append(Reason(
                DRIVER_NOT_RUNNING, f"the kubelet on node {node} has no registered plugin for driver {driver}: "
                f"{event_text(said)}{slices}",
                details={"driver": driver, "node": node, "event": {"reason": said.get("reason"),
                                                                   "message": event_text(said)}},
                fixes=[f"check that driver {driver}'s kubelet plugin DaemonSet runs a ready pod on node {node}"]))
            continue
        if not matched and pods_known:
            unmatched.append(driver)
    if newest is not None and not any(r.code == DRIVER_NOT_RUNNING for r in reasons):
        reasons.append(Reason(
            KUBELET_PREPARE_FAILED, f"the kubelet on node {node} could not prepare the pod's devices: "
            f"{event_text(newest)}",
            details={"node": node, "event": {"reason": newest.get("reason"), "message": event_text(newest),
                                             "count": newest.get("count"), "lastTimestamp": event_time(newest)}},
            fixes=[f"read the driver's kubelet plugin logs on node {node} (the prepare call failed there)"]))
    for driver in unmatched if not reasons else []:
        missing.append(("", None, f"which pod on node {node} runs driver {driver}'s kubelet plugin (no pod there "
                                  "carries the driver: its plugin directory, env, DaemonSet, an event, a label, args or "
                                  "a known plugin name; pods holding claims are consumers, not plugins)"))
    return reasons, missing


def check_device_health(snap: Snapshot, target: ResolvedTarget, pod: Mapping[str, Any]) -> list[Reason]:
    reasons: list[Reason] = []
    seen: set[str] = set()
    for pc in target.allocated:
        status = (pc.claim or {}).get("status") or {}
        binding = set()
        for r in ((status.get("allocation") or {}).get("devices") or {}).get("results") or []:
            binding |= set(r.get("bindingConditions") or []) | set(r.get("bindingFailureConditions") or [])
        for d in status.get("devices") or []:
            dev = f"{d.get('driver')}/{d.get('pool')}/{d.get('device')}"
            for c in d.get("conditions") or []:
                if c.get("type") in binding or c.get("type") not in ("Ready", "Healthy") or c.get("status") != "False":
                    continue
                seen.add(dev)
                why = f" ({c.get('reason')}: {c.get('message')})" if c.get("reason") or c.get("message") else ""
                reasons.append(Reason(
                    DEVICE_UNHEALTHY, f"device {dev} of claim {pc.claim_name} reports {c.get('type')}=False{why}",
                    claim=pc.claim_name, details={"device": dev, "condition": c.get("type"), "source": "claim"},
                    fixes=[f"check device {dev} on its node, or delete the claim to get other devices"]))
    for cs in ((pod.get("status") or {}).get("containerStatuses") or []):
        for ar in cs.get("allocatedResourcesStatus") or []:
            for res in ar.get("resources") or []:
                dev = res.get("resourceID") or ""
                if res.get("health") != "Unhealthy" or dev in seen:
                    continue
                seen.add(dev)
                reasons.append(Reason(
                    DEVICE_UNHEALTHY, f"the kubelet reports device {dev} ({ar.get('name')}) of container "
                    f"{cs.get('name')} Unhealthy", claim=None,
                    details={"device": dev, "container": cs.get("name"), "resource": ar.get("name"), "source": "pod"},
                    fixes=[f"check device {dev}; the pod may need to be recreated to get another device"]))
    return reasons
