"""Builders for test objects (resource.k8s.io/v1 shapes, camelCase as the API serves them), one per concept.

Every builder writes only what it is asked for: a claim has a ``status`` only once it is allocated or
reserved, a node a ``spec`` only when it is unschedulable or tainted.

Sections: names shared by the allocator tests; a CEL test double (:func:`table_cel`) and the selector
texts it knows; the objects (node, device class, device, resource slice, request, subrequest, claim,
allocation, pod); snapshots and driver fixtures; running the allocator and reading its outcome.

CEL: the allocator takes any ``compile(text)`` returning an object with
``evaluate(driver=, attributes=, capacity=, allow_multiple_allocations=)``. :func:`run` uses
:func:`table_cel`, which knows only the expression texts the ``sel_*`` helpers generate (each text maps
to the Python predicate it stands for) and raises like a compile error on anything else;
:func:`run_cel` and the why-pending tests use the real CEL module.
"""

from __future__ import annotations

import os

from kubectl_dra.allocator import Allocator
from kubectl_dra.features import FeatureGates, all_enabled, defaults_for_version
from kubectl_dra.quantity import Quantity
from kubectl_dra.snapshot import Snapshot
from kubectl_dra.sources.files import load_files
from tests.conftest import DRIVERS

DRIVER_A, DRIVER_B = "driver-a", "driver-b"
POOL1, POOL2 = "pool-1", "pool-2"
NODE1, NODE2 = "node-1", "node-2"
NS = "default"
REGION1, REGION2 = "region-1", "region-2"
CS1, CS2 = "counter-set-1", "counter-set-2"
CAP0, CAP1 = "capacity-0", "capacity-1"


# ---- a CEL test double and the selector texts it knows ------------------------------------------

_TABLE: dict = {}


class _Pred:
    def __init__(self, fn):
        self.fn = fn

    def evaluate(self, *, driver, attributes, capacity, allow_multiple_allocations=None):
        return self.fn(driver, attributes, capacity)


class TableCompileError(Exception):
    pass


def table_cel(text: str):
    fn = _TABLE.get(text)
    if fn is None:
        raise TableCompileError(f"unknown expression {text!r}")
    return _Pred(fn)


def _lookup(attrs, driver, name):
    if name in attrs:
        return attrs[name]
    dom, _, ident = name.partition("/")
    if dom == driver:
        return attrs.get(ident)
    return None


def sel_driver(driver: str) -> str:
    text = f'device.driver == "{driver}"'
    _TABLE[text] = lambda d, a, c: d == driver
    return text


def sel_capacity_at_least(name: str, quantity: str, driver: str = DRIVER_A) -> str:
    text = f'device.capacity["{driver}"].{name}.compareTo(quantity("{quantity}")) >= 0'
    want = Quantity.parse(quantity).value

    def fn(d, a, c):
        v = c.get(name) or c.get(f"{driver}/{name}")
        if v is None:
            raise RuntimeError(f"no such key: {name}")
        return Quantity.parse(v["value"]).value >= want
    _TABLE[text] = fn
    return text


def sel_attr_eq(name: str, value, driver: str = DRIVER_A) -> str:
    lit = f'"{value}"' if isinstance(value, str) else str(value).lower()
    text = f'device.attributes["{driver}"].{name} == {lit}'

    def fn(d, a, c):
        v = _lookup(a, driver, f"{driver}/{name}")
        if v is None:
            raise RuntimeError(f"no such key: {name}")
        return next(iter(v.values())) == value
    _TABLE[text] = fn
    return text


def sel_true() -> str:
    _TABLE["true"] = lambda d, a, c: True
    return "true"


def sel_error() -> str:
    text = 'device.attributes["x"].missing'

    def fn(d, a, c):
        raise RuntimeError("no such key: missing")
    _TABLE[text] = fn
    return text


def sel_driver_and_multi_allocations(driver: str, multi: bool) -> str:
    """Upstream classWithAllowMultipleAllocations' selector (real CEL only): the driver and allowMultipleAllocations."""
    return f'device.driver == "{driver}" && device.allowMultipleAllocations == {str(multi).lower()}'


# ---- objects -----------------------------------------------------------------------------------

def _cel(text: str) -> dict:
    return {"cel": {"expression": text}}


