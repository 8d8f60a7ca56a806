"""Compile the expression tree into nested Python closures.

Each closure takes an :class:`Act` (variables, the device recorder, a cost
counter) and returns a CEL value or raises :class:`CelError`.  Undeclared
identifiers, unknown functions and wrong arities are compile errors, as in
cel-go's checker; type mismatches between dynamic values are runtime errors.
"""

from __future__ import annotations

import math

from kubectl_dra.cel import library as L
from kubectl_dra.cel.device import DeviceView, DomainView, RootView
from kubectl_dra.cel.errors import CelCompileError, CelError
from kubectl_dra.cel.syntax import Node
from kubectl_dra.cel.values import (
    CelType, Semver, UInt, cel_compare, cel_equals, check_int, check_uint, format_value,
    map_find, type_name,
)
from kubectl_dra.quantity import Quantity
from kubectl_dra.selection import MAX_ATTRIBUTE_VALUES

# Upstream resource.CELSelectorExpressionMaxCost.
DEFAULT_COST_LIMIT = 1_000_000
COST_EXCEEDED = "operation cancelled: actual cost limit exceeded"


class Act:
    __slots__ = ("vars", "rec", "cost", "limit")

    def __init__(self, rec, limit: int = DEFAULT_COST_LIMIT):
        self.vars: dict = {}
        self.rec = rec
        self.cost = 0
        self.limit = limit

    def charge(self, n: int) -> None:
        self.cost += n
        if self.cost > self.limit:
            raise CelError(COST_EXCEEDED)


