"""`why-pending`: why a pod's (or a claim's) devices cannot be allocated, node by node.

The report is built in three steps, all pure functions over a Snapshot:

1. resolve the target's claims (``spec.resourceClaims`` through
   ``status.resourceClaimStatuses``); missing or not-yet-generated claims are
   answers in their own right (target-level reasons);
2. rule nodes out with the pod's own scheduling constraints that decide DRA
   outcomes (``nodeName``, ``nodeSelector``, required node affinity, node
   taints, cordon) and with the node selectors of claims that are already
   allocated; each such node gets a ``node-affinity`` reason;
3. on every remaining node, run the dry-run allocator over all of the
   target's unallocated claims together and turn a failure into reasons with a
   device funnel: reachable -> class selectors -> request selectors -> free ->
   constraints / counters / taints.

The result is one plain dict (the `-o json` document, see the JSON contract
in the README and its typed form in contract.py); the text renderer only formats it.

Modules: reasons (codes, Reason), target (step 1), nodes (step 2), explainer (step 3's
reasons and funnel), whatif (re-runs that confirm a fix), summary (groups, fixes, the
scheduler's words), contract (the report's shape), report (the entry point).
"""

from kubectl_dra.analysis.why_pending.explainer import Funnel, SeenDevice
from kubectl_dra.analysis.why_pending.nodes import node_exclusions, node_taint_reasons, taint_text
from kubectl_dra.analysis.why_pending.reasons import (
    ALL_MATCHING_ALLOCATED, ALLOCATION_ERROR, BINDING_CONDITIONS, CAPACITY_EXHAUSTED, CEL_ERROR, CLAIM_DELETING,
    CLAIM_NOT_FOUND, CONSTRAINT_UNSATISFIABLE, COUNTERS_EXHAUSTED, INCOMPLETE_POOL, INCOMPLETE_VIEW, INSUFFICIENT_COUNT,
    INVALID_POOL, NO_CLAIMS, NO_CLASS, NO_DEVICES_FOR_DRIVER, NODE_AFFINITY, NOT_FITTING, REASON_CODES,
    SELECTOR_MATCHES_NOTHING, TAINT, TEMPLATE_NOT_FOUND, TEMPLATE_NOT_GENERATED, Reason,
)
from kubectl_dra.analysis.why_pending.report import CPU_MEMORY_NOTE, check_node, why_pending
from kubectl_dra.analysis.why_pending.summary import collect_fixes, group_key, scheduler_words, summarize
from kubectl_dra.analysis.why_pending.target import (
    ResolvedTarget, parse_target, resolve_target, synthesized_claim, target_reasons_block,
)
from kubectl_dra.analysis.why_pending.whatif import WHAT_IF_MAX_NODES, check_freeing_finished, check_lifting_taints

__all__ = [
    # the entry point and target parsing
    "why_pending", "parse_target", "CPU_MEMORY_NOTE",
    # reason codes
    "REASON_CODES", "Reason", "NO_CLAIMS", "CLAIM_NOT_FOUND", "TEMPLATE_NOT_GENERATED", "TEMPLATE_NOT_FOUND",
    "CLAIM_DELETING", "NO_CLASS", "NO_DEVICES_FOR_DRIVER", "SELECTOR_MATCHES_NOTHING", "CEL_ERROR",
    "INSUFFICIENT_COUNT", "ALL_MATCHING_ALLOCATED", "CONSTRAINT_UNSATISFIABLE", "COUNTERS_EXHAUSTED",
    "CAPACITY_EXHAUSTED", "TAINT", "INCOMPLETE_POOL", "INVALID_POOL", "BINDING_CONDITIONS", "ALLOCATION_ERROR",
    "NOT_FITTING", "NODE_AFFINITY", "INCOMPLETE_VIEW",
    # the steps, for callers that need one of them
    "ResolvedTarget", "resolve_target", "synthesized_claim", "target_reasons_block",
    "node_exclusions", "node_taint_reasons", "taint_text", "check_node", "Funnel", "SeenDevice",
    "WHAT_IF_MAX_NODES", "check_lifting_taints", "check_freeing_finished",
    "summarize", "group_key", "collect_fixes", "scheduler_words",
]
