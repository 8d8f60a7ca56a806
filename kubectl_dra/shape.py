"""Shape checks at the edge: every object is checked for the types of its fields when it is loaded, so that no
code downstream of the snapshot sees a wrongly typed field.

A malformed object (an attribute written ``type: gpu`` instead of ``{string: gpu}``, ``metadata: [...]``, a
slice without ``spec``, ``generation: x``) is one :class:`~kubectl_dra.errors.InputError` (exit code 3) naming
the file, the object and the field::

    error: cluster.yaml: ResourceClaim team-a/'x': status.reservedFor[0].name: is required

What is checked: the types of the fields kubectl-dra knows (the resource.k8s.io kinds: every field of the
newest release's OpenAPI schema, the ``data/schemas`` files; core kinds: the fields kubectl-dra reads), and the
fields the API server requires and kubectl-dra reads by name.  Unknown fields and enum values are not judged
here (``validate`` does that); a null field counts as absent, as the API server reads it.

Devices are the bulk of a big cluster (60,000 at 5,000 nodes): :func:`check_devices` is hand-written for
their usual fields and runs in the loop that indexes them (``Snapshot.devices``), not in a separate pass.
"""

from __future__ import annotations

import json
from typing import Any

from kubectl_dra.errors import InputError

# Node kinds of the compiled shape tree: (code, ...).
STR, INT, BOOL, NUM, QTY, ANY, OBJ, LIST, MAP = range(9)
_SCALARS = {STR: (str,), INT: (int,), BOOL: (bool,), NUM: (int, float), QTY: (str, int, float)}
_NAMES = {STR: "a string", INT: "an integer", BOOL: "a boolean", NUM: "a number", QTY: "a quantity",
          OBJ: "an object", LIST: "a list", MAP: "an object"}


class ShapeError(Exception):
    """A field of the wrong type or missing; ``path`` grows as the error leaves the nested values."""

    def __init__(self, message: str, path: list | None = None):
        super().__init__(message)
        self.message = message
        self.path: list = path or []

    def field(self) -> str:
        out = ""
        for p in reversed(self.path):
            out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
        return out


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(v), type(v).__name__)


def _wrong(code: int, v: Any) -> ShapeError:
    return ShapeError(f"must be {_NAMES[code]}, not {type_name(v)}")


def check(value: Any, node: tuple) -> None:
    """Raise ShapeError when ``value`` does not have the shape ``node``.  Scalars are checked inline in the
    loops; one call per nested object or list (the depth is bounded by the input limits)."""
    code = node[0]
    if code == OBJ:
        if type(value) is not dict:
            raise _wrong(OBJ, value)
        props, required = node[1], node[2]
        for k in required:
            if value.get(k) is None:
                raise ShapeError("is required", [k])
        for k, v in value.items():
            sub = props.get(k)
            if sub is None or v is None:
                continue
            c = sub[0]
            if c < ANY:
                if type(v) not in _SCALARS[c]:
                    raise ShapeError(_wrong(c, v).message, [k])
            elif c != ANY:
                try:
                    check(v, sub)
                except ShapeError as e:
                    e.path.append(k)
                    raise
    elif code == LIST:
        if type(value) is not list:
            raise _wrong(LIST, value)
        sub = node[1]
        c = sub[0]
        for i, v in enumerate(value):
            if c < ANY:
                if type(v) not in _SCALARS[c]:
                    raise ShapeError(_wrong(c, v).message, [i])
            elif c != ANY:
                if v is None:
                    raise ShapeError(f"must be {_NAMES[c]}, not null", [i])
                try:
                    check(v, sub)
                except ShapeError as e:
                    e.path.append(i)
                    raise
    elif code == MAP:
        if type(value) is not dict:
            raise _wrong(MAP, value)
        sub = node[1]
        c = sub[0]
        for k, v in value.items():
            if type(k) is not str:
                raise ShapeError(f"keys must be strings, not {type_name(k)}", [str(k)])
            if c < ANY:
                if type(v) not in _SCALARS[c]:
                    raise ShapeError(_wrong(c, v).message, [k])
            elif c != ANY and v is not None:
                try:
                    check(v, sub)
                except ShapeError as e:
                    e.path.append(k)
                    raise
    elif code < ANY:
        if type(value) not in _SCALARS[code]:
            raise _wrong(code, value)


