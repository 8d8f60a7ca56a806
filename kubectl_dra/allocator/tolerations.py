"""Device taints and the tolerations of a request (DRADeviceTaints).

Mirrors upstream ``taintPreventsAllocation`` / ``taintTolerated``
(``structured/internal/experimental/allocator_experimental.go``) and
``resourceclaim.ToleratesTaint`` (k8s.io/dynamic-resource-allocation/resourceclaim).
DeviceTaintRules are not read: only taints published in the slices count.
"""

from __future__ import annotations

from typing import Any, Mapping

# Only these effects keep a device from being allocated; any other (None included) is ignored.
_PREVENTING_EFFECTS = ("NoSchedule", "NoExecute")


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """resourceclaim.ToleratesTaint."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def untolerated_taint(device: Mapping[str, Any], tolerations: list) -> Mapping[str, Any] | None:
    """The first taint of the device that prevents allocation and no toleration accepts, else None
    (upstream taintPreventsAllocation, which answers only whether there is one)."""
    for taint in device.get("taints") or ():
        if taint.get("effect") not in _PREVENTING_EFFECTS:
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None
