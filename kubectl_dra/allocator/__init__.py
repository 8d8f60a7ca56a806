"""Dry run of kube-scheduler's structured DRA allocator.

One module per concept, along upstream's own files (``structured/internal/experimental/`` and
``structured/internal/types.go``): :mod:`.allocator` (the public Allocator and the search),
:mod:`.requests` (request planning and validation), :mod:`.pools` (which pools a node sees),
:mod:`.constraints`, :mod:`.capacity` (consumable capacity), :mod:`.tolerations` (device taints),
:mod:`.results`, :mod:`.types`, and :mod:`.trace` (the record why-pending explains).  Selector
evaluation is :mod:`kubectl_dra.selection`, shared with the other commands.
"""

from kubectl_dra.allocator.allocator import Allocator, gc_paused
from kubectl_dra.allocator.results import DeviceResult, Outcome, allocation_allows_node
from kubectl_dra.allocator.tolerations import tolerates
from kubectl_dra.allocator.trace import AllocationTrace, RequestTrace
from kubectl_dra.allocator.types import ALLOCATION_RESULTS_MAX_SIZE
from kubectl_dra.selection import lookup_attribute

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
