"""Request planning: the node-independent validation of the claims, in upstream's order.

Mirrors the claim loop of upstream ``Allocator.Allocate`` and ``validateDeviceRequest``
(``structured/internal/experimental/allocator_experimental.go``):

Every claim in order, every request in order (every subrequest of a ``firstAvailable`` list):
feature gates (subrequests need DRAPrioritizedList, capacity requests DRAConsumableCapacity,
adminAccess DRAAdminAccess), selectors must be CEL, the DeviceClass must exist, the allocation
mode must be known.  Constraints are built (``distinctAttribute`` only in the incubating and experimental
implementations; the stable one rejects it as an unknown constraint).  The node-dependent part of
validation (``All`` collects its devices on the node, the 32-results limit) is in the search
(:mod:`kubectl_dra.allocator.allocator`).

The plan is made once for a list of claims and reused on every node: an error is kept as its
text at the point where upstream would return it, so that it keeps upstream's order against the
node-dependent checks.
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.allocator.constraints import CONSTRAINT_TYPES
from kubectl_dra.allocator.trace import RequestTrace
from kubectl_dra.allocator.types import object_name
from kubectl_dra.features import FeatureGates


class RequestInfo:
    """Node-independent facts about one request / subrequest of one claim (validated once)."""

    __slots__ = ("request_index", "sub_index", "name", "parent", "spec", "class_obj", "class_name", "mode", "count",
                 "full_name", "admin_access", "has_admin_access", "selectors", "tolerations", "capacity_requests",
                 "claim_label", "class_exprs", "request_exprs")

    def __init__(self, request_index: int, sub_index: int, name: str, parent: str | None, spec: Mapping[str, Any],
                 claim_label: str):
        self.request_index, self.sub_index = request_index, sub_index
        self.name, self.parent, self.spec = name, parent, spec
        self.claim_label = claim_label
        self.full_name = f"{parent}/{name}" if parent else name
        self.class_name = spec.get("deviceClassName", "") or ""
        self.mode = spec.get("allocationMode") or "ExactCount"
        self.admin_access = bool(parent is None and spec.get("adminAccess"))
        self.has_admin_access = parent is None and spec.get("adminAccess") is not None
        self.selectors = list(spec.get("selectors") or [])
        self.tolerations = list(spec.get("tolerations") or [])
        capacity = spec.get("capacity")
        self.capacity_requests = (capacity or {}).get("requests") if capacity is not None else None
        self.class_obj: Mapping[str, Any] | None = None
        self.count = 0
        # [(selector index, expression text, "class X" / "claim ns/name")] per source, set by validation
        self.class_exprs: list = []
        self.request_exprs: list = []


class RequestData:
    """One request / subrequest in one run (one node): the shared facts plus search state
    (upstream requestData).  The facts are copied for the search's attribute reads."""

    __slots__ = ("info", "claim_index", "request_index", "sub_index", "name", "parent", "class_obj", "class_name",
                 "mode", "full_name", "admin_access", "tolerations", "capacity_requests",
                 "num_devices", "all_devices", "trace", "rejections")

    def __init__(self, claim_index: int, info: RequestInfo):
        self.info = info
        self.claim_index, self.request_index, self.sub_index = claim_index, info.request_index, info.sub_index
        self.name, self.parent, self.full_name = info.name, info.parent, info.full_name
        self.class_obj, self.class_name, self.mode = info.class_obj, info.class_name, info.mode
        self.admin_access, self.tolerations = info.admin_access, info.tolerations
        self.capacity_requests = info.capacity_requests
        self.num_devices = info.count
        self.all_devices: list | None = None  # allocationMode All: (device id, device, slice, pool) on the node
        self.trace = RequestTrace(claim=info.claim_label, request=info.full_name, device_class=info.class_name,
                                  mode=info.mode, count=info.count)
        self.rejections: dict = {}  # device id -> (kind, details): the first reason met, for the trace


