"""Claim constraints: ``matchAttribute`` and ``distinctAttribute``.

Mirrors upstream ``structured/internal/experimental/allocator_experimental.go``
(matchAttributeConstraint, lookupAttribute) and ``constraint.go`` (distinctAttributeConstraint).
Only scalar attribute values are compared (DRAListTypeAttributes is not modelled: see
tests/allocator/PORTED.md); values are decoded by :func:`kubectl_dra.selection.attribute_key`.

``add`` returns None when the device was added, else a description of the violation for the
trace: ``{"value": the device's value (None when it has no such attribute), "seen": the values
the devices already added have}``.
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.allocator.types import DeviceId
from kubectl_dra.selection import attribute_key, lookup_attribute


def _plain(decoded) -> Any:
    return None if decoded is None else decoded[1]


class _Constraint:
    kind = ""

    def __init__(self, index: int, request_names: list | None, attribute: str):
        self.index = index                       # position in the claim's constraints
        self.request_names = set(request_names or [])
        self.attribute = attribute               # fully qualified attribute name

    def matches(self, request_name: str, subrequest_name: str | None) -> bool:
        """Whether the constraint names this request (or this subrequest, or its parent)."""
        if subrequest_name is None:
            return request_name in self.request_names
        return request_name in self.request_names or f"{request_name}/{subrequest_name}" in self.request_names

    def _affects(self, request_name: str, subrequest_name: str | None) -> bool:
        return not self.request_names or self.matches(request_name, subrequest_name)


class MatchAttributeConstraint(_Constraint):
    """Every device of the named requests has the same value (only how many were added is tracked)."""

    kind = "matchAttribute"

    def __init__(self, index: int, request_names: list | None, attribute: str):
        super().__init__(index, request_names, attribute)
        self.value = None       # the decoded value of the first device added
        self.num_devices = 0

    def add(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any], device_id: DeviceId):
        if not self._affects(request_name, subrequest_name):
            return None
        raw = lookup_attribute(device, device_id[0], self.attribute)
        if raw is None:
            return {"value": None, "seen": self._seen()}
        value = attribute_key(raw)
        if self.num_devices == 0:
            self.value, self.num_devices = value, 1
            return None
        if value is None or value != self.value:
            return {"value": _plain(value), "seen": self._seen()}
        self.num_devices += 1
        return None

    def remove(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any],
               device_id: DeviceId) -> None:
        if self._affects(request_name, subrequest_name):
            self.num_devices -= 1

    def _seen(self) -> list:
        return [_plain(self.value)] if self.num_devices else []


class DistinctAttributeConstraint(_Constraint):
    """No two devices of the named requests have the same value, as upstream checks it.

    Reproduced upstream behaviour (1.36.2, distinctAttributeConstraint.add/remove in constraint.go): the
    values seen are kept one per *request name*, so a request's next device replaces the value of its
    previous one, and removing any device of a request forgets that request's value. Duplicates inside one
    request can therefore pass (A, B, A), and backtracking can let a duplicate through. Looks like an
    upstream bug; the scheduler does it, so the dry run does too.
    """

    kind = "distinctAttribute"

    def __init__(self, index: int, request_names: list | None, attribute: str):
        super().__init__(index, request_names, attribute)
        self.values: dict = {}  # request name -> decoded value of its latest device

    def add(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any], device_id: DeviceId):
        if not self._affects(request_name, subrequest_name):
            return None
        raw = lookup_attribute(device, device_id[0], self.attribute)
        if raw is None:
            return {"value": None, "seen": self._seen()}
        value = attribute_key(raw)
        for other in self.values.values():
            if value == other:
                return {"value": _plain(value), "seen": self._seen()}
        self.values[request_name] = value
        return None

    def remove(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any],
               device_id: DeviceId) -> None:
        if self._affects(request_name, subrequest_name):
            self.values.pop(request_name, None)

    def _seen(self) -> list:
        return [_plain(v) for v in self.values.values()]


CONSTRAINT_TYPES = {c.kind: c for c in (MatchAttributeConstraint, DistinctAttributeConstraint)}
