"""Structured record of the allocator's decisions for one node (for ``why-pending``).

Collected on every run; each device gets at most one rejection reason per
request (the first one met, in upstream's check order: in use -> class
selectors -> request selectors -> per-device node selection -> capacity ->
counters -> taints -> constraints), so the cost is one dict update per device
looked at.

Fields
------
:class:`AllocationTrace`
    ``node``: node name.  ``implementation``: "stable" or "experimental".
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

from dataclasses import asdict, dataclass, field


@dataclass
class RequestTrace:
    claim: str
    request: str
    device_class: str = ""
    mode: str = "ExactCount"
    count: int = 0
    reachable: list = field(default_factory=list)
    rejected_class: list = field(default_factory=list)
    rejected_selector: list = field(default_factory=list)
    rejected_node: list = field(default_factory=list)
    rejected_allocated: list = field(default_factory=list)
    rejected_binding: list = field(default_factory=list)
    rejected_taint: list = field(default_factory=list)
    rejected_counters: list = field(default_factory=list)
    rejected_capacity: list = field(default_factory=list)
    rejected_constraint: list = field(default_factory=list)
    cel_errors: list = field(default_factory=list)
    chosen: list = field(default_factory=list)
    tried: bool = False
    failed: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


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
