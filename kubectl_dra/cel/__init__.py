"""The Kubernetes DRA CEL environment (device selectors), on cel-python's parser.

    from kubectl_dra.cel import compile_expression
    expr = compile_expression('device.attributes["gpu.nvidia.com"].productName == "H100"')
    expr.evaluate(driver="gpu.nvidia.com", attributes={...}, capacity={...})  # -> bool

Results are memoized per expression on the values the expression actually
read (a decision trie), so devices that share those values cost one lookup.
"""

from __future__ import annotations

import threading
from typing import Any, Mapping

from kubectl_dra.cel.device import MISSING, DeviceInput, Recorder
from kubectl_dra.cel.errors import CelCompileError, CelError, CelEvaluationError
from kubectl_dra.cel.interp import DEFAULT_COST_LIMIT, Act, Compiler, output_kind
from kubectl_dra.cel.syntax import parse
from kubectl_dra.cel.values import type_name
from kubectl_dra.selection import attribute_key

__all__ = ["compile_expression", "CompiledExpression", "CelCompileError", "CelEvaluationError",
           "DeviceInput", "DEFAULT_COST_LIMIT"]

# How many trie nodes one expression may memoize before it stops learning.
MEMO_NODE_LIMIT = 200_000


class _Leaf:
    __slots__ = ("ok", "value", "error", "key", "get")

    def __init__(self, ok: bool, value: bool | None, error: str | None, key: str | None):
        self.ok, self.value, self.error, self.key = ok, value, error, key
        self.get = None  # (a _Node's key getter; a leaf has none: ends memo_value's walk)


class _Node:
    __slots__ = ("path", "branches", "get")

    def __init__(self, path: tuple, lists: bool = False):
        self.path = path
        self.branches: dict = {}
        # get(driver, raw_attrs, raw_caps, allow) -> the same key as DeviceInput.key_for(path),
        # read straight from the raw device fields (no DeviceInput); None: use key_for.
        self.get = _key_getter(path, lists)


def _key_getter(path: tuple, lists: bool = False):
    """A function computing ``DeviceInput.key_for(path)`` from normalized raw fields, for the
    single-value reads that memo lookups do (driver, one attribute, one capacity, the flag).
    ``lists``: DRAListTypeAttributes is on (list values decode too)."""
    kind = path[0]
    if kind == "a":
        domain, name = path[1], path[2]
        full = domain + "/" + name
        invalid = ("invalid", name)
        if lists:
            def get_attribute_or_list(driver, attrs, caps, allow):
                raw = attrs.get(full)
                if raw is None:
                    if domain != driver:
                        return MISSING
                    raw = attrs.get(name)
                    if raw is None:
                        return MISSING
                return attribute_key(raw, True) or invalid
            return get_attribute_or_list

        def get_attribute(driver, attrs, caps, allow):
            raw = attrs.get(full)
            if raw is None:
                if domain != driver:
                    return MISSING
                raw = attrs.get(name)
                if raw is None:
                    return MISSING
            # kubectl_dra.selection.attribute_key(raw), inlined (the memo's hot path)
            v = raw.get("int")
            if v is not None:
                return ("int", v)
            v = raw.get("bool")
            if v is not None:
                return ("bool", v)
            v = raw.get("string")
            if v is not None:
                return ("string", v)
            v = raw.get("version")
            if v is not None:
                return ("version", v)
            return invalid
        return get_attribute
    if kind == "c":
        domain, name = path[1], path[2]
        full = domain + "/" + name

        def get_capacity(driver, attrs, caps, allow):
            raw = caps.get(full)
            if raw is None:
                if domain != driver:
                    return MISSING
                raw = caps.get(name)
                if raw is None:
                    return MISSING
            return str(raw.get("value") if isinstance(raw, Mapping) else raw)
        return get_capacity
    if kind == "d":
        return lambda driver, attrs, caps, allow: driver
    if kind == "m":
        return lambda driver, attrs, caps, allow: allow
    return None  # key lists ("ak", "ck", "ad", "cd") need DeviceInput's per-domain maps


