"""Shape checks at the edge: every object is checked for the types of its fields when it is loaded, so that no
code downstream of the snapshot sees a wrongly typed field.

A malformed object (an attribute written ``type: gpu`` instead of ``{string: gpu}``, ``metadata: [...]``, a
slice without ``spec``, ``generation: x``) is one :class:`~kubectl_dra.errors.InputError` (exit code 3) naming
the file, the object and the field::

    error: cluster.yaml: ResourceClaim team-a/'x': status.reservedFor[0].name: is required

What is checked: the types of the fields kubectl-dra knows (the resource.k8s.io kinds: every field of the
newest release's OpenAPI schema, the ``data/schemas`` files; core kinds: the fields kubectl-dra reads), and the
fields the API server requires and kubectl-dra reads by name.  Unknown fields and enum values are not judged
here (``validate`` does that); a null field counts as absent, as the API server reads it, and is removed (so
that ``obj.get(field, default)`` downstream gets its default); a null item of a list or value of a map is an
error.

Speed: a big cluster is millions of fields (60,000 devices at 5,000 nodes).  :func:`check` is one call per
nested object or list, scalars checked inline in its loops, and only the fields an object holds are visited;
the usual device (DEVICES) and objects of scalars (:func:`_flat_ok`) are judged without a call per field,
anything unusual by the general path, which names what is wrong.  Still about 10% of why-pending's instructions
at 300 nodes (benchmarks/RESULTS.md).
(Checking "columns" of all objects at once with C-level ``map``/``set`` passes was measured too: 4x the
instructions, a map over ``dict.get`` costs more than the loop it replaces.)
"""

from __future__ import annotations

import json
import os
from functools import partial
from itertools import repeat
from operator import is_not
from typing import Any

from kubectl_dra.errors import InputError

# Node kinds of the compiled shape tree: (code, ...).
STR, INT, BOOL, NUM, QTY, ANY, OBJ, LIST, MAP, DEVICES = range(10)
_NAMES = {STR: "a string", INT: "an integer", BOOL: "a boolean", NUM: "a number", QTY: "a quantity",
          OBJ: "an object", LIST: "a list", MAP: "an object", DEVICES: "a list"}
# Devices, the bulk of a big cluster: their usual fields checked inline (DEVICES), the rest by the schema's shape.
_ATTRIBUTE_TYPES = {"int": int, "bool": bool, "string": str, "version": str}
_QUANTITY_TYPES = (str, int, float)


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


class ShapeInputError(InputError):
    """A malformed object (exit code 3), with the field and the problem apart (validate's finding)."""

    def __init__(self, message: str, field: str, problem: str):
        super().__init__(message)
        self.field, self.problem = field, problem


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(v), type(v).__name__)


def _wrong(code: int, v: Any) -> ShapeError:
    return ShapeError(f"must be {_NAMES[code]}, not {type_name(v)}")


# Quantity strings seen valid (a cluster repeats a few: "80Gi", "1"): each distinct one is parsed once.
_QUANTITIES: set[str] = set()


