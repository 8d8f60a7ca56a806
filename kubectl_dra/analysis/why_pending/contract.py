"""The shape of the why-pending report (the ``-o json`` / ``-o yaml`` document) as typed structures.

The report is built as plain dicts (cheap to build for thousands of nodes, and what the renderers and
the JSON/YAML writers take); these TypedDicts say which keys each of them has, so the code, the README's
JSON contract block and the tests read one definition (tests check real reports and the README block
against them).  Keys of a ``total=False`` class are present only when they apply.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

ClaimState = Literal["allocated", "pending", "missing", "not-generated"]


class TargetRef(TypedDict):
    kind: Literal["Pod", "ResourceClaim"]
    namespace: str
    name: str


class _ClaimEntry(TypedDict):
    name: str | None  # None: a template claim not generated yet and no template to check it with
    namespace: str
    podClaimName: str
    state: ClaimState


class ClaimEntry(_ClaimEntry, total=False):
    template: str  # the ResourceClaimTemplate of a template claim
    synthesized: bool  # not generated yet: checked as the claim the template would give (``name``)


class _ReasonJSON(TypedDict):
    code: str  # one of reasons.REASON_CODES
    claim: str | None
    request: str | None  # "parent/sub" for a subrequest of a prioritized list
    message: str


class ReasonJSON(_ReasonJSON, total=False):
    details: dict[str, Any]  # per code; a failed request's carries "funnel" (FunnelJSON)
    fixes: list[str]


class FunnelNames(TypedDict):
    reachable: list[str]
    matchClass: list[str]
    matchSelectors: list[str]
    free: list[str]


class CelErrorJSON(TypedDict):
    device: str
    expression: str
    message: str


# "class" is a keyword: the functional form.
_FunnelJSON = TypedDict("_FunnelJSON", {
    "reachable": int, "matchClass": int, "matchSelectors": int, "free": int, "needed": int,
    "mode": str, "class": str, "heldBy": "dict[str, list[str]]", "celErrors": "list[CelErrorJSON]",
    "classSelectors": "list[str]", "requestSelectors": "list[str]", "summary": str,
})


class FunnelJSON(_FunnelJSON, total=False):
    names: FunnelNames  # with -o wide / --verbose (``device_names``)


class _AllocatedDevice(TypedDict):
    request: str
    driver: str
    pool: str
    device: str


class AllocatedDevice(_AllocatedDevice, total=False):
    adminAccess: bool
    shareID: str
    consumedCapacity: dict[str, Any]


class WhatIfReleased(TypedDict):
    claims: list[str]  # "namespace/name" of the claims held only by finished pods
    fits: bool


class _NodeEntry(TypedDict):
    name: str
    fits: bool
    allocation: dict[str, list[AllocatedDevice]] | None  # claim name -> devices; None when it does not fit
    reasons: list[ReasonJSON]


class NodeEntry(_NodeEntry, total=False):
    wouldFit: bool  # the claims can be allocated here (``fits`` may still be false: target-level reasons)
    wouldFitWithoutTaints: bool  # ruled out by node taints / cordon alone: whether it fits without them
    ifFinishedPodsReleased: WhatIfReleased


class NodeHolders(TypedDict):
    node: str
    holders: list[str]  # "ns/claim holds dev-a, dev-b (pod x Running)", one per holding claim


class _SummaryGroup(TypedDict):
    code: str
    claim: str | None
    request: str | None
    message: str
    nodes: list[str]
    example: ReasonJSON  # the first node's reason


class SummaryGroup(_SummaryGroup, total=False):
    holders: list[NodeHolders]  # all-matching-allocated and counters-exhausted groups: who holds the devices, on every node of the group


class SchedulerCondition(TypedDict):
    reason: str | None
    message: str | None


class SchedulerEvent(TypedDict):
    message: str | None
    count: int | None
    lastTimestamp: str | None


class SchedulerWords(TypedDict, total=False):
    condition: SchedulerCondition  # PodScheduled, when not True
    event: SchedulerEvent  # the newest FailedScheduling event


class PodState(TypedDict):
    phase: str | None
    nodeName: str | None


class _IncompleteEntry(TypedDict):
    resource: str  # plural, e.g. "resourceclaims"
    group: str  # "" for core
    scope: Literal["cluster", "namespace"]  # cluster: the cluster-wide (every namespace) list
    reason: Literal["forbidden", "not-served"]
    effect: str  # what the answer loses


class IncompleteEntry(_IncompleteEntry, total=False):
    namespace: str  # scope "namespace": which one
    readNamespaces: list[str]  # read in full instead (a forbidden cluster-wide list falls back to them)
    message: str  # the API server's words


Stage = Literal["claims", "allocation", "binding", "prepare", "running"]


class UncheckedStage(TypedDict):
    stage: Stage
    resource: str | None  # what could not be read (plural); None: read, but it cannot tell (e.g. which pod is a driver's)
    message: str


class _ExtendedResourceEntry(TypedDict):
    container: str
    resource: str  # e.g. "example.com/gpu", "deviceclass.resource.kubernetes.io/gpu.example.com"
    quantity: int | None  # None: not a whole number of devices
    deviceClass: str  # the DeviceClass that backs it
    dra: bool  # DRA serves it (DRAExtendedResource on, or shown on by the snapshot)


class ExtendedResourceEntry(_ExtendedResourceEntry, total=False):
    request: str  # the request of the pod's extended-resource claim that asks for it
    claim: str  # that claim (the scheduler's, or the one it would make)
    note: str  # why DRA does not serve it, or where a device plugin does


class _Report(TypedDict):
    target: TargetRef
    stage: Stage  # how far the target got; the first stage that blocks is the answer
    fits: bool
    claims: list[ClaimEntry]
    nodes: list[NodeEntry]
    reasons: list[ReasonJSON]  # target-level
    summary: list[SummaryGroup]  # nodes grouped by first reason, biggest group first
    featureGates: dict[str, Any]  # {"version": ..., gate: bool, ...}
    note: str
    fixes: list[str]


class Report(_Report, total=False):
    scheduler: SchedulerWords  # pod targets only
    pod: PodState  # pod targets only
    incomplete: list[IncompleteEntry]  # what could not be read and the answer depends on (exit code 6)
    couldFit: bool  # "fits" is false only because of what could not be read: some node would fit
    unchecked: list[UncheckedStage]  # stages that could not be checked (what they needed was not readable)
    inferredGates: dict[str, str]  # gate -> what in the snapshot shows it on (observed state wins over defaults)
    extendedResources: list[ExtendedResourceEntry]  # pod targets asking for extended resources a DeviceClass backs


def keys_of(typed: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(required keys, optional keys) of one of the TypedDicts above."""
    return frozenset(typed.__required_keys__), frozenset(typed.__optional_keys__)