TYPE_IDENTS = {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
QUALIFIED_NAMESPACES = {"sets", "strings", "math", "optional", "lists", "base64"}


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Compiler:
    def __init__(self, text: str, list_types: bool = False):
        self.text = text
        self.list_types = list_types  # DRAListTypeAttributes: the member function includes() exists

    def err(self, node: Node, msg: str) -> CelCompileError:
        line, col = node.line or 1, node.col
        loc = f"{line}:{(col or 0) + 1}"
        return CelCompileError(f"compilation failed: ERROR: <input>:{loc}: {msg}", expression=self.text,
                               column=col, line=line, kind="check")

    # -------------------------------------------------------------------------------------
    def build(self, n: Node, scope: frozenset):
        k = n.kind
        if k == "lit":
            v = n.a
            return lambda act: v
        if k == "ident":
            return self.ident(n, scope)
        if k == "select":
            return self.select(n, scope)
        if k == "index":
            return self.index(n, scope)
        if k == "list":
            items = [self.build(x, scope) for x in n.a]
            return lambda act: [f(act) for f in items]
        if k == "map":
            return self.map_lit(n, scope)
        if k == "call":
            return self.call(n, scope)
        if k == "comp":
            return self.comp(n, scope)
        if k == "bind":
            return self.bind(n, scope)
        raise self.err(n, f"unsupported expression {k}")  # pragma: no cover

    def ident(self, n: Node, scope):
        name = n.a
        if name in scope:
            return lambda act: act.vars[name]
        if name == "device":
            return lambda act: DeviceView(act.rec)
        if name in TYPE_IDENTS:
            t = CelType(name)
            return lambda act: t
        raise self.err(n, f"undeclared reference to '{name}' (in container '')")

    # -- field selection and indexing ---------------------------------------------------------
    def _device_root(self, n: Node, scope):
        """'a'/'c' if n is device.attributes / device.capacity (device not shadowed)."""
        if (n.kind == "select" and not n.c and n.a.kind == "ident" and n.a.a == "device"
                and "device" not in scope and n.b in ("attributes", "capacity")):
            return "a" if n.b == "attributes" else "c"
        return None

    def _device_domain(self, n: Node, scope):
        """(kind, domain) if n is device.attributes["<const>"] or device.capacity["<const>"]."""
        if n.kind == "index" and n.b.kind == "lit" and isinstance(n.b.a, str):
            root = self._device_root(n.a, scope)
            if root:
                return root, n.b.a
        return None

    def select(self, n: Node, scope):
        operand, field, test_only = n.a, n.b, n.c
        # device.driver etc: check the field exists (the device type is declared)
        if operand.kind == "ident" and operand.a == "device" and "device" not in scope:
            if field not in DeviceView.FIELDS:
                raise self.err(n, f"undefined field '{field}'")
            if test_only:
                return lambda act: True
            if field == "driver":
                return lambda act: act.rec.read(("d",))
            if field == "allowMultipleAllocations":
                return lambda act: act.rec.read(("m",))
            kind = "a" if field == "attributes" else "c"
            return lambda act: RootView(act.rec, kind)
        dd = self._device_domain(operand, scope)
        if dd is not None:
            kind, domain = dd
            if test_only:
                if kind == "a":
                    return lambda act: act.rec.has_attribute(domain, field)
                return lambda act: act.rec.has_capacity(domain, field)
            if kind == "a":
                return lambda act: act.rec.attribute(domain, field)
            return lambda act: act.rec.capacity(domain, field)
        # qualified identifiers like sets.contains are calls, handled elsewhere
        f = self.build(operand, scope)
        if test_only:
            def has(act):
                v = f(act)
                if isinstance(v, DeviceView):
                    return field in DeviceView.FIELDS
                if isinstance(v, RootView):
                    return True  # upstream's wrapper finds every domain
                if isinstance(v, DomainView):
                    return v.cel_contains(field)
                if isinstance(v, dict):
                    return map_find(v, field)[0]
                raise CelError(f"invalid type for field selection: {type_name(v)}")
            return has

        def sel(act):
            v = f(act)
            if isinstance(v, dict):
                found, r = map_find(v, field)
                if not found:
                    raise CelError(f"no such key: {field}", key=field)
                return r
            if isinstance(v, DomainView):
                return v.cel_index(field)
            if isinstance(v, RootView):
                return v.cel_index(field)
            if isinstance(v, DeviceView):
                return v.field(field)
            raise CelError(f"type '{type_name(v)}' does not support field selection")
        return sel

    def index(self, n: Node, scope):
        dd = self._device_domain(n.a, scope)
        if dd is not None and n.b.kind == "lit" and isinstance(n.b.a, str):
            kind, domain = dd
            name = n.b.a
            if kind == "a":
                return lambda act: act.rec.attribute(domain, name)
            return lambda act: act.rec.capacity(domain, name)
        f = self.build(n.a, scope)
        g = self.build(n.b, scope)

        def idx(act):
            v = f(act)
            i = g(act)
            return index_value(v, i)
        return idx

    def map_lit(self, n: Node, scope):
        entries = [(self.build(k, scope), self.build(v, scope), k) for k, v in n.a]

        def mk(act):
            out = {}
            for kf, vf, kn in entries:
                key = kf(act)
                if not isinstance(key, (str, int)) or isinstance(key, float):
                    raise CelError(f"unsupported key type: {type_name(key)}")
                if map_find(out, key)[0]:
                    raise CelError(f"Failed with repeated key: {format_value(key)}")
                out[key] = vf(act)
            return out
        return mk

    # -- calls ------------------------------------------------------------------------------------
    def call(self, n: Node, scope):
        name, target, args = n.a, n.b, n.c
        op = OPERATORS.get(name)
        if op is not None and target is None:
            return op(self, n, scope)
        if target is not None and target.kind == "ident" and target.a in QUALIFIED_NAMESPACES \
                and target.a not in scope:
            qname = f"{target.a}.{name}"
            return self.global_call(n, qname, args, scope)
        if target is None:
            return self.global_call(n, name, args, scope)
        if name == "includes" and self.list_types:
            return self._includes(n, target, args, scope)
        entry = L.MEMBER_FUNCTIONS.get(name)
        if entry is None:
            if name in L.UNSUPPORTED:
                raise self.unsupported(n, name)
            raise self.err(n, f"undeclared reference to '{name}' (in container '')")
        fn, arities = entry
        if len(args) not in arities:
            raise self.err(n, f"found no matching overload for '{name}' applied to "
                              f"'{self._argdesc([target] + list(args))}'")
        tf = self.build(target, scope)
        afs = [self.build(a, scope) for a in args]
        sized = name in SIZED_MEMBERS
        if len(afs) == 0:
            def c0(act):
                t = tf(act)
                if sized:
                    act.charge(_size_cost(t))
                return fn(_plain(t))
            return c0
        if len(afs) == 1:
            a0 = afs[0]

            def c1(act):
                t = tf(act)
                a = a0(act)
                if sized:
                    act.charge(_size_cost(t) + _size_cost(a))
                return fn(_plain(t), _plain(a))
            return c1

        def cn(act):
            t = tf(act)
            vals = [a(act) for a in afs]
            if sized:
                act.charge(_size_cost(t) + sum(_size_cost(a) for a in vals))
            return fn(_plain(t), *[_plain(v) for v in vals])
        return cn

    def _includes(self, n: Node, target: Node, args, scope):
        """``<target>.includes(<arg>)`` (DRAListTypeAttributes; upstream cel includesFunc): whether a
        list target has an item equal to arg, or a scalar target equals it; lists longer than
        ResourceSliceMaxAttributeValuesPerDevice are a runtime error."""
        if len(args) != 1:
            raise self.err(n, f"found no matching overload for 'includes' applied to "
                              f"'{self._argdesc([target] + list(args))}'")
        tf = self.build(target, scope)
        af = self.build(args[0], scope)
        limit = MAX_ATTRIBUTE_VALUES

        def inc(act):
            t = tf(act)
            a = af(act)
            if isinstance(t, (list, tuple)):
                for i, item in enumerate(t):
                    if i >= limit:
                        raise CelError(f"'includes' function cannot be applied to lists longer than {limit} values")
                    act.charge(1)
                    if cel_equals(item, a):
                        return True
                return False
            return cel_equals(t, a)
        return inc

    def unsupported(self, n: Node, name: str) -> CelCompileError:
        line, col = n.line or 1, n.col
        return CelCompileError(
            f"compilation failed: ERROR: <input>:{line}:{(col or 0) + 1}: function '{name}' exists in the "
            f"Kubernetes CEL environment but is not implemented by kubectl-dra",
            expression=self.text, column=col, line=line, kind="unsupported")

    def _argdesc(self, args) -> str:
        return "(" + ", ".join(static_type(a) for a in args) + ")"

    def global_call(self, n: Node, name: str, args, scope):
        entry = L.GLOBAL_FUNCTIONS.get(name)
        if entry is None:
            if name in L.UNSUPPORTED:
                raise self.unsupported(n, name)
            if name in L.MEMBER_FUNCTIONS and name not in ("size",):
                raise self.err(n, f"found no matching overload for '{name}' applied to '{self._argdesc(args)}'")
            raise self.err(n, f"undeclared reference to '{name}' (in container '')")
        fn, arities = entry
        if len(args) not in arities:
            raise self.err(n, f"found no matching overload for '{name}' applied to '{self._argdesc(args)}'")
        afs = [self.build(a, scope) for a in args]
        sized = name in SIZED_GLOBALS
        if len(afs) == 1:
            a0 = afs[0]

            def g1(act):
                v = a0(act)
                if sized:
                    act.charge(_size_cost(v))
                return fn(_plain(v))
            return g1

        def gn(act):
            vals = [a(act) for a in afs]
            if sized:
                act.charge(sum(_size_cost(v) for v in vals))
            return fn(*[_plain(v) for v in vals])
        return gn

    # -- macros ----------------------------------------------------------------------------------------
    def bind(self, n: Node, scope):
        var = n.a
        init = self.build(n.b, scope)
        body = self.build(n.c, scope | {var})

        def b(act):
            value = init(act)
            vars_ = act.vars
            had = var in vars_
            old = vars_.get(var)
            vars_[var] = value
            try:
                return body(act)
            finally:
                if had:
                    vars_[var] = old
                else:
                    del vars_[var]
        return b

    def comp(self, n: Node, scope):
        macro, target, var, bodies = n.a, n.b, n.c, n.d
        rng = self.build(target, scope)
        two = macro.endswith("2")
        names = var if two else (var,)
        inner = scope | set(names)
        fs = [self.build(b, inner) for b in bodies]
        base = macro[:-1] if two else macro

        def items(act):
            r = rng(act)
            if isinstance(r, (list, tuple)):
                return r, True
            if isinstance(r, dict):
                return r, False
            if isinstance(r, (RootView, DomainView)):
                return r.cel_materialize(), False
            raise CelError(f"cannot iterate over type '{type_name(r)}'")

        def run(act):
            coll, is_list = items(act)
            vars_ = act.vars
            saved = {v: vars_[v] for v in names if v in vars_}
            if is_list:
                seq = list(enumerate(coll)) if two else [(None, x) for x in coll]
            else:
                seq = list(coll.items()) if two else [(k, None) for k in coll]
            try:
                return _MACROS[base](act, seq, names, two, is_list, fs)
            finally:
                for v in names:
                    if v in saved:
                        vars_[v] = saved[v]
                    else:
                        vars_.pop(v, None)
        return run


def _set_vars(act, names, two, is_list, k, v):
    if two:
        act.vars[names[0]] = k
        act.vars[names[1]] = v
    else:
        act.vars[names[0]] = v if is_list else k


def _quantifier(act, seq, names, two, is_list, fs, absorbing: bool) -> bool:
    """``all`` (absorbing False) and ``exists`` (absorbing True): the first absorbing result wins even
    over errors met on other elements, as in CEL's logical operators; else the first error is raised."""
    err = None
    identity = not absorbing
    for k, v in seq:
        act.charge(1)
        _set_vars(act, names, two, is_list, k, v)
        try:
            r = fs[0](act)
        except CelError as e:
            if e.message == COST_EXCEEDED:
                raise
            err = err or e
            continue
        if r is absorbing:
            return absorbing
        if r is not identity:
            err = err or CelError("no such overload")
    if err:
        raise err
    return identity


def _m_all(act, seq, names, two, is_list, fs):
    return _quantifier(act, seq, names, two, is_list, fs, False)


def _m_exists(act, seq, names, two, is_list, fs):
    return _quantifier(act, seq, names, two, is_list, fs, True)


def _m_exists_one(act, seq, names, two, is_list, fs):
    count = 0
    for k, v in seq:
        act.charge(1)
        _set_vars(act, names, two, is_list, k, v)
        r = fs[0](act)
        if r is True:
            count += 1
        elif r is not False:
            raise CelError("no such overload")
    return count == 1


def _m_map(act, seq, names, two, is_list, fs):
    out = []
    for k, v in seq:
        act.charge(1)
        _set_vars(act, names, two, is_list, k, v)
        if len(fs) == 2:
            keep = fs[0](act)
            if not isinstance(keep, bool):
                raise CelError("no such overload")
            if not keep:
                continue
            out.append(fs[1](act))
        else:
            out.append(fs[0](act))
    return out


def _m_filter(act, seq, names, two, is_list, fs):
    out = []
    for k, v in seq:
        act.charge(1)
        _set_vars(act, names, two, is_list, k, v)
        keep = fs[0](act)
        if not isinstance(keep, bool):
            raise CelError("no such overload")
        if keep:
            out.append(v if is_list else k)
    return out


def _m_transform_list(act, seq, names, two, is_list, fs):
    return _m_map(act, seq, names, two, is_list, fs)


def _m_transform_map(act, seq, names, two, is_list, fs):
    out = {}
    for k, v in seq:
        act.charge(1)
        _set_vars(act, names, two, is_list, k, v)
        if len(fs) == 2:
            keep = fs[0](act)
            if not keep:
                continue
            out[k] = fs[1](act)
        else:
            out[k] = fs[0](act)
    return out


_MACROS = {"all": _m_all, "exists": _m_exists, "exists_one": _m_exists_one, "map": _m_map,
           "filter": _m_filter, "transformList": _m_transform_list, "transformMap": _m_transform_map}


def _plain(v):
    """Materialize device views when they are passed to library functions."""
    if isinstance(v, (RootView, DomainView)):
        return v.cel_materialize()
    return v


def _size_cost(v) -> int:
    if isinstance(v, (str, bytes, list, tuple)):
        return 1 + len(v) // 10
    return 1


SIZED_MEMBERS = {"contains", "startsWith", "endsWith", "matches", "indexOf", "lastIndexOf", "lowerAscii",
                 "upperAscii", "replace", "split", "substring", "trim", "join", "find", "findAll",
                 "isSorted", "sum", "min", "max"}
SIZED_GLOBALS = {"matches", "string", "bytes", "sets.contains", "sets.equivalent", "sets.intersects",
                 "strings.quote", "quantity", "isQuantity", "semver", "isSemver"}


def index_value(v, i):
    if isinstance(v, (list, tuple)):
        if isinstance(i, bool) or not isinstance(i, (int, float)):
            raise CelError(f"unsupported index type '{type_name(i)}' in list")
        if isinstance(i, float):
            if not i.is_integer():
                raise CelError(f"unsupported index value '{i}' in list")
            i = int(i)
        if i < 0 or i >= len(v):
            raise CelError(f"index out of bounds: {int(i)}")
        return v[int(i)]
    if isinstance(v, dict):
        found, r = map_find(v, i)
        if not found:
            raise CelError(f"no such key: {i if isinstance(i, str) else format_value(i)}",
                           key=i if isinstance(i, str) else None)
        return r
    if isinstance(v, (RootView, DomainView)):
        return v.cel_index(i)
    raise CelError(f"no such overload: {type_name(v)}[{type_name(i)}]")


def static_type(n: Node) -> str:
    """Best-effort static type of a node, for messages."""
    if n.kind == "lit":
        return n.b
    if n.kind == "list":
        return "list"
    if n.kind == "map":
        return "map"
    if n.kind == "call" and n.a in ("quantity",) and n.b is None:
        return "kubernetes.Quantity"
    if n.kind == "call" and n.a in ("semver",) and n.b is None:
        return "kubernetes.Semver"
    return "dyn"


# -- operators ------------------------------------------------------------------------------------------

def _logical(c: Compiler, n: Node, scope, absorbing: bool, symbol: str):
    """``&&`` (absorbing False) and ``||`` (absorbing True) with CEL's commutative error handling:
    an error or non-bool on one side is forgiven when the other side is the absorbing value."""
    lf, rf = c.build(n.c[0], scope), c.build(n.c[1], scope)
    identity = not absorbing

    def f(act):
        lerr = None
        try:
            lv = lf(act)
            if lv is absorbing:
                return absorbing
            if lv is not identity:
                lerr = CelError(f"no such overload: {type_name(lv)} {symbol} ...")
        except CelError as e:
            if e.message == COST_EXCEEDED:
                raise
            lerr = e
        rv = rf(act)
        if rv is absorbing:
            return absorbing
        if rv is not identity:
            raise lerr or CelError(f"no such overload: ... {symbol} {type_name(rv)}")
        if lerr:
            raise lerr
        return identity
    return f


def _op_and(c: Compiler, n: Node, scope):
    return _logical(c, n, scope, False, "&&")


def _op_or(c: Compiler, n: Node, scope):
    return _logical(c, n, scope, True, "||")


def _op_cond(c: Compiler, n: Node, scope):
    cf, tf, ef = (c.build(x, scope) for x in n.c)

    def f(act):
        cv = cf(act)
        if cv is True:
            return tf(act)
        if cv is False:
            return ef(act)
        raise CelError(f"no such overload: {type_name(cv)} ? ... : ...")
    return f


def _op_not(c: Compiler, n: Node, scope):
    a = c.build(n.c[0], scope)

    def f(act):
        v = a(act)
        if v is True:
            return False
        if v is False:
            return True
        raise CelError(f"no such overload: !{type_name(v)}")
    return f


def _op_neg(c: Compiler, n: Node, scope):
    a = c.build(n.c[0], scope)

    def f(act):
        v = a(act)
        if isinstance(v, bool) or isinstance(v, UInt):
            raise CelError(f"no such overload: -{type_name(v)}")
        if isinstance(v, int):
            return check_int(-v)
        if isinstance(v, float):
            return -v
        raise CelError(f"no such overload: -{type_name(v)}")
    return f


def _binary(fn):
    def build(c: Compiler, n: Node, scope):
        lf, rf = c.build(n.c[0], scope), c.build(n.c[1], scope)
        _static_binary_check(c, n)
        return lambda act: fn(lf(act), rf(act), act)
    return build


def _static_binary_check(c: Compiler, n: Node) -> None:
    """Reject operand types that cel-go's checker rejects, where they are known statically."""
    op = n.a
    lt, rt = _static_kind(n.c[0]), _static_kind(n.c[1])
    if lt is None or rt is None:
        return
    numeric = {"int", "uint", "double"}
    if op in ("_==_", "_!=_"):
        if lt != rt:
            raise c.err(n, f"found no matching overload for '{op}' applied to '({lt}, {rt})'")
        return
    if op in ("_<_", "_<=_", "_>_", "_>=_"):
        ordered = numeric | {"string", "bytes", "bool"}
        if lt in ordered and rt in ordered and (lt == rt or (lt in numeric and rt in numeric)):
            return
        raise c.err(n, f"found no matching overload for '{op}' applied to '({lt}, {rt})'")
    if op in ("_+_", "_-_", "_*_", "_/_", "_%_"):
        ok = lt == rt and (lt in numeric or (op == "_+_" and lt in ("string", "bytes", "list")))
        if op == "_%_" and lt == "double":
            ok = False
        if not ok:
            raise c.err(n, f"found no matching overload for '{op}' applied to '({lt}, {rt})'")


def _static_kind(n: Node):
    """Static CEL type of a node when it is certain (literals, quantity/semver values, capacities)."""
    if n.kind == "lit":
        return n.b
    if n.kind == "list":
        return "list"
    if n.kind == "map":
        return "map"
    if n.kind == "call" and n.b is None and n.a == "quantity" and len(n.c) == 1:
        return "kubernetes.Quantity"
    if n.kind == "call" and n.b is None and n.a == "semver":
        return "kubernetes.Semver"
    if n.kind == "call" and n.b is None and n.a in ("string", "int", "uint", "double", "bool", "bytes") and len(n.c) == 1:
        return n.a
    if n.kind == "call" and n.b is not None and n.a in ("add", "sub", "mul") and _static_kind(n.b) == "kubernetes.Quantity":
        return "kubernetes.Quantity"
    if n.kind == "call" and n.b is not None and n.a in ("isLessThan", "isGreaterThan", "contains",
                                                       "startsWith", "endsWith", "isInteger", "matches"):
        return "bool"
    if n.kind == "call" and n.b is not None and n.a in ("compareTo", "sign", "asInteger", "major", "minor", "patch"):
        return "int"
    if n.kind == "call" and n.b is None and n.a == "size":
        return "int"
    # device.capacity[<domain>].<name> / [<name>] is a kubernetes.Quantity
    if n.kind in ("select", "index") and not (n.kind == "select" and n.c):
        inner = n.a
        if inner.kind == "index" and inner.a.kind == "select" and inner.a.b == "capacity" \
                and inner.a.a.kind == "ident" and inner.a.a.a == "device":
            return "kubernetes.Quantity"
    if n.kind == "select" and n.c:
        return "bool"
    if n.kind == "select" and n.a.kind == "ident" and n.a.a == "device" and n.b == "driver":
        return "string"
    if n.kind == "call" and n.b is None and n.a in ("_+_", "_-_", "_*_", "_/_", "_%_"):
        lt, rt = _static_kind(n.c[0]), _static_kind(n.c[1])
        return lt if lt is not None and lt == rt else None
    if n.kind == "call" and n.b is None and n.a == "_?_:_":
        lt, rt = _static_kind(n.c[1]), _static_kind(n.c[2])
        return lt if lt is not None and lt == rt else None
    if n.kind == "call" and n.b is None and n.a in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_&&_",
                                                     "_||_", "!_", "@in"):
        return "bool"
    return None


