"""A compact DSL for allocator test objects (v1 shapes, camelCase like the API serves).

CEL: the allocator takes any ``compile(text)`` returning an object with
``evaluate(driver=, attributes=, capacity=, allow_multiple_allocations=)``.
Until ``kubectl_dra.cel`` is importable, tests use :class:`TableCel`, a test
double that knows only the expression texts this DSL generates (each text maps
to the Python predicate it stands for); anything else raises like a compile error.
"""

from __future__ import annotations


from kubectl_dra.allocator import Allocator
from kubectl_dra.features import FeatureGates, all_enabled, defaults_for_version
from kubectl_dra.quantity import Quantity
from kubectl_dra.snapshot import Snapshot

DRIVER_A, DRIVER_B = "driver-a", "driver-b"
POOL1, POOL2 = "pool-1", "pool-2"
NODE1, NODE2 = "node-1", "node-2"
NS = "default"

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


def _attr(attrs, driver, name):
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
        v = _attr(a, driver, f"{driver}/{name}")
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


# ---- objects ---------------------------------------------------------------

def cel(text: str) -> dict:
    return {"cel": {"expression": text}}


def device_class(name: str, driver: str | None = DRIVER_A, *, selectors=(), config=()) -> dict:
    sels = [cel(sel_driver(driver))] if driver else []
    sels += [cel(s) for s in selectors]
    spec: dict = {"selectors": sels}
    if config:
        spec["config"] = list(config)
    return {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": name}, "spec": spec}


def device(name: str, *, capacity=None, attrs=None, taints=None, consumes=None, multi=None,
           binding=None, binds_to_node=None, node_name=None, all_nodes=None, node_selector=None) -> dict:
    d: dict = {"name": name}
    if attrs:
        d["attributes"] = {k: ({"string": v} if isinstance(v, str) else {"bool": v} if isinstance(v, bool)
                               else {"int": v}) for k, v in attrs.items()}
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


def rslice(name: str, node: str | None, pool: str, driver: str, *devices, generation: int = 1, count: int = 1,
           all_nodes=False, node_selector=None, per_device=False, counters=None) -> dict:
    spec: dict = {"driver": driver, "pool": {"name": pool, "generation": generation, "resourceSliceCount": count}}
    if per_device:
        spec["perDeviceNodeSelection"] = True
    elif node:
        spec["nodeName"] = node
    elif all_nodes:
        spec["allNodes"] = True
    elif node_selector:
        spec["nodeSelector"] = node_selector
    if counters:
        spec["sharedCounters"] = [{"name": n, "counters": {c: {"value": v} for c, v in cs.items()}}
                                  for n, cs in counters.items()]
    spec["devices"] = [d if isinstance(d, dict) else device(d) for d in devices]
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": name}, "spec": spec}


def req(name: str, cls: str = "class-a", count: int | None = 1, *, mode: str = "ExactCount", selectors=(),
        admin=None, tolerations=None, capacity=None) -> dict:
    ex: dict = {"deviceClassName": cls, "allocationMode": mode}
    if mode == "ExactCount":
        ex["count"] = count
    if selectors:
        ex["selectors"] = [cel(s) for s in selectors]
    if admin is not None:
        ex["adminAccess"] = admin
    if tolerations:
        ex["tolerations"] = list(tolerations)
    if capacity:
        ex["capacity"] = {"requests": dict(capacity)}
    return {"name": name, "exactly": ex}


def sub(name: str, cls: str = "class-a", count: int = 1, *, mode: str = "ExactCount", selectors=(), tolerations=None,
        capacity=None) -> dict:
    s = {"name": name, "deviceClassName": cls, "allocationMode": mode}
    if mode == "ExactCount":
        s["count"] = count
    if selectors:
        s["selectors"] = [cel(x) for x in selectors]
    if tolerations:
        s["tolerations"] = list(tolerations)
    if capacity:
        s["capacity"] = {"requests": dict(capacity)}
    return s


def first_available(name: str, *subs) -> dict:
    return {"name": name, "firstAvailable": list(subs)}


def claim(name: str, *requests, constraints=(), config=(), allocation=None, ns: str = NS) -> dict:
    c = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
         "metadata": {"name": name, "namespace": ns},
         "spec": {"devices": {"requests": list(requests)}}}
    if constraints:
        c["spec"]["devices"]["constraints"] = list(constraints)
    if config:
        c["spec"]["devices"]["config"] = list(config)
    if allocation is not None:
        c["status"] = {"allocation": allocation}
    return c


def allocated(name: str, *results, node_selector=None, ns: str = NS) -> dict:
    """An already allocated claim holding the given (driver, pool, device[, extra]) results."""
    res = []
    for r in results:
        d = {"request": "req-0", "driver": r[0], "pool": r[1], "device": r[2]}
        if len(r) > 3:
            d.update(r[3])
        res.append(d)
    alloc = {"devices": {"results": res}}
    if node_selector:
        alloc["nodeSelector"] = node_selector
    return claim(name, req("req-0"), allocation=alloc, ns=ns)


