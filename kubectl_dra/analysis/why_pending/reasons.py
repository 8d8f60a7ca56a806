"""Reason codes and the :class:`Reason` type of why-pending reports.

Every code is a named constant here, and :data:`REASON_CODES` lists them all; codes are stable (part of
the JSON contract, ``reasons[].code`` and ``nodes[].reasons[].code``) and each one has a row in the
README's reason-code table (a test keeps the two equal).  A new code: add its constant and its entry in
:data:`REASON_CODES` here, a row in the README table, and a scenario in the why-pending tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report's typed shape, for annotations only (not imported at run time)
    from kubectl_dra.analysis.why_pending.contract import ReasonJSON

# Target-level (the pod or claim itself, before any node is looked at).
NO_CLAIMS = "no-claims"
CLAIM_NOT_FOUND = "claim-not-found"
TEMPLATE_NOT_GENERATED = "template-not-generated"
TEMPLATE_NOT_FOUND = "template-not-found"
CLAIM_DELETING = "claim-deleting"
# Per node: the devices.
NO_CLASS = "no-class"
NO_DEVICES_FOR_DRIVER = "no-devices-for-driver"
SELECTOR_MATCHES_NOTHING = "selector-matches-nothing"
CEL_ERROR = "cel-error"
INSUFFICIENT_COUNT = "insufficient-count"
ALL_MATCHING_ALLOCATED = "all-matching-devices-allocated"
CONSTRAINT_UNSATISFIABLE = "constraint-unsatisfiable"
COUNTERS_EXHAUSTED = "counters-exhausted"
CAPACITY_EXHAUSTED = "capacity-exhausted"
TAINT = "taint"
INCOMPLETE_POOL = "incomplete-pool"
INVALID_POOL = "invalid-pool"
BINDING_CONDITIONS = "binding-conditions"
ALLOCATION_ERROR = "allocation-error"
NOT_FITTING = "does-not-fit"
# Per node: the pod's own node selection, node taints, cordon, allocated claims.
NODE_AFFINITY = "node-affinity"
# Per node: the dry run fits, but objects that could not be read (forbidden) may make it wrong.
INCOMPLETE_VIEW = "incomplete-view"
# The later stages of the Pending phase (stages.py): the claims stage (claims_stage.py) ...
QUOTA_EXCEEDED = "quota-exceeded"
ADMIN_ACCESS_NOT_ALLOWED = "admin-access-not-allowed"
API_REJECTED = "api-rejected"
# ... binding (binding.py) ...
BINDING_CONDITIONS_PENDING = "binding-conditions-pending"
BINDING_FAILED = "binding-failed"
RESERVED_FOR_FULL = "reserved-for-full"
# ... prepare (prepare.py) ...
NODE_NAME_BYPASSES_SCHEDULER = "node-name-bypasses-scheduler"
KUBELET_PREPARE_FAILED = "kubelet-prepare-failed"
DRIVER_NOT_RUNNING = "driver-not-running"
DEVICE_UNHEALTHY = "device-unhealthy"

REASON_CODES: tuple[str, ...] = (
    NO_CLAIMS, CLAIM_NOT_FOUND, TEMPLATE_NOT_GENERATED, TEMPLATE_NOT_FOUND, CLAIM_DELETING,
    NO_CLASS, NO_DEVICES_FOR_DRIVER, SELECTOR_MATCHES_NOTHING, CEL_ERROR, INSUFFICIENT_COUNT,
    ALL_MATCHING_ALLOCATED, CONSTRAINT_UNSATISFIABLE, COUNTERS_EXHAUSTED, CAPACITY_EXHAUSTED, TAINT,
    INCOMPLETE_POOL, INVALID_POOL, BINDING_CONDITIONS, ALLOCATION_ERROR, NOT_FITTING, NODE_AFFINITY,
    INCOMPLETE_VIEW, QUOTA_EXCEEDED, ADMIN_ACCESS_NOT_ALLOWED, API_REJECTED, BINDING_CONDITIONS_PENDING,
    BINDING_FAILED, RESERVED_FOR_FULL, NODE_NAME_BYPASSES_SCHEDULER, KUBELET_PREPARE_FAILED, DRIVER_NOT_RUNNING, DEVICE_UNHEALTHY,
)


@dataclass
class Reason:
    """One reason, target-level or on one node; :meth:`to_dict` is its JSON (README: reasons[])."""

    code: str
    message: str
    claim: str | None = None
    request: str | None = None
    details: dict = field(default_factory=dict)
    fixes: list = field(default_factory=list)

    def to_dict(self) -> ReasonJSON:
        out: ReasonJSON = {"code": self.code, "claim": self.claim, "request": self.request, "message": self.message}
        if self.details:
            out["details"] = self.details
        if self.fixes:
            out["fixes"] = list(self.fixes)
        return out
