"""Stage 3, binding: the devices are allocated, the pod is not bound yet.

* Binding conditions (DRADeviceBindingConditions): a device whose allocation result lists
  ``bindingConditions`` holds the pod in the scheduler's PreBind until the driver sets every one of
  them True in the claim's ``status.devices[].conditions``.  A True ``bindingFailureConditions`` entry,
  or waiting longer than the binding timeout since ``status.allocation.allocationTimestamp``, fails the
  binding (the scheduler then deallocates and tries again): ``binding-failed``; still waiting:
  ``binding-conditions-pending``.  The timeout is kube-scheduler's DynamicResources plugin argument
  ``bindingTimeout``, default 600 s (``DynamicResourcesBindingTimeoutDefault`` in
  k8s.io/kubernetes pkg/scheduler/apis/config, types_pluginargs.go).  "Now" is ``--now``, else the
  server's time when it was read (live, or recorded by ``dump``), else the newest timestamp in the input.
* ``reservedFor`` holds at most 256 consumers (``ResourceClaimReservedForMaxSize``); a shared claim whose
  list is full cannot take the pod, which the scheduler finds out when it reserves the claim in PreBind
  (``reserved-for-full``).  Consumers are named as what they are (pods, PodGroups, other kinds).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from kubectl_dra.analysis.consumers import consumers_of, pod_group_of
from kubectl_dra.analysis.why_pending.reasons import BINDING_CONDITIONS_PENDING, BINDING_FAILED, RESERVED_FOR_FULL, Reason
from kubectl_dra.snapshot import DeviceKey, PodClaim, Snapshot, name_of

if TYPE_CHECKING:
    from kubectl_dra.analysis.why_pending.target import ResolvedTarget

DEFAULT_BINDING_TIMEOUT = 600.0  # seconds; upstream DynamicResourcesBindingTimeoutDefault
RESERVED_FOR_MAX = 256  # resource.k8s.io ResourceClaimReservedForMaxSize


def _parse(text):
    from kubectl_dra.analysis.why_pending.stages import parse_time

    return parse_time(text)


def input_now(snap: Snapshot) -> datetime | None:
    """The server's time when the input was read, else the newest timestamp the input holds."""
    t = _parse(snap.source.server_time)
    if t is not None:
        return t
    newest: datetime | None = None

    def see(text: Any) -> None:
        nonlocal newest
        v = _parse(text) if isinstance(text, str) else None
        if v is not None and (newest is None or v > newest):
            newest = v

    for obj in list(snap.resource_claims.values()) + list(snap.pods.values()):
        see((obj.get("metadata") or {}).get("creationTimestamp"))
        status = obj.get("status") or {}
        see((status.get("allocation") or {}).get("allocationTimestamp"))
        for c in status.get("conditions") or []:
            see(c.get("lastTransitionTime"))
        for d in status.get("devices") or []:
            for c in d.get("conditions") or []:
                see(c.get("lastTransitionTime"))
    for e in snap.events:
        see(e.get("lastTimestamp"))
        see(e.get("eventTime"))
    return newest


