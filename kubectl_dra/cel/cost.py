"""The worst-case cost estimate of a device selector, as the API server computes it.

The API server refuses a selector whose estimated cost exceeds ``CELSelectorExpressionMaxCost``
(1,000,000).  It estimates with cel-go's ``EstimateCost``, sizing the ``device`` variable from its
declared type (upstream ``cel/compile.go``: ``newCompiler``, the ``sizeEstimator`` and the
``draCostEstimator``).  This module follows the same rules on our syntax tree; the figures agree with
upstream's own table (``TestCEL``'s expected costs, tests/cel/test_cost.py):

* a variable or field lookup costs 1, a constant 0, an index 1; creating a list costs 10, a map 30;
* ``&&`` and ``||`` cost only their operands, ``?:`` its condition plus the dearer branch;
* comparing strings costs a tenth of the shorter one's length (rounded up; scalars have size 1), ``in``
  over a list one per element (over a map 1), ``startsWith`` / ``contains`` / ``matches`` / ``find`` /
  ``split`` by string and pattern length, every other function 1;
* a macro costs what cel-go's expansion costs: ``all`` = range + 1 + n x (3 + predicate), ``exists``
  = range + 1 + n x (4 + predicate), ``exists_one`` = range + 2 + n x (2 + predicate), ``cel.bind`` =
  10 + init + body (an empty-range comprehension); ``map`` / ``filter`` are approximated;
* sizes: 32 attributes (and capacities) per device and per domain
  (``ResourceSliceMaxAttributesAndCapacitiesPerDevice``), domain names 63 characters, attribute names
  32, the driver name 63, an attribute value 64: a string of at most ``DeviceAttributeMaxValueLength``
  characters, and with DRAListTypeAttributes (``lists``) also a list, sized
  max(DeviceAttributeMaxValueLength, ResourceSliceMaxAttributeValuesPerDevice) = max(64, 48) = 64
  because the type cannot say which it is: ``in`` over an attribute costs 64, a comprehension over it
  ranges over 64 items;
* ``<target>.includes(<arg>)`` (DRAListTypeAttributes) costs the target and the argument plus 48, one
  per possible list value (``ResourceSliceMaxAttributeValuesPerDevice``; upstream
  ``draCostEstimator.EstimateCallCost``).

Where cel-go would find no size at all (a value it cannot size), this estimate assumes a small one
rather than an unbounded one: it never refuses a selector the API server may have admitted.
"""

from __future__ import annotations

import math

from kubectl_dra.cel.syntax import Node
from kubectl_dra.selection import MAX_ATTRIBUTE_VALUES  # ResourceSliceMaxAttributeValuesPerDevice

MAX_ATTRS = 32            # ResourceSliceMaxAttributesAndCapacitiesPerDevice
MAX_STRING = 64           # DeviceAttributeMaxValueLength
MAX_DOMAIN = 63           # DeviceMaxDomainLength
MAX_ID = 32               # DeviceMaxIDLength
MAX_DRIVER = 63           # DriverNameMaxLength
ATTRIBUTE_SIZE = max(MAX_STRING, MAX_ATTRIBUTE_VALUES)  # an attribute value's declared size (64)
UNBOUNDED_LIST = 1_000    # a range nothing sizes (cel-go: unbounded); a lenient fallback
LIST_CREATE, MAP_CREATE = 10, 30
STRING_TRAVERSAL, REGEX_LENGTH = 0.1, 0.25

_DEVICE_FIELDS = {"attributes": "device-map", "capacity": "device-map", "driver": "driver",
                  "allowMultipleAllocations": "scalar"}


def _factor(size: int, factor: float) -> int:
    return int(math.ceil(size * factor))