class ClaimPlanner:
    """Plans of claims for one snapshot and feature gates, cached for the last list of claims.

    A claim's plan is ``(groups, constraints)``.  A group is ``(has subrequests, items)`` for one
    request, an item a validated :class:`RequestInfo` or the text of the error upstream would
    return at that point (nothing follows an error).  ``constraints`` is a list of
    ``(constraint type, index, request names, attribute)``, or an error text.
    """

    def __init__(self, gates: FeatureGates, device_classes: Mapping[str, Mapping[str, Any]]):
        self.gates = gates
        self.device_classes = device_classes
        self._last: tuple | None = None  # (claims, their plans)

    def plan(self, claims: list) -> list:
        last = self._last
        if last is not None and len(last[0]) == len(claims) and all(a is b for a, b in zip(last[0], claims)):
            return last[1]
        plans = [self.plan_claim(c) for c in claims]
        self._last = (tuple(claims), plans)
        return plans

    def plan_claim(self, claim: Mapping[str, Any]):
        gates = self.gates
        label = object_name(claim)
        devices = (claim.get("spec") or {}).get("devices") or {}
        groups: list = []
        for request_index, request in enumerate(devices.get("requests") or []):
            name = request.get("name", "")
            subrequests = request.get("firstAvailable") or []
            items: list = []
            groups.append((bool(subrequests), items))
            if subrequests and not gates.prioritized_list:
                items.append(f"claim {label}, request {name}: has subrequests, but the DRAPrioritizedList feature is disabled")
                return groups, []
            if not gates.consumable_capacity:
                if (request.get("exactly") or {}).get("capacity") is not None:
                    items.append(f"claim {label}, request {name}: has capacity requests, but the DRAConsumableCapacity feature is disabled")
                    return groups, []
                bad = next((sub for sub in subrequests if sub.get("capacity") is not None), None)
                if bad is not None:
                    items.append(f"claim {label}, subrequest {bad.get('name', '')}: has capacity requests, but the DRAConsumableCapacity feature is disabled")
                    return groups, []
            if subrequests:
                infos = [RequestInfo(request_index, sub_index, sub.get("name", ""), name, sub, label)
                         for sub_index, sub in enumerate(subrequests)]
            else:
                infos = [RequestInfo(request_index, 0, name, None, request.get("exactly") or {}, label)]
            for info in infos:
                error = self.validate_device_request(info)
                items.append(error if error is not None else info)
                if error is not None:
                    return groups, []
        constraints: list = []
        for i, c in enumerate(devices.get("constraints") or []):
            if c.get("matchAttribute"):
                constraints.append((CONSTRAINT_TYPES["matchAttribute"], i, c.get("requests"), c["matchAttribute"]))
            elif c.get("distinctAttribute") and gates.implementation != "stable":
                constraints.append((CONSTRAINT_TYPES["distinctAttribute"], i, c.get("requests"), c["distinctAttribute"]))
            else:
                return groups, f"claim {label}, constraint #{i}: empty constraint (unsupported constraint type?)"
        return groups, constraints

    def validate_device_request(self, info: RequestInfo) -> str | None:
        """The node-independent checks of upstream validateDeviceRequest: None, or the error text."""
        label = info.claim_label
        for i, selector in enumerate(info.selectors):
            if not (selector or {}).get("cel"):
                return f"claim {label}, request {info.name}, selector #{i}: CEL expression empty (unsupported selector type?)"
        if not self.gates.admin_access and info.has_admin_access:
            return f"claim {label}, request {info.name}: admin access is requested, but the feature is disabled"
        if not info.class_name:
            return f"claim {label}, request {info.name}: missing device class name (unsupported request type?)"
        device_class = self.device_classes.get(info.class_name)
        if device_class is None:
            return (f"claim {label}, request {info.name}: could not retrieve device class {info.class_name}: "
                    f"deviceclass.resource.k8s.io \"{info.class_name}\" not found")
        info.class_obj = device_class
        where = f"class {(device_class.get('metadata') or {}).get('name', '')}"
        info.class_exprs = [(i, ((selector or {}).get("cel") or {}).get("expression", ""), where)
                            for i, selector in enumerate(((device_class.get("spec") or {}).get("selectors") or []))]
        where = f"claim {label}"
        info.request_exprs = [(i, ((selector or {}).get("cel") or {}).get("expression", ""), where)
                              for i, selector in enumerate(info.selectors)]
        if info.mode == "ExactCount":
            count = info.spec.get("count")
            info.count = int(1 if count is None else count)
        elif info.mode != "All":
            return f"claim {label}, request {info.name}: unsupported count mode {info.mode}"
        return None