class CompiledExpression:
    """One compiled selector; thread-safe, memoizing."""

    def __init__(self, expression: str, program, cost_limit: int, max_cost: int | None, lists: bool = False):
        self.expression = expression
        self.lists = lists                # DRAListTypeAttributes: list attribute values decode
        self._program = program
        self.cost_limit = cost_limit
        self.max_cost = max_cost          # estimated worst-case cost (None when unbounded/unknown)
        self._root = None
        self._nodes = 0
        self._lock = threading.Lock()
        self.stats = {"evaluations": 0, "memo_hits": 0}

    # -- public API ----------------------------------------------------------------------------
    def evaluate(self, driver: str, attributes: Mapping[str, Any] | None = None,
                 capacity: Mapping[str, Any] | None = None,
                 allow_multiple_allocations: bool | None = None, *, device_label: str | None = None) -> bool:
        # Same normalization as DeviceInput; memo hits read the raw fields without building one.
        driver = driver or ""
        attributes = attributes or {}
        capacity = capacity or {}
        allow = bool(allow_multiple_allocations) if allow_multiple_allocations is not None else False
        stats = self.stats
        stats["evaluations"] += 1
        node = self._root
        while node is not None:
            if type(node) is _Leaf:
                stats["memo_hits"] += 1
                leaf = node
                break
            get = node.get
            if get is None:
                node = node.branches.get(DeviceInput(driver, attributes, capacity, allow,
                                                     lists=self.lists).key_for(node.path))
            else:
                node = node.branches.get(get(driver, attributes, capacity, allow))
        else:
            leaf = self._run(DeviceInput(driver, attributes, capacity, allow, label=device_label, lists=self.lists))
        if leaf.ok:
            return leaf.value
        raise CelEvaluationError(leaf.error, expression=self.expression, device=device_label,
                                 missing_key=leaf.key)

    def memo_value(self, driver: str, attributes: Mapping[str, Any], capacity: Mapping[str, Any], allow: bool):
        """True or False when the memo already knows the answer for these (normalized, non-None)
        raw device fields, else None (then call :meth:`evaluate`).  Errors are never answered
        here, so the caller's error path always goes through :meth:`evaluate`."""
        node = self._root
        while node is not None:
            get = node.get
            if get is None:
                if type(node) is _Leaf and node.ok:
                    return node.value
                return None  # an error leaf, or a node keyed by lists of keys: evaluate() decides
            node = node.branches.get(get(driver, attributes, capacity, allow))
        return None

    def evaluate_device(self, entry) -> bool:
        """Evaluate for a :class:`kubectl_dra.snapshot.DeviceEntry`."""
        dev = entry.device
        label = f"{entry.driver}/{entry.pool}/{dev.get('name', '')}"
        if getattr(entry, "node_name", None):
            label += f" (node {entry.node_name})"
        inp = DeviceInput(entry.driver, dev.get("attributes"), dev.get("capacity"),
                          dev.get("allowMultipleAllocations"), label=label, lists=self.lists)
        return self.evaluate_input(inp)

    def evaluate_input(self, inp: DeviceInput) -> bool:
        leaf = self._lookup(inp)
        if leaf is None:
            leaf = self._run(inp)
        if leaf.ok:
            return leaf.value
        raise CelEvaluationError(leaf.error, expression=self.expression, device=inp.label,
                                 missing_key=leaf.key)

    def outcome(self, inp: DeviceInput):
        """(True|False, None) or (None, CelEvaluationError) without raising."""
        try:
            return self.evaluate_input(inp), None
        except CelEvaluationError as e:
            return None, e

    # -- memo trie -------------------------------------------------------------------------------
    def _lookup(self, inp: DeviceInput):
        self.stats["evaluations"] += 1
        node = self._root
        while node is not None:
            if type(node) is _Leaf:
                self.stats["memo_hits"] += 1
                return node
            node = node.branches.get(inp.key_for(node.path))
        return None

    def _run(self, inp: DeviceInput) -> _Leaf:
        rec = Recorder(inp, record=self._nodes < MEMO_NODE_LIMIT)
        act = Act(rec, self.cost_limit)
        try:
            result = self._program(act)
            if result is True or result is False:
                leaf = _Leaf(True, result, None, None)
            else:
                t = type_name(result)
                leaf = _Leaf(False, None, f"CEL result of type {t} could not be converted to bool: "
                                          f"unsupported type conversion from '{t}' to bool", None)
        except CelError as e:
            leaf = _Leaf(False, None, e.message, e.key)
        except RecursionError:
            leaf = _Leaf(False, None, "expression nests too deeply", None)
        if rec.reads is not None:
            self._insert(rec.reads, leaf)
        return leaf

    def _insert(self, reads: list, leaf: _Leaf) -> None:
        with self._lock:
            if not reads:
                self._root = leaf
                return
            if self._root is None:
                self._root = _Node(reads[0][0], self.lists)
                self._nodes += 1
            node = self._root
            for i, (path, key) in enumerate(reads):
                if type(node) is _Leaf or node.path != path:
                    return  # evaluation was not deterministic in its reads; do not memoize
                nxt = node.branches.get(key)
                if i == len(reads) - 1:
                    if nxt is None:
                        node.branches[key] = leaf
                    return
                if nxt is None:
                    nxt = _Node(reads[i + 1][0], self.lists)
                    node.branches[key] = nxt
                    self._nodes += 1
                node = nxt

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r})"


_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def compile_expression(expression: str, *, cost_limit: int = DEFAULT_COST_LIMIT,
                       check_cost: bool = True, list_types: bool = False) -> CompiledExpression:
    """Compile (cached per distinct text and options); raises :class:`CelCompileError`.

    ``list_types``: the environment of DRAListTypeAttributes (upstream cel.Features
    EnableListTypeAttributes): list attribute values are CEL lists and ``includes`` exists."""
    key = (expression, cost_limit, check_cost, list_types)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    tree = parse(expression)
    compiler = Compiler(expression, list_types=list_types)
    program = compiler.build(tree, frozenset())
    kind = output_kind(tree)
    if kind is not None and kind != "bool":
        raise CelCompileError(f"must evaluate to bool or the unknown type, not {kind}", expression=expression,
                              kind="check")
    from kubectl_dra.cel.cost import estimate_cost
    max_cost = estimate_cost(tree, lists=list_types)
    if check_cost and max_cost is not None and max_cost > cost_limit:
        raise CelCompileError(
            f"estimated cost {max_cost} exceeds the budget of {cost_limit} for a device selector; "
            "try simplifying the expression (fewer nested comprehensions over attribute maps or long strings)",
            expression=expression, kind="cost")
    compiled = CompiledExpression(expression, program, cost_limit, max_cost, lists=list_types)
    with _CACHE_LOCK:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE.setdefault(key, compiled)
        return _CACHE[key]
