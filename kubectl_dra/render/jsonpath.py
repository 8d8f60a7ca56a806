"""``-o jsonpath=TEMPLATE`` and ``-o custom-columns=SPEC`` with kubectl's syntax, over the document ``-o json``
prints.

The subset of kubectl's JSONPath (``kubectl get -o jsonpath``, client-go's ``util/jsonpath``) supported:

* text outside braces, printed as is; ``{"text"}`` / ``{'text'}`` inside (``\\n``, ``\\t`` escapes);
* ``{.a.b}``, ``{$.a}``, ``{@.a}``, ``{.a\\.b}`` (a dot in a key), ``{['a']}``, ``{.a['b','c']}`` (as in kubectl,
  ``['a.b']`` is the path a, b: a key with dots is written ``['a\\.b']`` or ``.a\\.b``; keys in brackets take
  single quotes);
* ``[n]`` (negative counts from the end; out of bounds is an error, exit code 1, as in kubectl), ``[a:b]``,
  ``[a:b:step]``, ``[n,m]``, ``[*]`` and ``.*`` (a map's values in key order; kubectl's order is Go's map
  order, i.e. unspecified);
* ``..name`` (recursive descent);
* filters ``[?(@.x == "y")]`` with ``==``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` against a quoted string, a
  number, ``true``/``false`` or another ``@``/``$`` path, and ``[?(@.x)]`` (the field exists);
* ``{range EXPR}...{end}`` (nested too).

Comparing values of different types in a filter (an int with a float, a string with a number or null) is an
error, as in kubectl; so is an index out of bounds.

A missing key gives nothing (kubectl's default, ``--allow-missing-template-keys=true``).  Several results of
one ``{...}`` are joined by a space; strings print raw, maps and lists as compact JSON with sorted keys, as
kubectl prints them.  Anything else is a usage error that names what is supported.

``custom-columns=HEADER:PATH[,HEADER:PATH...]``: PATH as ``.a.b`` or ``{.a.b}``; one row per element of the
document's ``items`` (a ``get`` list), else one row for the whole document; ``<none>`` where nothing is found,
several values comma-separated, values printed the way kubectl prints them (``map[k:v]``, ``[a b]``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Union

from kubectl_dra.errors import DraError, UsageError

SUPPORTED = ('supported: text, {.a.b}, {$.a}, {.a\\.b}, [\'key\'], [n], [a:b], [n,m], [*], .*, ..name, '
             '[?(@.x=="y")] (==, !=, <, >, <=, >=, or @.x alone), {range EXPR}...{end}, {"text"}')

_MISSING = object()


class JSONPathError(UsageError):
    pass


def _error(template: str, what: str) -> JSONPathError:
    return JSONPathError(f"jsonpath {template!r}: {what} ({SUPPORTED})")


# ---------------------------------------------------------------------------------------------- parsing


@dataclass
class Path:
    root: str  # "$" or "@"
    steps: list  # of (op, arg)


@dataclass
class Filter:
    left: Path
    op: str | None = None  # None: "exists"
    right: Any = None  # a Path or a literal


@dataclass
class Range:
    path: Path
    body: list = field(default_factory=list)


Node = Union[str, Path, Range]

_IDENT_END = re.compile(r"[.\[\]]")


class _Parser:
    def __init__(self, template: str, expr: str):
        self.template, self.s, self.i = template, expr, 0

    def fail(self, what: str) -> JSONPathError:
        return _error(self.template, what)

    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def skip_space(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def path(self, *, stop: str = "") -> Path:
        self.skip_space()
        root = "@"
        if self.peek() in ("$", "@"):
            root = self.peek()
            self.i += 1
        steps: list = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in stop or c in " \t":
                break
            if self.peek(2) == "..":
                self.i += 2
                name = self.ident()
                if not name:
                    raise self.fail("'..' needs a field name after it")
                steps.append(("recurse", name))
            elif c == ".":
                self.i += 1
                if self.peek() == "*":
                    self.i += 1
                    steps.append(("wild", None))
                elif self.peek() == "[":
                    continue
                else:
                    name = self.ident()
                    if not name:
                        if self.i >= len(self.s) or self.s[self.i] in stop + " \t":
                            steps.append(("field", [[""]]))  # a lone ".": the key "", found nowhere (kubectl)
                            continue
                        raise self.fail(f"unexpected {self.s[self.i]!r}")
                    steps.append(("field", [[name]]))
            elif c == "[":
                steps.append(self.bracket())
            elif not steps and root == "@" and re.match(r"[A-Za-z_]", c):
                steps.append(("field", [[self.ident()]]))  # custom-columns' relaxed "a.b"
            else:
                raise self.fail(f"unexpected {c!r} in {self.s!r}")
        return Path(root, steps)

    def ident(self) -> str:
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            if _IDENT_END.match(c) or c in " \t(),=!<>\"'":
                break
            out.append(c)
            self.i += 1
        return "".join(out)

    def bracket(self):
        start = self.i
        self.i += 1  # [
        self.skip_space()
        if self.peek() == "*":
            self.i += 1
            self.expect("]")
            return ("wild", None)
        if self.peek(2) == "?(":
            self.i += 2
            flt = self.filter()
            self.expect(")")
            self.expect("]")
            return ("filter", flt)
        if self.peek() == '"':
            raise self.fail("keys in [...] take single quotes, as in kubectl: ['key']")
        if self.peek() == "'":
            keys = [self.key_path()]
            self.skip_space()
            while self.peek() == ",":
                self.i += 1
                self.skip_space()
                keys.append(self.key_path())
                self.skip_space()
            self.expect("]")
            return ("field", keys)
        end = self.s.find("]", self.i)
        if end < 0:
            raise self.fail("unclosed '['")
        inner = self.s[self.i:end].replace(" ", "")
        self.i = end + 1
        if re.fullmatch(r"-?\d+(,-?\d+)*", inner):
            return ("index", [int(x) for x in inner.split(",")])
        m = re.fullmatch(r"(-?\d*):(-?\d*)(?::(-?\d*))?", inner)
        if m:
            a, b, st = (int(x) if x else None for x in m.groups())
            if st == 0:
                raise self.fail("a slice step of 0")
            return ("slice", (a, b, st))
        raise self.fail(f"unsupported subscript {self.s[start:end + 1]!r}")

    def key_path(self) -> list[str]:
        """``'a.b'`` inside [...]: as in kubectl, a path (a, then b); ``\\.`` is a dot inside a key."""
        j = self.i + 1
        segs, cur = [], []
        while j < len(self.s) and self.s[j] != "'":
            if self.s[j] == "\\" and j + 1 < len(self.s):
                cur.append(self.s[j + 1])
                j += 2
                continue
            if self.s[j] == ".":
                segs.append("".join(cur))
                cur = []
            else:
                cur.append(self.s[j])
            j += 1
        if j >= len(self.s):
            raise self.fail("unterminated quote")
        segs.append("".join(cur))
        self.i = j + 1
        return [x for x in segs if x] or [""]

    def quoted(self) -> str:
        q = self.peek()
        if q not in ("'", '"'):
            raise self.fail(f"expected a quoted key at {self.s[self.i:]!r}")
        j = self.i + 1
        out = []
        while j < len(self.s) and self.s[j] != q:
            if self.s[j] == "\\" and j + 1 < len(self.s):
                out.append(self.s[j + 1])
                j += 2
                continue
            out.append(self.s[j])
            j += 1
        if j >= len(self.s):
            raise self.fail("unterminated quote")
        self.i = j + 1
        return "".join(out)

    def expect(self, ch: str) -> None:
        self.skip_space()
        if self.peek() != ch:
            raise self.fail(f"expected {ch!r} at {self.s[self.i:]!r}" if self.i < len(self.s) else f"missing {ch!r}")
        self.i += 1

    def filter(self) -> Filter:
        self.skip_space()
        if self.peek() not in ("@", "$"):
            raise self.fail("a filter starts with @ (or $)")
        left = self.path(stop="=!<>)")
        self.skip_space()
        m = re.match(r"==|!=|<=|>=|<|>", self.s[self.i:])
        if not m:
            if self.peek() == ")":
                return Filter(left)
            raise self.fail(f"unsupported filter operator at {self.s[self.i:]!r}")
        op = m.group(0)
        self.i += len(op)
        self.skip_space()
        c = self.peek()
        if c in ("'", '"'):
            right: Any = self.quoted()
        elif c in ("@", "$"):
            right = self.path(stop=")")
        else:
            m = re.match(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false", self.s[self.i:])
            if not m:
                raise self.fail(f"unsupported filter value at {self.s[self.i:]!r}")
            self.i += len(m.group(0))
            tok = m.group(0)
            right = True if tok == "true" else False if tok == "false" else (
                float(tok) if any(ch in tok for ch in ".eE") else int(tok))
        return Filter(left, op, right)


def _split_template(template: str) -> list[tuple[str, str]]:
    """[("text", ...) | ("action", ...)]; braces inside quotes do not count."""
    out, i, n = [], 0, len(template)
    while i < n:
        j = template.find("{", i)
        if j < 0:
            out.append(("text", template[i:]))
            break
        if j > i:
            out.append(("text", template[i:j]))
        k, quote = j + 1, None
        while k < n:
            c = template[k]
            if quote:
                if c == "\\":
                    k += 1
                elif c == quote:
                    quote = None
            elif c in ("'", '"'):
                quote = c
            elif c == "}":
                break
            k += 1
        if k >= n:
            raise _error(template, "unclosed action: '{' without '}'")
        out.append(("action", template[j + 1:k].strip()))
        i = k + 1
    return out


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _unquote_literal(text: str) -> str:
    """A quoted string inside {...}: its quotes removed, backslash escapes (\\n, \\t, \\r, \\", \\') read."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1], flags=re.S)


