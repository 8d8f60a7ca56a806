"""Small types shared by the allocator's modules: device ids, errors, share ids, allocated state.

Mirrors upstream ``structured/internal/types.go`` and ``structured/internal/allocatedstate.go``
(and the ``schedulerapi`` types they alias).
"""

from __future__ import annotations

import uuid
from fractions import Fraction
from typing import Any, Mapping

from kubectl_dra.quantity import Quantity

_PARSED: dict[str, Fraction] = {}


def quantity_value(value: Any) -> Fraction:
    """An amount (a quantity string, a number, or a {"value": ...} map) as an exact Fraction (parsed once per text)."""
    if isinstance(value, dict):
        value = value.get("value", "0")
    if value is None:
        return Fraction(0)
    if isinstance(value, (int, float)):
        return Fraction(value)
    text = str(value)
    hit = _PARSED.get(text)
    if hit is None:
        hit = Quantity.parse(text).value  # Fractions are immutable: safe to share
        if len(_PARSED) < 100_000:
            _PARSED[text] = hit
    return hit


# resourceapi.AllocationResultsMaxSize: at most this many device results per claim.
ALLOCATION_RESULTS_MAX_SIZE = 32

DeviceId = tuple  # (driver, pool, device): upstream DeviceID


def device_id_str(device_id: DeviceId) -> str:
    """driver/pool/device, the way upstream prints a DeviceID."""
    return f"{device_id[0]}/{device_id[1]}/{device_id[2]}"


def object_name(obj: Mapping[str, Any]) -> str:
    """klog.KObj: "namespace/name", or "name" for an object without a namespace."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name', '')}" if namespace else meta.get("name", "")


class AllocationError(Exception):
    """Upstream returns an error: allocation aborts (kube-scheduler logs the text)."""


class ResultsMaxSizeExceeded(Exception):
    """errAllocationResultMaxSizeExceeded: the current branch of the search would give a claim more
    than ALLOCATION_RESULTS_MAX_SIZE results."""


_SHARE_ID_NAMESPACE = uuid.UUID("6f1f6a52-6b7e-4d1e-9a3c-2f0d5e6b7a10")


def share_id(claim: Mapping[str, Any], request_name: str, device_id: DeviceId, result_index: int) -> str:
    """GenerateShareID, deterministic on purpose (upstream draws a random UUID): the same dry run
    gives the same shareIDs."""
    name = f"{object_name(claim)}/{request_name}/{device_id_str(device_id)}/{result_index}"
    return str(uuid.uuid5(_SHARE_ID_NAMESPACE, name))


class AllocatedState:
    """What the claims already allocated in the snapshot hold (upstream AllocatedState).

    ``devices``: ids of the devices in use (AllocatedDevices); results with ``adminAccess`` never
    count, results with a ``shareID`` count in ``consumed_capacity`` instead
    (AggregatedCapacity: device id -> {capacity name: amount}).  For the trace, also which claims
    hold each device.  One pass over the allocated claims, without building Snapshot.holders.
    """

    __slots__ = ("devices", "consumed_capacity", "_holders")

    def __init__(self, allocated_claims) -> None:
        self.devices: set = set()
        self.consumed_capacity: dict = {}
        self._holders: dict = {}
        for claim in allocated_claims:
            results = (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
            if not results:
                continue
            meta = claim.get("metadata") or {}
            label = f"{meta.get('namespace') or 'default'}/{meta.get('name', '')}"
            for result in results:
                if result.get("adminAccess"):
                    continue
                device_id = (result.get("driver", ""), result.get("pool", ""), result.get("device", ""))
                self._holders.setdefault(device_id, []).append(label)
                if result.get("shareID") is not None:
                    used = self.consumed_capacity.setdefault(device_id, {})
                    for name, amount in (result.get("consumedCapacity") or {}).items():
                        used[name] = used.get(name, 0) + quantity_value(amount)
                    continue
                self.devices.add(device_id)

    def holder_names(self, device_id: DeviceId) -> list:
        """"ns/name" of the allocated claims (not admin access) holding a device, in snapshot order."""
        return list(self._holders.get(device_id, ()))