def node(name: str, labels: dict | None = None, *, hostname_label: bool = False, unschedulable: bool = False,
         taints: list | None = None) -> dict:
    """A Node; ``hostname_label`` adds kubernetes.io/hostname=<name> as the kubelet does."""
    all_labels = {"kubernetes.io/hostname": name} if hostname_label else {}
    all_labels.update(labels or {})
    n: dict = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": all_labels}}
    if unschedulable or taints:
        n["spec"] = {}
        if unschedulable:
            n["spec"]["unschedulable"] = True
        if taints:
            n["spec"]["taints"] = list(taints)
    return n


def upstream_node(name: str, region: str = REGION1) -> dict:
    """A node as upstream's allocator table builds it: labels region=<region> and planet=earth."""
    return node(name, {"region": region, "planet": "earth"})


def device_class(name: str, *selectors: str, driver: str | None = None, config=()) -> dict:
    """A DeviceClass with these CEL selectors; ``driver`` puts ``device.driver == "<driver>"`` first."""
    sels = [_cel(sel_driver(driver))] if driver else []
    sels += [_cel(s) for s in selectors]
    spec: dict = {"selectors": sels}
    if config:
        spec["config"] = list(config)
    return {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": name}, "spec": spec}


def _attribute(v) -> dict:
    """A typed attribute value: bool, int, "v1.2.3" -> version 1.2.3, other str -> string; a dict is already typed."""
    if isinstance(v, dict):
        return v
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, str) and v.startswith("v") and v[1:2].isdigit():
        return {"version": v[1:]}
    return {"string": v}


def device(name: str, *, attrs: dict | None = None, capacity: dict | None = None, taints=None, consumes=None,
           multi=None, binding=None, binds_to_node=None, node_name=None, all_nodes=None, node_selector=None) -> dict:
    """A device of a ResourceSlice.

    attrs: {name: value} typed by :func:`_attribute` (``{}`` writes an empty ``attributes``);
    capacity: {name: quantity string | full capacity dict}; consumes: {counter set: {counter: quantity}};
    binding: binding conditions (the failure condition is "failed").
    """
    d: dict = {"name": name}
    if attrs is not None:
        d["attributes"] = {k: _attribute(v) for k, v in attrs.items()}
    if capacity:
        d["capacity"] = {k: (v if isinstance(v, dict) else {"value": v}) for k, v in capacity.items()}
    if taints:
        d["taints"] = list(taints)
    if consumes:
        d["consumesCounters"] = [{"counterSet": cs, "counters": {c: {"value": v} for c, v in cnt.items()}}
                                 for cs, cnt in consumes.items()]
    if multi is not None:
        d["allowMultipleAllocations"] = multi
    if binding:
        d["bindingConditions"] = list(binding)
        d["bindingFailureConditions"] = ["failed"]
    if binds_to_node:
        d["bindsToNode"] = True
    if node_name:
        d["nodeName"] = node_name
    if all_nodes:
        d["allNodes"] = True
    if node_selector:
        d["nodeSelector"] = node_selector
    return d


def resource_slice(name: str, node_name: str | None, pool: str, driver: str, *devices, generation: int = 1,
                   count: int = 1, all_nodes=False, node_selector=None, per_device=False, counters=None) -> dict:
    """A ResourceSlice of ``pool`` (``count`` slices in the pool) published by ``driver``.

    Node selection: ``node_name``, else ``all_nodes``, else ``node_selector``; ``per_device`` overrides all.
    devices: device dicts or bare names; counters: {counter set: {counter: quantity}} (sharedCounters).
    """
    spec: dict = {"driver": driver, "pool": {"name": pool, "generation": generation, "resourceSliceCount": count}}
    if per_device:
        spec["perDeviceNodeSelection"] = True
    elif node_name:
        spec["nodeName"] = node_name
    elif all_nodes:
        spec["allNodes"] = True
    elif node_selector:
        spec["nodeSelector"] = node_selector
    if counters:
        spec["sharedCounters"] = [{"name": n, "counters": {c: {"value": v} for c, v in cs.items()}}
                                  for n, cs in counters.items()]
    spec["devices"] = [d if isinstance(d, dict) else device(d) for d in devices]
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": name}, "spec": spec}


