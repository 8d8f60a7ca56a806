"""Parse CEL text (cel-python's Lark grammar) into a small expression tree.

Nodes are :class:`Node` objects: ``kind`` is one of ``lit``, ``ident``,
``select``, ``index``, ``call``, ``list``, ``map``, ``comp`` (macros), ``bind``;
``col`` is the 0-based column (line 1) of the node, when known.
Operators become calls with cel-go's internal names (``_+_``, ``_&&_``...).
"""

from __future__ import annotations

import os
import re
import sys
import threading

from lark import Token, Tree

from kubectl_dra.cel.errors import CelCompileError
from kubectl_dra.cel.values import UInt, INT64_MAX, INT64_MIN, UINT64_MAX


def _load_celparser():
    """cel-python's parser module, ``celpy.celparser``, without the package around it.

    We use cel-python for its grammar and parser only (the evaluator is ours).  ``import celpy``
    also imports its evaluator and type system (pendulum, dateutil, ...: ~45 ms on every start).
    celparser needs nothing but Lark, so it is loaded from its file under its own name; a later
    ``import celpy`` finds it in ``sys.modules`` and uses the same module.  Anything unexpected
    falls back to the plain import.
    """
    name = "celpy.celparser"
    if name in sys.modules:
        return sys.modules[name]
    try:
        import importlib.util

        package = importlib.util.find_spec("celpy")  # locates the package without running it
        path = os.path.join(list(package.submodule_search_locations)[0], "celparser.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        module.CELParser, module.CELParseError  # noqa: B018 - the two names we use must be there
        return module
    except Exception:  # noqa: BLE001
        sys.modules.pop(name, None)
        from celpy import celparser

        return celparser


celparser = _load_celparser()


class Node:
    __slots__ = ("kind", "col", "line", "a", "b", "c", "d")

    def __init__(self, kind, col=None, a=None, b=None, c=None, d=None, line=None):
        self.kind, self.col, self.line = kind, col, line
        self.a, self.b, self.c, self.d = a, b, c, d

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        parts = [repr(x) for x in (self.a, self.b, self.c, self.d) if x is not None]
        return f"{self.kind}({', '.join(parts)})"


# call node: a=function name, b=target (Node|None), c=list of args
# select: a=operand, b=field name, c=test_only (has())
# index: a=operand, b=index node
# comp: a=macro name, b=range node, c=iteration var name(s), d=list of body nodes
# bind: a=var name, b=init node, c=body node

_PARSER = None

RESERVED = {"as", "break", "const", "continue", "else", "for", "function", "if", "import",
            "let", "loop", "package", "namespace", "return", "var", "void", "while", "in"}

_SYM = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
        "relation_eq": "==", "relation_ne": "!=", "relation_in": "in", "addition_add": "+",
        "addition_sub": "-", "multiplication_mul": "*", "multiplication_div": "/", "multiplication_mod": "%"}

MACROS_1 = {"all", "exists", "exists_one", "filter"}


_PARSER_LOCK = threading.Lock()


def _parser():
    global _PARSER
    if _PARSER is None:
        with _PARSER_LOCK:
            if _PARSER is None:
                _PARSER = _cached_cel_parser()
    return _PARSER


def _cache_dir() -> str | None:
    """Per-user cache directory for the CEL parser tables (None: caching off)."""
    if os.environ.get("KUBECTL_DRA_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-dra")


#: bump when the cache file's layout changes (part of the file name and of the key inside it)
CACHE_FORMAT = 1
#: Lark options that are Python objects (functions, classes): never in the file, given again on load
_LIVE_OPTIONS = ("lexer_callbacks", "tree_class", "postlex", "transformer", "_plugins")


