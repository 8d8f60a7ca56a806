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


# The same characters, for a fast first look (substring search is memchr-fast; a regex class is ~10x slower
# over megabytes of table): most text has none of them.
_C0 = tuple(chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f))
_WIDE = tuple(chr(c) for c in (*range(0x80, 0xa0), 0x061c, 0x200e, 0x200f, *range(0x202a, 0x202f),
                               *range(0x2066, 0x206a)))


def needs_escaping(text: str, *, line: bool = False) -> bool:
    """Whether :func:`safe` (``line``: :func:`safe_line`) would change ``text``."""
    if any(c in text for c in _C0):
        return True
    if line and ("\n" in text or "\t" in text):
        return True
    return not text.isascii() and any(c in text for c in _WIDE)


def safe(text: str) -> str:
    """``text`` with every character that could drive a terminal made visible; newlines and tabs kept."""
    return _UNSAFE.sub(_visible, text) if needs_escaping(text) else text


def safe_line(text: str) -> str:
    """Like :func:`safe`, for text that must stay on one line (a table cell, an error): newlines and tabs
    are made visible too."""
    return _UNSAFE_IN_LINE.sub(_visible, text) if needs_escaping(text, line=True) else text