class _Estimator:
    def __init__(self, lists: bool):
        self.lists = lists

    # -- what a node is, and how big ----------------------------------------------------------------
    def kind(self, n: Node, scope: dict) -> str | None:
        """device-map (device.attributes/capacity), domain-map (one domain's), attribute (one value),
        driver, or the kind a bound / loop variable stands for."""
        if n.kind == "ident":
            return scope.get(n.a, (None, None))[0]
        if n.kind == "select" and not n.c:
            if n.a.kind == "ident" and n.a.a == "device" and "device" not in scope:
                return _DEVICE_FIELDS.get(n.b)
            inner = self.kind(n.a, scope)
            return "domain-map" if inner == "device-map" else "attribute" if inner == "domain-map" else None
        if n.kind == "index":
            inner = self.kind(n.a, scope)
            return "domain-map" if inner == "device-map" else "attribute" if inner == "domain-map" else None
        return None

    def size(self, n: Node, scope: dict) -> int | None:
        """The largest size (string length, list or map entries) a value can have; None: unknown."""
        if n.kind == "lit":
            return len(n.a) if isinstance(n.a, (str, bytes)) else 1
        if n.kind in ("list", "map"):
            return len(n.a)
        if n.kind == "ident" and n.a in scope:
            return scope[n.a][1]
        kind = self.kind(n, scope)
        if kind in ("device-map", "domain-map"):
            return MAX_ATTRS
        if kind == "attribute":
            return ATTRIBUTE_SIZE
        if kind == "driver":
            return MAX_DRIVER
        if kind == "scalar":
            return 1
        if n.kind == "call":
            if n.a in ("size", "_-_", "_*_", "_/_", "_%_", "-_", "int", "uint", "double", "compareTo", "sign") \
                    or n.a in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "!_", "_&&_", "_||_", "@in"):
                return 1
            if n.a in ("split", "findAll") and n.b is not None:
                return self.size(n.b, scope)
            if n.a in ("lowerAscii", "upperAscii", "trim", "replace", "substring") and n.b is not None:
                return self.size(n.b, scope)
        if n.kind == "comp" and n.a in ("map", "filter"):
            return self.range_size(n.b, scope)
        return None

    def range_size(self, n: Node, scope: dict) -> int:
        size = self.size(n, scope)
        return UNBOUNDED_LIST if size is None else size

    def element(self, rng: Node, scope: dict, position: int):
        """(kind, size) of a comprehension variable over ``rng`` (position 0: key or item, 1: value)."""
        kind = self.kind(rng, scope)
        if kind == "device-map":
            return (None, MAX_DOMAIN) if position == 0 else ("domain-map", MAX_ATTRS)
        if kind == "domain-map":
            return (None, MAX_ID) if position == 0 else ("attribute", ATTRIBUTE_SIZE)
        if rng.kind == "list" and rng.a:
            sizes = [self.size(x, scope) for x in rng.a]
            return (None, None if None in sizes else max(sizes))
        return (None, None)

    # -- cost ---------------------------------------------------------------------------------------
    def cost(self, n: Node, scope: dict) -> int:
        k = n.kind
        if k == "lit":
            return 0
        if k == "ident":
            return 1
        if k == "select":
            return 1 + self.cost(n.a, scope)
        if k == "index":
            return 1 + self.cost(n.a, scope) + self.cost(n.b, scope)
        if k == "list":
            return LIST_CREATE + sum(self.cost(x, scope) for x in n.a)
        if k == "map":
            return MAP_CREATE + sum(self.cost(a, scope) + self.cost(b, scope) for a, b in n.a)
        if k == "bind":
            inner = dict(scope)
            inner[n.a] = (self.kind(n.b, scope), self.size(n.b, scope))
            return LIST_CREATE + self.cost(n.b, scope) + self.cost(n.c, inner)
        if k == "comp":
            return self.comprehension(n, scope)
        if k == "call":
            return self.call(n, scope)
        return 1

    def comprehension(self, n: Node, scope: dict) -> int:
        rng = self.cost(n.b, scope)
        count = self.range_size(n.b, scope)
        names = n.c if isinstance(n.c, (list, tuple)) else [n.c]
        inner = dict(scope)
        for position, name in enumerate(names):
            inner[name] = self.element(n.b, scope, position if len(names) > 1 else 0)
        body = sum(self.cost(b, inner) for b in n.d)
        macro = n.a[:-1] if n.a.endswith("2") else n.a  # all2, exists2, ...: the two-variable forms
        if macro == "all":
            return rng + 1 + count * (3 + body)
        if macro == "exists":
            return rng + 1 + count * (4 + body)
        if macro == "exists_one":
            return rng + 2 + count * (2 + body)
        if macro == "filter":
            return rng + LIST_CREATE + 1 + count * (body + 3 + LIST_CREATE)
        # map, transformList, ...: accumulate one list element per item
        return rng + LIST_CREATE + 1 + count * (body + 2 + LIST_CREATE)

    def call(self, n: Node, scope: dict) -> int:
        f, target, args = n.a, n.b, n.c
        arg_cost = sum(self.cost(a, scope) for a in args) + (self.cost(target, scope) if target is not None else 0)
        if f in ("_&&_", "_||_"):
            return arg_cost
        if f == "_?_:_" and len(args) == 3:
            return self.cost(args[0], scope) + max(self.cost(args[1], scope), self.cost(args[2], scope))
        if f in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_") and len(args) == 2:
            sizes = [s for s in (self.size(args[0], scope), self.size(args[1], scope)) if s is not None]
            return arg_cost + (_factor(min(sizes), STRING_TRAVERSAL) if sizes else 1)
        if f == "@in" and len(args) == 2:
            container = args[1]
            kind = self.kind(container, scope)
            if kind in ("device-map", "domain-map") or container.kind == "map":
                return arg_cost + 1
            size = self.size(container, scope)
            return arg_cost + (size if size is not None else 1)
        if f == "_+_" and len(args) == 2:
            sizes = [self.size(a, scope) for a in args]
            return arg_cost + (_factor(sum(sizes), STRING_TRAVERSAL) if None not in sizes else 1)
        if target is not None:
            tsize = self.size(target, scope)
            asize = self.size(args[0], scope) if args else None
            if f == "includes" and self.lists and len(args) == 1:
                return arg_cost + MAX_ATTRIBUTE_VALUES
            if f in ("startsWith", "endsWith") and len(args) == 1:
                return arg_cost + (_factor(asize, STRING_TRAVERSAL) if asize is not None else 1)
            if f in ("contains", "indexOf", "lastIndexOf") and args:
                if tsize is None or asize is None:
                    return arg_cost + 1
                return arg_cost + _factor(tsize, STRING_TRAVERSAL) * _factor(asize, STRING_TRAVERSAL)
            if f in ("matches", "find", "findAll") and args:
                if tsize is None or asize is None:
                    return arg_cost + 1
                text = tsize + 1 if f == "matches" else tsize
                return arg_cost + _factor(text, STRING_TRAVERSAL) * _factor(asize, REGEX_LENGTH)
            if f == "split":
                return arg_cost + (_factor(tsize, 2 * STRING_TRAVERSAL) if tsize is not None else 1)
            if f in ("lowerAscii", "upperAscii", "trim", "replace", "reverse"):
                return arg_cost + (_factor(tsize, STRING_TRAVERSAL) if tsize is not None else 1)
        if f == "matches" and target is None and len(args) == 2:  # matches(s, re)
            tsize, asize = self.size(args[0], scope), self.size(args[1], scope)
            if tsize is not None and asize is not None:
                return arg_cost + _factor(tsize + 1, STRING_TRAVERSAL) * _factor(asize, REGEX_LENGTH)
        return arg_cost + 1


def estimate_cost(n: Node, lists: bool = False) -> int:
    """The estimated worst-case cost of an expression tree; ``lists``: DRAListTypeAttributes is on
    (attribute values may be lists, ``includes`` exists)."""
    return _Estimator(lists).cost(n, {})
