"""Small builders for why-pending scenarios: realistic objects, short tests."""

from __future__ import annotations

from kubectl_dra.sources.files import load_files
from kubectl_dra.snapshot import Snapshot
from tests.conftest import FIXTURES as TEST_FIXTURES

FIXTURES = TEST_FIXTURES / "drivers"


def fixture_objects(*names: str) -> list[dict]:
    objs, _ = load_files([str(FIXTURES / n) for n in names])
    return objs


def node(name: str, labels: dict | None = None, *, unschedulable: bool = False, taints: list | None = None) -> dict:
    n = {"apiVersion": "v1", "kind": "Node",
         "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}}, "spec": {}}
    if unschedulable:
        n["spec"]["unschedulable"] = True
    if taints:
        n["spec"]["taints"] = taints
    return n


def device_class(name: str, *selectors: str) -> dict:
    return {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": name},
            "spec": {"selectors": [{"cel": {"expression": s}} for s in selectors]}}


def gpu(name: str, **attrs) -> dict:
    memory = attrs.pop("memory", "80Gi")
    out = {"name": name, "attributes": {k: _attr(v) for k, v in attrs.items()}, "capacity": {"memory": {"value": memory}}}
    return out


def _attr(v):
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, str) and v.startswith("v") and v[1:2].isdigit():
        return {"version": v[1:]}
    return {"string": v}


def resource_slice(name: str, driver: str, node_name: str, devices: list, *, pool: str | None = None,
                   generation: int = 1, count: int = 1, shared_counters: list | None = None) -> dict:
    spec = {"driver": driver, "nodeName": node_name,
            "pool": {"name": pool or node_name, "generation": generation, "resourceSliceCount": count},
            "devices": devices}
    if shared_counters:
        spec["sharedCounters"] = shared_counters
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": name}, "spec": spec}


def request(name: str, device_class: str, count: int = 1, *selectors: str, mode: str = "ExactCount", **extra) -> dict:
    exactly = {"deviceClassName": device_class, "allocationMode": mode}
    if mode == "ExactCount":
        exactly["count"] = count
    if selectors:
        exactly["selectors"] = [{"cel": {"expression": s}} for s in selectors]
    exactly.update(extra)
    return {"name": name, "exactly": exactly}


def claim(name: str, *requests: dict, namespace: str = "default", constraints: list | None = None,
          allocated_on: str | None = None, results: list | None = None, reserved_for: list | None = None) -> dict:
    devices: dict = {"requests": list(requests)}
    if constraints:
        devices["constraints"] = constraints
    c = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
         "metadata": {"name": name, "namespace": namespace}, "spec": {"devices": devices}, "status": {}}
    if allocated_on is not None:
        c["status"]["allocation"] = {
            "devices": {"results": [{"request": r[0], "driver": r[1], "pool": r[2], "device": r[3]} for r in results or []]},
            "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [allocated_on]}]}]}}
        c["status"]["reservedFor"] = [{"resource": "pods", "name": p, "uid": f"uid-{p}"} for p in reserved_for or []]
    return c


def pod(name: str, *pod_claims: tuple, namespace: str = "default", phase: str = "Pending",
        generated: dict | None = None, **spec) -> dict:
    """pod_claims: (podClaimName, "claim"|"template", name)."""
    rcs = [{"name": pc, ("resourceClaimName" if kind == "claim" else "resourceClaimTemplateName"): ref}
           for pc, kind, ref in pod_claims]
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
         "spec": {"containers": [{"name": "main", "image": "busybox",
                                  "resources": {"claims": [{"name": pc} for pc, _, _ in pod_claims]}}],
                  "resourceClaims": rcs, **spec},
         "status": {"phase": phase}}
    if generated:
        p["status"]["resourceClaimStatuses"] = [{"name": k, "resourceClaimName": v} for k, v in generated.items()]
    return p


def snapshot(*objs) -> Snapshot:
    flat = []
    for o in objs:
        flat += o if isinstance(o, list) else [o]
    return Snapshot.from_objects(flat)