def _quantity(text: str, at) -> None:
    """A quantity string must parse as the API server's resource.Quantity would (else every reader of it would
    fail later); a valid one is remembered."""
    from kubectl_dra.quantity import QuantityError, parse_quantity

    try:
        parse_quantity(text)
    except (QuantityError, ValueError, ArithmeticError):
        raise ShapeError(f"must be a quantity (e.g. 40Gi, 500m, 8), not {text!r}", [at]) from None
    _QUANTITIES.add(text)


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
        nulls = None
        for k, v in value.items():
            sub = props.get(k)
            if sub is None:
                continue
            if v is None:
                nulls = [k] if nulls is None else nulls + [k]
                continue
            c = sub[0]
            if c < ANY:
                if type(v) not in sub[1]:
                    raise ShapeError(_wrong(c, v).message, [k])
                if c == QTY and type(v) is str and v not in _QUANTITIES:
                    _quantity(v, k)
            elif c != ANY:
                try:
                    check(v, sub)
                except ShapeError as e:
                    e.path.append(k)
                    raise
        if nulls is not None:
            for k in nulls:  # a null field is an absent one (as the API server reads it): code reading
                del value[k]  # `obj.get(k, default)` then gets its default, never None
    elif code == LIST or code == MAP:
        if code == LIST:
            if type(value) is not list:
                raise _wrong(LIST, value)
            items = enumerate(value)
        else:
            if type(value) is not dict:
                raise _wrong(MAP, value)
            for k in value:
                if type(k) is not str:
                    raise ShapeError(f"keys must be strings, not {type_name(k)}", [str(k)])
            items = value.items()
        sub = node[1]
        c = sub[0]
        flat = c == OBJ and sub[3]
        for at, v in items:  # (an index of a list, a key of a map)
            if flat and _flat_ok(v, sub):
                continue  # an object of scalars, checked without a call (see _flat_ok)
            if c < ANY:
                if type(v) not in sub[1]:
                    raise ShapeError(_wrong(c, v).message, [at])
                if c == QTY and type(v) is str and v not in _QUANTITIES:
                    _quantity(v, at)
            elif c != ANY:
                if v is None:
                    raise ShapeError(f"must be {_NAMES[c]}, not null", [at])
                try:
                    check(v, sub)
                except ShapeError as e:
                    e.path.append(at)
                    raise
    elif code == DEVICES:
        if type(value) is not list:
            raise _wrong(LIST, value)
        full, rest = node[1], node[2]
        for i, dev in enumerate(value):
            # The usual device (a name, attributes of one typed value each, capacities with one value, counters
            # consumed), checked
            # inline, without a call per field; anything else (other fields, nulls, list attributes, a wrong
            # type) goes to the schema's shape, which says what is wrong.
            usual = type(dev) is dict and type(dev.get("name")) is str
            if usual:
                fields = 1
                attrs = dev.get("attributes")
                if attrs is not None:
                    fields += 1
                    if type(attrs) is not dict:
                        usual = False
                    else:
                        for a in attrs.values():
                            if type(a) is not dict or len(a) != 1:
                                usual = False
                                break
                            for f, v in a.items():
                                if type(v) is not _ATTRIBUTE_TYPES.get(f):
                                    usual = False
                            if not usual:
                                break
                caps = dev.get("capacity")
                if usual and caps is not None:
                    fields += 1
                    if type(caps) is not dict:
                        usual = False
                    else:
                        for c in caps.values():
                            if type(c) is not dict or len(c) != 1 or type(c.get("value")) not in _QUANTITY_TYPES \
                                    or (type(c["value"]) is str and c["value"] not in _QUANTITIES):
                                usual = False
                                break
                counters = dev.get("consumesCounters")  # partitionable devices: one entry per counter set
                if usual and counters is not None:
                    fields += 1
                    if type(counters) is not list:
                        usual = False
                    else:
                        for e in counters:
                            if type(e) is not dict or len(e) != 2 or type(e.get("counterSet")) is not str:
                                usual = False
                                break
                            cs = e.get("counters")
                            if type(cs) is not dict:
                                usual = False
                                break
                            for c in cs.values():
                                if type(c) is not dict or len(c) != 1 or type(c.get("value")) not in _QUANTITY_TYPES \
                                        or (type(c["value"]) is str and c["value"] not in _QUANTITIES):
                                    usual = False
                                    break
                            if not usual:
                                break
                if usual and len(dev) > fields:
                    try:
                        check(dev, rest)  # the other fields (the schema's shape without the three above)
                    except ShapeError as e:
                        e.path.append(i)
                        raise
                    continue
            if not usual:
                try:
                    check(dev, full)
                except ShapeError as e:
                    e.path.append(i)
                    raise
    elif code < ANY:
        if type(value) not in node[1]:
            raise _wrong(code, value)


def _flat_ok(v: Any, node: tuple) -> bool:
    """Whether ``v`` is an object of ``node`` holding only scalars and lists of scalars, no null: the usual
    case of a flat object, judged in one loop; False sends it to :func:`check`, which judges nested objects
    and says what is wrong (or removes nulls)."""
    if type(v) is not dict:
        return False
    for k in node[2]:
        if v.get(k) is None:
            return False
    props = node[1]
    for k, x in v.items():
        t = props.get(k)
        if t is None:
            continue
        c = t[0]
        if c < ANY:
            if type(x) not in t[1] or (c == QTY and type(x) is str and x not in _QUANTITIES):
                return False  # (check() says what is wrong, or learns the new quantity)
        elif c == LIST and t[1][0] < ANY:
            if type(x) is not list:
                return False
            types = t[1][1]
            for y in x:
                if type(y) not in types:
                    return False
        elif c != ANY:
            return False  # a nested object or map: check() judges it
    return True


# -- building shapes -------------------------------------------------------------------------------------
def obj(props: dict | None = None, required: tuple = ()) -> tuple:
    """An object's shape: (OBJ, fields, required fields, flat: most fields scalars or lists of scalars, so that
    an object of them is worth judging first without a call, :func:`_flat_ok`)."""
    props = props or {}
    simple = sum(1 for p in props.values() if _simple(p))
    return (OBJ, props, required, simple * 2 >= len(props))


def _simple(node: tuple) -> bool:
    """A scalar, anything, or a list of scalars: what _flat_ok judges without a call."""
    return node[0] <= ANY or (node[0] == LIST and node[1][0] < ANY)


def lst(item: tuple) -> tuple:
    return (LIST, item)


def mp(value: tuple) -> tuple:
    return (MAP, value)


S, I, B, Q, A = (STR, (str,)), (INT, (int,)), (BOOL, (bool,)), (QTY, (str, int, float)), (ANY,)
N = (NUM, (int, float))

