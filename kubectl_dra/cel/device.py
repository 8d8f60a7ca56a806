"""The ``device`` variable: upstream's DRADevice object over raw v1 device fields.

``device.attributes`` and ``device.capacity`` are maps keyed by domain, then by
name.  A name without a ``domain/`` prefix belongs to the driver's domain
(``parseQualifiedName``).  Looking up a domain that no attribute uses yields an
empty map (upstream wraps the outer map so ``Find`` never fails), so a missing
domain *or* name ends in ``no such key: <name>``; ``in`` on the outer map still
reports only the domains that exist.

Every read of device data goes through :class:`DeviceInput` so that evaluation
can record exactly which values an expression looked at (for memoization).
"""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.cel.errors import CelError
from kubectl_dra.cel.values import DEVICE_TYPE, Semver, format_value
from kubectl_dra.quantity import Quantity, QuantityError
from kubectl_dra.selection import attribute_key

MISSING = ("<missing>",)


def split_qualified_name(name: str, default_domain: str) -> tuple[str, str]:
    """Split ``domain/id``; a bare ``id`` belongs to ``default_domain``."""
    sep = name.find("/")
    if sep == -1:
        return default_domain, name
    return name[:sep], name[sep + 1:]


def cel_attribute_value(key):
    """The CEL value of a decoded attribute (:func:`kubectl_dra.selection.attribute_key`'s result,
    or ("invalid", name) for an attribute that holds no supported value)."""
    kind, v = key
    if kind == "version":
        try:
            return Semver.parse(v)
        except ValueError as e:
            raise CelError(f"parse semantic version: {e}") from None
    if kind == "invalid":
        raise CelError(f"attribute {v}: unsupported attribute value")
    if kind == "int":
        return int(v)
    if kind == "versions":  # DRAListTypeAttributes: a list of semvers (upstream getAttributeValue)
        try:
            return [Semver.parse(x) for x in v]
        except (ValueError, TypeError) as e:
            raise CelError(f"parse semantic version: {e}") from None
    if kind == "ints":
        return [int(x) for x in v]
    if kind in ("bools", "strings"):
        return list(v)
    return v


class DeviceInput:
    """The inputs of one evaluation: driver, attributes, capacity, allowMultipleAllocations.

    Built lazily: single values are looked up in the raw maps directly
    (``domain/name``, or the bare ``name`` when the domain is the driver's);
    the per-domain maps are only built when an expression lists keys.
    Upstream converts every attribute up front and fails on an unparsable
    version anywhere in the device; here that error surfaces only when the
    attribute is read (the API server validates versions, so this is rare).
    """

    __slots__ = ("driver", "raw_attrs", "raw_caps", "allow", "label", "lists", "_attrs", "_caps")

    def __init__(self, driver: str, attributes: Mapping[str, Any] | None, capacity: Mapping[str, Any] | None,
                 allow_multiple_allocations: bool | None = None, label: str | None = None, lists: bool = False):
        self.driver = driver or ""
        self.lists = lists  # DRAListTypeAttributes: list attribute values decode
        self.raw_attrs = attributes or {}
        self.raw_caps = capacity or {}
        self.allow = bool(allow_multiple_allocations) if allow_multiple_allocations is not None else False
        self.label = label
        self._attrs = None
        self._caps = None

    error = None  # kept for callers that check it; conversion errors surface on read

    def _lookup(self, raw: Mapping[str, Any], domain: str, name: str):
        v = raw.get(domain + "/" + name)
        if v is None and domain == self.driver:
            v = raw.get(name)
        return v

    @property
    def attrs(self) -> dict:
        if self._attrs is None:
            out: dict = {}
            for qname, raw in self.raw_attrs.items():
                d, i = split_qualified_name(qname, self.driver)
                out.setdefault(d, {})[i] = attribute_key(raw or {}, self.lists) or ("invalid", qname)
            self._attrs = out
        return self._attrs

    @property
    def caps(self) -> dict:
        if self._caps is None:
            out: dict = {}
            for qname, raw in self.raw_caps.items():
                d, i = split_qualified_name(qname, self.driver)
                value = raw.get("value") if isinstance(raw, Mapping) else raw
                out.setdefault(d, {})[i] = str(value)
            self._caps = out
        return self._caps

    # -- reads, keyed by path (used by the memo trie) --------------------------------------
    def key_for(self, path: tuple):
        kind = path[0]
        if kind == "a":
            raw = self._lookup(self.raw_attrs, path[1], path[2])
            if raw is None:
                return MISSING
            return attribute_key(raw, self.lists) or ("invalid", path[2])
        if kind == "c":
            raw = self._lookup(self.raw_caps, path[1], path[2])
            if raw is None:
                return MISSING
            return str(raw.get("value") if isinstance(raw, Mapping) else raw)
        if kind == "d":
            return self.driver
        if kind == "m":
            return self.allow
        if kind == "ak":
            return tuple(sorted(self.attrs.get(path[1], {})))
        if kind == "ck":
            return tuple(sorted(self.caps.get(path[1], {})))
        if kind == "ad":
            return tuple(sorted(self.attrs))
        if kind == "cd":
            return tuple(sorted(self.caps))
        raise KeyError(path)  # pragma: no cover

    def quantity(self, text: str) -> Quantity:
        try:
            return Quantity.parse(text)
        except QuantityError as e:
            raise CelError(f"capacity value {text!r}: {e}") from None