# -- building shapes -------------------------------------------------------------------------------------
def obj(props: dict | None = None, required: tuple = ()) -> tuple:
    return (OBJ, props or {}, required)


def lst(item: tuple) -> tuple:
    return (LIST, item)


def mp(value: tuple) -> tuple:
    return (MAP, value)


S, I, B, Q, A = (STR,), (INT,), (BOOL,), (QTY,), (ANY,)

#: Fields the API server requires and kubectl-dra reads by name (a dump or manifest may omit others the
#: schema requires, e.g. a pool's generation, which kubectl-dra reads as 0, as upstream validation allows).
_REQUIRED = {
    ("ResourceClaim", "status.reservedFor[]"): ("name",),
    ("ResourceClaim", "status.allocation.devices.results[]"): ("request", "driver", "pool", "device"),
}


def from_schema(schema: dict, kind: str = "", path: str = "") -> tuple:
    """The shape of a generated JSON Schema (``data/schemas``): types only, plus :data:`_REQUIRED`."""
    if "oneOf" in schema:  # quantities: a string or a number
        types = {s.get("type") for s in schema["oneOf"]}
        return Q if types <= {"string", "number", "integer"} else A
    t = schema.get("type")
    if t == "string":
        return S
    if t == "integer":
        return I
    if t == "boolean":
        return B
    if t == "number":
        return (NUM,)
    if t == "array":
        return lst(from_schema(schema.get("items") or {}, kind, path + "[]"))
    if t == "object":
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props:
            return obj({k: from_schema(v, kind, f"{path}.{k}" if path else k) for k, v in props.items()},
                       _REQUIRED.get((kind, path), ()))
        if isinstance(extra, dict):
            return mp(from_schema(extra, kind, path + "{}"))
        return A
    return A


_META = obj({"name": S, "namespace": S, "generateName": S, "uid": S, "resourceVersion": S, "generation": I,
             "labels": mp(S), "annotations": mp(S), "finalizers": lst(S),
             "ownerReferences": lst(obj({"apiVersion": S, "kind": S, "name": S, "uid": S, "controller": B})),
             "creationTimestamp": S, "deletionTimestamp": S})
_NODE_SELECTOR_TERM = obj({"matchExpressions": lst(obj({"key": S, "operator": S, "values": lst(S)})),
                           "matchFields": lst(obj({"key": S, "operator": S, "values": lst(S)}))})
_NODE_SELECTOR = obj({"nodeSelectorTerms": lst(_NODE_SELECTOR_TERM)})
_TOLERATION = obj({"key": S, "operator": S, "value": S, "effect": S, "tolerationSeconds": I})
_CONDITION = obj({"type": S, "status": S, "reason": S, "message": S, "lastTransitionTime": S})
_CONTAINER = obj({"name": S, "resources": obj({"claims": lst(obj({"name": S, "request": S})),
                                               "requests": mp(Q), "limits": mp(Q)})})

