"""Structured record of the allocator's decisions for one node (for ``why-pending``).

kubectl-dra's own (upstream only logs its decisions at high verbosity).

Collected on every run; each device gets at most one rejection reason per
request (the first one met, in upstream's check order: in use -> class
selectors -> request selectors -> per-device node selection -> capacity ->
counters -> taints -> constraints), so the cost is one dict update per device
looked at.

Fields
------
:class:`AllocationTrace`
    ``node``: node name.  ``implementation``: "stable", "incubating" or "experimental".
    ``pools``: list of ``{"pool", "generation", "slices", "devices", "state"}``
    where state is ``ok``, ``incomplete`` or ``invalid`` (with ``reason``).
    ``requests``: one :class:`RequestTrace` per request / subrequest tried.
    ``error``: the fatal error text, if any.
:class:`RequestTrace`
    ``claim`` ("ns/name"), ``request`` ("req" or "req/sub"), ``device_class``,
    ``mode`` (ExactCount / All), ``count`` (devices needed),
    ``reachable``: names ("driver/pool/device") of devices in usable pools on the node,
    ``rejected_class`` / ``rejected_selector``: names rejected by the DeviceClass /
    the request's own CEL selectors,
    ``rejected_node``: per-device node selection did not match the node,
    ``rejected_allocated``: ``[{"device", "holders": ["ns/name", ...]}]``
    (holders empty when the device is taken by another claim of the same pod
    in this very run; ``"self": true`` added when the claim itself took it
    earlier in this very search, i.e. it is not a competing holder),
    ``rejected_binding``: devices with binding conditions while the feature is off,
    ``rejected_taint``: ``[{"device", "key", "value", "effect"}]``,
    ``rejected_counters``: ``[{"device", "counter_set", "counter", "needed", "left"}]``,
    ``rejected_capacity``: ``[{"device", "reason"}]``,
    ``rejected_constraint``: ``[{"device", "constraint", "kind", "attribute", "value", "seen"}]``,
    ``cel_errors``: ``[{"expression", "device", "message", "source"}]``,
    ``chosen``: devices picked for this request in the final result (empty when failed),
    ``failed``: True when this request (subrequest) is where allocation failed
    (for a subrequest: it was tried and was not the one used).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field


_NAME_KINDS = ("class", "selector", "node", "binding")
_LIST_FIELDS = ("reachable", "rejected_class", "rejected_selector", "rejected_node", "rejected_allocated",
                "rejected_binding", "rejected_taint", "rejected_counters", "rejected_capacity",
                "rejected_constraint", "cel_errors", "chosen")
_FIELDS = ("claim", "request", "device_class", "mode", "count") + _LIST_FIELDS + ("tried", "failed")


def _lazy_list(name: str):
    attr = "_" + name

    def get(self):
        if self._pending is not None:
            self._materialize()
        return getattr(self, attr)

    def set(self, value):
        if self._pending is not None:
            self._materialize()
        setattr(self, attr, value)
    return property(get, set)


class RequestTrace:
    """One request's record (fields: see the module docstring).

    The allocator hands over its raw per-device rejections (device id tuples) and the
    ``rejected_*`` lists are built from them on first access, so nodes nobody asks about
    cost no string formatting.  ``reachable_entries`` holds the devices behind ``reachable``
    as the allocator saw them: ((driver, pool, device), device dict, slice) (None when the
    trace was not made by the allocator).
    """

    def __init__(self, claim: str, request: str, device_class: str = "", mode: str = "ExactCount", count: int = 0,
                 **lists):
        self.claim, self.request, self.device_class, self.mode, self.count = claim, request, device_class, mode, count
        self.tried = self.failed = False
        self._pending = None
        self.reachable_entries: list | None = None
        self._reachable, self._chosen, self._cel_errors = [], [], []
        self._rejected_class, self._rejected_selector, self._rejected_node = [], [], []
        self._rejected_allocated, self._rejected_binding, self._rejected_taint = [], [], []
        self._rejected_counters, self._rejected_capacity, self._rejected_constraint = [], [], []
        if lists:
            self.tried = bool(lists.pop("tried", False))
            self.failed = bool(lists.pop("failed", False))
            for name in _LIST_FIELDS:
                if name in lists:
                    setattr(self, "_" + name, list(lists.pop(name) or []))
            if lists:
                raise TypeError(f"unknown RequestTrace fields: {', '.join(sorted(lists))}")

    for _name in _LIST_FIELDS:
        if _name not in ("reachable", "chosen", "cel_errors"):
            locals()[_name] = _lazy_list(_name)
    del _name

    @property
    def reachable(self) -> list:
        """driver/pool/device names of the devices in usable pools on the node (built on first access)."""
        if self._reachable is None:
            self._reachable = [f"{k[0]}/{k[1]}/{k[2]}" for k, _, _ in self.reachable_entries or ()]
        return self._reachable

    @reachable.setter
    def reachable(self, value) -> None:
        self._reachable = value

    @property
    def cel_errors(self) -> list:
        return self._cel_errors

    @cel_errors.setter
    def cel_errors(self, value) -> None:
        self._cel_errors = value

    @property
    def chosen(self) -> list:
        return self._chosen

    @chosen.setter
    def chosen(self, value) -> None:
        self._chosen = value

    def defer(self, rejections: dict, holders) -> None:
        """Keep the allocator's ``{device id: (kind, info)}`` rejections; lists are built on access.

        ``holders(device id)`` returns the "ns/name" holders of a device in use.
        """
        self._pending = (rejections, holders)

    def _materialize(self) -> None:
        rejections, holders = self._pending
        self._pending = None
        for key, (kind, info) in rejections.items():
            name = f"{key[0]}/{key[1]}/{key[2]}"
            if kind in _NAME_KINDS:
                getattr(self, "_rejected_" + kind).append(name)
            elif kind == "allocated":
                entry = {"device": name, "holders": holders(key)}
                if info:
                    entry.update(info)
                self._rejected_allocated.append(entry)
            else:
                getattr(self, "_rejected_" + kind).append({"device": name, **info})

    def to_dict(self) -> dict:
        out = {}
        for name in _FIELDS:
            value = getattr(self, name)
            out[name] = copy.deepcopy(value) if isinstance(value, list) else value
        return out

    def __eq__(self, other) -> bool:
        if not isinstance(other, RequestTrace):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"RequestTrace({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"


@dataclass
class AllocationTrace:
    node: str | None
    implementation: str = "stable"
    pools: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "node": self.node,
            "implementation": self.implementation,
            "pools": list(self.pools),
            "requests": [r.to_dict() for r in self.requests],
            "error": self.error,
        }