def parse(template: str) -> list[Node]:
    """The template as nodes (text, paths, ranges); a usage error for anything outside the subset."""
    root: list = []
    stack = [root]
    for kind, part in _split_template(template):
        if kind == "text":
            stack[-1].append(part)
            continue
        if not part:
            raise _error(template, "empty action {}")
        if part == "end":
            if len(stack) == 1:
                raise _error(template, "{end} without {range}")
            stack.pop()
            continue
        if part.startswith("range ") or part == "range":
            p = _Parser(template, part[5:])
            path = p.path()
            p.skip_space()
            if p.i != len(p.s):
                raise p.fail(f"unexpected {p.s[p.i:]!r} after the range's path")
            r = Range(path)
            stack[-1].append(r)
            stack.append(r.body)
            continue
        if part[0] in ("'", '"') and part[-1] == part[0] and len(part) >= 2:
            stack[-1].append(_unquote_literal(part))
            continue
        first = part.split()[0]
        if first in ("if", "else", "with", "define", "template", "block", "len", "printf"):
            raise _error(template, f"{first!r} is Go template syntax (-o go-template), not JSONPath")
        p = _Parser(template, part)
        path = p.path()
        p.skip_space()
        if p.i != len(p.s):
            raise p.fail(f"unexpected {p.s[p.i:]!r}")
        stack[-1].append(path)
    if len(stack) != 1:
        raise _error(template, "{range} without {end}")
    return root


