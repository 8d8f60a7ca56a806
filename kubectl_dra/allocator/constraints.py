"""Claim constraints: ``matchAttribute`` and ``distinctAttribute``.

Mirrors upstream ``structured/internal/experimental/allocator_experimental.go``
(matchAttributeConstraint, lookupAttribute, attributeAsSet, deviceAttributeListAsSet) and
``constraint.go`` (distinctAttributeConstraint).  Without DRAListTypeAttributes, scalar values are
compared (decoded by :func:`kubectl_dra.selection.attribute_key`); a list-only attribute then holds
no value and never satisfies a constraint.  With it (``lists``), every value is a set
(:func:`kubectl_dra.selection.attribute_values`: a scalar is a one-element set, values of different
kinds never meet): ``matchAttribute`` needs a common element across all the devices (the running
intersection must stay non-empty), ``distinctAttribute`` needs the devices' sets pairwise disjoint.

``add`` returns None when the device was added, else a description of the violation for the
trace: ``{"value": the device's value (None when it has no such attribute), "seen": the values
the devices already added have}``.
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.allocator.types import DeviceId
from kubectl_dra.selection import attribute_key, attribute_plain, attribute_values, lookup_attribute


def _plain(decoded) -> Any:
    return None if decoded is None else decoded[1]


def _plain_set(values) -> Any:
    """A list-mode value (kind, frozenset) for the trace: its elements as a sorted list."""
    if values is None:
        return None
    try:
        return sorted(values[1])
    except TypeError:  # pragma: no cover - one kind per set, so its elements compare
        return list(values[1])


def _intersects(a, b) -> bool:
    """Upstream deviceAttributeListAsSet.hasIntersection: same kind and a common element."""
    return a is not None and b is not None and a[0] == b[0] and not a[1].isdisjoint(b[1])


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
    """Every device of the named requests has the same value (only how many were added is tracked).

    With DRAListTypeAttributes: the devices' value sets have a common element.  Reproduced upstream
    behaviour (1.36.2, matchAttributeConstraint.add/remove): the running intersection only narrows;
    removing a device (backtracking) lowers the count but does not widen it again until the count
    is back to zero, so after backtracking a device can be refused that shares values with every
    device still in the set.  Looks like an upstream bug; the scheduler does it, so the dry run does too.
    """

    kind = "matchAttribute"

    def __init__(self, index: int, request_names: list | None, attribute: str, lists: bool = False):
        super().__init__(index, request_names, attribute)
        self.lists = lists
        self.value = None       # the decoded value of the first device added (lists: the intersection)
        self.num_devices = 0

    def add(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any], device_id: DeviceId):
        if not self._affects(request_name, subrequest_name):
            return None
        raw = lookup_attribute(device, device_id[0], self.attribute)
        if raw is None:
            return {"value": None, "seen": self._seen()}
        if self.lists:
            values = attribute_values(raw)
            if values is None:
                return {"value": attribute_plain(raw), "seen": self._seen()}
            if self.num_devices == 0:
                self.value, self.num_devices = values, 1
                return None
            if not _intersects(self.value, values):
                return {"value": _plain_set(values), "seen": self._seen()}
            self.value = (values[0], self.value[1] & values[1])
            self.num_devices += 1
            return None
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
        if not self.num_devices:
            return []
        return [_plain_set(self.value) if self.lists else _plain(self.value)]


class DistinctAttributeConstraint(_Constraint):
    """No two devices of the named requests have the same value, as upstream checks it (with
    DRAListTypeAttributes: no two devices' value sets share an element).

    Reproduced upstream behaviour (1.36.2, distinctAttributeConstraint.add/remove in constraint.go): the
    values seen are kept one per *request name*, so a request's next device replaces the value of its
    previous one, and removing any device of a request forgets that request's value. Duplicates inside one
    request can therefore pass (A, B, A), and backtracking can let a duplicate through. Looks like an
    upstream bug; the scheduler does it, so the dry run does too.
    """

    kind = "distinctAttribute"

    def __init__(self, index: int, request_names: list | None, attribute: str, lists: bool = False):
        super().__init__(index, request_names, attribute)
        self.lists = lists
        self.values: dict = {}  # request name -> decoded value of its latest device (lists: its set)
        self.num_devices = 0

    def add(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any], device_id: DeviceId):
        if not self._affects(request_name, subrequest_name):
            return None
        raw = lookup_attribute(device, device_id[0], self.attribute)
        if raw is None:
            return {"value": None, "seen": self._seen()}
        value = attribute_values(raw) if self.lists else attribute_key(raw)
        if self.num_devices and not self._distinct(value):
            return {"value": (_plain_set(value) if value is not None else attribute_plain(raw)) if self.lists
                    else _plain(value), "seen": self._seen()}
        self.values[request_name] = value
        self.num_devices += 1
        return None

    def _distinct(self, value) -> bool:
        """Upstream distinctAttributeConstraint.matchesAttribute."""
        if self.lists:
            if value is None:
                return False  # unknown type: refused even when no value is kept
            return not any(_intersects(value, other) for other in self.values.values() if other is not None)
        for other in self.values.values():
            if value is None or value == other:  # an unknown type never matches a kept value
                return False
        return True

    def remove(self, request_name: str, subrequest_name: str | None, device: Mapping[str, Any],
               device_id: DeviceId) -> None:
        if self._affects(request_name, subrequest_name):
            self.values.pop(request_name, None)
            self.num_devices -= 1

    def _seen(self) -> list:
        if self.lists:
            return [_plain_set(v) for v in self.values.values()]
        return [_plain(v) for v in self.values.values()]


CONSTRAINT_TYPES = {c.kind: c for c in (MatchAttributeConstraint, DistinctAttributeConstraint)}