#: Fields the API server requires and kubectl-dra reads by name (a dump or manifest may omit others the
#: schema requires, e.g. a pool's generation, which kubectl-dra reads as 0, as upstream validation allows).
_REQUIRED = {
    ("ResourceClaim", "status.reservedFor[]"): ("name",),
    ("ResourceClaim", "status.allocation.devices.results[]"): ("request", "driver", "pool", "device"),
    ("ResourceSlice", ""): ("spec",),
    ("ResourceSlice", "spec"): ("driver", "pool"),
    ("ResourceSlice", "spec.pool"): ("name",),
    ("ResourceSlice", "spec.devices[]"): ("name",),
    ("ResourceSlice", "spec.devices[].capacity{}"): ("value",),
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
        return N
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


# The schema files, read directly: importing kubectl_dra.schema would import jsonschema, and importlib.resources
# zipfile and more, all for a few small files of this package's own directory.
_SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schemas")


def _read_json(*parts: str) -> Any:
    with open(os.path.join(_SCHEMAS, *parts), encoding="utf-8") as fh:
        return json.load(fh)


def _newest_release() -> str:
    """The newest release with schemas (kubectl_dra.schema.NEWEST_RELEASE, without importing jsonschema)."""
    releases = _read_json("index.json")["releases"]
    return max(releases, key=lambda r: tuple(int(x) for x in r.split(".")))


def shape_of(kind: str) -> tuple | None:
    """The shape objects of ``kind`` are checked against (None: a kind kubectl-dra does not read)."""
    got = _shapes.get(kind)
    if got is not None:
        return got
    if kind in CORE_SHAPES:
        got = CORE_SHAPES[kind]
    elif kind in _SCHEMA_FILES:
        version, name = _SCHEMA_FILES[kind]
        schema = _read_json(_newest_release(), version, f"{name}.json")
        props = dict(schema.get("properties") or {})
        props.pop("apiVersion", None)
        props.pop("kind", None)  # checked before normalization, with the version's own names
        got = from_schema({**schema, "properties": props}, kind)
        if kind == "ResourceSlice":
            spec = got[1]["spec"]
            full = spec[1]["devices"][1]
            rest = obj({k: v for k, v in full[1].items()
                        if k not in ("name", "attributes", "capacity", "consumesCounters")})
            spec[1]["devices"] = (DEVICES, full, rest)
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


_ATTRIBUTE_HINT = "must be an object with one of int, bool, string, version (e.g. {string: ...})"


def error(where: str, obj_: dict, e: ShapeError) -> InputError:
    prefix = f"{where}: " if where else ""
    field = e.field()
    if (obj_.get("kind") == "ResourceSlice" and len(e.path) == 5 and e.path[1] == "attributes"
            and e.message.startswith("must be an object,")):
        e.message = _ATTRIBUTE_HINT + e.message[len("must be an object"):]  # a device attribute's value
    return ShapeInputError(f"{prefix}{describe(obj_)}: {field + ': ' if field else ''}{e.message}", field, e.message)


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
    for key in ("name", "namespace"):
        v = (m or {}).get(key)
        if v is not None and type(v) is not str:
            raise error(where, o, ShapeError(_wrong(STR, v).message, [key, "metadata"]))


_STR_OR_NONE = {str, type(None)}


def check_raw_all(objects: list, origins: list[str] | None, where: str = "") -> None:
    """:func:`check_raw` of every object, at once (the columns: objects, kinds, versions, metadata, names)."""
    if set(map(type, objects)) <= _DICT:
        metas = list(filter(_not_none, map(dict.get, objects, repeat("metadata"))))
        if (set(map(type, map(dict.get, objects, repeat("kind")))) <= _STR_OR_NONE
                and set(map(type, map(dict.get, objects, repeat("apiVersion")))) <= _STR_OR_NONE
                and set(map(type, metas)) <= _DICT
                and set(map(type, map(dict.get, metas, repeat("name")))) <= _STR_OR_NONE
                and set(map(type, map(dict.get, metas, repeat("namespace")))) <= _STR_OR_NONE):
            return
    for i, o in enumerate(objects):
        check_raw(o, origins[i] if origins is not None else where, i)


def check_object(o: dict, where: str) -> None:
    """After normalization (v1 shape): the object's fields have their types (InputError otherwise)."""
    shape = shape_of(o.get("kind") or "")
    if shape is None:
        return
    try:
        check(o, shape)
    except ShapeError as e:
        raise error(where, o, e) from None


# -- every object of a kind ---------------------------------------------------------------------------------------
_not_none = partial(is_not, None)
_DICT = {dict}


def check_all(objects: list[dict], where_of=None, where: str = "") -> None:
    """Every object of one kind (the same ``kind``); InputError naming the first malformed one (its file from
    ``where_of(obj)``, else ``where``)."""
    if not objects:
        return
    shape = shape_of(objects[0].get("kind") or "")
    if shape is None:
        return
    for o in objects:
        try:
            check(o, shape)
        except ShapeError as e:
            raise error(where_of(o) if where_of else where, o, e) from None


def check_snapshot(snap, where_of=None) -> None:
    """Every object of a snapshot just built from a source, kind by kind (the snapshot's own groups)."""
    for group in (snap.nodes.values(), snap.device_classes.values(), snap.resource_slices,
                  snap.resource_claims.values(), snap.resource_claim_templates.values(), snap.pods.values(),
                  snap.events, snap.resource_quotas.values(), snap.namespaces.values(),
                  snap.device_taint_rules.values()):
        if group:
            check_all(list(group), where_of)