def _cached_cel_parser():
    """celpy's CELParser, its Lark LALR tables loaded from a per-user cache when possible.

    Building the tables costs 0.15-0.45 s per process.  The cache holds Lark's own serialized form of
    the built parser (``memo_serialize``: rules, terminals, the parse table) as JSON, never a pickle:
    loading it can only build lists, dicts and the few Lark classes Lark's deserializer names, so
    whoever can write the user's cache directory cannot make kubectl-dra run code.  The file is used only
    when it and its directory belong to the user and nobody else may write them, and only when the
    key inside it (a digest of celpy's grammar, the options, the Lark, celpy-options and Python versions)
    matches.  Anything unexpected (no home, a read-only or foreign directory, a torn or foreign file,
    other celpy internals) falls back silently to building the tables.
    """
    if celparser.CELParser.CEL_PARSER is not None:
        return celparser.CELParser()
    directory = _cache_dir()
    if directory is None:
        return celparser.CELParser()
    try:
        key, target = _cache_key_and_path(directory)
    except Exception:  # noqa: BLE001 - no cache then
        return celparser.CELParser()
    try:
        loaded = _load_tables(target, key)
    except Exception:  # noqa: BLE001 - a torn, foreign or stale file: build instead
        loaded = None
    if loaded is not None:
        celparser.CELParser.CEL_PARSER = loaded
        return celparser.CELParser()
    parser = celparser.CELParser()
    try:
        _save_tables(directory, target, key, celparser.CELParser.CEL_PARSER)
    except Exception:  # noqa: BLE001 - unwritable: no cache
        pass
    return parser


def _grammar_text() -> str:
    return open(os.path.join(os.path.dirname(celparser.__file__), "cel.lark"), encoding="utf-8").read()


def _cache_key_and_path(directory: str) -> tuple[str, str]:
    import hashlib

    import lark

    digest = hashlib.sha256()
    for part in (f"format {CACHE_FORMAT}", f"lark {lark.__version__}", f"python {sys.version_info[:2]}",
                 _grammar_text()):
        digest.update(part.encode("utf-8") + b"\0")
    key = digest.hexdigest()
    name = f"cel-parser-v{CACHE_FORMAT}-lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}.json"
    return key, os.path.join(directory, name)


