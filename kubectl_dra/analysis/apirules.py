"""What the API server of each release refuses in a claim or a ResourceSlice: the size limits and rules of
resource.k8s.io's validation (``pkg/apis/resource/validation``: ``validateDeviceClaim``,
``validateDeviceRequest``, ``validateCELSelector``, ``validateDeviceConstraint``, the ResourceSlice checks;
the constants of ``k8s.io/api/resource/v1``'s types and the limits the OpenAPI descriptions state).

A claim the API server refuses never exists, so no dry run of it is an answer: why-pending reports
``api-rejected`` at the claims stage for a claim read from files (a cluster's claims were admitted by its
own API server) that breaks one of these rules (:func:`claim_violations`).  ``slice_violations`` holds the
per-device and per-slice limits, which changed between 1.34 and 1.35.

Per release (the claim limits are the same in all three):

* per claim: 32 requests, 32 constraints, 32 config entries; per request: 8 ``firstAvailable``
  alternatives; per (sub)request: 32 selectors, 16 tolerations; 32 request names in a constraint or a
  config entry; a CEL selector at most 10 Ki long and of estimated cost at most 1,000,000; opaque
  parameters at most 10 Ki;
* per slice: 128 devices; 1.35+: 64 when any device has taints or consumes counters; 1.34: at most 32
  counters in all shared counter sets, 1.35+: at most 8 sets (32 counters each);
* per device: 32 attributes and capacities combined; taints: 4 (1.34), 16 (1.35+); counter consumption:
  1.34: at most 32 counters in all, 1.35+: at most 2 consumptions (32 counters each); 1.36: at most 48
  attribute values (ResourceSliceMaxAttributeValuesPerDevice, DRAListTypeAttributes).  Only the items of
  list attributes are counted here: whether a scalar counts as one value too was not confirmed in the
  upstream sources read, and counting less never refuses a slice the API server takes.

Compile errors of a selector are not repeated here: the dry run reports them (``cel-error``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from kubectl_dra.cel import CelCompileError, compile_expression
from kubectl_dra.selection import LIST_ATTRIBUTE_KINDS


@dataclass(frozen=True)
class Limits:
    release: str
    requests_per_claim: int = 32           # DeviceRequestsMaxSize (= AllocationResultsMaxSize)
    constraints_per_claim: int = 32        # DeviceConstraintsMaxSize
    config_per_claim: int = 32             # DeviceConfigMaxSize
    subrequests_per_request: int = 8       # FirstAvailableDeviceRequestMaxSize
    selectors_per_request: int = 32        # DeviceSelectorsMaxSize
    tolerations_per_request: int = 16      # DeviceTolerationsMaxLength
    request_refs: int = 32                 # request names in a constraint or a config (DeviceRequestsMaxSize)
    cel_length: int = 10 * 1024            # CELSelectorExpressionMaxLength
    cel_cost: int = 1_000_000              # CELSelectorExpressionMaxCost
    opaque_parameters: int = 10 * 1024     # OpaqueParametersMaxLength
    devices_per_slice: int = 128           # ResourceSliceMaxDevices
    devices_per_slice_tainted: int | None = None  # with taints or counter consumption (1.35+: 64)
    attributes_per_device: int = 32        # ResourceSliceMaxAttributesAndCapacitiesPerDevice
    taints_per_device: int = 4             # DeviceTaintsMaxLength
    consumptions_per_device: int | None = None   # 1.35+: 2 counter consumptions per device
    counters_in_consumptions: int | None = 32    # 1.34: counters in all of a device's consumptions
    counter_sets_per_slice: int | None = None    # 1.35+: 8
    counters_in_sets: int | None = 32            # 1.34: counters in all of a slice's sets
    counters_per_set: int = 32
    list_values_per_device: int | None = None    # 1.36: ResourceSliceMaxAttributeValuesPerDevice


_134 = Limits("1.34")
_135 = Limits("1.35", devices_per_slice_tainted=64, taints_per_device=16, consumptions_per_device=2,
              counters_in_consumptions=None, counter_sets_per_slice=8, counters_in_sets=None)
_136 = Limits("1.36", devices_per_slice_tainted=64, taints_per_device=16, consumptions_per_device=2,
              counters_in_consumptions=None, counter_sets_per_slice=8, counters_in_sets=None,
              list_values_per_device=48)
RELEASES = {"1.34": _134, "1.35": _135, "1.36": _136}


def limits_for(release: str | None) -> Limits:
    """The limits of a release ("1.35"); an unknown or missing one gets the newest release's."""
    return RELEASES.get(release or "", _136)


