"""A worst-case cost estimate in the spirit of cel-go's ``EstimateCost``.

Upstream sizes come from the declared device type: at most 32 attributes and
capacities per device (``ResourceSliceMaxAttributesAndCapacitiesPerDevice``),
attribute strings at most 64 characters (``DeviceAttributeMaxValueLength``).
Each node costs 1, string operations cost ``1 + size/10``, comprehensions
multiply their body by the range size.  This is an approximation of cel-go's
estimator, good enough to reject runaway nesting, not to match its numbers.
"""

from __future__ import annotations

from kubectl_dra.cel.syntax import Node

MAX_ATTRS = 32
MAX_STRING = 64
UNBOUNDED_LIST = 1_000  # lists built by the expression are bounded by literal sizes; fallback


def _range_size(n: Node) -> int:
    if n.kind == "list":
        return len(n.a)
    if n.kind == "map":
        return len(n.a)
    if n.kind == "select" and n.a.kind == "ident" and n.a.a == "device":
        return MAX_ATTRS
    if n.kind == "index" and n.a.kind == "select" and n.a.a.kind == "ident" and n.a.a.a == "device":
        return MAX_ATTRS
    if n.kind == "comp":
        return _range_size(n.b)
    if n.kind == "call" and n.a in ("split", "findAll"):
        return MAX_STRING
    return UNBOUNDED_LIST


def estimate_cost(n: Node) -> int:
    k = n.kind
    if k in ("lit", "ident"):
        return 0 if k == "lit" else 1
    if k == "select":
        return 1 + estimate_cost(n.a)
    if k == "index":
        return 1 + estimate_cost(n.a) + estimate_cost(n.b)
    if k == "list":
        return 1 + sum(estimate_cost(x) for x in n.a)
    if k == "map":
        return 1 + sum(estimate_cost(a) + estimate_cost(b) for a, b in n.a)
    if k == "bind":
        return estimate_cost(n.b) + estimate_cost(n.c)
    if k == "comp":
        size = _range_size(n.b)
        body = sum(estimate_cost(b) for b in n.d)
        return estimate_cost(n.b) + size * (body + 2)
    if k == "call":
        base = sum(estimate_cost(a) for a in n.c) + (estimate_cost(n.b) if n.b is not None else 0)
        if n.a in ("matches", "contains", "startsWith", "endsWith", "find", "findAll", "split",
                   "replace", "lowerAscii", "upperAscii", "trim", "substring", "indexOf", "lastIndexOf"):
            return base + 1 + MAX_STRING // 10 + (MAX_STRING if n.a in ("matches", "find", "findAll") else 0)
        return base + 1
    return 1