#: Core kinds: the fields kubectl-dra reads.
CORE_SHAPES: dict[str, tuple] = {
    "Node": obj({"metadata": _META,
                 "spec": obj({"unschedulable": B, "taints": lst(obj({"key": S, "value": S, "effect": S})),
                              "providerID": S}),
                 "status": obj({"allocatable": mp(Q), "capacity": mp(Q), "conditions": lst(_CONDITION),
                                "nodeInfo": obj({"kubeletVersion": S})})}),
    "Pod": obj({"metadata": _META,
                "spec": obj({"nodeName": S, "schedulerName": S, "nodeSelector": mp(S),
                             "affinity": obj({"nodeAffinity": obj({
                                 "requiredDuringSchedulingIgnoredDuringExecution": _NODE_SELECTOR})}),
                             "tolerations": lst(_TOLERATION), "containers": lst(_CONTAINER),
                             "initContainers": lst(_CONTAINER), "schedulingGates": lst(obj({"name": S})),
                             "schedulingGroup": obj({"podGroupName": S}),
                             "resourceClaims": lst(obj({"name": S, "resourceClaimName": S,
                                                        "resourceClaimTemplateName": S}, ("name",)))}),
                "status": obj({"phase": S, "nominatedNodeName": S, "conditions": lst(_CONDITION),
                               "resourceClaimStatuses": lst(obj({"name": S, "resourceClaimName": S})),
                               "extendedResourceClaimStatus": obj({
                                   "resourceClaimName": S,
                                   "requestMappings": lst(obj({"containerName": S, "resourceName": S,
                                                               "requestName": S}))})})}),
    "Event": obj({"metadata": _META, "reason": S, "message": S, "type": S, "count": I,
                  "involvedObject": obj({"kind": S, "name": S, "namespace": S, "uid": S}),
                  "firstTimestamp": S, "lastTimestamp": S, "eventTime": S}),
    "Namespace": obj({"metadata": _META}),
    "ResourceQuota": obj({"metadata": _META, "spec": obj({"hard": mp(Q)}),
                          "status": obj({"hard": mp(Q), "used": mp(Q)})}),
}

_SCHEMA_FILES = {"DeviceClass": ("v1", "deviceclass"), "ResourceSlice": ("v1", "resourceslice"),
                 "ResourceClaim": ("v1", "resourceclaim"), "ResourceClaimTemplate": ("v1", "resourceclaimtemplate"),
                 "DeviceTaintRule": ("v1beta2", "devicetaintrule")}
_shapes: dict[str, tuple] = {}


def shape_of(kind: str) -> tuple | None:
    """The shape objects of ``kind`` are checked against (None: a kind kubectl-dra does not read)."""
    got = _shapes.get(kind)
    if got is not None:
        return got
    if kind in CORE_SHAPES:
        got = CORE_SHAPES[kind]
    elif kind in _SCHEMA_FILES:
        from importlib import resources

        from kubectl_dra.schema import NEWEST_RELEASE

        version, name = _SCHEMA_FILES[kind]
        ref = resources.files("kubectl_dra") / "data" / "schemas" / NEWEST_RELEASE / version / f"{name}.json"
        schema = json.loads(ref.read_text(encoding="utf-8"))
        props = dict(schema.get("properties") or {})
        props.pop("apiVersion", None)
        props.pop("kind", None)  # checked before normalization, with the version's own names
        if kind == "ResourceSlice":
            # Devices are checked where the snapshot indexes them (check_devices); a list of objects here.
            spec = dict(props["spec"]["properties"])
            spec["devices"] = {"type": "array", "items": {"type": "object"}}
            props["spec"] = {**props["spec"], "properties": spec}
        got = from_schema({**schema, "properties": props}, kind)
        if kind == "ResourceSlice":
            got = (OBJ, {**got[1], "spec": (OBJ, got[1]["spec"][1], ("driver", "pool"))}, ("spec",))
            pool = got[1]["spec"][1]["pool"]
            got[1]["spec"][1]["pool"] = (OBJ, pool[1], ("name",))
    else:
        return None
    _shapes[kind] = got
    return got


