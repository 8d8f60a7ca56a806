"""Does this device pass these selectors?  The one answer, for every command.

The allocator, ``match``, ``validate``, ``scaffold``, ``explain``/``get`` (class matching) and
why-pending's funnel all ask through :class:`SelectorEvaluator`; this module also owns the
decoding of device attribute values (:func:`attribute_key`), which the CEL ``device`` variable,
the allocator's constraints and the renderers share.

The rule
--------
A device passes a list of CEL selectors when every one of them, in order, evaluates to true on
it.  One selector on one device gives a :class:`Verdict`:

``MATCH`` / ``NO_MATCH``
    The expression compiled and evaluated to true / false.  A list stops at its first
    ``NO_MATCH``.
``COMPILE_ERROR``
    The text does not compile in the DRA CEL environment (syntax, type, cost budget).  It does
    not depend on the device: every device gets the same verdict.  ``message`` is the
    compiler's text, caret line included.
``RUNTIME_ERROR``
    Evaluating on this device failed: a CEL runtime error (``no such key: model``), a result
    that is not a bool, or, with ``strict_inputs``, a device that upstream's CEL input
    conversion rejects before any selector runs (an attribute with no supported value:
    ``attribute X: unsupported attribute value``).  ``message`` never names the device; callers
    that show it add the device's name themselves.

What a caller does with an error is the caller's policy and stays there: the allocator aborts
like kube-scheduler, ``match`` and ``validate`` report it, ``scaffold`` counts the device as not
selected.

Upstream's input rule is the caller's choice (``strict_inputs``), not the evaluator's: True (the
allocator, and so why-pending's funnel) checks the whole device first, the way kube-scheduler
converts it; False (the other commands, so far) lets an undecodable attribute fail only an
expression that reads it.  The two agree on every device whose attributes all decode.

Caches
------
One evaluator per snapshot (:func:`for_snapshot`), dropped with it, holds: the compiled
expression (or its compile error) per text; the verdict per (expression, device), the program's
alone; and the input check per device.  Devices are identified by the identity of their dict, so
an evaluator must only see devices of the snapshot it serves (which keeps them alive).  Compiled
programs are also cached per process by :func:`kubectl_dra.cel.compile_expression`, each with its
memo of results by the values an expression reads.

Importing this module does not load the CEL parser (it is loaded on the first compile).
"""

from __future__ import annotations

import enum
import weakref
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple

# -- attribute values: decoded here and nowhere else ------------------------------------------

# A v1 DeviceAttribute holds its value in one of these fields; the first one set, in this order
# (the order of upstream's CEL input conversion), is the attribute's value.  Anything else (no
# field set, or only a list field while DRAListTypeAttributes is off) holds no supported value.
# (kubectl_dra.cel's memo getters inline attribute_key: they run once per device and expression.)
ATTRIBUTE_KINDS = ("int", "bool", "string", "version")
# DRAListTypeAttributes (alpha in 1.36): the list fields, read before the scalars when the gate is
# on, in this order (upstream cel.CompilationResult.getAttributeValue).  A list field that is set
# counts even when empty (Go: a non-nil slice); its decoded value is a tuple, so keys stay hashable.
LIST_ATTRIBUTE_KINDS = ("ints", "bools", "strings", "versions")
# Upstream resourceapi.ResourceSliceMaxAttributeValuesPerDevice (1.36): CEL's includes() refuses
# longer lists.
MAX_ATTRIBUTE_VALUES = 48


def _list_key(raw: Mapping[str, Any]):
    for kind in LIST_ATTRIBUTE_KINDS:
        v = raw.get(kind)
        if v is not None:
            if type(v) is not list:
                return None  # not a list at all: no value upstream could decode
            value = tuple(v)
            try:
                hash(value)
            except TypeError:  # items that are not scalars: no supported value
                return None
            return (kind, value)
    return None


def attribute_key(raw: Mapping[str, Any], lists: bool = False):
    """A hashable (kind, raw value) for a v1 DeviceAttribute, or None if it holds no supported value.

    ``lists`` (DRAListTypeAttributes on): a list field comes first, as (``"ints"``, tuple of values)."""
    if lists:
        hit = _list_key(raw)
        if hit is not None:
            return hit
    for kind in ATTRIBUTE_KINDS:
        v = raw.get(kind)
        if v is not None:
            return (kind, v)
    return None