@dataclass(frozen=True)
class Violation:
    path: str
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


def _too_many(out: list, path: str, items: Any, limit: int | None) -> None:
    if limit is not None and isinstance(items, list) and len(items) > limit:
        out.append(Violation(path, f"must have at most {limit} items (has {len(items)})"))


def _check_alternative(out: list, path: str, req: Mapping[str, Any], limits: Limits, lists: bool) -> None:
    _too_many(out, f"{path}.selectors", req.get("selectors"), limits.selectors_per_request)
    _too_many(out, f"{path}.tolerations", req.get("tolerations"), limits.tolerations_per_request)
    mode = req.get("allocationMode") or "ExactCount"
    count = req.get("count")
    if mode == "ExactCount" and isinstance(count, int) and count <= 0:
        out.append(Violation(f"{path}.count", f"must be greater than zero (is {count})"))
    if mode == "All" and count not in (None, 0):
        out.append(Violation(f"{path}.count", "must not be specified when allocationMode is 'All'"))
    for i, sel in enumerate(req.get("selectors") or []):
        expr = ((sel or {}).get("cel") or {}).get("expression") if isinstance(sel, dict) else None
        if not isinstance(expr, str):
            continue
        where = f"{path}.selectors[{i}].cel.expression"
        if len(expr.encode()) > limits.cel_length:
            out.append(Violation(where, f"must be at most {limits.cel_length} bytes long (is {len(expr.encode())})"))
            continue
        try:
            compiled = compile_expression(expr, check_cost=False, list_types=lists)
        except CelCompileError:
            continue  # the dry run reports compile errors (cel-error)
        if compiled.max_cost is not None and compiled.max_cost > limits.cel_cost:
            out.append(Violation(where, f"too complex, exceeds cost limit (estimated cost {compiled.max_cost}, "
                                        f"limit {limits.cel_cost})"))


def _request_names(requests: list) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for r in requests:
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            names[r["name"]] = {s.get("name") for s in r.get("firstAvailable") or [] if isinstance(s, dict)}
    return names


def _known_ref(ref: Any, names: dict[str, set[str]]) -> bool:
    if not isinstance(ref, str):
        return False
    parts = ref.split("/")
    if len(parts) > 2 or parts[0] not in names:
        return False
    return len(parts) == 1 or parts[1] in names[parts[0]]


def claim_violations(spec: Mapping[str, Any], limits: Limits, *, lists: bool = False,
                     prefix: str = "spec") -> list[Violation]:
    """What the API server would refuse in a claim spec (v1 shape; ``prefix``: where the spec sits,
    "spec.spec" for a template); ``lists``: DRAListTypeAttributes (the CEL environment of the selectors)."""
    out: list[Violation] = []
    devices = spec.get("devices") if isinstance(spec, dict) else None
    if not isinstance(devices, dict):
        return out
    base = f"{prefix}.devices"
    requests = devices.get("requests") or []
    _too_many(out, f"{base}.requests", requests, limits.requests_per_claim)
    _too_many(out, f"{base}.constraints", devices.get("constraints"), limits.constraints_per_claim)
    _too_many(out, f"{base}.config", devices.get("config"), limits.config_per_claim)
    seen: set = set()
    for ri, r in enumerate(requests if isinstance(requests, list) else []):
        if not isinstance(r, dict):
            continue
        path = f"{base}.requests[{ri}]"
        if r.get("name") in seen:
            out.append(Violation(f"{path}.name", f"duplicate request name {r.get('name')!r}"))
        seen.add(r.get("name"))
        if r.get("exactly") and r.get("firstAvailable"):
            out.append(Violation(path, "exactly one of `exactly` or `firstAvailable` is required, but multiple "
                                       "fields are set"))
        if isinstance(r.get("exactly"), dict):
            _check_alternative(out, f"{path}.exactly", r["exactly"], limits, lists)
        subs = r.get("firstAvailable")
        _too_many(out, f"{path}.firstAvailable", subs, limits.subrequests_per_request)
        sub_seen: set = set()
        for si, s in enumerate(subs if isinstance(subs, list) else []):
            if isinstance(s, dict):
                if s.get("name") in sub_seen:
                    out.append(Violation(f"{path}.firstAvailable[{si}].name",
                                         f"duplicate subrequest name {s.get('name')!r}"))
                sub_seen.add(s.get("name"))
                _check_alternative(out, f"{path}.firstAvailable[{si}]", s, limits, lists)
    names = _request_names(requests if isinstance(requests, list) else [])
    for field in ("constraints", "config"):
        for ci, c in enumerate(devices.get(field) or []):
            if not isinstance(c, dict):
                continue
            refs = c.get("requests")
            _too_many(out, f"{base}.{field}[{ci}].requests", refs, limits.request_refs)
            for k, ref in enumerate(refs if isinstance(refs, list) else []):
                if not _known_ref(ref, names):
                    out.append(Violation(f"{base}.{field}[{ci}].requests[{k}]",
                                         f"{ref!r} must be the name of a request in the claim or the name of a "
                                         "request and a subrequest separated by '/'"))
            if field == "config":
                params = ((c.get("opaque") or {}).get("parameters")) if isinstance(c.get("opaque"), dict) else None
                if params is not None:
                    size = len(json.dumps(params, separators=(",", ":")).encode())
                    if size > limits.opaque_parameters:
                        out.append(Violation(f"{base}.config[{ci}].opaque.parameters",
                                             f"must be at most {limits.opaque_parameters} bytes (is {size})"))
    return out


