"""Bring every object (v1alpha3, v1beta1, v1beta2) to the resource.k8s.io/v1 shape, once, at the edge.

Downstream code (snapshot, CEL, allocator, explainers) only ever sees v1
shapes.  The differences handled here:

* v1beta1 ResourceSlice devices wrap their fields in ``basic:``; v1beta2 and
  v1 devices are flat.
* v1beta1 ResourceClaim (and template) requests carry ``deviceClassName``,
  ``selectors``, ``allocationMode``, ``count``, ``adminAccess``,
  ``tolerations`` and ``capacity`` directly; v1beta2/v1 put them under
  ``exactly:``.  ``firstAvailable`` is the same in all versions.
* v1alpha3 (Kubernetes 1.31-1.33, still in most tutorials) has the v1beta1
  shapes for slices, claims and templates and is converted the same way,
  except that a device's capacities are bare quantities (``memory: 80Gi``,
  wrapped as ``{value: 80Gi}`` here); the
  1.31-only fields (a claim's ``controller``, a class's ``suitableNodes``) have
  no meaning since 1.32 and are dropped.
* everything else is identical across v1beta1, v1beta2 and v1.
* DeviceTaintRule has no v1: it is served as v1alpha3 (1.33-1.36) and v1beta2 (1.36).  Both are read
  and brought to the v1beta2 shape (the same fields since 1.35); the 1.34-only selector fields
  (``deviceSelector.deviceClassName``, ``deviceSelector.selectors``) are kept, so that
  :mod:`kubectl_dra.taintrules` can honour them under 1.34 and say they are ignored later.

Pods written for the classic-DRA API (Kubernetes 1.26-1.30) named their claims
under ``spec.resourceClaims[].source``; the API server rejects that since 1.31,
and so do we, with the current field names (:func:`check_pod_claim_references`).
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_dra.errors import InputError

GROUP = "resource.k8s.io"
SUPPORTED_VERSIONS = ("v1", "v1beta2", "v1beta1", "v1alpha3")
#: Versions converted with a one-line notice on stderr (see :func:`old_version_notice`).
OLD_VERSIONS = ("v1alpha3",)
DRA_KINDS = ("DeviceClass", "ResourceSlice", "ResourceClaim", "ResourceClaimTemplate")
CORE_KINDS = ("Node", "Pod", "Event", "Namespace", "ResourceQuota")
#: DeviceTaintRule: outside DRA_KINDS (no v1; v1alpha3 is its current alpha version, not an "old" one).
TAINT_RULE_KIND = "DeviceTaintRule"
TAINT_RULE_VERSIONS = ("v1beta2", "v1alpha3")
#: The version DeviceTaintRules are kept in after normalization.
TAINT_RULE_API_VERSION = f"{GROUP}/v1beta2"
KNOWN_KINDS = DRA_KINDS + (TAINT_RULE_KIND,) + CORE_KINDS

_EXACT_FIELDS = ("deviceClassName", "selectors", "allocationMode", "count", "adminAccess", "tolerations", "capacity")


def is_list(obj: dict) -> bool:
    kind = obj.get("kind") or ""
    if type(kind) is not str:
        return False  # no List (and an error of the shape checks at the edge)
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
        if version in ("v1beta1", "v1alpha3"):
            if version == "v1alpha3":
                obj = _drop_v1alpha3_only_fields(kind, obj)
                out = {**obj, "apiVersion": f"{GROUP}/v1"}
            if kind == "ResourceSlice":
                out["spec"] = _slice_spec_from_v1beta1(obj.get("spec") or {}, alpha=version == "v1alpha3")
            elif kind == "ResourceClaim":
                out["spec"] = _claim_spec_from_v1beta1(obj.get("spec") or {})
            elif kind == "ResourceClaimTemplate":
                spec = dict(obj.get("spec") or {})
                spec["spec"] = _claim_spec_from_v1beta1(spec.get("spec") or {})
                out["spec"] = spec
        return out
    if kind == TAINT_RULE_KIND:
        group, _, version = api_version.rpartition("/")
        if group != GROUP or version not in TAINT_RULE_VERSIONS:
            name = (obj.get("metadata") or {}).get("name", "?")
            raise InputError(
                f"{where}{kind} {name!r}: unsupported apiVersion {api_version!r} "
                f"(kubectl-dra reads {', '.join(GROUP + '/' + v for v in TAINT_RULE_VERSIONS)})"
            )
        return obj if version == "v1beta2" else {**obj, "apiVersion": TAINT_RULE_API_VERSION}
    if kind == "Pod":
        check_pod_claim_references(obj, where=where)
    if kind in CORE_KINDS:
        return obj
    return None


def old_version_notice(objects: list[dict]) -> str | None:
    """One line naming the old resource.k8s.io versions among the raw ``objects`` (None: there are none)."""
    counts: dict[str, int] = {}
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") in DRA_KINDS:
            version = str(obj.get("apiVersion") or "").rpartition("/")[2]
            if version in OLD_VERSIONS:
                counts[version] = counts.get(version, 0) + 1
    if not counts:
        return None
    parts = ", ".join(f"{n} object{'s' if n != 1 else ''} in {GROUP}/{v}" for v, n in sorted(counts.items()))
    return (f"the input has {parts}, an old API version (Kubernetes 1.31-1.33); "
            f"read as {GROUP}/v1 (current clusters serve v1)")


def _drop_v1alpha3_only_fields(kind: str, obj: dict) -> dict:
    """v1alpha3 fields of Kubernetes 1.31 that were removed in 1.32 and have no v1 counterpart."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind == "ResourceClaim" and "controller" in spec:
        return {**obj, "spec": {k: v for k, v in spec.items() if k != "controller"}}
    if kind == "DeviceClass" and "suitableNodes" in spec:
        return {**obj, "spec": {k: v for k, v in spec.items() if k != "suitableNodes"}}
    if kind == "ResourceClaimTemplate" and isinstance(spec.get("spec"), dict) and "controller" in spec["spec"]:
        inner = {k: v for k, v in spec["spec"].items() if k != "controller"}
        return {**obj, "spec": {**spec, "spec": inner}}
    return obj


