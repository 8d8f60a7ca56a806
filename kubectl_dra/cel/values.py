"""Runtime values of the DRA CEL environment.

Python types stand for CEL types: ``bool``, ``int`` (int64), :class:`UInt`
(uint64), ``float`` (double), ``str``, ``bytes``, ``None`` (null), ``list``,
``dict`` (map), :class:`kubectl_dra.quantity.Quantity` (``kubernetes.Quantity``),
:class:`Semver` (``kubernetes.Semver``) and :class:`CelType` (type values).
"""

from __future__ import annotations

import re
from functools import lru_cache, total_ordering

from kubectl_dra.cel.errors import CelError
from kubectl_dra.quantity import Quantity

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

QUANTITY_TYPE = "kubernetes.Quantity"
SEMVER_TYPE = "kubernetes.Semver"
DEVICE_TYPE = "kubernetes.DRADevice"


class UInt(int):
    """A CEL ``uint`` (Python ints are CEL ``int``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class CelType:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("type", self.name))

    def __repr__(self) -> str:
        return self.name


def check_int(v: int) -> int:
    if v < INT64_MIN or v > INT64_MAX:
        raise CelError("integer overflow")
    return v


def check_uint(v: int) -> UInt:
    if v < 0 or v > UINT64_MAX:
        raise CelError("unsigned integer overflow")
    return UInt(v)


# -- semantic versions (github.com/blang/semver/v4 rules) ------------------

_NUM = re.compile(r"^[0-9]+$")
_ALNUM = re.compile(r"^[0-9A-Za-z-]+$")


@total_ordering
class Semver:
    """A semantic version with blang/semver's strict parsing and ordering."""

    __slots__ = ("major", "minor", "patch", "pre", "build", "text")

    def __init__(self, major: int, minor: int, patch: int, pre: tuple = (), build: tuple = (), text: str = ""):
        self.major, self.minor, self.patch = major, minor, patch
        self.pre = pre        # tuple of int | str identifiers
        self.build = build    # tuple of str
        self.text = text

    @staticmethod
    def parse(text: str) -> "Semver":
        return _parse_semver(text)

    def _key(self):
        return (self.major, self.minor, self.patch)

    def compare(self, other: "Semver") -> int:
        a, b = self._key(), other._key()
        if a != b:
            return -1 if a < b else 1
        # A version without prerelease is greater than one with.
        if not self.pre and not other.pre:
            return 0
        if not self.pre:
            return 1
        if not other.pre:
            return -1
        for x, y in zip(self.pre, other.pre):
            c = _cmp_pre(x, y)
            if c:
                return c
        return (len(self.pre) > len(other.pre)) - (len(self.pre) < len(other.pre))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Semver) and self.compare(other) == 0

    def __lt__(self, other: "Semver") -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.pre))

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            s += "-" + ".".join(str(p) for p in self.pre)
        if self.build:
            s += "+" + ".".join(self.build)
        return s

    def __repr__(self) -> str:
        return f"semver({str(self)!r})"


def _cmp_pre(x, y) -> int:
    xi, yi = isinstance(x, int), isinstance(y, int)
    if xi and yi:
        return (x > y) - (x < y)
    if xi:
        return -1
    if yi:
        return 1
    return (x > y) - (x < y)


def _num_part(p: str, what: str) -> int:
    if not p or not _NUM.match(p):
        raise ValueError(f"Invalid character(s) found in {what} number {p!r}".replace("'", '"'))
    if len(p) > 1 and p[0] == "0":
        raise ValueError(f"{what.capitalize()} number must not contain leading zeroes {p!r}".replace("'", '"'))
    v = int(p)
    if v > UINT64_MAX:
        raise ValueError(f"{what.capitalize()} number out of range")
    return v