def slice_violations(spec: Mapping[str, Any], limits: Limits) -> list[Violation]:
    """What the API server would refuse in a ResourceSlice spec (v1 shape): its per-slice and per-device
    limits."""
    out: list[Violation] = []
    if not isinstance(spec, dict):
        return out
    devices = spec.get("devices") or []
    if not isinstance(devices, list):
        return out
    tainted = any(isinstance(d, dict) and (d.get("taints") or d.get("consumesCounters")) for d in devices)
    per_slice = limits.devices_per_slice_tainted if tainted and limits.devices_per_slice_tainted else \
        limits.devices_per_slice
    if len(devices) > per_slice:
        why = " (a device has taints or consumes counters)" if per_slice != limits.devices_per_slice else ""
        out.append(Violation("spec.devices", f"must have at most {per_slice} items{why} (has {len(devices)})"))
    sets = spec.get("sharedCounters") or []
    if isinstance(sets, list):
        _too_many(out, "spec.sharedCounters", sets, limits.counter_sets_per_slice)
        total = 0
        for i, cs in enumerate(sets):
            counters = (cs or {}).get("counters") if isinstance(cs, dict) else None
            if isinstance(counters, dict):
                total += len(counters)
                if len(counters) > limits.counters_per_set:
                    out.append(Violation(f"spec.sharedCounters[{i}].counters",
                                         f"must have at most {limits.counters_per_set} counters (has {len(counters)})"))
        if limits.counters_in_sets is not None and total > limits.counters_in_sets:
            out.append(Violation("spec.sharedCounters", f"must have at most {limits.counters_in_sets} counters in "
                                                         f"all sets (has {total})"))
    for di, d in enumerate(devices):
        if not isinstance(d, dict):
            continue
        path = f"spec.devices[{di}]"
        attrs = d.get("attributes") if isinstance(d.get("attributes"), dict) else {}
        caps = d.get("capacity") if isinstance(d.get("capacity"), dict) else {}
        if len(attrs) + len(caps) > limits.attributes_per_device:
            out.append(Violation(path, f"the attributes and capacities combined must be at most "
                                       f"{limits.attributes_per_device} (has {len(attrs) + len(caps)})"))
        _too_many(out, f"{path}.taints", d.get("taints"), limits.taints_per_device)
        consumptions = d.get("consumesCounters") or []
        if isinstance(consumptions, list):
            _too_many(out, f"{path}.consumesCounters", consumptions, limits.consumptions_per_device)
            total = sum(len((c or {}).get("counters") or {}) for c in consumptions if isinstance(c, dict))
            if limits.counters_in_consumptions is not None and total > limits.counters_in_consumptions:
                out.append(Violation(f"{path}.consumesCounters", f"must have at most {limits.counters_in_consumptions}"
                                                                 f" counters in all consumptions (has {total})"))
        if limits.list_values_per_device is not None:
            values = sum(len(v[k]) for v in attrs.values() if isinstance(v, dict)
                         for k in LIST_ATTRIBUTE_KINDS if isinstance(v.get(k), list))
            if values > limits.list_values_per_device:
                out.append(Violation(f"{path}.attributes", f"list attribute values must be at most "
                                                           f"{limits.list_values_per_device} per device (has {values})"))
    return out
