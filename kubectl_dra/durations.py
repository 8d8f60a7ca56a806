"""``--request-timeout`` values, read as kubectl reads them.

kubectl takes either a bare integer (seconds) or a Go duration (``500ms``, ``30s``, ``1m``, ``1h30m``,
``1.5s``); zero means no timeout, anything negative is refused.  A bare number with a fraction
(``1.5``) has no unit and is refused too, as kubectl does.
"""

from __future__ import annotations

import re

from kubectl_dra.errors import UsageError

_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TERM = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_INTEGER = re.compile(r"[+-]?\d+")

HINT = "give whole seconds (30) or a number with a unit (500ms, 30s, 1m, 1h); 0 means no timeout"


def parse_timeout(text: str | float) -> float:
    """Seconds (0.0: no timeout).  UsageError for anything kubectl would refuse.  A number (a command's
    default, a caller's value) is taken as seconds."""
    if not isinstance(text, str):
        seconds = float(text)
        if seconds < 0:
            raise UsageError(f"invalid --request-timeout {seconds:g}: a timeout cannot be negative ({HINT})")
        return seconds
    if _INTEGER.fullmatch(text):
        seconds = float(int(text))
    else:
        seconds = _go_duration(text)
    if seconds < 0:
        raise UsageError(f"invalid --request-timeout {text!r}: a timeout cannot be negative ({HINT})")
    return seconds


def _go_duration(text: str) -> float:
    """A Go ``time.ParseDuration`` string, in seconds: an optional sign, then number-unit terms."""
    sign = 1.0
    rest = text
    if rest[:1] in ("+", "-"):
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    total, pos = 0.0, 0
    while pos < len(rest):
        m = _TERM.match(rest, pos)
        if m is None or m.group(1) == ".":
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not rest or pos != len(rest):
        raise UsageError(f"invalid --request-timeout {text!r}: {HINT}")
    return sign * total


def describe(seconds: float) -> str:
    """``30s``, ``1.5s``, ``500ms``, ``2m`` (for messages)."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
