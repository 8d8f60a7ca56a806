"""Dry run of kube-scheduler's structured DRA allocator (see :mod:`.engine`, :mod:`.pools`, :mod:`.trace`)."""

from kubectl_dra.allocator.engine import (
    ALLOCATION_RESULTS_MAX_SIZE,
    Allocator,
    DeviceResult,
    Outcome,
    allocation_allows_node,
    gc_paused,
    lookup_attribute,
    tolerates,
)
from kubectl_dra.allocator.trace import AllocationTrace, RequestTrace

__all__ = [
    "ALLOCATION_RESULTS_MAX_SIZE",
    "Allocator",
    "AllocationTrace",
    "DeviceResult",
    "Outcome",
    "RequestTrace",
    "allocation_allows_node",
    "gc_paused",
    "lookup_attribute",
    "tolerates",
]