def node(name: str, **labels) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": dict(labels)}}


def match(key: str, *values) -> dict:
    return {"key": key, "operator": "In", "values": list(values)}


def local_selector(node_name: str) -> dict:
    return {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}


def run(objects, claims, node_name=NODE1, gates: FeatureGates | None = None):
    objs = list(objects)
    if node_name and not any(o.get("kind") == "Node" for o in objs):
        objs.append(node(node_name))
    snap = Snapshot.from_objects(objs)
    import os
    alloc = Allocator(snap, gates or defaults_for_version("1.34"), cel_compile=None if os.environ.get("REAL_CEL") else table_cel)
    return alloc.allocate(node_name, claims)


def picked(outcome):
    """[(claim name, [(request, driver, pool, device), ...]), ...] in claim order."""
    return [(k[1], [(r.request, r.driver, r.pool, r.device) for r in v]) for k, v in outcome.results.items()]


ALL = all_enabled()
G134 = defaults_for_version("1.34")


# ---- additions for the rest of upstream's table (test_upstream_table_*.py) ----

REGION1, REGION2 = "region-1", "region-2"
CS1, CS2 = "counter-set-1", "counter-set-2"
CAP0, CAP1 = "capacity-0", "capacity-1"


def feats(*, admin=False, prioritized=False, partitionable=False, taints=False, binding=False,
          consumable=False) -> FeatureGates:
    """Exactly the allocator features an upstream case enables (upstream ``Features{...}``), nothing else.

    ``binding`` is upstream's DeviceBindingAndStatus: both DRADeviceBindingConditions and
    DRAResourceClaimDeviceStatus on.
    """
    return FeatureGates(admin_access=admin, prioritized_list=prioritized, partitionable_devices=partitionable,
                        device_taints=taints, device_binding_conditions=binding, device_status=binding,
                        consumable_capacity=consumable)


NONE = feats()


def unode(name: str, region: str = REGION1) -> dict:
    """A node as upstream's table builds it: labels region=<region> and planet=earth."""
    return node(name, region=region, planet="earth")


def label_selector(key: str, *values) -> dict:
    return {"nodeSelectorTerms": [{"matchExpressions": [match(key, *values)]}]}


def class_expr(name: str, expression: str) -> dict:
    """A DeviceClass with one CEL selector, written out (no driver selector added)."""
    return {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": name},
            "spec": {"selectors": [cel(expression)]}}


def class_multi(name: str, driver: str, multi: bool) -> dict:
    """Upstream classWithAllowMultipleAllocations: driver AND allowMultipleAllocations == multi."""
    return class_expr(name, f'device.driver == "{driver}" && device.allowMultipleAllocations == {str(multi).lower()}')


def counter_slice(name: str, node_name: str | None, pool: str, driver: str, counters: dict, *, count: int = 1,
                  per_device: bool = False, generation: int = 1) -> dict:
    """A slice that only carries sharedCounters (upstream sliceWithCounterSets)."""
    return rslice(name, node_name, pool, driver, count=count, per_device=per_device, counters=counters,
                  generation=generation)


def range_policy(value, default="2", lo="2", step="2", hi="4") -> dict:
    """Upstream withCapacityRequestPolicyRange: default 2, range min 2, step 2, max 4."""
    return {"value": str(value), "requestPolicy": {"default": default,
                                                    "validRange": {"min": lo, "step": step, "max": hi}}}


def values_policy(value, default, *more) -> dict:
    """Upstream withCapacityRequestPolicyValidValues: the default is the first valid value."""
    return {"value": str(value), "requestPolicy": {"default": str(default),
                                                    "validValues": [str(default), *[str(m) for m in more]]}}


def in_use(*ids, name: str = "in-use") -> dict:
    """Devices already allocated (upstream allocatedDevices): one claim holding (driver, pool, device) ids."""
    return allocated(name, *ids)


def shared_use(device_id, consumed: dict, name: str = "sharer") -> dict:
    """Capacity already consumed on a multi-allocatable device (upstream allocatedCapacityDevices)."""
    return allocated(name, (*device_id, {"shareID": "11111111-2222-3333-4444-555555555555",
                                         "consumedCapacity": dict(consumed)}))


def run_cel(objects, claims, node_name=NODE1, gates: FeatureGates | None = None, nodes=None):
    """Like :func:`run` but always with the real CEL module; adds upstream's default node (node-1, region-1)."""
    objs = list(objects)
    if node_name and not any(o.get("kind") == "Node" for o in objs):
        objs.append(unode(node_name))
    snap = Snapshot.from_objects(objs)
    alloc = Allocator(snap, gates if gates is not None else NONE, cel_compile=None)
    return alloc.allocate(node_name, claims)


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