# ---------------------------------------------------------------------------------------------- evaluation


def _children(v: Any) -> list:
    if isinstance(v, dict):
        return [v[k] for k in sorted(v)]
    if isinstance(v, list):
        return list(v)
    return []


def _recurse(v: Any, name: str, out: list) -> None:
    if isinstance(v, dict):
        if name in v:
            out.append(v[name])
        for k in sorted(v):
            _recurse(v[k], name, out)
    elif isinstance(v, list):
        for x in v:
            _recurse(x, name, out)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    return {str: "string", int: "int", float: "float", dict: "map", list: "list"}.get(type(v), "null")


def _compare(a: Any, op: str, b: Any) -> bool:
    """kubectl's filter comparison: both sides of one type (an int is not a float there, null is not a string),
    else an error (exit code 1), as kubectl's."""
    if _kind(a) != _kind(b) or isinstance(a, (dict, list)) or (a is None and op not in ("==", "!=")):
        raise DraError(f"jsonpath: incompatible types for comparison: {_kind(a)} {op} {_kind(b)}")
    if isinstance(a, bool) and op not in ("==", "!="):
        raise DraError(f"jsonpath: {op} does not compare booleans")
    return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def evaluate(path: Path, current: Any, root: Any) -> list:
    values = [root if path.root == "$" else current]
    for op, arg in path.steps:
        nxt: list = []
        for v in values:
            if op == "field":
                for key_path in arg:  # each a list of keys, walked in turn
                    cur = v
                    for k in key_path:
                        if not isinstance(cur, dict) or k not in cur:
                            break
                        cur = cur[k]
                    else:
                        nxt.append(cur)
            elif op == "wild":
                nxt.extend(_children(v))
            elif op == "recurse":
                _recurse(v, arg, nxt)
            elif op == "index":
                if isinstance(v, list):
                    for i in arg:
                        if not -len(v) <= i < len(v):  # kubectl fails here too, whatever the missing-keys rule
                            raise DraError(f"jsonpath: array index out of bounds: index {i}, length {len(v)}")
                        nxt.append(v[i])
            elif op == "slice":
                if isinstance(v, list):
                    a, b, st = arg
                    nxt.extend(v[slice(a, b, st)])
            elif op == "filter":
                for item in _children(v):
                    left = evaluate(arg.left, item, root)
                    if arg.op is None:
                        if left:
                            nxt.append(item)
                        continue
                    right = evaluate(arg.right, item, root) if isinstance(arg.right, Path) else [arg.right]
                    if left and right and _compare(left[0], arg.op, right[0]):
                        nxt.append(item)
        values = nxt
    return values