def _eq(a, b, act):
    return cel_equals(_plain(a), _plain(b))


def _ne(a, b, act):
    return not cel_equals(_plain(a), _plain(b))


def _ordered(pred, sym):
    def f(a, b, act):
        if isinstance(a, (Quantity, Semver)) or isinstance(b, (Quantity, Semver)):
            raise CelError(f"no such overload: {type_name(a)} {sym} {type_name(b)}")
        try:
            return pred(cel_compare(a, b))
        except CelError:
            raise CelError(f"no such overload: {type_name(a)} {sym} {type_name(b)}") from None
    return f


def _arith_type_check(a, b, sym):
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        raise CelError(f"no such overload: {ta} {sym} {tb}")
    return ta


def _add(a, b, act):
    t = _arith_type_check(a, b, "+")
    if t == "int":
        return check_int(a + b)
    if t == "uint":
        return check_uint(a + b)
    if t == "double":
        return a + b
    if t in ("string", "bytes"):
        act.charge(_size_cost(a) + _size_cost(b))
        return a + b
    if t == "list":
        act.charge(_size_cost(a) + _size_cost(b))
        return list(a) + list(b)
    raise CelError(f"no such overload: {t} + {t}")


def _sub(a, b, act):
    t = _arith_type_check(a, b, "-")
    if t == "int":
        return check_int(a - b)
    if t == "uint":
        return check_uint(a - b)
    if t == "double":
        return a - b
    raise CelError(f"no such overload: {t} - {t}")