def attribute_plain(raw: Mapping[str, Any]) -> Any:
    """The attribute's raw value for display (a version stays its string; a list attribute its list,
    whether or not the gate is on: what the slice says), or None if it holds no value we know."""
    key = attribute_key(raw)
    if key is not None:
        return key[1]
    key = _list_key(raw) if isinstance(raw, Mapping) else None
    return None if key is None else list(key[1])


def attribute_values(raw: Mapping[str, Any] | None):
    """Upstream attributeAsSet (structured/internal/experimental/allocator_experimental.go), for the
    constraints with DRAListTypeAttributes on: (kind, frozenset of values) where a scalar is a
    one-element set; a non-empty list field comes first (ints, bools, strings, versions), then the
    scalars; None when neither holds a value (an empty list does not count here)."""
    if raw is None:
        return None
    for kind, scalar in (("ints", "int"), ("bools", "bool"), ("strings", "string"), ("versions", "version")):
        v = raw.get(kind)
        if type(v) is list and v:
            try:
                return (scalar, frozenset(v))
            except TypeError:
                return None
    for kind in ATTRIBUTE_KINDS:
        v = raw.get(kind)
        if v is not None:
            return (kind, frozenset((v,)))
    return None


def lookup_attribute(device: Mapping[str, Any], driver: str, name: str) -> Mapping[str, Any] | None:
    """Upstream lookupAttribute: the raw attribute under its exact (qualified) name, else under the
    bare id when the name's domain is the device's driver; None when the device has neither."""
    attrs = device.get("attributes") or {}
    if name in attrs:
        return attrs[name]
    domain, sep, ident = name.partition("/")
    if not sep or domain != driver:
        return None
    return attrs.get(ident)


def unsupported_attribute(attributes: Mapping[str, Any] | None, lists: bool = False) -> str | None:
    """The name of the first attribute that holds no supported value (see :func:`attribute_key`;
    a value that is not a map at all counts too), else None: what makes upstream's CEL input
    conversion reject the device.  Runs once per device: the usual case is checked inline."""
    if not attributes:
        return None
    for attr in attributes.values():
        if type(attr) is not dict or (attr.get("int") is None and attr.get("bool") is None
                                      and attr.get("string") is None and attr.get("version") is None):
            break  # not the usual case: look again with the general check below
    else:
        return None
    for name, attr in attributes.items():
        if type(attr) is dict:  # the usual case, checked without the slower ABC isinstance
            if (attr.get("int") is not None or attr.get("bool") is not None or attr.get("string") is not None
                    or attr.get("version") is not None):
                continue
            if lists and _list_key(attr) is not None:
                continue
        elif isinstance(attr, Mapping) and attribute_key(attr, lists) is not None:
            continue
        return name
    return None


# -- verdicts ----------------------------------------------------------------------------------

class Kind(enum.Enum):
    MATCH = "match"
    NO_MATCH = "no-match"
    COMPILE_ERROR = "compile-error"
    RUNTIME_ERROR = "runtime-error"


class Verdict(NamedTuple):
    """One selector (or list of selectors) on one device; see the module docstring for the rule.

    ``MATCH`` and ``NO_MATCH`` are single shared objects (compare with ``is``); an error verdict
    carries the message and the exception it came from (``error``: a CelCompileError,
    CelEvaluationError, or the ValueError of the input check).
    """

    kind: Kind
    message: str | None = None
    error: BaseException | None = None

    @property
    def matched(self) -> bool:
        return self.kind is Kind.MATCH

    @property
    def failed(self) -> bool:
        """A compile or runtime error (neither a match nor a plain no-match)."""
        return self.error is not None

    @property
    def missing_key(self) -> str | None:
        """For ``no such key`` runtime errors: the key that was missing."""
        return getattr(self.error, "missing_key", None)


MATCH = Verdict(Kind.MATCH)
NO_MATCH = Verdict(Kind.NO_MATCH)


def _message(e: BaseException) -> str:
    return getattr(e, "message", None) or str(e)


def compile_error(e: BaseException) -> Verdict:
    return Verdict(Kind.COMPILE_ERROR, _message(e), e)


def runtime_error(e: BaseException) -> Verdict:
    return Verdict(Kind.RUNTIME_ERROR, _message(e), e)


def _default_compile(text: str, check_cost: bool = True, lists: bool = False):
    from kubectl_dra.cel import compile_expression

    return compile_expression(text, check_cost=check_cost, list_types=lists)