def _result_conditions(snap: Snapshot, r: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(bindingConditions, bindingFailureConditions) of one allocated device: the allocation result's copy,
    else the device's own in its ResourceSlice."""
    conds, fails = list(r.get("bindingConditions") or []), list(r.get("bindingFailureConditions") or [])
    if not conds and not fails:
        entry = snap.devices_by_key.get(DeviceKey(r.get("driver", ""), r.get("pool", ""), r.get("device", "")))
        if entry is not None:
            conds = list(entry.device.get("bindingConditions") or [])
            fails = list(entry.device.get("bindingFailureConditions") or [])
    return conds, fails


def check_binding(snap: Snapshot, allocated: Iterable[PodClaim], pod: Mapping[str, Any] | None, *,
                  now: datetime | None, timeout: float | None) -> list[Reason]:
    reasons: list[Reason] = []
    timeout = DEFAULT_BINDING_TIMEOUT if timeout is None else timeout
    current = now
    for pc in allocated:
        claim = pc.claim or {}
        status = claim.get("status") or {}
        alloc = status.get("allocation") or {}
        dev_status = {(d.get("driver"), d.get("pool"), d.get("device")): d for d in status.get("devices") or []}
        for r in (alloc.get("devices") or {}).get("results") or []:
            conds, fails = _result_conditions(snap, r)
            if not conds and not fails:
                continue
            key = (r.get("driver"), r.get("pool"), r.get("device"))
            dev = "/".join(str(x) for x in key)
            have = {c.get("type"): c for c in (dev_status.get(key) or {}).get("conditions") or []}
            failed = [f for f in fails if (have.get(f) or {}).get("status") == "True"]
            base = {"device": dev, "request": r.get("request"), "bindingConditions": conds,
                    "bindingFailureConditions": fails}
            if failed:
                c = have[failed[0]]
                why = f" ({c.get('reason')}: {c.get('message')})" if c.get("reason") or c.get("message") else ""
                reasons.append(Reason(
                    BINDING_FAILED, f"device {dev} of claim {pc.claim_name}: binding failure condition "
                    f"{failed[0]} is True{why}; the scheduler gives the allocation up and tries again",
                    claim=pc.claim_name, request=r.get("request"), details={**base, "failed": failed},
                    fixes=[f"check driver {r.get('driver')}'s controller: it reported {failed[0]} for {dev}"]))
                continue
            missing = [c for c in conds if (have.get(c) or {}).get("status") != "True"]
            if not missing:
                continue
            if current is None:
                current = input_now(snap)
            at = _parse(alloc.get("allocationTimestamp"))
            deadline = at + timedelta(seconds=timeout) if at is not None else None
            details = {**base, "missing": missing, "timeoutSeconds": timeout,
                       "allocatedAt": alloc.get("allocationTimestamp"),
                       "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ") if deadline else None,
                       "now": current.strftime("%Y-%m-%dT%H:%M:%SZ") if current else None}
            if deadline is not None and current is not None and current > deadline:
                reasons.append(Reason(
                    BINDING_FAILED, f"device {dev} of claim {pc.claim_name}: binding conditions "
                    f"{', '.join(missing)} were not True within the binding timeout ({timeout:g}s since "
                    f"allocation at {alloc.get('allocationTimestamp')}); the scheduler gives the allocation up",
                    claim=pc.claim_name, request=r.get("request"), details={**details, "timedOut": True},
                    fixes=[f"check driver {r.get('driver')}: it never set {', '.join(missing)} on {dev}"]))
            else:
                left = f", {int((deadline - current).total_seconds())}s left" if deadline and current else ""
                reasons.append(Reason(
                    BINDING_CONDITIONS_PENDING, f"device {dev} of claim {pc.claim_name} waits for binding "
                    f"conditions {', '.join(missing)} (timeout {timeout:g}s{left}); the pod binds once the "
                    "driver sets them True", claim=pc.claim_name, request=r.get("request"), details=details,
                    fixes=[f"wait for driver {r.get('driver')} to set {', '.join(missing)} on {dev}, or check its "
                           "controller's logs"]))
    return reasons


def reserved_for_pod(claim: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """Whether the claim is reserved for the pod: by the pod itself, or its PodGroup
    (upstream resourceclaim.IsReservedForPod)."""
    uid = (pod.get("metadata") or {}).get("uid")
    group = pod_group_of(pod)
    for c in consumers_of(claim):
        if c.is_pod and (c.name == name_of(pod) or (uid and c.uid == uid)):
            return True
        if group and c.kind == "PodGroup" and c.name == group:
            return True
    return False


def check_reserved_for(snap: Snapshot, allocated: Iterable[PodClaim], pod: Mapping[str, Any]) -> list[Reason]:
    reasons = []
    for pc in allocated:
        claim = pc.claim or {}
        refs = (claim.get("status") or {}).get("reservedFor") or []
        if len(refs) < RESERVED_FOR_MAX or reserved_for_pod(claim, pod):
            continue
        kinds: dict[str, int] = {}
        for c in consumers_of(claim):
            kinds[c.type_text] = kinds.get(c.type_text, 0) + 1
        held = ", ".join(f"{n} {k}{'s' if n != 1 and k == 'pod' else ''}" for k, n in sorted(kinds.items()))
        reasons.append(Reason(
            RESERVED_FOR_FULL, f"claim {pc.claim_name} is already reserved for {len(refs)} consumers ({held}), the "
            f"most reservedFor may hold ({RESERVED_FOR_MAX}): the scheduler cannot reserve it for this pod",
            claim=pc.claim_name, details={"reservedFor": len(refs), "max": RESERVED_FOR_MAX, "consumers": kinds},
            fixes=[f"give the pod its own claim (a ResourceClaimTemplate) instead of sharing {pc.claim_name}, or wait "
                   "for consumers to finish"]))
    return reasons


def waiting_for_bind(target: ResolvedTarget, pod: Mapping[str, Any]) -> bool:
    """Every claim is allocated and reserved for the pod: the scheduler picked a node and is binding it."""
    return bool(target.allocated) and not target.to_allocate and not target.reasons and all(
        reserved_for_pod(pc.claim or {}, pod) for pc in target.allocated)


def allocated_node(pod: Mapping[str, Any], target: ResolvedTarget) -> str | None:
    """The node a pod that is being bound goes to: its nominated node, else the node its claims are on."""
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    if nominated:
        return nominated
    from kubectl_dra.analysis.inventory import allocation_node

    for pc in target.allocated:
        where = allocation_node(pc.claim or {})
        if where and where != "<selector>":
            return where
    return None