def _mul(a, b, act):
    t = _arith_type_check(a, b, "*")
    if t == "int":
        return check_int(a * b)
    if t == "uint":
        return check_uint(a * b)
    if t == "double":
        return a * b
    raise CelError(f"no such overload: {t} * {t}")


def _div(a, b, act):
    t = _arith_type_check(a, b, "/")
    if t in ("int", "uint"):
        if b == 0:
            raise CelError("division by zero")
        q = abs(int(a)) // abs(int(b))
        if (a < 0) != (b < 0):
            q = -q
        return check_int(q) if t == "int" else check_uint(q)
    if t == "double":
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1, b)
        return a / b
    raise CelError(f"no such overload: {t} / {t}")


def _mod(a, b, act):
    t = _arith_type_check(a, b, "%")
    if t in ("int", "uint"):
        if b == 0:
            raise CelError("modulus by zero")
        r = abs(int(a)) % abs(int(b))
        if a < 0:
            r = -r
        return r if t == "int" else UInt(r)
    raise CelError(f"no such overload: {t} % {t}")


def _in(a, b, act):
    if isinstance(b, (list, tuple)):
        act.charge(_size_cost(b))
        return any(cel_equals(a, x) for x in b)
    if isinstance(b, dict):
        return map_find(b, a)[0]
    if isinstance(b, (RootView, DomainView)):
        return b.cel_contains(a)
    raise CelError(f"no such overload: {type_name(a)} in {type_name(b)}")


OPERATORS = {
    "_&&_": _op_and,
    "_||_": _op_or,
    "_?_:_": _op_cond,
    "!_": _op_not,
    "-_": _op_neg,
    "_==_": _binary(_eq),
    "_!=_": _binary(_ne),
    "_<_": _binary(_ordered(lambda c: c < 0, "<")),
    "_<=_": _binary(_ordered(lambda c: c <= 0, "<=")),
    "_>_": _binary(_ordered(lambda c: c > 0, ">")),
    "_>=_": _binary(_ordered(lambda c: c >= 0, ">=")),
    "_+_": _binary(_add),
    "_-_": _binary(_sub),
    "_*_": _binary(_mul),
    "_/_": _binary(_div),
    "_%_": _binary(_mod),
    "@in": _binary(_in),
}


def output_kind(n: Node):
    """Static output type of the whole expression, if certain (for the bool check)."""
    return _static_kind(n)
