"""Bring every object to the resource.k8s.io/v1 shape, once, at the edge.

Downstream code (snapshot, CEL, allocator, explainers) only ever sees v1
shapes.  The differences handled here:

* v1beta1 ResourceSlice devices wrap their fields in ``basic:``; v1beta2 and
  v1 devices are flat.
* v1beta1 ResourceClaim (and template) requests carry ``deviceClassName``,
  ``selectors``, ``allocationMode``, ``count``, ``adminAccess``,
  ``tolerations`` and ``capacity`` directly; v1beta2/v1 put them under
  ``exactly:``.  ``firstAvailable`` is the same in all versions.
* everything else is identical across v1beta1, v1beta2 and v1.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_dra.errors import InputError

GROUP = "resource.k8s.io"
SUPPORTED_VERSIONS = ("v1", "v1beta2", "v1beta1")
DRA_KINDS = ("DeviceClass", "ResourceSlice", "ResourceClaim", "ResourceClaimTemplate")
CORE_KINDS = ("Node", "Pod", "Event", "Namespace")
KNOWN_KINDS = DRA_KINDS + CORE_KINDS

_EXACT_FIELDS = ("deviceClassName", "selectors", "allocationMode", "count", "adminAccess", "tolerations", "capacity")


def is_list(obj: dict) -> bool:
    kind = obj.get("kind") or ""
    return isinstance(obj.get("items"), list) and (kind == "List" or kind.endswith("List"))


def normalize_object(obj: dict, *, where: str = "") -> dict | None:
    """Return ``obj`` in v1 shape, or None for kinds kubectl-dra does not use.

    Raises InputError for resource.k8s.io objects of an API version we do not know.
    """
    if not isinstance(obj, dict):
        raise InputError(f"{where}expected a Kubernetes object (a mapping), got {type(obj).__name__}")
    kind = obj.get("kind")
    api_version = obj.get("apiVersion") or ""
    if kind in DRA_KINDS:
        group, _, version = api_version.rpartition("/")
        if group != GROUP or version not in SUPPORTED_VERSIONS:
            name = (obj.get("metadata") or {}).get("name", "?")
            raise InputError(
                f"{where}{kind} {name!r}: unsupported apiVersion {api_version!r} "
                f"(kubectl-dra reads {', '.join(GROUP + '/' + v for v in SUPPORTED_VERSIONS)})"
            )
        if version == "v1":
            return obj
        out = dict(obj)
        out["apiVersion"] = f"{GROUP}/v1"
        if version == "v1beta1":
            if kind == "ResourceSlice":
                out["spec"] = _slice_spec_from_v1beta1(obj.get("spec") or {})
            elif kind == "ResourceClaim":
                out["spec"] = _claim_spec_from_v1beta1(obj.get("spec") or {})
            elif kind == "ResourceClaimTemplate":
                spec = dict(obj.get("spec") or {})
                spec["spec"] = _claim_spec_from_v1beta1(spec.get("spec") or {})
                out["spec"] = spec
        return out
    if kind in CORE_KINDS:
        return obj
    return None


def _slice_spec_from_v1beta1(spec: dict) -> dict:
    out = dict(spec)
    devices = []
    for dev in spec.get("devices") or []:
        flat = {k: v for k, v in dev.items() if k != "basic"}
        basic = dev.get("basic") or {}
        flat.update(copy.deepcopy(basic))
        devices.append(flat)
    out["devices"] = devices
    return out


def _claim_spec_from_v1beta1(spec: dict) -> dict:
    out = dict(spec)
    devices = dict(spec.get("devices") or {})
    requests = []
    for req in devices.get("requests") or []:
        new: dict[str, Any] = {"name": req.get("name")}
        if req.get("firstAvailable"):
            new["firstAvailable"] = copy.deepcopy(req["firstAvailable"])
        else:
            exactly = {k: copy.deepcopy(req[k]) for k in _EXACT_FIELDS if k in req}
            new["exactly"] = exactly
        requests.append(new)
    if "requests" in devices:
        devices["requests"] = requests
    if devices:
        out["devices"] = devices
    return out


def flatten(docs: list[Any]) -> list[dict]:
    """Expand ``kind: List`` (and ``*List``) documents; drop empty YAML documents."""
    out: list[dict] = []
    stack = list(reversed(docs))
    while stack:
        doc = stack.pop()
        if doc is None:
            continue
        if isinstance(doc, dict) and is_list(doc):
            item_kind = (doc.get("kind") or "")[: -len("List")] if doc.get("kind") != "List" else None
            items = []
            for item in doc["items"]:
                if item_kind and isinstance(item, dict) and "kind" not in item:
                    # Raw API list items carry no kind/apiVersion; take them from the list.
                    item = {"kind": item_kind, "apiVersion": doc.get("apiVersion", ""), **item}
                items.append(item)
            stack.extend(reversed(items))
        else:
            out.append(doc)
    return out