@lru_cache(maxsize=4096)
def _parse_semver(s: str) -> Semver:
    if not isinstance(s, str) or len(s) == 0:
        raise ValueError("Version string empty")
    parts = s.split(".", 2)
    if len(parts) != 3:
        raise ValueError("No Major.Minor.Patch elements found")
    major = _num_part(parts[0], "major")
    minor = _num_part(parts[1], "minor")
    rest = parts[2]
    idx = min([i for i in (rest.find("+"), rest.find("-")) if i >= 0], default=-1)
    patch_s = rest if idx < 0 else rest[:idx]
    patch = _num_part(patch_s, "patch")
    pre: list = []
    build: list = []
    tail = "" if idx < 0 else rest[idx:]
    if tail:
        bidx = tail.find("+")
        pre_s, build_s = (tail, None) if bidx < 0 else (tail[:bidx], tail[bidx + 1:])
        if pre_s.startswith("-"):
            for ident in pre_s[1:].split("."):
                if not ident:
                    raise ValueError("Prerelease is empty")
                if _NUM.match(ident):
                    if len(ident) > 1 and ident[0] == "0":
                        raise ValueError(f'Numeric PreRelease version must not contain leading zeroes "{ident}"')
                    pre.append(int(ident))
                elif _ALNUM.match(ident):
                    pre.append(ident)
                else:
                    raise ValueError(f'Invalid character(s) found in prerelease "{ident}"')
        if build_s is not None:
            for ident in build_s.split("."):
                if not ident:
                    raise ValueError(f'Build meta data can not be empty "{ident}"')
                if not _ALNUM.match(ident):
                    raise ValueError(f'Invalid character(s) found in build meta data "{ident}"')
                build.append(ident)
    return Semver(major, minor, patch, tuple(pre), tuple(build), s)


def normalize_and_parse_semver(s: str) -> Semver:
    """Like upstream's semver normalization: strip 'v', drop leading zeros, pad to x.y.z."""
    if s.startswith("v"):
        s = s[1:]
    parts = s.split(".", 2)
    for i, p in enumerate(parts):
        if len(p) > 1:
            p = p.lstrip("0")
            if not p or p[0] not in "0123456789":
                p = "0" + p
            parts[i] = p
    if len(parts) < 3:
        if any(c in parts[-1] for c in "+-"):
            raise ValueError("short version cannot contain PreRelease/Build meta data")
        while len(parts) < 3:
            parts.append("0")
    return _parse_semver(".".join(parts))


# -- type names and comparisons -----------------------------------------------

def type_name(v) -> str:
    if v is None:
        return "null_type"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, UInt):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, Quantity):
        return QUANTITY_TYPE
    if isinstance(v, Semver):
        return SEMVER_TYPE
    if isinstance(v, CelType):
        return "type"
    tn = getattr(v, "cel_type_name", None)
    if tn:
        return tn
    if isinstance(v, dict) or hasattr(v, "cel_keys"):
        return "map"
    return type(v).__name__


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cel_equals(a, b) -> bool:
    """CEL heterogeneous equality (numbers compare by value across int/uint/double)."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_num(a) and _is_num(b):
        return a == b
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        return False
    if ta == "list":
        return len(a) == len(b) and all(cel_equals(x, y) for x, y in zip(a, b))
    if ta == "map":
        a, b = as_dict(a), as_dict(b)
        if len(a) != len(b):
            return False
        for k, v in a.items():
            found, w = map_find(b, k)
            if not found or not cel_equals(v, w):
                return False
        return True
    return a == b


def as_dict(m) -> dict:
    if isinstance(m, dict):
        return m
    return m.cel_materialize()


def map_find(m, key):
    """(found, value) with CEL's numeric key equivalence (1 == 1u == 1.0)."""
    if not isinstance(m, dict):
        return m.cel_find(key)
    if isinstance(key, bool):
        for k, v in m.items():
            if isinstance(k, bool) and k == key:
                return True, v
        return False, None
    if key in m:
        for k, v in m.items():  # guard against bool/int collisions
            if k == key and isinstance(k, bool) == isinstance(key, bool):
                return True, v
    if isinstance(key, float) and key.is_integer():
        return map_find(m, int(key)) if int(key) in m else (False, None)
    return False, None


def cel_compare(a, b) -> int:
    """Ordering for < <= > >= ; raises 'no such overload' for unordered pairs."""
    if isinstance(a, bool) and isinstance(b, bool):
        return (a > b) - (a < b)
    if _is_num(a) and _is_num(b):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    if isinstance(a, bytes) and isinstance(b, bytes):
        return (a > b) - (a < b)
    raise CelError(f"no such overload: {type_name(a)} < {type_name(b)}")


def format_value(v) -> str:
    """CEL-ish display of a value, for diagnostics."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, UInt):
        return f"{int(v)}u"
    if isinstance(v, Quantity):
        return f'quantity("{v}")'
    if isinstance(v, Semver):
        return f'semver("{v}")'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(x)}" for k, x in v.items()) + "}"
    return str(v)
