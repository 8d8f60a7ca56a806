"""Hints for classic selector mistakes, found by comparing the expression with real devices.

``diagnose(expression, devices)`` parses the expression (it need not compile),
finds every ``device.attributes[D].N`` / ``device.capacity[D].N`` reference
and every comparison of such a reference with a literal, and checks them
against what the devices (DeviceEntry objects from a snapshot) publish:

* a name under the wrong domain, or a name used where a domain belongs;
* a capacity read from ``attributes`` (or the reverse);
* a name that no device publishes ("did you mean ...");
* a quantity compared with a string or an int; a version compared as a string;
  an int compared with a string (and the reverse);
* a string compared with a value no device has (with the values that exist);
* a list attribute (DRAListTypeAttributes) compared with ``==`` / ``!=``: ``.includes()`` is the test.
* a driver name no device is published by (one edit off: "did you mean").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubectl_dra.cel.device import split_qualified_name
from kubectl_dra.cel.errors import CelCompileError
from kubectl_dra.cel.syntax import Node, parse
from kubectl_dra.names import near
from kubectl_dra.selection import LIST_ATTRIBUTE_KINDS, attribute_key


@dataclass(frozen=True)
class Hint:
    kind: str          # wrong-domain, domain-missing, name-as-domain, capacity-not-attribute, ...
    message: str
    column: int | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "column": self.column}


@dataclass(frozen=True)
class Ref:
    kind: str      # "attributes" or "capacity"
    domain: str
    name: str
    node: Node


class Published:
    """What a set of devices publishes, as a diagnosis asks for it.

    Which (domain, name) keys exist is read up front, cheaply: per driver, the union of the names in
    its devices' ``attributes`` and ``capacity`` maps (``set.update`` over each map).  The types and
    the values of an attribute are read only for the keys an expression refers to, over every device
    (all values, not a sample: "no device has X" must be true).  An attribute counts as published only
    when some device gives it a value we can decode (:func:`kubectl_dra.selection.attribute_key`).
    One diagnosis over a 60,000-device snapshot costs about one dict lookup per device and referenced
    key instead of one decoding per attribute of every device."""

    def __init__(self, devices: Iterable):
        self._devices = devices if isinstance(devices, (list, tuple)) else list(devices)
        names: dict[str, dict[str, set[str]]] = {"attributes": {}, "capacity": {}}
        drivers: set[str] = set()
        for d in self._devices:
            dev = d.device
            drivers.add(d.driver)
            for kind in ("attributes", "capacity"):
                published = dev.get(kind)
                if published and (type(published) is dict or isinstance(published, Mapping)):
                    by_driver = names[kind]
                    seen = by_driver.get(d.driver)
                    if seen is None:
                        seen = by_driver[d.driver] = set()
                    seen.update(published)
        # (domain, name) -> the (driver, name as written) pairs that publish it
        self._sources: dict[str, dict[tuple[str, str], list[tuple[str, str]]]] = {}
        for kind, by_driver in names.items():
            keys: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for driver, written in by_driver.items():
                for qname in written:
                    if isinstance(qname, str):
                        keys.setdefault(split_qualified_name(qname, driver), []).append((driver, qname))
            self._sources[kind] = keys
        self.drivers = drivers  # every driver that publishes a device here
        self._attr_info: dict[tuple[str, str], tuple[set[str], set]] = {}
        self._has: dict[tuple[str, str], bool] = {}

    def _written(self, key: tuple[str, str]) -> dict[str, list[str]]:
        written: dict[str, list[str]] = {}
        for driver, qname in self._sources["attributes"].get(key, ()):
            written.setdefault(driver, []).append(qname)
        return written

    def _decoded(self, key: tuple[str, str]):
        """Every decoded value of one attribute key, device by device (a generator: stops where asked)."""
        written = self._written(key)
        if not written:
            return
        for d in self._devices:
            qnames = written.get(d.driver)
            if qnames is None:
                continue
            attrs = d.device.get("attributes")
            if type(attrs) is not dict and not isinstance(attrs, Mapping):
                continue
            for qname in qnames:
                raw = attrs.get(qname)
                if raw is None or (type(raw) is not dict and not isinstance(raw, Mapping)):
                    continue
                # list kinds (ints, bools, strings, versions; DRAListTypeAttributes) count as published
                # types too, whether or not the gate is on: the name exists, and a comparison with a
                # scalar is the mistake to point at
                decoded = attribute_key(raw, lists=True)
                if decoded is not None:
                    yield decoded

    def _attribute(self, key: tuple[str, str]) -> tuple[set[str], set]:
        """(types, values) of one attribute key over every device that writes it (cached)."""
        hit = self._attr_info.get(key)
        if hit is None:
            types: set[str] = set()
            values: set = set()
            for kind, value in self._decoded(key):
                types.add(kind)
                if kind not in LIST_ATTRIBUTE_KINDS:
                    values.add(value)
            hit = self._attr_info[key] = (types, values)
        return hit

    def has(self, kind: str, key: tuple[str, str]) -> bool:
        """Some device publishes ``key`` (domain, name) as an attribute with a value, or as a capacity."""
        if kind != "attributes":
            return key in self._sources["capacity"]
        if key not in self._sources["attributes"]:
            return False
        hit = self._attr_info.get(key)
        if hit is not None:
            return bool(hit[0])
        known = self._has.get(key)
        if known is None:  # the first decodable value is enough (usually the first device's)
            known = self._has[key] = next(self._decoded(key), None) is not None
        return known

    def attribute_types(self, key: tuple[str, str]) -> set[str]:
        return self._attribute(key)[0]

    def attribute_values(self, key: tuple[str, str]) -> set:
        return self._attribute(key)[1]

    def _keys(self, kind: str) -> list[tuple[str, str]]:
        return [k for k in self._sources[kind] if self.has(kind, k)]

    def names_in(self, kind: str, domain: str) -> list[str]:
        return sorted(n for (d, n) in self._keys(kind) if d == domain)

    def domains_of(self, kind: str, name: str) -> list[str]:
        return sorted(d for (d, n) in self._keys(kind) if n == name)

    def domains(self, kind: str) -> list[str]:
        return sorted({d for (d, _) in self._keys(kind)})

    def has_domain(self, kind: str, domain: str) -> bool:
        return any(self.has(kind, k) for k in self._sources[kind] if k[0] == domain)


def _walk(n):
    if isinstance(n, Node):
        yield n
        for x in (n.a, n.b, n.c, n.d):
            yield from _walk(x)
    elif isinstance(n, (list, tuple)):
        for x in n:
            yield from _walk(x)


def _ref(n: Node) -> Ref | None:
    """device.attributes["D"].N, device.attributes["D"]["N"] (and capacity)."""
    if n.kind == "select" and not n.c:
        inner, name = n.a, n.b
    elif n.kind == "index" and n.b.kind == "lit" and isinstance(n.b.a, str):
        inner, name = n.a, n.b.a
    else:
        return None
    if inner.kind == "index" and inner.b.kind == "lit" and isinstance(inner.b.a, str):
        root = inner.a
        if root.kind == "select" and root.b in ("attributes", "capacity") and root.a.kind == "ident" \
                and root.a.a == "device":
            return Ref(root.b, inner.b.a, name, n)
    return None


def _has_ref(n: Node) -> Ref | None:
    if n.kind == "select" and n.c:
        return _ref(Node("select", n.col, n.a, n.b, False, line=n.line))
    return None


def device_reads(expression: str) -> tuple[tuple[str, str, str], ...] | None:
    """What an expression reads of ``device``, when that is only named fields: ``("driver", "", "")``,
    ``("allowMultipleAllocations", "", "")`` and ``(kind, domain, name)`` for ``device.attributes[D].N`` /
    ``device.capacity[D].N`` (with ``has()`` or not), each with a literal domain and name.  None when it reads the
    device any other way (a whole map, a computed key, a macro that could shadow ``device``) or does not parse:
    then its verdict on a device is not a function of those fields alone."""
    try:
        tree = parse(expression)
    except CelCompileError:
        return None
    reads: list[tuple[str, str, str]] = []
    covered: set[int] = set()
    nodes = list(_walk(tree))
    for n in nodes:
        if n.kind in ("comp", "bind"):
            return None
        r = _ref(n) or _has_ref(n)
        if r is not None:
            covered.add(id(n.a.a.a))  # (both forms: the ident under .attributes / .capacity)
            reads.append((r.kind, r.domain, r.name))
        elif (n.kind == "select" and not n.c and n.b in ("driver", "allowMultipleAllocations")
              and n.a.kind == "ident" and n.a.a == "device"):
            covered.add(id(n.a))
            reads.append((n.b, "", ""))
    for n in nodes:
        if n.kind == "ident" and n.a == "device" and id(n) not in covered:
            return None
    return tuple(dict.fromkeys(reads))


def _domain_index(n: Node):
    """device.attributes["X"] used as a value (X should be a domain)."""
    if n.kind == "index" and n.b.kind == "lit" and isinstance(n.b.a, str):
        root = n.a
        if root.kind == "select" and root.b in ("attributes", "capacity") and root.a.kind == "ident" \
                and root.a.a == "device":
            return root.b, n.b.a
    return None


def _is_driver(n: Node) -> bool:
    """device.driver"""
    return n.kind == "select" and not n.c and n.b == "driver" and n.a.kind == "ident" and n.a.a == "device"


def _access(kind: str, domain: str, name: str) -> str:
    return f'device.{kind}["{domain}"].{name}'


def _lit(n: Node):
    if n.kind == "lit":
        return n.b, n.a
    if n.kind == "call" and n.b is None and n.a in ("quantity", "semver") and n.c and n.c[0].kind == "lit":
        return n.a, n.c[0].a
    return None


def _fmt(v) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)


def diagnose(expression: str, devices: Iterable) -> list[Hint]:
    """Hints for the expression given the devices it will see (never raises on bad syntax)."""
    try:
        tree = parse(expression)
    except CelCompileError:
        return []
    pub = Published(devices)
    hints: list[Hint] = []
    seen: set = set()

    def add(h: Hint):
        if (h.kind, h.message) not in seen:
            seen.add((h.kind, h.message))
            hints.append(h)

    refs: list[Ref] = []
    ref_nodes: set[int] = set()
    for n in _walk(tree):
        r = _ref(n) or _has_ref(n)
        if r is not None:
            refs.append(r)
            ref_nodes.add(id(n.a))
    # device.attributes["productName"] with a name where the domain belongs
    for n in _walk(tree):
        di = _domain_index(n)
        if di is None:
            continue
        kind, domain = di
        if pub.has_domain(kind, domain):
            continue
        owners = pub.domains_of(kind, domain)
        if owners:
            add(Hint("name-as-domain",
                     f'"{domain}" is {"an attribute" if kind == "attributes" else "a capacity"} name, not a domain: '
                     f'device.{kind}[...] takes the domain first, e.g. {_access(kind, owners[0], domain)}', n.col))
    for r in refs:
        _check_ref(r, pub, add)
    for n in _walk(tree):
        if n.kind == "call" and n.b is None and n.a in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_") and len(n.c) == 2:
            for side, other in ((n.c[0], n.c[1]), (n.c[1], n.c[0])):
                r = _ref(side)
                lit = _lit(other)
                if r is not None and lit is not None:
                    _check_comparison(r, n.a, lit, pub, add, n)
        if n.kind == "call" and n.b is None and n.a == "_==_" and len(n.c) == 2 and pub.drivers:
            for side, other in ((n.c[0], n.c[1]), (n.c[1], n.c[0])):
                lit = _lit(other)
                if _is_driver(side) and lit is not None and lit[0] == "string" and lit[1] not in pub.drivers:
                    add(Hint("unknown-driver", f'no device the selector sees comes from driver "{lit[1]}"'
                             + (f'; did you mean {" or ".join(_fmt(d) for d in close)}?'
                                if (close := near(lit[1], pub.drivers))
                                else f' (drivers: {", ".join(sorted(pub.drivers)[:6])})'), n.col))
        if n.kind == "call" and n.b is not None and n.a in ("isGreaterThan", "isLessThan", "compareTo") and n.c:
            r = _ref(n.b)
            lit = _lit(n.c[0])
            if r is not None and lit is not None and lit[0] == "string":
                add(Hint("string-argument", f"{n.a}() takes a {'quantity' if r.kind == 'capacity' else 'semver'} "
                         f"value, not a string: use {n.a}({'quantity' if r.kind == 'capacity' else 'semver'}("
                         f"{_fmt(lit[1])}))", n.col))
    return hints


def _check_ref(r: Ref, pub: Published, add) -> None:
    kind, other = r.kind, ("capacity" if r.kind == "attributes" else "attributes")
    if pub.has(kind, (r.domain, r.name)):
        return
    col = r.node.col
    if pub.has(other, (r.domain, r.name)):
        add(Hint(f"{'capacity' if kind == 'attributes' else 'attribute'}-not-{kind[:-1] if kind == 'attributes' else 'capacity'}",
                 f'"{r.name}" is published as {"a capacity" if kind == "attributes" else "an attribute"}, '
                 f'not {"an attribute" if kind == "attributes" else "a capacity"}: use {_access(other, r.domain, r.name)}', col))
        return
    domains = pub.domains_of(kind, r.name)
    if domains:
        add(Hint("wrong-domain",
                 f'"{r.name}" is published under domain {", ".join(repr(d).replace(chr(39), chr(34)) for d in domains)}, '
                 f'not "{r.domain}": use {_access(kind, domains[0], r.name)}', col))
        return
    other_domains = pub.domains_of(other, r.name)
    if other_domains:
        add(Hint(f"{'capacity' if kind == 'attributes' else 'attribute'}-not-{kind[:-1] if kind == 'attributes' else 'capacity'}",
                 f'"{r.name}" is published as {"a capacity" if kind == "attributes" else "an attribute"} of domain '
                 f'"{other_domains[0]}": use {_access(other, other_domains[0], r.name)}', col))
        return
    names = pub.names_in(kind, r.domain)
    if names:
        close = difflib.get_close_matches(r.name, names, n=3, cutoff=0.6)
        lower = [n for n in names if n.lower() == r.name.lower()]
        guess = lower or close
        msg = f'no device publishes {kind[:-1] if kind == "attributes" else "capacity"} "{r.name}" in domain "{r.domain}"'
        if guess:
            msg += f"; did you mean {', '.join(guess)}?"
        msg += f" (names in that domain: {', '.join(names)})"
        add(Hint("unknown-name", msg, col))
        return
    all_domains = pub.domains(kind)
    close = difflib.get_close_matches(r.domain, all_domains, n=2, cutoff=0.5)
    msg = f'no device publishes {kind} in domain "{r.domain}"'
    if close:
        msg += f"; did you mean {', '.join(close)}?"
    if all_domains:
        msg += f" (domains: {', '.join(all_domains)})"
    add(Hint("unknown-domain", msg, col))


def _check_comparison(r: Ref, op: str, lit, pub: Published, add, node: Node) -> None:
    ltype, lval = lit
    col = node.col
    acc = _access(r.kind, r.domain, r.name)
    if r.kind == "capacity":
        if not pub.has("capacity", (r.domain, r.name)):
            return
        if ltype in ("string", "int", "double", "uint"):
            want = lval if ltype == "string" else str(lval)
            add(Hint("quantity-vs-" + ("string" if ltype == "string" else "number"),
                     f"{acc} is a quantity; comparing it with {'a string' if ltype == 'string' else 'a number'} "
                     f"{'is a type error' if op not in ('_==_', '_!=_') else 'is never equal'}: use "
                     f'{acc}.compareTo(quantity("{want}")) {op.strip("_")} 0 '
                     f'(or .isGreaterThan(quantity("{want}")))', col))
        return
    types = pub.attribute_types((r.domain, r.name))
    if not types:
        return
    lists = sorted(types & set(LIST_ATTRIBUTE_KINDS))
    if lists and op in ("_==_", "_!=_") and ltype in ("string", "int", "bool", "semver", "uint", "double"):
        # A list attribute (DRAListTypeAttributes) equals no scalar: the comparison is never true (==) or
        # always true (!=); includes() is the membership test, and costs what the API server charges
        # for a list (cel/compile.go includesFunc).
        shown = f"semver({_fmt(lval)})" if ltype == "semver" else _fmt(lval)
        test = f"{acc}.includes({shown})"
        where = "" if types <= set(LIST_ATTRIBUTE_KINDS) else " on some devices"
        add(Hint("list-equals",
                 f"{acc} is a list attribute ({', '.join(lists)}){where}: {op.strip('_')} compares the whole "
                 f"list with {shown} and is {'never' if op == '_==_' else 'always'} true there; "
                 f"use {test if op == '_==_' else '!' + test} (DRAListTypeAttributes)", col))
        return
    if "version" in types and ltype == "string":
        fn = {"_<_": "isLessThan", "_>_": "isGreaterThan"}.get(op)
        suggestion = (f'{acc}.{fn}(semver("{lval}"))' if fn else
                      f'{acc}.compareTo(semver("{lval}")) {op.strip("_")} 0')
        add(Hint("version-as-string",
                 f"{acc} is a version; a string never equals it and strings do not order like versions: "
                 f"use {suggestion}", col))
        return
    if "int" in types and ltype == "string":
        add(Hint("int-vs-string", f'{acc} is an int; compare it with a number, e.g. {acc} {op.strip("_")} {lval}'
                 if str(lval).lstrip("-").isdigit() else f"{acc} is an int, not a string", col))
        return
    if "string" in types and ltype in ("int", "uint", "double"):
        add(Hint("string-vs-int", f'{acc} is a string; compare it with a string, e.g. {acc} {op.strip("_")} "{lval}"',
                 col))
        return
    if "bool" in types and ltype == "string":
        add(Hint("bool-vs-string", f"{acc} is a bool; compare it with true/false (or use it directly)", col))
        return
    if "string" in types and ltype == "string" and op in ("_==_", "_!=_"):
        values = pub.attribute_values((r.domain, r.name))
        if lval not in values and values:
            shown = sorted(str(v) for v in values)[:10]
            close = difflib.get_close_matches(lval, shown, n=2, cutoff=0.4)
            contains = [v for v in shown if lval.lower() in v.lower()]
            msg = f"no device has {acc} == {_fmt(lval)}"
            if contains or close:
                msg += f"; did you mean {', '.join(_fmt(v) for v in (contains or close))}?"
            msg += f" (values: {', '.join(_fmt(v) for v in shown)})"
            add(Hint("unknown-value", msg, col))
    if "version" in types and ltype == "semver":
        return


# -- the one selector diagnosis of `match` and `why-pending` ----------------------------------------

_NO_SUCH_KEY = "no such key: "


def missing_key_of(message: str | None) -> str | None:
    """The key of a ``no such key: KEY`` runtime error message (None for other messages)."""
    if message and _NO_SUCH_KEY in message:
        return message.split(_NO_SUCH_KEY, 1)[1].strip().strip("'\"") or None
    return None


def selector_hints(expression: str, devices: Iterable, evaluated: Iterable[tuple[str, str | None]] = (),
                   *, narrow_with: str = "") -> list[Hint]:
    """Every hint for one selector, for ``match`` and ``why-pending`` alike.

    ``devices``: the DeviceEntry objects the selector sees; ``evaluated``: (driver, error message or None)
    per device it ran on.  First :func:`diagnose`'s hints (a capacity read as an attribute, a version
    compared with a string, a wrong domain, a misspelled name, a value no device has).  Then, for a
    ``no such key`` error that those do not explain, a guard, but only when some devices evaluated
    without the error: a guard (the driver, or ``has()``) then keeps those.  When every device errors,
    no guard is offered: it would turn the error into a silent no-match.  ``narrow_with``: another way
    to narrow the devices, appended to the driver guard (``match``: "use --class").
    """
    devices = list(devices)
    hints = diagnose(expression, devices)
    explained = {h.kind for h in hints} & {"capacity-not-attribute", "attribute-not-capacity", "wrong-domain",
                                            "unknown-name", "unknown-domain", "name-as-domain"}
    failing: dict[str, set[str]] = {}
    ok_drivers: set[str] = set()
    for driver, message in evaluated:
        key = missing_key_of(message)
        if message is None:
            ok_drivers.add(driver)
        elif key is not None:
            failing.setdefault(key, set()).add(driver)
    if explained or not ok_drivers:
        return hints
    for key, drivers in failing.items():
        others = sorted(drivers - ok_drivers)
        if others:
            hints.append(Hint("driver-guard",
                              f'devices of {", ".join(sorted(drivers))} have no "{key}": guard the lookup with '
                              f'device.driver == "{sorted(ok_drivers)[0]}" && ... or has(...)'
                              + (f", or {narrow_with}" if narrow_with else "")))
        else:
            hints.append(Hint("has-guard",
                              f'some devices of {", ".join(sorted(drivers))} publish "{key}" and others do not: '
                              f"guard the lookup with has(...) && ... to skip the ones without it"))
    return hints
