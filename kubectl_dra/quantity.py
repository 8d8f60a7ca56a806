"""Kubernetes resource quantities (``1Gi``, ``500m``, ``1e3``) as exact values.

A :class:`Quantity` keeps the exact rational value (``fractions.Fraction``) and
the suffix family it was written in, which decides how it prints back, as
``k8s.io/apimachinery/pkg/api/resource`` does.  Values are rounded up to
nano units (scale -9) when parsed, like upstream.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache, total_ordering

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

_QUANTITY_RE = re.compile(
    r"^(?P<sign>[+-]?)(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)

_NANO = Fraction(1, 10**9)


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


@total_ordering
class Quantity:
    __slots__ = ("value", "format")

    def __init__(self, value: Fraction | int, format: str = DECIMAL_SI):
        self.value = Fraction(value)
        self.format = format

    # -- construction -------------------------------------------------
    @staticmethod
    def parse(text: str) -> "Quantity":
        return _parse_cached(text)

    # -- arithmetic and comparison --------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quantity):
            return self.value == other.value
        return NotImplemented

    def __lt__(self, other: "Quantity") -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __add__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.value + other.value, self.format)

    def __sub__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.value - other.value, self.format)

    def __neg__(self) -> "Quantity":
        return Quantity(-self.value, self.format)

    def compare(self, other: "Quantity") -> int:
        return (self.value > other.value) - (self.value < other.value)

    def sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    def is_integer(self) -> bool:
        return self.value.denominator == 1

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # -- printing --------------------------------------------------------
    def __str__(self) -> str:
        return format_quantity(self.value, self.format)


@lru_cache(maxsize=65536)
def _parse_cached(text: str) -> Quantity:
    if not isinstance(text, str):
        raise QuantityError(f"quantity must be a string, got {type(text).__name__}")
    m = _QUANTITY_RE.match(text.strip()) if text == text.strip() else None
    if not m:
        raise QuantityError(f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    num = Fraction(m.group("num")) if m.group("num") != "." else None
    if num is None:
        raise QuantityError(f"invalid quantity {text!r}")
    suffix = m.group("suffix") or ""
    if suffix in _BINARY:
        value, fmt = num * _BINARY[suffix], BINARY_SI
    elif suffix[:1] in ("e", "E"):
        value, fmt = num * Fraction(10) ** int(suffix[1:]), DECIMAL_EXPONENT
    else:
        value, fmt = num * Fraction(10) ** _DECIMAL[suffix], DECIMAL_SI
    if m.group("sign") == "-":
        value = -value
    # Upstream keeps at most nano precision and rounds up (away from zero).
    if (value / _NANO).denominator != 1:
        scaled = value / _NANO
        value = Fraction(math.ceil(scaled) if value > 0 else math.floor(scaled)) * _NANO
    if value == 0:
        fmt = fmt if fmt != BINARY_SI else BINARY_SI
    return Quantity(value, fmt)


def format_quantity(value: Fraction, fmt: str) -> str:
    """Canonical text of a quantity, like ``resource.Quantity.String()``."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if fmt == BINARY_SI and v.denominator == 1 and v >= 1024:
        n = v.numerator
        for suffix, factor in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
            if n % factor == 0:
                return f"{sign}{n // factor}{suffix}"
        return f"{sign}{n}"
    if fmt == BINARY_SI and v.denominator == 1:
        return f"{sign}{v.numerator}"
    # Decimal: pick the largest exponent (multiple of 3) that keeps an integer mantissa.
    exp10 = 0
    scaled = v
    while scaled.denominator != 1 and exp10 > -9:
        scaled *= 1000
        exp10 -= 3
    n = scaled.numerator
    while exp10 < 18 and n % 1000 == 0 and n != 0:
        n //= 1000
        exp10 += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{n}" if exp10 == 0 else f"{sign}{n}e{exp10}"
    suffix = {v: k for k, v in _DECIMAL.items()}[exp10]
    return f"{sign}{n}{suffix}"


def parse_quantity(text: str) -> Quantity:
    return Quantity.parse(text)