def _device_request(device_class_name, count, mode, selectors, admin_access, tolerations, capacity) -> dict:
    r: dict = {"deviceClassName": device_class_name, "allocationMode": mode}
    if mode == "ExactCount":
        r["count"] = count
    if selectors:
        r["selectors"] = [_cel(s) for s in selectors]
    if admin_access is not None:
        r["adminAccess"] = admin_access
    if tolerations:
        r["tolerations"] = list(tolerations)
    if capacity:
        r["capacity"] = {"requests": dict(capacity)}
    return r


def request(name: str, device_class_name: str = "class-a", count: int | None = 1, *, mode: str = "ExactCount",
            selectors=(), admin_access=None, tolerations=None, capacity=None) -> dict:
    """A claim's device request (``exactly``); selectors are CEL texts, capacity {name: quantity}."""
    return {"name": name, "exactly": _device_request(device_class_name, count, mode, selectors, admin_access,
                                                     tolerations, capacity)}


def subrequest(name: str, device_class_name: str = "class-a", count: int = 1, *, mode: str = "ExactCount",
               selectors=(), tolerations=None, capacity=None) -> dict:
    """One alternative of a :func:`first_available` request."""
    return {"name": name, **_device_request(device_class_name, count, mode, selectors, None, tolerations, capacity)}


def first_available(name: str, *subrequests) -> dict:
    return {"name": name, "firstAvailable": list(subrequests)}


def claim(name: str, *requests, namespace: str = NS, constraints=(), config=(), allocation=None,
          reserved_for=None) -> dict:
    """A ResourceClaim; ``allocation`` (see :func:`allocation`) and ``reserved_for`` (pod names) fill its status."""
    c: dict = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
               "metadata": {"name": name, "namespace": namespace},
               "spec": {"devices": {"requests": list(requests)}}}
    if constraints:
        c["spec"]["devices"]["constraints"] = list(constraints)
    if config:
        c["spec"]["devices"]["config"] = list(config)
    if allocation is not None or reserved_for is not None:
        c["status"] = {}
    if allocation is not None:
        c["status"]["allocation"] = allocation
    if reserved_for is not None:
        c["status"]["reservedFor"] = [{"resource": "pods", "name": p, "uid": f"uid-{p}"} for p in reserved_for]
    return c


def allocation(*results, node_name: str | None = None, node_selector=None) -> dict:
    """A claim's status.allocation holding (request, driver, pool, device[, extra result fields]) results.

    ``node_name`` writes the node selector the scheduler writes for node-local devices.
    """
    res = []
    for r in results:
        d = {"request": r[0], "driver": r[1], "pool": r[2], "device": r[3]}
        if len(r) > 4:
            d.update(r[4])
        res.append(d)
    alloc: dict = {"devices": {"results": res}}
    if node_name is not None:
        node_selector = local_selector(node_name)
    if node_selector:
        alloc["nodeSelector"] = node_selector
    return alloc


def allocated_claim(name: str, *devices, node_selector=None, namespace: str = NS) -> dict:
    """An allocated claim with one request req-0 holding (driver, pool, device[, extra]) devices."""
    return claim(name, request("req-0"), namespace=namespace,
                 allocation=allocation(*[("req-0", *d) for d in devices], node_selector=node_selector))


def in_use(*devices, name: str = "in-use") -> dict:
    """Devices already allocated (upstream allocatedDevices): one claim holding (driver, pool, device) devices."""
    return allocated_claim(name, *devices)


def shared_use(device_id, consumed: dict, name: str = "sharer") -> dict:
    """Capacity already consumed on a multi-allocatable device (upstream allocatedCapacityDevices)."""
    return allocated_claim(name, (*device_id, {"shareID": "11111111-2222-3333-4444-555555555555",
                                               "consumedCapacity": dict(consumed)}))


def pod(name: str, *pod_claims: tuple, namespace: str = NS, phase: str = "Pending",
        generated: dict | None = None, **spec) -> dict:
    """A Pod with one container using all its claims; pod_claims: (podClaimName, "claim"|"template", name).

    generated: {podClaimName: generated claim name} (status.resourceClaimStatuses); spec: extra pod spec fields.
    """
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


# ---- node selectors --------------------------------------------------------------------------------

def label_in(key: str, *values) -> dict:
    """A node selector requirement: label ``key`` In ``values``."""
    return {"key": key, "operator": "In", "values": list(values)}


