"""Objects of the later Pending stages, shaped as the API serves them (the example driver's gpu.example.com on a kind
worker, the kubelet's and the resourceclaim controller's real event reasons)."""

from __future__ import annotations

from tests.builders import fixture_objects

DRIVER, POOL, NODE, CLASS = "gpu.example.com", "kind-worker", "kind-worker", "gpu.example.com"


def example_driver() -> list[dict]:
    return fixture_objects("example-gpu.yaml")


def template(name: str, *, count: int = 1, admin: bool = False, device_class: str = CLASS, namespace="default") -> dict:
    exactly: dict = {"deviceClassName": device_class, "count": count}
    if admin:
        exactly["adminAccess"] = True
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": exactly}]}}}}


def quota(name: str, hard: dict, used: dict, namespace="default") -> dict:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": namespace},
            "spec": {"hard": dict(hard)}, "status": {"hard": dict(hard), "used": dict(used)}}


def namespace(name: str, labels: dict | None = None) -> dict:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if labels:
        ns["metadata"]["labels"] = dict(labels)
    return ns


def event(pod: str, reason: str, message: str, *, kind="Pod", namespace="default", at="2026-12-01T10:05:00Z",
          source="kubelet", count=3) -> dict:
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{pod}.{abs(hash((reason, message))) % 10**12:x}", "namespace": namespace},
            "involvedObject": {"kind": kind, "name": pod, "namespace": namespace, "apiVersion": "v1"},
            "reason": reason, "message": message, "type": "Warning", "count": count,
            "firstTimestamp": at, "lastTimestamp": at, "source": {"component": source}}


def allocated(name: str, *devices: str, reserved_for: tuple[str, ...] = ("p",), at="2026-12-01T10:00:00Z",
              extra: dict | None = None, status_devices: list | None = None, namespace="default") -> dict:
    """A claim for one gpu.example.com request, allocated on the kind worker, reserved for pods."""
    results = [{"request": "gpu", "driver": DRIVER, "pool": POOL, "device": d, **(extra or {})} for d in devices]
    c = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
         "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
         "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": CLASS,
                                                                        "count": len(devices)}}]}},
         "status": {"allocation": {"devices": {"results": results}, "allocationTimestamp": at,
                                   "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [
                                       {"key": "metadata.name", "operator": "In", "values": [NODE]}]}]}},
                    "reservedFor": [{"resource": "pods", "name": p, "uid": f"uid-{p}"} for p in reserved_for]}}
    if status_devices is not None:
        c["status"]["devices"] = status_devices
    return c


def plugin_pod(name: str, *, ready: bool = True, waiting: str | None = None, node: str = NODE,
               owner: str = "dra-example-driver-kubeletplugin", env_driver: str | None = DRIVER,
               labels: dict | None = None) -> dict:
    """A driver's kubelet-plugin pod of a DaemonSet, as the example driver's Helm chart deploys it."""
    container = {"name": "plugin", "image": "registry.k8s.io/dra-example-driver/dra-example-driver:v0.4.0",
                 "command": ["dra-example-kubeletplugin"]}
    if env_driver:
        container["env"] = [{"name": "DRIVER_NAME", "value": env_driver}]
    cs: dict = {"name": "plugin", "ready": ready, "restartCount": 7 if waiting else 0,
                "state": {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2026-12-01T09:00:00Z"}}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "dra-example-driver", "uid": f"uid-{name}",
                         "labels": labels or {"app.kubernetes.io/name": "dra-example-driver"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": owner,
                                              "uid": "uid-ds", "controller": True}]},
            "spec": {"nodeName": node, "containers": [container]},
            "status": {"phase": "Running" if not waiting else "Running", "containerStatuses": [cs],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def bound(p: dict, node: str = NODE, *, scheduled: bool = True) -> dict:
    """The pod bound to the node (by the scheduler: PodScheduled True), containers still waiting."""
    p["spec"]["nodeName"] = node
    if scheduled:
        p["status"]["conditions"] = [{"type": "PodScheduled", "status": "True"}]
    p["status"]["containerStatuses"] = [{"name": "main", "ready": False, "restartCount": 0,
                                         "state": {"waiting": {"reason": "ContainerCreating"}}}]
    return p


def dranet_bound_pod0() -> list[dict]:
    """dranet's NICs on rdma-node-1 (tests/fixtures/drivers/dranet.yaml), a claim for one allocated there, and pod0
    bound to the node using it, its containers waiting."""
    c = allocated("pod0-nic", "pci-0000-8a-00-0", reserved_for=("pod0",))
    for res in c["status"]["allocation"]["devices"]["results"]:
        res.update(driver="dra.net", pool="rdma-node-1")
    c["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] = "dranet"
    c["status"]["allocation"]["nodeSelector"]["nodeSelectorTerms"][0]["matchFields"][0]["values"] = ["rdma-node-1"]
    from tests.builders import pod

    return fixture_objects("dranet.yaml") + [c, bound(pod("pod0", ("nic", "claim", "pod0-nic")), "rdma-node-1")]


def dranet_plugin(ready: bool = True, waiting: str | None = None, **meta) -> dict:
    """dranet's kubelet plugin pod as its install.yaml deploys it: DaemonSet dranet in kube-system, labels
    app/k8s-app=dranet, the kubelet's plugin directories mounted whole (no driver name in them)."""
    p = plugin_pod("dranet-7hx2k", env_driver=None, node="rdma-node-1", owner="dranet", ready=ready, waiting=waiting,
                   labels={"tier": "node", "app": "dranet", "k8s-app": "dranet"})
    p["metadata"]["namespace"] = "kube-system"
    p["metadata"].update(meta)
    p["spec"]["containers"][0].update(name="dranet", image="registry.k8s.io/networking/dranet:stable",
                                      args=["/dranet", "--v=4", "--hostname-override=$(NODE_NAME)"])
    p["spec"]["containers"][0].pop("command", None)
    p["status"]["containerStatuses"][0]["name"] = "dranet"
    p["spec"]["volumes"] = [{"name": "device-plugin", "hostPath": {"path": "/var/lib/kubelet/plugins"}},
                            {"name": "plugin-registry", "hostPath": {"path": "/var/lib/kubelet/plugins_registry"}}]
    return p
