"""Input limits for every file and stdin loader: what kubectl-dra refuses to read, and how it says so.

Untrusted manifests (``validate`` in CI, a dump someone shared) must not make the CLI run out of
memory, recurse without bound or crash.  The policy (README, "Input limits"):

* at most :data:`MAX_INPUT_BYTES` (1 GiB) per file or stdin, read before it is parsed;
* UTF-8 only (a leading byte-order mark is allowed); other bytes are an error naming the line and column;
* at most :data:`MAX_DEPTH` nested mappings/sequences (objects/arrays) in one document, YAML or JSON;
  Kubernetes objects nest about 15 deep;
* YAML aliases: at most :data:`MAX_ALIAS_NODES` nodes added by expanding aliases in one document (a
  "billion laughs" file of a few hundred bytes would expand to billions), and no alias inside the
  node it names (a recursive structure is no Kubernetes object).

All of them are :class:`~kubectl_dra.errors.InputError` (exit code 3), one line naming the file.
The checks are cheap: JSON's depth is bounded by the decoder itself where the interpreter allows it
(:func:`_loads_within_depth`), else measured on the bytes (C-speed ``translate``/``replace``, no walk over
the parsed objects); YAML's on the composed node graph, walked once before it is built.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from kubectl_dra.errors import InputError

MAX_INPUT_BYTES = 1 << 30          # 1 GiB per file or stdin
MAX_DEPTH = 100                    # nested mappings/sequences in one document
MAX_ALIAS_NODES = 100_000          # nodes added by alias expansion in one YAML document


class LimitError(InputError):
    """Input past one of the limits (size, depth, aliasing, a recursive alias): always fatal, even where
    broken input is only reported (``validate``), as kubectl refuses it."""


def _size_text(n: int) -> str:
    return f"{n / (1 << 30):.0f} GiB" if n >= 1 << 30 else f"{n} bytes"


def read_bytes(path: str, where: str | None = None) -> bytes:
    """The bytes of ``path`` (``-``: stdin), refused past :data:`MAX_INPUT_BYTES`."""
    where = where or ("<stdin>" if path == "-" else path)
    try:
        if path == "-":
            if sys.stdin is None:  # started with stdin closed (`<&-`)
                raise InputError(f"{where}: cannot read: standard input is closed")
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:  # a text stream (tests that replace stdin): take its text as UTF-8
                data = sys.stdin.read(MAX_INPUT_BYTES + 1).encode("utf-8", "surrogateescape")
            else:
                data = stream.read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as fh:
                try:
                    size = os.fstat(fh.fileno()).st_size
                except OSError:  # pragma: no cover - fstat on an open file
                    size = 0
                if size > MAX_INPUT_BYTES:
                    raise LimitError(f"{where}: file is larger than the {_size_text(MAX_INPUT_BYTES)} "
                                     f"kubectl-dra reads ({size} bytes)")
                data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        raise InputError(f"{where}: cannot read: {e.strerror or e}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise LimitError(f"{where}: input is larger than the {_size_text(MAX_INPUT_BYTES)} kubectl-dra reads")
    return data


def decode(data: bytes, where: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped); other bytes: one line with their line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[start:e.start].decode("utf-8", "replace")) + 1
        raise InputError(f"{where}: not UTF-8 text: byte 0x{data[e.start]:02x} at line {line} column {column} "
                         f"(save the file as UTF-8)") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str, where: str | None = None) -> str:
    """:func:`read_bytes` then :func:`decode`."""
    where = where or ("<stdin>" if path == "-" else path)
    return decode(read_bytes(path, where), where)


# -- depth of JSON, measured on its text --------------------------------------------------------------
# Only brackets and quotes are kept, both kinds of bracket as "[" and "]"; escaped quotes and
# backslashes are dropped first, then every string (brackets inside strings are no nesting).  Each
# pass of replace("[]", "") then removes one level: the number of passes is the depth.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STRING = re.compile(rb'"[^"]*"')


def json_depth_exceeds(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the (valid) JSON ``text`` (or its UTF-8 bytes) nests more than ``limit`` objects/arrays deep."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    p = data.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in p:  # strings holding brackets (rare)
        p = _STRING.sub(b"", p)
    for _ in range(limit):
        if not p:
            return False
        shorter = p.replace(b"[]", b"")
        if len(shorter) == len(p):  # pragma: no cover - valid JSON is balanced
            return False
        p = shorter
    return bool(p)


# On CPython up to 3.11 the C JSON decoder counts its nesting against the interpreter's recursion limit:
# lowered, for the time of one json.loads, to (frames on the stack + MAX_DEPTH + what the decoder's own
# Python frames take), it refuses exactly what nests deeper than MAX_DEPTH, at no cost.  Calibrated once
# (two tiny parses); where it does not work (3.12+: a separate C limit), or while other threads run (the
# limit is the whole interpreter's), the depth is measured on the bytes instead.
_UNCALIBRATED = object()
_decoder_frames: object = _UNCALIBRATED


def _frames() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def _bounded_loads(text: str, extra: int) -> Any:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + MAX_DEPTH + extra)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(old)


def _calibrate() -> int | None:
    ok, deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    for extra in range(1, 10):
        try:
            _bounded_loads(ok, extra)
        except RecursionError:
            continue
        try:
            _bounded_loads(deep, extra)
        except RecursionError:
            try:  # objects count as arrays do
                _bounded_loads('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH, extra)
            except RecursionError:  # pragma: no cover - not the decoder we know
                return None
            return extra
        return None
    return None  # pragma: no cover


def _loads_within_depth(text: str) -> tuple[Any, bool]:
    """(json.loads(text), whether its depth is known to be within MAX_DEPTH).  RecursionError when too deep."""
    global _decoder_frames
    import threading

    if threading.active_count() == 1:
        if _decoder_frames is _UNCALIBRATED:
            _decoder_frames = _calibrate()
        if _decoder_frames is not None:
            return _bounded_loads(text, _decoder_frames), True
    return json.loads(text), False


def _too_deep(where: str) -> InputError:
    return LimitError(f"{where}: nested more than {MAX_DEPTH} levels deep (kubectl-dra's limit for one document)")


def load_json(text: str, where: str, raw: bytes | None = None) -> Any:
    """``json.loads`` within the limits: invalid JSON and too deep nesting are one-line errors.
    ``raw``: the UTF-8 bytes ``text`` was decoded from, when the caller has them (saves encoding it again)."""
    try:
        data, bounded = _loads_within_depth(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise _too_deep(where) from None
    if not bounded and json_depth_exceeds(text if raw is None else raw):
        raise _too_deep(where)
    return data


def load_json_bytes(data: bytes, where: str) -> Any:
    """JSON from bytes (a server's answer), within the same limits."""
    return load_json(decode(data, where), where, raw=data)


# -- YAML: composed node by node, each checked before it is constructed ------------------------------
def _check_yaml_node(root, where: str) -> None:
    """Refuse a document nesting deeper than MAX_DEPTH, whose aliases add more than MAX_ALIAS_NODES
    nodes, or with an alias inside the node it names.  One post-order walk over the distinct nodes
    (aliases are the same node object), sizes and heights memoized: a bomb is refused after a few
    hundred steps."""
    from yaml.nodes import MappingNode, SequenceNode

    done: dict[int, tuple[int, int]] = {}   # id(node) -> (expanded size, height)
    active: set[int] = set()                # nodes on the current path
    distinct = 0
    stack: list = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        cls = type(node)
        if finished:
            active.discard(key)
            children = node.value if cls is SequenceNode else [x for pair in node.value for x in pair]
            size, height = 1, 0
            for c in children:
                s, h = done[id(c)]
                size += s
                if h > height:
                    height = h
            height += 1
            if height > MAX_DEPTH:
                raise _too_deep(where)
            done[key] = (size, height)
            if size - distinct > MAX_ALIAS_NODES:
                raise _excessive_aliasing(where)
            continue
        if key in done:
            continue
        distinct += 1
        if cls is not SequenceNode and cls is not MappingNode:
            done[key] = (1, 0)
            continue
        active.add(key)
        stack.append((node, True))
        children = node.value if cls is SequenceNode else [x for pair in node.value for x in pair]
        for c in children:
            ck = id(c)
            if ck in active:
                mark = getattr(c, "start_mark", None)
                loc = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
                raise LimitError(f"{where}: invalid YAML{loc}: an alias refers to a node that contains it "
                                 f"(a recursive structure)")
            if ck not in done:
                stack.append((c, False))
    size = done[id(root)][0]
    if size - distinct > MAX_ALIAS_NODES:  # pragma: no cover - caught at the node that crossed it
        raise _excessive_aliasing(where)


def _excessive_aliasing(where: str) -> InputError:
    return LimitError(f"{where}: invalid YAML: excessive aliasing (aliases would add more than "
                      f"{MAX_ALIAS_NODES:,} nodes)")


def load_yaml_all(text: str, where: str) -> list:
    """Every document of a YAML stream, each checked (:func:`_check_yaml_node`) before it is built."""
    import yaml  # only for YAML input: JSON never pays for importing it

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when PyYAML was built with it
    loader = loader_cls(text)
    docs: list = []
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_yaml_node(node, where)
            docs.append(loader.construct_document(node))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        loc = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        if "maximum nesting depth" in str(problem):
            raise _too_deep(where) from None
        raise InputError(f"{where}: invalid YAML{loc}: {problem}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _too_deep(where) from None
    finally:
        loader.dispose()
    return docs


def load_yaml_one(text: str, where: str) -> Any:
    """The one document of a YAML text (None when it is empty); more than one is an error."""
    docs = load_yaml_all(text, where)
    if len(docs) > 1:
        raise InputError(f"{where}: holds {len(docs)} YAML documents; one was expected")
    return docs[0] if docs else None
