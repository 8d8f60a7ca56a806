"""Objects from files: ``-f FILE|DIR|-`` (YAML or JSON; lists; kubectl dumps).

A set of files behaves exactly like a cluster holding those objects.
JSON is parsed with ``json`` (fast); YAML with PyYAML's C loader when
available (the pure-Python loader is 30-50x slower on big dumps).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable

from kubectl_dra.errors import InputError
from kubectl_dra.normalize import flatten, is_list
from kubectl_dra.snapshot import Gap
from kubectl_dra import shape
from kubectl_dra.sources import limits

if TYPE_CHECKING:
    from kubectl_dra.snapshot import Snapshot

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
# ... and the server's time when it was read, so "now" (binding timeouts) is the same offline.
SERVER_TIME_ANNOTATION = "kubectl-dra.io/server-time"
# ... and the nodes whose pods of every namespace it read (where a pod waits to start: the drivers' plugins).
POD_NODES_ANNOTATION = "kubectl-dra.io/pod-nodes"


# ... and what it could not read (forbidden lists): the List's own "incomplete" key, as every command's JSON.
INCOMPLETE_KEY = "incomplete"
# load_files_with_meta's list of the file each object came from (not in any file).
ORIGINS_KEY = "origins"


def _gaps(value: object, where: str) -> tuple[Gap, ...]:
    if not isinstance(value, list):
        raise InputError(f"{where}: {INCOMPLETE_KEY!r} is not a list")
    out = []
    for i, entry in enumerate(value):
        try:
            out.append(Gap.from_dict(entry))
        except ValueError as e:
            raise InputError(f"{where}: {INCOMPLETE_KEY}[{i}]: {e}") from None
    return tuple(out)


def parse_text(text: str, where: str) -> list[dict]:
    """Parse one file's text (JSON or YAML, single or multi-document) into flat objects."""
    return _parse(text, where)[0]


def _parse(text: str, where: str, raw: bytes | None = None, *, strict: bool = True) -> tuple[list[dict], dict]:
    """(flat objects, the annotations `kubectl dra dump` recorded on its List).  ``raw``: the bytes
    ``text`` was decoded from (the JSON depth check reads them).  Within the input limits of
    :mod:`kubectl_dra.sources.limits`.  ``strict`` (all but ``validate``): every document and list item is an
    object whose kind and apiVersion are strings (validate reports those as findings)."""
    stripped = text.lstrip()
    docs: list
    if stripped.startswith(("{", "[")):
        # JSON is also YAML, but JSON-looking input is read as JSON only (fast, and its errors are clearer).
        data = limits.load_json(text, where, raw=raw)
        docs = data if isinstance(data, list) else [data]
    else:
        docs = limits.load_yaml_all(text, where)
    for i, d in enumerate(docs):
        if d is None or not strict:
            continue
        if not isinstance(d, dict):
            raise InputError(f"{where}: document {i + 1} is not a Kubernetes object (got {shape.type_name(d)})")
        shape.check_raw(d, where)
        if is_list(d):
            for j, item in enumerate(d["items"]):
                if not isinstance(item, dict):
                    raise InputError(f"{where}: {shape.describe(d)}: items[{j}]: must be an object, not "
                                     f"{shape.type_name(item)}")
    meta: dict = {}
    for d in docs:
        if isinstance(d, dict) and isinstance(d.get("metadata") or {}, dict):
            ann = (d.get("metadata") or {}).get("annotations") or {}
            if not isinstance(ann, dict):
                continue
            for key in (SERVER_VERSION_ANNOTATION, POD_NAMESPACES_ANNOTATION, SERVER_TIME_ANNOTATION,
                        POD_NODES_ANNOTATION):
                if key in ann and key not in meta:
                    meta[key] = ann[key]
            if INCOMPLETE_KEY in d and is_list(d) and INCOMPLETE_KEY not in meta:
                meta[INCOMPLETE_KEY] = _gaps(d[INCOMPLETE_KEY], where)
    objs = flatten(docs)
    if strict:
        shape.check_raw_all(objs, None, where)
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
    origins: list[str] = []  # the file of each object, for messages
    meta: dict = {}
    for f in files:
        where = "<stdin>" if f == "-" else f
        raw = limits.read_bytes(f, where)
        objs, m = _parse(limits.decode(raw, where), where, raw)
        objects += objs
        origins += [where] * len(objs)
        gaps = meta.get(INCOMPLETE_KEY, ()) + tuple(g for g in m.get(INCOMPLETE_KEY, ())
                                                   if g not in meta.get(INCOMPLETE_KEY, ()))
        meta = {**m, **meta}
        if gaps:
            meta[INCOMPLETE_KEY] = gaps  # what any of the dumps could not read
    meta[ORIGINS_KEY] = origins
    return objects, files, meta