def _go_number(v: float) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e21:
        return str(int(v))
    r = repr(v)
    return r.replace("e+0", "e+").replace("e-0", "e-")


def go_json(v: Any) -> str:
    """Compact JSON as Go's encoding/json writes a generic value: sorted keys, <, > and & escaped."""
    text = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _text(v: Any) -> str:
    """One result as kubectl's JSONPath prints it."""
    if isinstance(v, (dict, list)):
        return go_json(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_number(v)
    return str(v)


def go_value(v: Any) -> str:
    """A value as Go's %v prints a generic value (what kubectl's custom-columns show)."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_value(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    return _text(v)


def _execute(nodes: list, current: Any, root: Any, out: list) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Range):
            for item in evaluate(node.path, current, root):
                _execute(node.body, item, root, out)
        else:
            out.append(" ".join(_text(v) for v in evaluate(node, current, root)))


def render(nodes: list, data: Any) -> str:
    out: list = []
    _execute(nodes, data, data, out)
    return "".join(out)


# ---------------------------------------------------------------------------------------------- custom columns


def parse_columns(spec: str) -> list[tuple[str, Path]]:
    """``HEADER:PATH,...`` -> [(header, path)]; a usage error naming the expected shape otherwise."""
    if not spec.strip():
        raise UsageError("custom-columns format specified but no custom columns given "
                         "(expected HEADER:.path[,HEADER:.path...])")
    cols = []
    for part in _split_columns(spec):
        header, sep, expr = part.partition(":")
        if not sep or not header or not expr:
            raise UsageError(f"unexpected custom-columns spec: {part!r}, expected HEADER:.path "
                             "(e.g. NAME:.metadata.name)")
        expr = expr.strip()
        inner = expr[1:-1] if expr.startswith("{") and expr.endswith("}") else expr
        p = _Parser(f"custom-columns {header}:{expr}", inner)
        path = p.path()
        p.skip_space()
        if p.i != len(p.s):
            raise p.fail(f"unexpected {p.s[p.i:]!r}")
        cols.append((header, path))
    return cols


def _split_columns(spec: str) -> list[str]:
    """Split at commas outside brackets and quotes (a filter or a union may hold commas)."""
    parts, depth, quote, cur = [], 0, None, []
    for c in spec:
        if quote:
            if c == quote:
                quote = None
        elif c in ("'", '"'):
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return parts


def render_columns(cols: list[tuple[str, Path]], data: Any, *, no_headers: bool = False) -> str:
    rows_of = data["items"] if isinstance(data, dict) and isinstance(data.get("items"), list) else [data]
    rows = []
    for obj in rows_of:
        row = []
        for _, path in cols:
            vals = evaluate(path, obj, obj)
            row.append(",".join(go_value(v) for v in vals) if vals else "<none>")
        rows.append(row)
    table = rows if no_headers else [[h for h, _ in cols]] + rows
    if not table:
        return ""
    widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
    lines = []
    for r in table:
        lines.append("".join(c.ljust(widths[i] + 3) if i < len(r) - 1 else c for i, c in enumerate(r)).rstrip(" ")
                     if len(r) > 1 else r[0])
    return "\n".join(lines) + "\n"