def describe(obj_: dict) -> str:
    """``Kind ns/'name'`` (namespaced) or ``Kind 'name'``, for messages."""
    meta = obj_.get("metadata") if isinstance(obj_, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else None
    ns = meta.get("namespace")
    kind = obj_.get("kind") if isinstance(obj_, dict) and isinstance(obj_.get("kind"), str) else "object"
    if name is None:
        return kind
    return f"{kind} {ns}/{name!r}" if isinstance(ns, str) and ns else f"{kind} {name!r}"


def error(where: str, obj_: dict, e: ShapeError) -> InputError:
    prefix = f"{where}: " if where else ""
    field = e.field()
    return InputError(f"{prefix}{describe(obj_)}: {field + ': ' if field else ''}{e.message}")


def check_raw(o: Any, where: str, index: int | None = None) -> None:
    """Before normalization: an object (a mapping) whose ``kind`` and ``apiVersion`` are strings."""
    if type(o) is not dict:
        at = f"item {index + 1}" if index is not None else "an item"
        raise InputError(f"{where + ': ' if where else ''}{at} is not a Kubernetes object (got {type_name(o)})")
    for key in ("kind", "apiVersion"):
        v = o.get(key)
        if v is not None and type(v) is not str:
            raise error(where, o, ShapeError(_wrong(STR, v).message, [key]))
    m = o.get("metadata")
    if m is not None and type(m) is not dict:
        raise error(where, o, ShapeError(_wrong(OBJ, m).message, ["metadata"]))


def check_object(o: dict, where: str) -> None:
    """After normalization (v1 shape): the object's fields have their types (InputError otherwise)."""
    shape = shape_of(o.get("kind") or "")
    if shape is None:
        return
    try:
        check(o, shape)
    except ShapeError as e:
        raise error(where, o, e) from None


# -- devices: hand-written for the usual fields, run where the snapshot indexes them -------------------------
_ATTRIBUTE_TYPES = {"int": int, "bool": bool, "string": str, "version": str}
_LIST_ATTRIBUTE_TYPES = {"ints": int, "bools": bool, "strings": str, "versions": str}
_PLURALS = {int: "integers", bool: "booleans", str: "strings"}
_device_rest: tuple | None = None


def _device_shape() -> tuple:
    """The schema's device shape without the fields check_devices checks inline."""
    global _device_rest
    if _device_rest is None:
        from importlib import resources

        from kubectl_dra.schema import NEWEST_RELEASE

        ref = resources.files("kubectl_dra") / "data" / "schemas" / NEWEST_RELEASE / "v1" / "resourceslice.json"
        schema = json.loads(ref.read_text(encoding="utf-8"))
        dev = from_schema(schema["properties"]["spec"]["properties"]["devices"]["items"], "ResourceSlice",
                          "spec.devices[]")
        props = {k: v for k, v in dev[1].items() if k not in ("name", "attributes", "capacity")}
        _device_rest = (OBJ, props, ())
    return _device_rest


def _bad_device(i: int, dev: Any) -> ShapeError:
    """The exact error for device ``i`` (the slow path, only for a device the fast check refused)."""
    path = ["spec", "devices", i]
    if type(dev) is not dict:
        return ShapeError(_wrong(OBJ, dev).message, path[::-1])
    name = dev.get("name")
    if type(name) is not str:
        return ShapeError("is required" if name is None else _wrong(STR, name).message, (path + ["name"])[::-1])
    attrs = dev.get("attributes")
    if attrs is not None:
        if type(attrs) is not dict:
            return ShapeError(_wrong(MAP, attrs).message, (path + ["attributes"])[::-1])
        for k, a in attrs.items():
            where = path + ["attributes", k]
            if type(a) is not dict:
                return ShapeError(f"must be an object with one of int, bool, string, version (e.g. "
                                  f"{{string: ...}}), not {type_name(a)}", where[::-1])
            for field, v in a.items():
                want = _ATTRIBUTE_TYPES.get(field)
                if want is not None and v is not None and type(v) is not want:
                    return ShapeError(f"must be {_NAMES[{int: INT, bool: BOOL, str: STR}[want]]}, "
                                      f"not {type_name(v)}", (where + [field])[::-1])
                want = _LIST_ATTRIBUTE_TYPES.get(field)
                if want is not None and v is not None and (type(v) is not list
                                                           or any(type(x) is not want for x in v)):
                    return ShapeError(f"must be a list of {_PLURALS[want]}",
                                      (where + [field])[::-1])
    caps = dev.get("capacity")
    if caps is not None:
        if type(caps) is not dict:
            return ShapeError(_wrong(MAP, caps).message, (path + ["capacity"])[::-1])
        cap_shape = _capacity_shape()
        for k, c in caps.items():
            try:
                check(c, cap_shape)
            except ShapeError as e:
                e.path.extend([k, "capacity", i, "devices", "spec"])
                return e
    try:
        check(dev, _device_shape())
    except ShapeError as e:
        e.path.extend([i, "devices", "spec"])
        return e
    return ShapeError("is malformed", path[::-1])  # pragma: no cover - the fast check and this one agree


_capacity: tuple | None = None


def _capacity_shape() -> tuple:
    global _capacity
    if _capacity is None:
        from importlib import resources

        from kubectl_dra.schema import NEWEST_RELEASE

        ref = resources.files("kubectl_dra") / "data" / "schemas" / NEWEST_RELEASE / "v1" / "resourceslice.json"
        schema = json.loads(ref.read_text(encoding="utf-8"))
        caps = schema["properties"]["spec"]["properties"]["devices"]["items"]["properties"]["capacity"]
        _capacity = from_schema(caps["additionalProperties"], "ResourceSlice", "spec.devices[].capacity{}")
        _capacity = (OBJ, _capacity[1], ("value",))
    return _capacity


# Device fields check_devices checks inline; any other field present sends the device to the schema's shape.
_INLINE = frozenset(("name", "attributes", "capacity"))


def device_shape_error(slice_obj: dict) -> ShapeError:
    """The ShapeError of the first malformed device of a slice (its path from the slice)."""
    for i, _ in enumerate(slice_obj["spec"]["devices"]):
        try:
            check_devices(slice_obj, slice_obj["spec"]["devices"][i:i + 1], "")
        except InputError:
            return _bad_device(i, slice_obj["spec"]["devices"][i])
    return ShapeError("is malformed", ["devices", "spec"])  # pragma: no cover


def device_error(slice_obj: dict, i: int, where: str) -> InputError:
    return error(where, slice_obj, _bad_device(i, slice_obj["spec"]["devices"][i]))


def check_devices(slice_obj: dict, devices: list, where: str) -> None:
    """Every device of one slice (the loop of ``Snapshot.devices`` calls it once per slice): the usual fields
    inline, anything else against the schema.  InputError naming the slice and the field."""
    rest = None
    for i, dev in enumerate(devices):
        if type(dev) is not dict or type(dev.get("name")) is not str:
            raise device_error(slice_obj, i, where)
        attrs = dev.get("attributes")
        if attrs is not None:
            if type(attrs) is not dict:
                raise device_error(slice_obj, i, where)
            for a in attrs.values():
                if type(a) is not dict:
                    raise device_error(slice_obj, i, where)
                for field, v in a.items():
                    want = _ATTRIBUTE_TYPES.get(field)
                    if want is not None:
                        if type(v) is not want and v is not None:
                            raise device_error(slice_obj, i, where)
                    elif field in _LIST_ATTRIBUTE_TYPES:
                        raise_if = _LIST_ATTRIBUTE_TYPES[field]
                        if v is not None and (type(v) is not list or any(type(x) is not raise_if for x in v)):
                            raise device_error(slice_obj, i, where)
        caps = dev.get("capacity")
        if caps is not None:
            if type(caps) is not dict:
                raise device_error(slice_obj, i, where)
            for c in caps.values():
                if type(c) is not dict or type(c.get("value")) not in (str, int, float) or len(c) > 1:
                    if type(c) is not dict or len(c) == 1:
                        raise device_error(slice_obj, i, where)
                    try:
                        check(c, _capacity_shape())
                    except ShapeError:
                        raise device_error(slice_obj, i, where) from None
        if len(dev) > 1 + (attrs is not None) + (caps is not None):
            if rest is None:
                rest = _device_shape()
            if not _INLINE.issuperset(dev):
                try:
                    check(dev, rest)
                except ShapeError:
                    raise device_error(slice_obj, i, where) from None
