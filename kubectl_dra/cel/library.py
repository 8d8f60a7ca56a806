"""Functions of the Kubernetes CEL base environment that DRA selectors can call.

Covered: cel-go standard functions, cel-go ``ext.Strings`` (version 2),
``ext.Sets``, and the Kubernetes libraries ``lists``, ``regex``, ``quantity``
and ``semver`` (with the normalize overloads).  Every function takes already
evaluated arguments; member functions get the receiver first.
Errors are raised as :class:`CelError` with cel-go's wording where known.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from kubectl_dra.cel.errors import CelError
from kubectl_dra.cel.values import (
    INT64_MAX, INT64_MIN, CelType, Semver, UInt, as_dict, cel_compare, cel_equals,
    check_int, check_uint, normalize_and_parse_semver, type_name,
)
from kubectl_dra.quantity import DECIMAL_EXPONENT, Quantity, QuantityError


def no_overload(fn: str, *args) -> CelError:
    types = ", ".join(type_name(a) for a in args)
    return CelError(f"no such overload: {fn}({types})")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, (bool, UInt))


def _is_list(v) -> bool:
    return isinstance(v, (list, tuple))


def _is_map(v) -> bool:
    return type_name(v) == "map"


# -- regular expressions (RE2 syntax, approximated with Python's re) ----------------

_RE_CACHE: dict = {}


def compile_regex(pattern: str):
    r = _RE_CACHE.get(pattern)
    if r is None:
        try:
            py = re.sub(r"\\z", r"\\Z", pattern)
            py = re.sub(r"\(\?P<", "(?P<", py)
            r = re.compile(py)
        except re.error as e:
            raise CelError(f"invalid regular expression: error parsing regexp: {e}") from None
        if len(_RE_CACHE) < 1024:
            _RE_CACHE[pattern] = r
    return r


# -- standard library --------------------------------------------------------------

def f_size(v):
    if isinstance(v, (str, bytes)) or _is_list(v):
        return len(v)
    if _is_map(v):
        return len(as_dict(v))
    raise no_overload("size", v)


def f_contains(s, sub):
    if isinstance(s, str) and isinstance(sub, str):
        return sub in s
    raise no_overload("contains", s, sub)


def f_starts_with(s, p):
    if isinstance(s, str) and isinstance(p, str):
        return s.startswith(p)
    raise no_overload("startsWith", s, p)


def f_ends_with(s, p):
    if isinstance(s, str) and isinstance(p, str):
        return s.endswith(p)
    raise no_overload("endsWith", s, p)


def f_matches(s, p):
    if isinstance(s, str) and isinstance(p, str):
        return compile_regex(p).search(s) is not None
    raise no_overload("matches", s, p)


def f_int(v):
    if isinstance(v, bool):
        raise no_overload("int", v)
    if isinstance(v, int):
        return check_int(int(v))
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v) or v <= -9.223372036854776e18 or v >= 9.223372036854776e18:
            raise CelError("integer overflow")
        return int(v)
    if isinstance(v, str):
        try:
            return check_int(int(v, 10))
        except ValueError:
            raise CelError(f"cannot convert string to int: {v!r}") from None
    raise no_overload("int", v)


def f_uint(v):
    if isinstance(v, bool):
        raise no_overload("uint", v)
    if isinstance(v, int):
        return check_uint(int(v))
    if isinstance(v, float):
        if math.isnan(v) or v < 0 or v >= 1.8446744073709552e19:
            raise CelError("unsigned integer overflow")
        return UInt(int(v))
    if isinstance(v, str):
        try:
            return check_uint(int(v, 10))
        except ValueError:
            raise CelError(f"cannot convert string to uint: {v!r}") from None
    raise no_overload("uint", v)


def f_double(v):
    if isinstance(v, bool):
        raise no_overload("double", v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise CelError(f"cannot convert string to double: {v!r}") from None
    raise no_overload("double", v)


def format_double(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(v)
    if r.endswith(".0"):
        r = r[:-2]
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        exp = exp.lstrip("+-").rjust(2, "0")
        r = f"{mant}e{sign}{exp}"
    return r


def f_string(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise CelError("invalid UTF-8 in bytes, cannot convert to string") from None
    if isinstance(v, Semver):
        return str(v)
    raise no_overload("string", v)


def f_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v in ("true", "True", "TRUE", "t", "1"):
            return True
        if v in ("false", "False", "FALSE", "f", "0"):
            return False
        raise CelError("type conversion error from 'string' to 'bool'")
    raise no_overload("bool", v)


def f_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    raise no_overload("bytes", v)


def f_type(v):
    return CelType(type_name(v))


def f_dyn(v):
    return v


# -- ext.Strings (version 2) -----------------------------------------------------------

def _need_str(fn, *vals):
    for v in vals:
        if not isinstance(v, str):
            raise no_overload(fn, *vals)


def _need_int(fn, *vals):
    for v in vals:
        if not _is_int(v):
            raise no_overload(fn, *vals)


def s_char_at(s, i):
    _need_str("charAt", s); _need_int("charAt", i)
    if i < 0 or i > len(s):
        raise CelError(f"index out of range: {i}")
    return s[i:i + 1]


def s_index_of(s, sub, offset=0):
    _need_str("indexOf", s, sub); _need_int("indexOf", offset)
    if offset < 0 or offset > len(s):
        raise CelError(f"index out of range: {offset}")
    return s.find(sub, offset)


def s_last_index_of(s, sub, offset=None):
    _need_str("lastIndexOf", s, sub)
    if offset is None:
        return s.rfind(sub)
    _need_int("lastIndexOf", offset)
    if offset < 0 or offset >= len(s):
        raise CelError(f"index out of range: {offset}")
    return s.rfind(sub, 0, offset + len(sub))


def s_lower(s):
    _need_str("lowerAscii", s)
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def s_upper(s):
    _need_str("upperAscii", s)
    return "".join(c.upper() if "a" <= c <= "z" else c for c in s)


def s_replace(s, old, new, n=-1):
    _need_str("replace", s, old, new); _need_int("replace", n)
    return s.replace(old, new, n if n >= 0 else -1)


def s_split(s, sep, n=-1):
    _need_str("split", s, sep); _need_int("split", n)
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            chars = chars[:n - 1] + ["".join(chars[n - 1:])]
        return chars
    return s.split(sep, n - 1) if n > 0 else s.split(sep)


def s_substring(s, start, end=None):
    _need_str("substring", s); _need_int("substring", start)
    if end is None:
        end = len(s)
    _need_int("substring", end)
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    if end < 0 or end > len(s):
        raise CelError(f"index out of range: {end}")
    if start > end:
        raise CelError(f"invalid substring range. start: {start}, end: {end}")
    return s[start:end]


_UNICODE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def s_trim(s):
    _need_str("trim", s)
    return s.strip(_UNICODE_SPACE)


def s_join(lst, sep=""):
    if not _is_list(lst) or not isinstance(sep, str):
        raise no_overload("join", lst, sep)
    for x in lst:
        if not isinstance(x, str):
            raise no_overload("join", lst, sep)
    return sep.join(lst)


def s_quote(s):
    _need_str("strings.quote", s)
    out = ['"']
    for c in s:
        out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                    "\v": "\\v", "\\": "\\\\", '"': '\\"'}.get(c, c))
    out.append('"')
    return "".join(out)


# -- Kubernetes lists library -----------------------------------------------------------

def _comparable_list(fn, lst):
    if not _is_list(lst):
        raise no_overload(fn, lst)
    return lst


def l_is_sorted(lst):
    _comparable_list("isSorted", lst)
    for a, b in zip(lst, lst[1:]):
        if _ordering(a, b, "isSorted") > 0:
            return False
    return True


def _ordering(a, b, fn):
    if isinstance(a, Quantity) and isinstance(b, Quantity):
        return a.compare(b)
    if isinstance(a, Semver) and isinstance(b, Semver):
        return a.compare(b)
    try:
        return cel_compare(a, b)
    except CelError:
        raise no_overload(fn, a, b) from None


def l_sum(lst):
    _comparable_list("sum", lst)
    if not lst:
        return 0
    total = lst[0]
    for x in lst[1:]:
        if isinstance(total, Quantity) and isinstance(x, Quantity):
            total = total + x
        elif type_name(total) == type_name(x) and type_name(x) in ("int", "uint", "double"):
            total = total + x
            if isinstance(x, UInt):
                total = check_uint(total)
            elif _is_int(x):
                total = check_int(total)
        else:
            raise no_overload("sum", lst)
    return total


def l_min(lst):
    _comparable_list("min", lst)
    if not lst:
        raise CelError("min(list) called on empty list")
    best = lst[0]
    for x in lst[1:]:
        if _ordering(x, best, "min") < 0:
            best = x
    return best


def l_max(lst):
    _comparable_list("max", lst)
    if not lst:
        raise CelError("max(list) called on empty list")
    best = lst[0]
    for x in lst[1:]:
        if _ordering(x, best, "max") > 0:
            best = x
    return best


def l_index_of(target, v, *rest):
    if isinstance(target, str):
        return s_index_of(target, v, *rest)
    if not _is_list(target) or rest:
        raise no_overload("indexOf", target, v, *rest)
    for i, x in enumerate(target):
        if cel_equals(x, v):
            return i
    return -1


def l_last_index_of(target, v, *rest):
    if isinstance(target, str):
        return s_last_index_of(target, v, *rest)
    if not _is_list(target) or rest:
        raise no_overload("lastIndexOf", target, v, *rest)
    for i in range(len(target) - 1, -1, -1):
        if cel_equals(target[i], v):
            return i
    return -1


# -- Kubernetes regex library -------------------------------------------------------------

def r_find(s, pattern):
    _need_str("find", s, pattern)
    m = compile_regex(pattern).search(s)
    return m.group(0) if m else ""


def r_find_all(s, pattern, n=-1):
    _need_str("findAll", s, pattern); _need_int("findAll", n)
    if n == 0:
        return []
    out = [m.group(0) for m in compile_regex(pattern).finditer(s)]
    return out[:n] if n > 0 else out


# -- ext.Sets -----------------------------------------------------------------------------

def _contains_all(a, b):
    return all(any(cel_equals(x, y) for y in a) for x in b)


def sets_contains(a, b):
    if not (_is_list(a) and _is_list(b)):
        raise no_overload("sets.contains", a, b)
    return _contains_all(a, b)


def sets_equivalent(a, b):
    if not (_is_list(a) and _is_list(b)):
        raise no_overload("sets.equivalent", a, b)
    return _contains_all(a, b) and _contains_all(b, a)


def sets_intersects(a, b):
    if not (_is_list(a) and _is_list(b)):
        raise no_overload("sets.intersects", a, b)
    return any(cel_equals(x, y) for x in a for y in b)


# -- Kubernetes quantity library ------------------------------------------------------------

def q_quantity(s):
    _need_str("quantity", s)
    try:
        return Quantity.parse(s)
    except QuantityError:
        raise CelError(_quantity_error(s)) from None


def _quantity_error(s: str) -> str:
    # resource.ParseQuantity: a known number with an unknown suffix is ErrSuffix, else ErrFormatWrong.
    if re.match(r"^[+-]?[0-9.]+", s) and s:
        return "unable to parse quantity's suffix"
    return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def q_is_quantity(s):
    _need_str("isQuantity", s)
    try:
        Quantity.parse(s)
        return True
    except QuantityError:
        return False


def _need_q(fn, *vals):
    for v in vals:
        if not isinstance(v, Quantity):
            raise no_overload(fn, *vals)


def q_sign(q):
    _need_q("sign", q)
    return q.sign()


def q_is_greater_than(a, b):
    if isinstance(a, Semver):
        return v_is_greater_than(a, b)
    _need_q("isGreaterThan", a, b)
    return a.compare(b) == 1


def q_is_less_than(a, b):
    if isinstance(a, Semver):
        return v_is_less_than(a, b)
    _need_q("isLessThan", a, b)
    return a.compare(b) == -1


def q_compare_to(a, b):
    if isinstance(a, Semver):
        return v_compare_to(a, b)
    _need_q("compareTo", a, b)
    return a.compare(b)


def q_as_approximate_float(q):
    _need_q("asApproximateFloat", q)
    try:
        return float(q.value)
    except OverflowError:
        return math.inf if q.value > 0 else -math.inf


def q_is_integer(q):
    _need_q("isInteger", q)
    return q.value.denominator == 1 and INT64_MIN <= q.value <= INT64_MAX


def q_as_integer(q):
    _need_q("asInteger", q)
    if not q_is_integer(q):
        raise CelError("cannot convert value to integer")
    return int(q.value)


def _int_quantity(i: int) -> Quantity:
    return Quantity(Fraction(i), DECIMAL_EXPONENT)


def q_add(a, b):
    if isinstance(a, Quantity) and _is_int(b):
        return a + _int_quantity(b)
    _need_q("add", a, b)
    return a + b


def q_sub(a, b):
    if isinstance(a, Quantity) and _is_int(b):
        return a - _int_quantity(b)
    _need_q("sub", a, b)
    return a - b


def q_mul(a, b):
    if isinstance(a, Quantity) and _is_int(b):
        return Quantity(a.value * b, a.format)
    raise no_overload("mul", a, b)


# -- Kubernetes semver library ----------------------------------------------------------------

def v_semver(s, normalize=False):
    if not isinstance(s, str) or not isinstance(normalize, bool):
        raise no_overload("semver", s, normalize)
    try:
        return normalize_and_parse_semver(s) if normalize else Semver.parse(s)
    except ValueError as e:
        raise CelError(str(e)) from None


def v_is_semver(s, normalize=False):
    if not isinstance(s, str) or not isinstance(normalize, bool):
        raise no_overload("isSemver", s, normalize)
    try:
        normalize_and_parse_semver(s) if normalize else Semver.parse(s)
        return True
    except ValueError:
        return False


def _need_v(fn, *vals):
    for v in vals:
        if not isinstance(v, Semver):
            raise no_overload(fn, *vals)


def v_major(v):
    _need_v("major", v)
    return v.major


def v_minor(v):
    _need_v("minor", v)
    return v.minor


def v_patch(v):
    _need_v("patch", v)
    return v.patch


def v_is_greater_than(a, b):
    _need_v("isGreaterThan", a, b)
    return a.compare(b) == 1


def v_is_less_than(a, b):
    _need_v("isLessThan", a, b)
    return a.compare(b) == -1


def v_compare_to(a, b):
    _need_v("compareTo", a, b)
    return a.compare(b)


# -- dispatch tables ---------------------------------------------------------------------------
# name -> (callable, allowed arities)

GLOBAL_FUNCTIONS = {
    "size": (f_size, (1,)),
    "int": (f_int, (1,)),
    "uint": (f_uint, (1,)),
    "double": (f_double, (1,)),
    "string": (f_string, (1,)),
    "bool": (f_bool, (1,)),
    "bytes": (f_bytes, (1,)),
    "type": (f_type, (1,)),
    "dyn": (f_dyn, (1,)),
    "matches": (f_matches, (2,)),
    "quantity": (q_quantity, (1,)),
    "isQuantity": (q_is_quantity, (1,)),
    "semver": (v_semver, (1, 2)),
    "isSemver": (v_is_semver, (1, 2)),
    "sets.contains": (sets_contains, (2,)),
    "sets.equivalent": (sets_equivalent, (2,)),
    "sets.intersects": (sets_intersects, (2,)),
    "strings.quote": (s_quote, (1,)),
}

# member functions: receiver is the first argument; arities exclude the receiver
MEMBER_FUNCTIONS = {
    "size": (f_size, (0,)),
    "contains": (f_contains, (1,)),
    "startsWith": (f_starts_with, (1,)),
    "endsWith": (f_ends_with, (1,)),
    "matches": (f_matches, (1,)),
    "charAt": (s_char_at, (1,)),
    "indexOf": (l_index_of, (1, 2)),
    "lastIndexOf": (l_last_index_of, (1, 2)),
    "lowerAscii": (s_lower, (0,)),
    "upperAscii": (s_upper, (0,)),
    "replace": (s_replace, (2, 3)),
    "split": (s_split, (1, 2)),
    "substring": (s_substring, (1, 2)),
    "trim": (s_trim, (0,)),
    "join": (s_join, (0, 1)),
    "isSorted": (l_is_sorted, (0,)),
    "sum": (l_sum, (0,)),
    "min": (l_min, (0,)),
    "max": (l_max, (0,)),
    "find": (r_find, (1,)),
    "findAll": (r_find_all, (1, 2)),
    "sign": (q_sign, (0,)),
    "isGreaterThan": (q_is_greater_than, (1,)),
    "isLessThan": (q_is_less_than, (1,)),
    "compareTo": (q_compare_to, (1,)),
    "asApproximateFloat": (q_as_approximate_float, (0,)),
    "asInteger": (q_as_integer, (0,)),
    "isInteger": (q_is_integer, (0,)),
    "add": (q_add, (1,)),
    "sub": (q_sub, (1,)),
    "mul": (q_mul, (1,)),
    "major": (v_major, (0,)),
    "minor": (v_minor, (0,)),
    "patch": (v_patch, (0,)),
}

# Functions of the Kubernetes base environment that kubectl-dra does not implement.
UNSUPPORTED = {
    "timestamp", "duration", "url", "isURL", "ip", "isIP", "cidr", "isCIDR", "format",
    "getHost", "getPort", "getScheme", "getPath", "getQuery", "getEscapedPath",
    "optional.of", "optional.none", "optional.ofNonZeroValue", "orValue", "or", "hasValue", "value",
    "div", "divInt", "authorizer", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
    "getFullYear", "getHours", "getMilliseconds", "getMinutes", "getMonth", "getSeconds",
    "reverse", "strings.format", "lists.range", "sort", "sortBy", "distinct", "flatten", "slice",
    "math.greatest", "math.least", "base64.encode", "base64.decode", "containsImage",
}