def local_selector(node_name: str) -> dict:
    """The node selector of one node (matchFields metadata.name)."""
    return {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}


def label_selector(key: str, *values) -> dict:
    """A node selector: label ``key`` In ``values``."""
    return {"nodeSelectorTerms": [{"matchExpressions": [label_in(key, *values)]}]}


# ---- capacity request policies (consumable capacity) ---------------------------------------------

def range_policy(value, default="2", lo="2", step="2", hi="4") -> dict:
    """Upstream withCapacityRequestPolicyRange: default 2, range min 2, step 2, max 4."""
    return {"value": str(value), "requestPolicy": {"default": default,
                                                    "validRange": {"min": lo, "step": step, "max": hi}}}


def values_policy(value, default, *more) -> dict:
    """Upstream withCapacityRequestPolicyValidValues: the default is the first valid value."""
    return {"value": str(value), "requestPolicy": {"default": str(default),
                                                    "validValues": [str(default), *[str(m) for m in more]]}}


# ---- snapshots and driver fixtures -----------------------------------------------------------------

def fixture_objects(*names: str) -> list[dict]:
    """The objects of these files under tests/fixtures/drivers."""
    objs, _ = load_files([str(DRIVERS / n) for n in names])
    return objs


def snapshot(*objs) -> Snapshot:
    """A snapshot of these objects (lists are flattened)."""
    flat = []
    for o in objs:
        flat += o if isinstance(o, list) else [o]
    return Snapshot.from_objects(flat)


# ---- feature gates, running the allocator, reading its outcome -----------------------------------

ALL = all_enabled()
G134 = defaults_for_version("1.34")


def feats(*, admin=False, prioritized=False, partitionable=False, taints=False, binding=False,
          consumable=False, lists=False) -> FeatureGates:
    """Exactly the allocator features an upstream case enables (upstream ``Features{...}``), nothing else.

    ``binding`` is upstream's DeviceBindingAndStatus: both DRADeviceBindingConditions and
    DRAResourceClaimDeviceStatus on.  ``lists`` is upstream's ListTypeAttributes (DRAListTypeAttributes).
    """
    return FeatureGates(admin_access=admin, prioritized_list=prioritized, partitionable_devices=partitionable,
                        device_taints=taints, device_binding_conditions=binding, device_status=binding,
                        consumable_capacity=consumable, list_type_attributes=lists)


NONE = feats()


def run(objects, claims, node_name=NODE1, gates: FeatureGates | None = None):
    """Allocate ``claims`` on ``node_name`` (added as a bare node if absent) with the CEL test double
    (the real CEL module when REAL_CEL is set) and 1.34's default gates."""
    objs = list(objects)
    if node_name and not any(o.get("kind") == "Node" for o in objs):
        objs.append(node(node_name))
    snap = Snapshot.from_objects(objs)
    alloc = Allocator(snap, gates or G134, cel_compile=None if os.environ.get("REAL_CEL") else table_cel)
    return alloc.allocate(node_name, claims)


def run_cel(objects, claims, node_name=NODE1, gates: FeatureGates | None = None):
    """Like :func:`run` but always with the real CEL module, no gates by default, and upstream's default
    node (node-1, region-1) if there is no node."""
    objs = list(objects)
    if node_name and not any(o.get("kind") == "Node" for o in objs):
        objs.append(upstream_node(node_name))
    snap = Snapshot.from_objects(objs)
    alloc = Allocator(snap, gates if gates is not None else NONE, cel_compile=None)
    return alloc.allocate(node_name, claims)


def picked(outcome):
    """[(claim name, [(request, driver, pool, device), ...]), ...] in claim order."""
    return [(k[1], [(r.request, r.driver, r.pool, r.device) for r in v]) for k, v in outcome.results.items()]


def consumed(outcome):
    """[(claim, [(request, device, {capacity: exact value} | None, has shareID)])] in claim order."""
    out = []
    for k, v in outcome.results.items():
        out.append((k[1], [(r.request, r.device,
                            {n: Quantity.parse(q).value for n, q in r.consumed_capacity.items()}
                            if r.consumed_capacity else None,
                            r.share_id is not None) for r in v]))
    return out


def no_fit(outcome) -> bool:
    """Upstream "no results, no error"."""
    return not outcome.fits and outcome.error is None