def read_config(path: str) -> dict:
    """The object of a ``--config FILE`` (a driver's opaque parameters, YAML or JSON)."""
    where = f"--config {path}"
    text = limits.read_text(path, where)
    data = limits.load_json(text, where) if text.lstrip().startswith("{") else limits.load_yaml_one(text, where)
    if not isinstance(data, dict):
        raise InputError(f"--config {path}: must hold one object (the driver's parameters)")
    return data


def dump_list(snap: "Snapshot", *, redact: bool = False) -> dict:
    """The snapshot as one ``kind: List`` (v1 shape) that reads back as the same cluster (``dump``); ``redact``:
    what kubectl_dra.redact leaves out of a shared dump, said in the List's annotations."""
    doc: dict = {"apiVersion": "v1", "kind": "List"}
    annotations = {}
    if redact:
        from kubectl_dra.redact import ANNOTATION, WHAT

        annotations[ANNOTATION] = WHAT
    if snap.source.server_version:
        # Offline analysis of this dump then uses the cluster's feature-gate defaults ...
        annotations[SERVER_VERSION_ANNOTATION] = snap.source.server_version
    if snap.source.pod_namespaces is not None:
        # ... and knows that pods of other namespaces were not read (absent != deleted).
        annotations[POD_NAMESPACES_ANNOTATION] = ",".join(snap.source.pod_namespaces)
    if snap.source.server_time:
        # ... and judges binding timeouts against the time the cluster was read, not today.
        annotations[SERVER_TIME_ANNOTATION] = snap.source.server_time
    if snap.source.pod_namespaces is not None and snap.source.pod_nodes:
        # ... and that every pod on these nodes was read (a waiting pod's drivers' plugins), in any namespace.
        annotations[POD_NODES_ANNOTATION] = ",".join(snap.source.pod_nodes)
    if annotations:
        doc["metadata"] = {"annotations": annotations}
    if snap.source.incomplete:
        # ... and that some lists could not be read at all (forbidden): offline answers say so as well.
        doc[INCOMPLETE_KEY] = [g.to_dict() for g in snap.source.incomplete]
    if redact:
        from kubectl_dra.redact import driver_names, redact as redacted

        objects = snap.objects()
        keep = driver_names(objects)  # drivers' names stay (how a driver's plugin pod is told)
        doc["items"] = [redacted(o, keep) for o in objects]
    else:
        doc["items"] = snap.objects()
    return doc


def read_manifests(paths: Iterable[str]) -> tuple[list[tuple[str, int, object]], list[str], list[tuple[str, str]]]:
    """Manifests to check (``validate -f``): every document as (file, number from 1, object), the files read,
    and the files that do not parse as (file, message) -- reported, not fatal.  Directories: their .yaml,
    .yml and .json files."""
    files: list[str] = []
    for p in paths:
        if p == "-":
            files.append(p)
        elif os.path.isdir(p):
            files += sorted(os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs
                            if f.endswith((".yaml", ".yml", ".json")))
        elif os.path.exists(p):
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    docs: list[tuple[str, int, object]] = []
    unparsable: list[tuple[str, str]] = []
    for f in files:
        raw = limits.read_bytes(f, f)
        try:
            objs = _parse(limits.decode(raw, f), f, raw, strict=False)[0]
        except limits.LimitError:
            raise  # refused, as kubectl refuses it: exit 3
        except InputError as e:
            unparsable.append((f, e.message))
            continue
        docs += [(f, i + 1, o) for i, o in enumerate(objs)]
    return docs, files, unparsable