class Recorder:
    """Collects (path, key) reads, first read of each path only."""

    __slots__ = ("inp", "reads", "seen")

    def __init__(self, inp: DeviceInput, record: bool):
        self.inp = inp
        self.reads: list | None = [] if record else None
        self.seen: set | None = set() if record else None

    def read(self, path: tuple):
        key = self.inp.key_for(path)
        if self.reads is not None and path not in self.seen:
            self.seen.add(path)
            self.reads.append((path, key))
        return key

    # typed helpers -----------------------------------------------------------------------
    def attribute(self, domain: str, name: str):
        key = self.read(("a", domain, name))
        if key is MISSING:
            raise CelError(f"no such key: {name}", key=name)
        return cel_attribute_value(key)

    def has_attribute(self, domain: str, name: str) -> bool:
        return self.read(("a", domain, name)) is not MISSING

    def capacity(self, domain: str, name: str) -> Quantity:
        key = self.read(("c", domain, name))
        if key is MISSING:
            raise CelError(f"no such key: {name}", key=name)
        return self.inp.quantity(key)

    def has_capacity(self, domain: str, name: str) -> bool:
        return self.read(("c", domain, name)) is not MISSING


# -- CEL-visible views -------------------------------------------------------------------------

class DeviceView:
    """The ``device`` object (``kubernetes.DRADevice``)."""

    __slots__ = ("rec",)
    cel_type_name = DEVICE_TYPE
    FIELDS = ("driver", "attributes", "capacity", "allowMultipleAllocations")

    def __init__(self, rec: Recorder):
        self.rec = rec

    def field(self, name: str):
        if name == "driver":
            return self.rec.read(("d",))
        if name == "attributes":
            return RootView(self.rec, "a")
        if name == "capacity":
            return RootView(self.rec, "c")
        if name == "allowMultipleAllocations":
            return self.rec.read(("m",))
        raise CelError(f"no such field: {name}")


class RootView:
    """``device.attributes`` / ``device.capacity``: domain -> map; unknown domains give {}."""

    __slots__ = ("rec", "kind")

    def __init__(self, rec: Recorder, kind: str):
        self.rec, self.kind = rec, kind

    def cel_find(self, key):
        if not isinstance(key, str):
            return False, None
        return True, DomainView(self.rec, self.kind, key)

    def cel_index(self, key):
        if not isinstance(key, str):
            raise CelError(f"no such key: {format_value(key)}")
        return DomainView(self.rec, self.kind, key)

    def cel_contains(self, key) -> bool:
        return isinstance(key, str) and key in self.rec.read((self.kind + "d",))

    def cel_keys(self):
        return list(self.rec.read((self.kind + "d",)))

    def cel_materialize(self) -> dict:
        return {d: DomainView(self.rec, self.kind, d).cel_materialize() for d in self.cel_keys()}


class DomainView:
    """The map of one domain's attributes (or capacities)."""

    __slots__ = ("rec", "kind", "domain")

    def __init__(self, rec: Recorder, kind: str, domain: str):
        self.rec, self.kind, self.domain = rec, kind, domain

    def cel_index(self, key):
        if not isinstance(key, str):
            raise CelError(f"no such key: {format_value(key)}")
        if self.kind == "a":
            return self.rec.attribute(self.domain, key)
        return self.rec.capacity(self.domain, key)

    def cel_find(self, key):
        if not isinstance(key, str):
            return False, None
        if self.kind == "a":
            if self.rec.has_attribute(self.domain, key):
                return True, self.rec.attribute(self.domain, key)
        elif self.rec.has_capacity(self.domain, key):
            return True, self.rec.capacity(self.domain, key)
        return False, None

    def cel_contains(self, key) -> bool:
        if not isinstance(key, str):
            return False
        if self.kind == "a":
            return self.rec.has_attribute(self.domain, key)
        return self.rec.has_capacity(self.domain, key)

    def cel_keys(self):
        return list(self.rec.read((self.kind + "k", self.domain)))

    def cel_materialize(self) -> dict:
        return {k: self.cel_index(k) for k in self.cel_keys()}