def compile_selector(text: str, *, check_cost: bool = True, lists: bool = False):
    """The compiled expression, or its ``COMPILE_ERROR`` verdict, for checks that see no device
    (manifests before they reach a cluster; ``lists``: DRAListTypeAttributes on, ``includes()`` exists).
    Not cached here: the CEL module caches programs."""
    try:
        return _default_compile(text, check_cost, lists)
    except Exception as e:  # CelCompileError, and anything else the compiler raises on odd input
        return compile_error(e)


LIST_GATE_HINT = ("includes() and list-type attribute values exist only with the DRAListTypeAttributes feature "
                  "gate (--feature-gates DRAListTypeAttributes=true)")


def list_gate_hint(text: str, lists: bool) -> str | None:
    """When ``text`` fails to compile without DRAListTypeAttributes and compiles with it: the hint naming the
    gate (None otherwise)."""
    if lists or "includes" not in text:
        return None
    return LIST_GATE_HINT if type(compile_selector(text, lists=True)) is not Verdict else None


_UNCHECKED = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class SelectorEvaluator:
    """Verdicts of device selectors on the devices of one snapshot, cached (see the module docstring).

    ``compile_fn(text)`` compiles one text (default :func:`kubectl_dra.cel.compile_expression`);
    a test may pass its own.  ``check_cost=False`` (DeviceClasses already in a cluster: the API
    server accepted them) applies to the default compiler only.  ``lists``: DRAListTypeAttributes is
    on (list attribute values decode, CEL sees them as lists and has ``includes``).
    """

    def __init__(self, compile_fn: Callable | None = None, lists: bool = False):
        self.compile_fn = compile_fn
        self.lists = lists
        self.compiled: dict = {}       # text -> compiled expression | COMPILE_ERROR verdict
        self._unbudgeted: dict = {}    # the same, compiled with check_cost=False
        self.results: dict = {}        # (id(compiled), id(device)) -> the program's Verdict
        self.inputs: dict = {}         # id(device) -> None | RUNTIME_ERROR verdict of upstream's input check

    # -- compiling -----------------------------------------------------------------------------
    def compile(self, text: str, *, check_cost: bool = True):
        """The compiled expression for a text, or its ``COMPILE_ERROR`` verdict (cached)."""
        cache = self.compiled if check_cost else self._unbudgeted
        try:
            return cache[text]
        except KeyError:
            hit = cache[text] = self._compile(text, check_cost)
            return hit
        except TypeError:  # not even hashable: not a CEL text
            return self._compile(text, check_cost)

    def _compile(self, text: str, check_cost: bool):
        try:
            if self.compile_fn is None:
                return _default_compile(text, check_cost, self.lists)
            return self.compile_fn(text)
        except Exception as e:  # CelCompileError, and anything a compiler raises
            return compile_error(e)

    # -- evaluating ----------------------------------------------------------------------------
    def input_error(self, device: Mapping[str, Any]) -> Verdict | None:
        """Upstream's CEL input conversion of a device: None, or the ``RUNTIME_ERROR`` that every
        selector gets on it with ``strict_inputs`` (cached)."""
        hit = self.inputs.get(id(device), _UNCHECKED)
        return self._check_inputs(device) if hit is _UNCHECKED else hit

    def _check_inputs(self, device: Mapping[str, Any]) -> Verdict | None:
        name = unsupported_attribute(device.get("attributes"), self.lists)
        hit = None if name is None else runtime_error(ValueError(f"attribute {name}: unsupported attribute value"))
        self.inputs[id(device)] = hit
        return hit

    def evaluate(self, text: str, driver: str, device: Mapping[str, Any], *, strict_inputs: bool = False,
                 check_cost: bool = True) -> Verdict:
        """One selector on one device of the snapshot."""
        try:
            expr = (self.compiled if check_cost else self._unbudgeted)[text]
        except (KeyError, TypeError):
            expr = self.compile(text, check_cost=check_cost)
        if type(expr) is Verdict:
            return expr
        did = id(device)
        if strict_inputs:
            bad = self.inputs.get(did, _UNCHECKED)
            if bad is _UNCHECKED:
                bad = self._check_inputs(device)
            if bad is not None:
                return bad
        hit = self.results.get((id(expr), did))
        if hit is None:
            hit = self._first(expr, driver, device)
        return hit

    def evaluate_all(self, texts: Iterable[str], driver: str, device: Mapping[str, Any], *,
                     strict_inputs: bool = False, check_cost: bool = True) -> Verdict:
        """Every selector on one device, in order: ``MATCH``, or the first verdict that is not."""
        evaluate = self.evaluate
        for text in texts:
            verdict = evaluate(text, driver, device, strict_inputs=strict_inputs, check_cost=check_cost)
            if verdict is not MATCH:
                return verdict
        return MATCH

    def _first(self, expr, driver: str, device: Mapping[str, Any]) -> Verdict:
        """First evaluation of a compiled expression on a device (the verdict is cached).

        The hot path of the allocator and of why-pending's funnel: every device of the snapshot
        comes through here once per expression, so it reads the raw device fields directly and
        asks the expression's memo before building an evaluation."""
        attrs = device.get("attributes")
        caps = device.get("capacity") or _EMPTY
        allow = device.get("allowMultipleAllocations")
        # Most devices look like one seen before in what the expression reads: ask the memo first.
        probe = getattr(expr, "memo_value", None)  # (a test's compile_fn may not memoize)
        hit = probe(driver or "", attrs or _EMPTY, caps, bool(allow)) if probe is not None else None
        if hit is None:
            try:
                hit = bool(expr.evaluate(driver=driver, attributes=attrs or {}, capacity=device.get("capacity") or {},
                                         allow_multiple_allocations=allow))
            except Exception as e:  # CelEvaluationError, or whatever a test's compile_fn raises
                verdict = self.results[(id(expr), id(device))] = runtime_error(e)
                return verdict
        verdict = self.results[(id(expr), id(device))] = MATCH if hit else NO_MATCH
        return verdict

    def selector_flags(self, class_texts, request_texts, entries, *, strict_inputs: bool = False) -> list[int] | None:
        """For each ``(key, device, ...)`` entry (key = (driver, pool, device name)): 0 when the device
        fails the class selectors, 1 when it passes them but not the request's, 2 when it passes
        both; the verdicts of :meth:`evaluate`, in one pass for the whole list.  None as soon as a
        selector does not compile or errors on a device: the caller then goes device by device."""
        compile_ = self.compile
        stages = []
        for texts, failed in ((class_texts, 0), (request_texts, 1)):
            exprs = []
            for text in texts:
                expr = compile_(text)
                if type(expr) is Verdict:
                    return None
                exprs.append((id(expr), expr))
            stages.append((exprs, failed))
        check_inputs = strict_inputs and bool(stages[0][0] or stages[1][0])  # no selector: nothing to reject
        inputs_get = self.inputs.get
        check_inputs_of = self._check_inputs
        results_get = self.results.get
        first = self._first
        out = []
        for entry in entries:
            key, device = entry[0], entry[1]
            did = id(device)
            if check_inputs:
                bad = inputs_get(did, _UNCHECKED)
                if bad is _UNCHECKED:
                    bad = check_inputs_of(device)
                if bad is not None:
                    return None  # every selector errors on this device
            flag = 2
            for exprs, failed in stages:
                for eid, expr in exprs:
                    hit = results_get((eid, did))
                    if hit is None:
                        hit = first(expr, key[0], device)
                    if hit is MATCH:
                        continue
                    if hit is NO_MATCH:
                        flag = failed
                        break
                    return None  # an error: the caller goes device by device
                if flag != 2:
                    break
            out.append(flag)
        return out


_BY_SNAPSHOT: dict[tuple, SelectorEvaluator] = {}


def for_snapshot(snapshot, lists: bool | None = None) -> SelectorEvaluator:
    """The evaluator of a snapshot (one per value of ``lists``: DRAListTypeAttributes; None: the
    snapshot's own ``list_type_attributes``, the gates its answers are drawn under), created on first use
    and dropped with the snapshot."""
    if lists is None:
        lists = bool(getattr(snapshot, "list_type_attributes", False))
    key = (id(snapshot), lists)
    hit = _BY_SNAPSHOT.get(key)
    if hit is None:
        hit = SelectorEvaluator(lists=lists)
        try:
            done = weakref.finalize(snapshot, _BY_SNAPSHOT.pop, key, None)
        except TypeError:  # an object without weak references: give it an evaluator of its own
            return hit
        done.atexit = False
        _BY_SNAPSHOT[key] = hit
    return hit
