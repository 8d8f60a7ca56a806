"""Allocation results: what a successful search hands back, in the v1 AllocationResult shape.

Mirrors the end of upstream ``Allocator.Allocate`` and ``createNodeSelector``
(``structured/internal/experimental/allocator_experimental.go``): device results in allocation
order; class configs (once per class, listing the requests using it) then claim configs; the node
selector (pinned to the node if any device is node-local or binds to the node, else the union of
the slices' single-term node selectors, else none).  :func:`allocation_allows_node` reads such a
node selector back for a claim allocated earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from kubectl_dra.allocator.capacity import amount_str
from kubectl_dra.allocator.pools import SliceInfo
from kubectl_dra.allocator.trace import AllocationTrace
from kubectl_dra.allocator.types import AllocationError, DeviceId
from kubectl_dra.nodeselector import node_matches_selector


@dataclass
class DeviceResult:
    request: str
    driver: str
    pool: str
    device: str
    admin_access: bool | None = None
    tolerations: list | None = None
    share_id: str | None = None
    consumed_capacity: dict | None = None          # name -> quantity string
    binding_conditions: list | None = None
    binding_failure_conditions: list | None = None

    def to_v1(self) -> dict:
        out: dict[str, Any] = {"request": self.request, "driver": self.driver, "pool": self.pool, "device": self.device}
        if self.admin_access is not None:
            out["adminAccess"] = self.admin_access
        if self.tolerations:
            out["tolerations"] = self.tolerations
        if self.share_id is not None:
            out["shareID"] = self.share_id
        if self.consumed_capacity:
            out["consumedCapacity"] = dict(self.consumed_capacity)
        if self.binding_conditions:
            out["bindingConditions"] = list(self.binding_conditions)
        if self.binding_failure_conditions:
            out["bindingFailureConditions"] = list(self.binding_failure_conditions)
        return out

    @property
    def key(self) -> DeviceId:
        return (self.driver, self.pool, self.device)


@dataclass
class Outcome:
    fits: bool
    results: dict = field(default_factory=dict)        # (ns, name) -> [DeviceResult]
    allocations: dict = field(default_factory=dict)    # (ns, name) -> v1 AllocationResult dict
    error: str | None = None                           # fatal: upstream aborts scheduling
    unschedulable_reason: str | None = None            # node-local failure text (e.g. invalid pools)
    trace: AllocationTrace | None = None


class InternalDeviceResult:
    """One device taken by the search (upstream internalDeviceResult)."""

    __slots__ = ("request", "device_id", "device", "slice", "share_id", "consumed")

    def __init__(self, request, device_id: DeviceId, device: Mapping[str, Any], slice_: SliceInfo,
                 share_id: str | None, consumed: dict | None):
        self.request = request            # the RequestData it was taken for
        self.device_id = device_id
        self.device = device
        self.slice = slice_
        self.share_id = share_id          # multiple allocations (consumable capacity) only
        self.consumed = consumed          # {capacity: Fraction}, multiple allocations only


def build_outcome(claims: list, results: list, requests: Mapping[tuple, Any], selected_subrequests: Mapping[tuple, int],
                  node_name: str | None, device_binding: bool, trace: AllocationTrace) -> Outcome:
    """The successful outcome: per claim (by (namespace, name)) its DeviceResults and v1 allocation.

    ``results``: per claim, its InternalDeviceResults in allocation order; ``requests``: the run's
    RequestData by (claim, request, subrequest) index; ``selected_subrequests``: the subrequest
    kept per (claim, request).  Raises AllocationError for a node selector upstream cannot build.
    """
    out = Outcome(fits=True, trace=trace)
    for claim_index, claim in enumerate(claims):
        meta = claim.get("metadata") or {}
        claim_key = (meta.get("namespace") or "default", meta.get("name", ""))
        device_results = []
        for r in results[claim_index]:
            request = r.request
            device_id = r.device_id
            result = DeviceResult(
                request=request.full_name, driver=device_id[0], pool=device_id[1], device=device_id[2],
                admin_access=True if request.admin_access else None,
                tolerations=request.tolerations or None,
                share_id=r.share_id,
                consumed_capacity={n: amount_str(v) for n, v in r.consumed.items()} if r.consumed else None,
            )
            if device_binding:
                result.binding_conditions = list(r.device.get("bindingConditions") or []) or None
                result.binding_failure_conditions = list(r.device.get("bindingFailureConditions") or []) or None
            device_results.append(result)
        out.results[claim_key] = device_results
        out.allocations[claim_key] = {
            "devices": {"results": [r.to_v1() for r in device_results],
                        **_configs(claim_index, claim, requests, selected_subrequests)},
        }
        node_selector = create_node_selector(results[claim_index], node_name)
        if node_selector is not None:
            out.allocations[claim_key]["nodeSelector"] = node_selector
    return out


def _configs(claim_index: int, claim: Mapping[str, Any], requests: Mapping[tuple, Any],
             selected_subrequests: Mapping[tuple, int]) -> dict:
    devices = (claim.get("spec") or {}).get("devices") or {}
    claim_requests = devices.get("requests") or []
    config: list = []
    class_ranges: dict = {}  # class name -> (start, end) of its configs in ``config``
    for request_index in range(len(claim_requests)):
        sub_index = selected_subrequests.get((claim_index, request_index), 0)
        request = requests.get((claim_index, request_index, sub_index))
        if request is None or request.class_obj is None:
            continue
        class_name = request.class_name
        if class_name in class_ranges:
            start, end = class_ranges[class_name]
            for i in range(start, end):
                config[i]["requests"].append(request.full_name)
            continue
        start = len(config)
        for c in ((request.class_obj.get("spec") or {}).get("config") or []):
            entry = {"source": "FromClass", "requests": [request.full_name]}
            entry.update({k: v for k, v in c.items() if k != "requests"})
            config.append(entry)
        class_ranges[class_name] = (start, len(config))
    for c in devices.get("config") or []:
        names = c.get("requests") or []
        body = {k: v for k, v in c.items() if k != "requests"}
        if not names:
            config.append({"source": "FromClaim", **body})
            continue
        for request_index, claim_request in enumerate(claim_requests):
            if claim_request.get("name") in names:
                config.append({"source": "FromClaim", "requests": list(names), **body})
                continue
            first = requests.get((claim_index, request_index, 0))
            if first is not None and first.parent is not None:
                sub_index = selected_subrequests.get((claim_index, request_index), 0)
                if requests[(claim_index, request_index, sub_index)].full_name in names:
                    config.append({"source": "FromClaim", "requests": list(names), **body})
    return {"config": config} if config else {}


def create_node_selector(results: list, node_name: str | None) -> dict | None:
    """The claim's node selector from its InternalDeviceResults (upstream createNodeSelector)."""
    expressions: list = []
    fields: list = []
    for r in results:
        slice_: SliceInfo = r.slice
        device = r.device
        source = device if slice_.per_device_enabled else (slice_.obj.get("spec") or {})
        if source.get("nodeName") or device.get("bindsToNode"):
            return {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
        selector = source.get("nodeSelector")
        if selector is not None:
            terms = selector.get("nodeSelectorTerms") or []
            if len(terms) == 1:
                for requirement in terms[0].get("matchFields") or []:
                    if not _contains_requirement(fields, requirement):
                        fields.append(requirement)
                for requirement in terms[0].get("matchExpressions") or []:
                    if not _contains_requirement(expressions, requirement):
                        expressions.append(requirement)
            elif len(terms) > 1:
                raise AllocationError(f"create NodeSelector for claim: unsupported ResourceSlice.NodeSelector with {len(terms)} terms")
    if not expressions and not fields:
        return None
    term: dict = {}
    if expressions:
        term["matchExpressions"] = expressions
    if fields:
        term["matchFields"] = fields
    return {"nodeSelectorTerms": [term]}


def _contains_requirement(requirements: list, requirement: Mapping[str, Any]) -> bool:
    values = set(requirement.get("values") or [])
    return any(r.get("key") == requirement.get("key") and r.get("operator") == requirement.get("operator")
               and set(r.get("values") or []) == values for r in requirements)


def allocation_allows_node(claim: Mapping[str, Any], node: Mapping[str, Any] | None) -> bool:
    """Whether an already-allocated claim can be used on ``node`` (its allocation's nodeSelector)."""
    allocation = (claim.get("status") or {}).get("allocation")
    if not allocation:
        return True
    selector = allocation.get("nodeSelector")
    if selector is None:
        return True
    return node is not None and node_matches_selector(node, selector)
