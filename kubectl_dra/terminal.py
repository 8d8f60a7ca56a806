"""Text from the cluster or from files, made safe to show on a terminal.

Object names are validated by the API server, but label, attribute and annotation values, condition and
event messages, and anything in a file given with ``-f`` are not: an escape sequence there could retitle
the window, rewrite earlier lines or hide text.  Text output shows such characters as visible escapes
(``^[`` for ESC, as kubectl writes it, ``\\r``, ``\\x07``, ``\\u202e``); JSON and YAML keep the raw values
(their own syntax escapes what needs it).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates and marks that
# reorder what is displayed.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\x1b": "^[", "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _visible(m: re.Match) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every character that could drive a terminal made visible; newlines and tabs kept."""
    if _UNSAFE.search(text) is None:  # the usual case: one scan, no copy
        return text
    return _UNSAFE.sub(_visible, text)


def safe_line(text: str) -> str:
    """Like :func:`safe`, for text that must stay on one line (a table cell, an error): newlines and tabs
    are made visible too."""
    if _UNSAFE_IN_LINE.search(text) is None:
        return text
    return _UNSAFE_IN_LINE.sub(_visible, text)
