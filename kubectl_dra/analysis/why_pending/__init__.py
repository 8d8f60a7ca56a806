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
in the README); the text renderer only formats it.
"""

from kubectl_dra.analysis.why_pending.reasons import (  # noqa: F401  (the package's public names)
    ALL_MATCHING_ALLOCATED, ALLOCATION_ERROR, BINDING_CONDITIONS, CAPACITY_EXHAUSTED, CEL_ERROR, CLAIM_DELETING,
    CLAIM_NOT_FOUND, CONSTRAINT_UNSATISFIABLE, COUNTERS_EXHAUSTED, INCOMPLETE_POOL, INSUFFICIENT_COUNT, INVALID_POOL,
    NO_CLAIMS, NO_CLASS, NO_DEVICES_FOR_DRIVER, NODE_AFFINITY, NOT_FITTING, REASON_CODES, SELECTOR_MATCHES_NOTHING,
    TAINT, TEMPLATE_NOT_FOUND, TEMPLATE_NOT_GENERATED, Reason,
)
from kubectl_dra.analysis.why_pending.explainer import SeenDevice  # noqa: F401
from kubectl_dra.analysis.why_pending.nodes import node_exclusions, taint_text  # noqa: F401
from kubectl_dra.analysis.why_pending.report import CPU_MEMORY_NOTE, why_pending  # noqa: F401
from kubectl_dra.analysis.why_pending.summary import collect_fixes, scheduler_words, summarize  # noqa: F401
from kubectl_dra.analysis.why_pending.target import (  # noqa: F401
    TARGET_TYPES, ResolvedTarget, parse_target, resolve_target, synthesized_claim, target_reasons_block,
)
from kubectl_dra.analysis.why_pending.whatif import WHAT_IF_MAX_NODES  # noqa: F401