def check_pod_claim_references(pod: dict, *, where: str = "") -> None:
    """Reject the pre-1.31 ``spec.resourceClaims[].source`` form with the current field names.

    Since Kubernetes 1.31 a pod claim entry names ``resourceClaimName`` or ``resourceClaimTemplateName``
    directly; the API server no longer knows ``source`` (strict decoding refuses it, lenient decoding drops
    it and leaves an entry naming nothing)."""
    spec = pod.get("spec")
    entries = spec.get("resourceClaims") if isinstance(spec, dict) else None
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and "source" in entry:
            meta = pod.get("metadata") or {}
            name = meta.get("name", "?") if isinstance(meta, dict) else "?"
            source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
            field_name = next((k for k in ("resourceClaimName", "resourceClaimTemplateName") if k in source),
                              "resourceClaimName")
            value = source.get(field_name, "NAME")
            raise InputError(
                f"{where}Pod {name!r}: spec.resourceClaims[{i}].source is the pre-1.31 form of a pod claim; "
                f"write the reference on the entry itself: {{name: {entry.get('name', 'NAME')}, "
                f"{field_name}: {value}}} (fields: name, and one of resourceClaimName or "
                f"resourceClaimTemplateName)"
            )


def _slice_spec_from_v1beta1(spec: dict, *, alpha: bool = False) -> dict:
    out = dict(spec)
    devices = []
    for dev in spec.get("devices") or []:
        flat = {k: v for k, v in dev.items() if k != "basic"}
        basic = dev.get("basic") or {}
        flat.update(copy.deepcopy(basic))
        if alpha and isinstance(flat.get("capacity"), dict):
            # v1alpha3 capacities are bare quantities (``memory: 80Gi``); v1beta1 and later wrap them in
            # DeviceCapacity (``memory: {value: 80Gi}``), as upstream's v1alpha3 conversion does.
            flat["capacity"] = {name: {"value": q} if isinstance(q, (str, int, float)) and not isinstance(q, bool) else q
                                for name, q in flat["capacity"].items()}
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
