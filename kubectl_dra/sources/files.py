"""Objects from files: ``-f FILE|DIR|-`` (YAML or JSON; lists; kubectl dumps).

A set of files behaves exactly like a cluster holding those objects.
JSON is parsed with ``json`` (fast); YAML with PyYAML's C loader when
available (the pure-Python loader is 30-50x slower on big dumps).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Iterable

from kubectl_dra.errors import InputError
from kubectl_dra.normalize import flatten

_EXTENSIONS = (".yaml", ".yml", ".json")


def _expand(paths: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
        elif os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(_EXTENSIONS)]
            if not found:
                raise InputError(f"{p}: directory holds no .yaml, .yml or .json files")
            out += found
        elif os.path.exists(p):
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    return out


# `kubectl dra dump` records the cluster's Kubernetes version here, so that offline analysis of a
# dump uses the same feature-gate defaults as the live cluster did.
SERVER_VERSION_ANNOTATION = "kubectl-dra.io/server-version"
# ... and, when it did not read every namespace's pods, which namespaces it did read (comma-separated).
POD_NAMESPACES_ANNOTATION = "kubectl-dra.io/pod-namespaces"


def parse_text(text: str, where: str) -> list[dict]:
    """Parse one file's text (JSON or YAML, single or multi-document) into flat objects."""
    return _parse(text, where)[0]


def _parse(text: str, where: str) -> tuple[list[dict], dict]:
    """(flat objects, the annotations `kubectl dra dump` recorded on its List)."""
    stripped = text.lstrip()
    docs: list
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            # JSON is also YAML; fall through to YAML only if it is not JSON-looking at all.
            raise InputError(f"{where}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
        docs = data if isinstance(data, list) else [data]
    else:
        import yaml  # only for YAML input: JSON dumps never pay for importing it

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader when PyYAML was built with it
        try:
            docs = list(yaml.load_all(text, Loader=loader))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            loc = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise InputError(f"{where}: invalid YAML{loc}: {problem}") from None
    for i, d in enumerate(docs):
        if d is not None and not isinstance(d, dict):
            raise InputError(f"{where}: document {i + 1} is not a Kubernetes object (got {type(d).__name__})")
    meta: dict = {}
    for d in docs:
        if isinstance(d, dict):
            ann = (d.get("metadata") or {}).get("annotations") or {}
            for key in (SERVER_VERSION_ANNOTATION, POD_NAMESPACES_ANNOTATION):
                if key in ann and key not in meta:
                    meta[key] = ann[key]
    objs = flatten(docs)
    for i, o in enumerate(objs):
        if not o.get("kind"):
            raise InputError(f"{where}: object {i + 1} has no 'kind'")
    return objs, meta


def load_files(paths: Iterable[str]) -> tuple[list[dict], list[str]]:
    """Read every path; return (objects, list of file names read)."""
    objects, files, _ = load_files_with_meta(paths)
    return objects, files


def load_files_with_meta(paths: Iterable[str]) -> tuple[list[dict], list[str], dict]:
    """Like :func:`load_files`, plus what a `kubectl dra dump` file recorded about its cluster."""
    files = _expand(paths)
    objects: list[dict] = []
    meta: dict = {}
    for f in files:
        if f == "-":
            text = sys.stdin.read()
            where = "<stdin>"
        else:
            try:
                with open(f, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(f"{f}: cannot read: {getattr(e, 'strerror', None) or e}") from None
            where = f
        objs, m = _parse(text, where)
        objects += objs
        meta = {**m, **meta}
    return objects, files, meta