def _private(st: os.stat_result) -> bool:
    """Owned by this user, writable by nobody else."""
    import stat

    return (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


# The file's JSON: Lark's serialized data has tuples, sets and dicts with int keys, which JSON has not;
# they are written as tagged objects and only ever read back as those builtin containers.
_TAG = "\u0000"


def _encode(v):
    if isinstance(v, dict):
        if all(isinstance(k, str) and k != _TAG for k in v):
            return {k: _encode(x) for k, x in v.items()}
        return {_TAG: "dict", "items": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, tuple):
        return {_TAG: "tuple", "items": [_encode(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {_TAG: "frozenset" if isinstance(v, frozenset) else "set", "items": [_encode(x) for x in v]}
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    raise TypeError(f"cannot cache a {type(v).__name__}")


_BUILD = {"dict": lambda items: {_hashable(k): x for k, x in items}, "tuple": tuple, "set": set,
          "frozenset": frozenset}


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _decode(obj: dict):
    tag = obj.get(_TAG)
    if tag is None:
        return obj
    return _BUILD[tag](obj["items"])  # KeyError for anything else: the file is not ours


def _lark_kwargs() -> dict:
    """The Python-object options celpy's CELParser gives Lark (see its __init__)."""
    from lark import Tree as LarkTree

    return {"lexer_callbacks": {"IDENT": celparser.CELParser.ambiguous_literals}, "tree_class": LarkTree}


def _load_tables(target: str, key: str):
    import json

    from lark import Lark

    fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not _private(os.fstat(fd)) or not _private(os.stat(os.path.dirname(target))):
            return None
        doc = json.loads(fh.read(), object_hook=_decode)
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    return Lark._load_from_dict(doc["data"], doc["memo"], **_lark_kwargs())


def _save_tables(directory: str, target: str, key: str, parser) -> None:
    import json
    import tempfile

    from lark.grammar import Rule
    from lark.lexer import TerminalDef
    from lark.parsers.lalr_analysis import IntParseTable

    # A freshly built table names its states by their item sets (what Lark's pickle stores); numbered, as
    # Lark loads every table anyway, they are plain data.
    lalr = parser.parser.parser
    table = lalr._parse_table
    lalr._parse_table = table if isinstance(table, IntParseTable) else IntParseTable.from_ParseTable(table)
    try:
        data, memo = parser.memo_serialize([TerminalDef, Rule])
    finally:
        lalr._parse_table = table
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LIVE_OPTIONS}
    text = json.dumps({"key": key, "data": _encode(data), "memo": _encode(memo)}, separators=(",", ":"))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not _private(os.stat(directory)):
        return  # someone else may write there: do not leave tables for a later run to trust
    # written whole, then renamed into place: a concurrent run reads the old file or the new one, never half
    fd, tmp = tempfile.mkstemp(prefix=".cel-parser-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def parse(text: str) -> Node:
    if len(text) > 100_000:
        raise CelCompileError("compilation failed: expression is too long (more than 100000 characters)",
                              expression=text[:200], kind="syntax")
    try:
        tree = _parser().parse(text)
    except celparser.CELParseError as ex:
        line, col = getattr(ex, "line", None), getattr(ex, "column", None)
        what, line, col = _describe_parse_error(ex, text, line, col)
        loc = f"{line or 1}:{col or 1}"
        raise CelCompileError(f"compilation failed: ERROR: <input>:{loc}: Syntax error: {what}",
                              expression=text, column=(col - 1) if col else None, line=line,
                              kind="syntax") from None
    except RecursionError:
        raise CelCompileError("compilation failed: expression nests too deeply",
                              expression=text, kind="syntax") from None
    try:
        return _Builder(text).expr(tree)
    except RecursionError:
        raise CelCompileError("compilation failed: expression nests too deeply",
                              expression=text, kind="syntax") from None


def _describe_parse_error(ex, text, line, col):
    """cel-go-like wording and a 1-based (line, column) for a Lark parse failure."""
    inner = ex.__context__
    token = getattr(inner, "token", None)
    if token is not None:
        if token.type == "$END":
            lines = text.split("\n")
            return "mismatched input '<EOF>'", len(lines), len(lines[-1]) + 1
        return f"mismatched input '{token}'", line, col
    if line and col:
        lines = text.splitlines() or [""]
        src = lines[min(line, len(lines)) - 1]
        ch = src[col - 1:col] if col - 1 < len(src) else ""
        if ch in ("'", '"'):
            return "token recognition error at: unterminated string literal", line, col
        return f"token recognition error at: '{ch}'", line, col
    return "invalid syntax", line, col


def _pos(t):
    meta = getattr(t, "meta", None)
    if meta is not None and not getattr(meta, "empty", True) and getattr(meta, "column", None) is not None:
        return meta.line, meta.column - 1
    if isinstance(t, Token) and t.column is not None:
        return t.line, t.column - 1
    return None, None


class _Builder:
    def __init__(self, text: str):
        self.text = text

    def err(self, msg: str, t) -> CelCompileError:
        line, col = _pos(t)
        loc = f"{line or 1}:{(col or 0) + 1}"
        return CelCompileError(f"compilation failed: ERROR: <input>:{loc}: {msg}",
                               expression=self.text, column=col, line=line, kind="syntax")

    def node(self, kind, t, *args) -> Node:
        line, col = _pos(t)
        return Node(kind, col, *args, line=line)

    def opnode(self, op_tree, symbol: str, name: str, args) -> Node:
        """A binary operator call positioned at its operator symbol, as cel-go reports it."""
        meta = getattr(op_tree, "meta", None)
        start = getattr(meta, "end_pos", None) if meta is not None and not getattr(meta, "empty", True) else None
        line = col = None
        if start is not None:
            at = self.text.find(symbol, start)
            if at >= 0:
                line = self.text.count("\n", 0, at) + 1
                col = at - (self.text.rfind("\n", 0, at) + 1)
        if col is None:
            line, col = _pos(op_tree)
        return Node("call", col, name, None, args, line=line)

    # -- grammar rules -----------------------------------------------------
    def expr(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.conditionalor(ch[0])
        return self.node("call", t, "_?_:_", None,
                         [self.conditionalor(ch[0]), self.conditionalor(ch[1]), self.expr(ch[2])])

    def conditionalor(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.conditionaland(ch[0])
        return self.opnode(ch[0], "||", "_||_", [self.conditionalor(ch[0]), self.conditionaland(ch[1])])

    def conditionaland(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.relation(ch[0])
        return self.opnode(ch[0], "&&", "_&&_", [self.conditionaland(ch[0]), self.relation(ch[1])])

    _REL = {"relation_lt": "_<_", "relation_le": "_<=_", "relation_gt": "_>_", "relation_ge": "_>=_",
            "relation_eq": "_==_", "relation_ne": "_!=_", "relation_in": "@in"}

    def relation(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.addition(ch[0])
        op = ch[0]
        return self.opnode(op.children[0], _SYM[op.data], self._REL[op.data],
                           [self.relation(op.children[0]), self.addition(ch[1])])

    _ADD = {"addition_add": "_+_", "addition_sub": "_-_"}

    def addition(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.multiplication(ch[0])
        op = ch[0]
        return self.opnode(op.children[0], _SYM[op.data], self._ADD[op.data],
                           [self.addition(op.children[0]), self.multiplication(ch[1])])

    _MUL = {"multiplication_mul": "_*_", "multiplication_div": "_/_", "multiplication_mod": "_%_"}

    def multiplication(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.unary(ch[0])
        op = ch[0]
        return self.opnode(op.children[0], _SYM[op.data], self._MUL[op.data],
                           [self.multiplication(op.children[0]), self.unary(ch[1])])

    def unary(self, t: Tree) -> Node:
        ch = t.children
        if len(ch) == 1:
            return self.member(ch[0])
        op = ch[0]
        operand = self.unary(ch[1])
        if op.data == "unary_not":
            return self.node("call", op, "!_", None, [operand])
        # fold negative numeric literals, so -9223372036854775808 is valid
        if operand.kind == "lit" and operand.c == "neglit":
            return Node("lit", operand.col, -operand.a if not isinstance(operand.a, UInt) else operand.a,
                        operand.b, None, line=operand.line)
        return self.node("call", op, "-_", None, [operand])

    def member(self, t: Tree) -> Node:
        sub = t.children[0]
        kind = sub.data
        if kind == "primary":
            return self.primary(sub)
        ch = sub.children
        if kind == "member_dot":
            ident = ch[1]
            return self.node("select", ident, self.member(ch[0]), str(ident), False)
        if kind == "member_dot_arg":
            ident = ch[1]
            args = self.exprlist(ch[2]) if len(ch) > 2 else []
            target = self.member(ch[0])
            return self.call(str(ident), target, args, ident, sub)
        if kind == "member_index":
            return self.node("index", sub, self.member(ch[0]), self.expr(ch[1]))
        if kind == "member_object":
            raise self.err("message construction is not supported in the DRA environment", sub)
        raise self.err(f"unsupported syntax {kind}", sub)  # pragma: no cover

    def exprlist(self, t: Tree) -> list:
        return [self.expr(c) for c in t.children]

    def primary(self, t: Tree) -> Node:
        sub = t.children[0]
        kind = sub.data
        ch = sub.children
        if kind == "literal":
            return self.literal(sub)
        if kind == "ident":
            name = str(ch[0])
            if name in RESERVED:
                raise self.err(f"reserved identifier: {name}", ch[0])
            return self.node("ident", ch[0], name)
        if kind == "ident_arg":
            args = self.exprlist(ch[1]) if len(ch) > 1 else []
            return self.call(str(ch[0]), None, args, ch[0], sub)
        if kind == "paren_expr":
            return self.expr(ch[0])
        if kind == "list_lit":
            return self.node("list", sub, self.exprlist(ch[0]) if ch else [])
        if kind == "map_lit":
            entries = []
            if ch:
                items = ch[0].children
                for i in range(0, len(items), 2):
                    entries.append((self.expr(items[i]), self.expr(items[i + 1])))
            return self.node("map", sub, entries)
        if kind in ("dot_ident", "dot_ident_arg"):
            name = str(ch[0])
            if kind == "dot_ident":
                return self.node("ident", ch[0], name)
            args = self.exprlist(ch[1]) if len(ch) > 1 else []
            return self.call(name, None, args, ch[0], sub)
        raise self.err(f"unsupported syntax {kind}", sub)  # pragma: no cover

    def call(self, name, target, args, tok, t) -> Node:
        # macros
        if target is None and name == "has":
            if len(args) != 1 or args[0].kind != "select":
                raise self.err("invalid argument to has() macro", tok)
            a = args[0]
            return Node("select", a.col, a.a, a.b, True, line=a.line)
        if target is not None and name in MACROS_1 and len(args) == 2:
            var = self._var(args[0], tok)
            return self.node("comp", tok, name, target, var, [args[1]])
        if target is not None and name == "map" and len(args) in (2, 3):
            var = self._var(args[0], tok)
            return self.node("comp", tok, "map", target, var, args[1:])
        if target is not None and name in ("all", "exists", "existsOne", "exists_one", "transformList",
                                           "transformMap", "transformMapEntry") and len(args) == 3:
            v1, v2 = self._var(args[0], tok), self._var(args[1], tok)
            macro = "exists_one" if name == "existsOne" else name
            return self.node("comp", tok, macro + "2", target, (v1, v2), [args[2]])
        if target is not None and name in ("transformList", "transformMap", "transformMapEntry") and len(args) == 4:
            v1, v2 = self._var(args[0], tok), self._var(args[1], tok)
            return self.node("comp", tok, name + "2", target, (v1, v2), args[2:])
        if (target is not None and target.kind == "ident" and target.a == "cel"
                and name == "bind" and len(args) == 3):
            var = self._var(args[0], tok)
            return self.node("bind", tok, var, args[1], args[2])
        return self.node("call", tok, name, target, args)

    def _var(self, n: Node, tok) -> str:
        if n.kind != "ident":
            raise self.err("argument is not an identifier", tok)
        return n.a

    def literal(self, t: Tree) -> Node:
        tok: Token = t.children[0]
        text = str(tok)
        typ = tok.type
        line, col = _pos(tok)
        neg = text.startswith("-")
        try:
            if typ == "INT_LIT":
                v = int(text, 16) if "0x" in text.lower() else int(text)
                if v > INT64_MAX + 1 or (v == INT64_MAX + 1 and not neg) or v < INT64_MIN:
                    raise ValueError
                return Node("lit", col, v, "int", None, line=line)
            if typ == "UINT_LIT":
                body = text[:-1]
                v = int(body, 16) if "0x" in body.lower() else int(body)
                if v < 0 or v > UINT64_MAX:
                    raise ValueError
                return Node("lit", col, UInt(v), "uint", None, line=line)
            if typ == "FLOAT_LIT":
                return Node("lit", col, float(text), "double", None, line=line)
        except ValueError:
            raise self.err(f"invalid {typ.split('_')[0].lower()} literal", tok) from None
        if typ == "BOOL_LIT":
            return Node("lit", col, text == "true", "bool", None, line=line)
        if typ == "NULL_LIT":
            return Node("lit", col, None, "null_type", None, line=line)
        if typ in ("STRING_LIT", "MLSTRING_LIT"):
            return Node("lit", col, _unquote(text, self, tok), "string", None, line=line)
        if typ == "BYTES_LIT":
            s = _unquote(text[1:], self, tok, as_bytes=True)
            return Node("lit", col, s, "bytes", None, line=line)
        raise self.err(f"unsupported literal {text}", tok)  # pragma: no cover


_ESC = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|[abfnrtv\"'\\`?])")


def _unquote(text: str, builder: _Builder, tok, as_bytes: bool = False):
    raw = text[0] in "rR"
    if raw:
        text = text[1:]
    q = 3 if text[:3] in ('"""', "'''") else 1
    body = text[q:-q]
    if raw:
        return body.encode() if as_bytes else body
    out = bytearray() if as_bytes else []
    pos = 0
    for m in _ESC.finditer(body):
        chunk = body[pos:m.start()]
        if "\\" in chunk:
            raise builder.err("invalid escape sequence", tok)
        if as_bytes:
            out += chunk.encode()
        else:
            out.append(chunk)
        e = m.group(1)
        if e[0] in "xuU" or e[0].isdigit():
            code = int(e[1:], 16) if e[0] in "xuU" else int(e, 8)
            if as_bytes and e[0] in "x01234567":
                out.append(code)
            elif as_bytes:
                out += chr(code).encode()
            else:
                out.append(chr(code))
        else:
            ch = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}.get(e, e)
            if as_bytes:
                out += ch.encode()
            else:
                out.append(ch)
        pos = m.end()
    tail = body[pos:]
    if "\\" in tail:
        raise builder.err("invalid escape sequence", tok)
    if as_bytes:
        out += tail.encode()
        return bytes(out)
    out.append(tail)
    return "".join(out)
