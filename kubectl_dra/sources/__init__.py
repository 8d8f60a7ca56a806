"""Where objects come from: files (``-f``) or a live cluster (kubeconfig).

:func:`load_snapshot` is the only entry point the commands use.  Both
sources yield raw objects; they are normalized to the v1 shape here, once.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace

from kubectl_dra.normalize import normalize_object, old_version_notice
from kubectl_dra.snapshot import SourceInfo, Snapshot


@dataclass(frozen=True)
class SourceOptions:
    filenames: tuple[str, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None          # -n as given (None: the source's default)
    all_namespaces: bool = False
    request_timeout: float = 30.0
    # (namespace, pod): also what why-pending's stages read for that pod (events, quotas, namespace, the pods
    # on its node); pod None: for every pod (dump).  See kubectl_dra.sources.live.load_live.
    include_events_for: tuple[str | None, str | None] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return bool(self.filenames)


def _normalized(objects: list[dict], origins: list[str] | None, default_where: str) -> tuple[list[dict], dict]:
    """The objects in v1 shape, and the index of each object that conversion replaced (id -> index: the
    messages of the shape checks name its file)."""
    from kubectl_dra import shape
    from kubectl_dra.errors import InputError

    shape.check_raw_all(objects, origins, default_where)
    out = []
    converted: dict[int, int] = {}
    for i, obj in enumerate(objects):
        try:
            n = normalize_object(obj)
        except (AttributeError, TypeError, ValueError, KeyError):
            # an old version's object too malformed to convert: say where, in the v1 shape's words if it has them
            where = origins[i] if origins is not None else default_where
            shape.check_object(obj, where)
            raise InputError(f"{where + ': ' if where else ''}{shape.describe(obj)}: is not a well-formed "
                             f"{obj.get('apiVersion')} {obj.get('kind')}") from None
        if n is not None:
            if n is not obj:
                converted[id(n)] = i
            out.append(n)
    return out, converted


def _checked(objects: list[dict], origins: list[str] | None, default_where: str, info: SourceInfo) -> Snapshot:
    """The snapshot of the objects, every object checked for shape (:mod:`kubectl_dra.shape`) before it is
    returned: each kind at once, in the snapshot's own groups."""
    from kubectl_dra import shape

    normalized, converted = _normalized(objects, origins, default_where)
    snap = Snapshot.from_objects(normalized, source=info, normalized=True)

    def where_of(obj: dict) -> str:  # only for the message of a malformed object
        if origins is None:
            return default_where
        i = converted.get(id(obj))
        if i is None:
            i = next((j for j, o in enumerate(objects) if o is obj), None)
        return origins[i] if i is not None else default_where

    shape.check_snapshot(snap, where_of)
    return snap


# A snapshot at least this big is moved out of the cyclic GC's reach once loaded (gc.freeze).
FREEZE_MIN_OBJECTS = 2000


def load_snapshot(opts: SourceOptions) -> Snapshot:
    """Load, normalize and index the objects.

    Parsing a big dump creates millions of dicts, all alive; with the cyclic garbage collector
    running, every collection walks them again (json.loads of a 25 MB dump: ~0.3 s without
    collections, ~1 s with).  They are plain acyclic data, so collection is paused while loading,
    and a big snapshot is then frozen (``gc.freeze``): later collections (during analysis and
    rendering) skip it.  Frozen objects are still freed by reference counting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        snap = _load_snapshot(opts)
        # Freeze before collection resumes: the first allocation after gc.enable() would otherwise
        # start a young-generation collection over every object created while it was paused.
        if was_enabled and _object_count(snap) >= FREEZE_MIN_OBJECTS:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    return snap


def _object_count(snap: Snapshot) -> int:
    return (len(snap.nodes) + len(snap.pods) + len(snap.resource_slices) + len(snap.resource_claims)
            + len(snap.device_classes) + len(snap.resource_claim_templates) + len(snap.events)
            + len(snap.resource_quotas) + len(snap.namespaces))


def _load_snapshot(opts: SourceOptions) -> Snapshot:
    if opts.filenames:
        from kubectl_dra.sources.files import (
            INCOMPLETE_KEY, ORIGINS_KEY, POD_NAMESPACES_ANNOTATION, POD_NODES_ANNOTATION, SERVER_TIME_ANNOTATION,
            SERVER_VERSION_ANNOTATION, load_files_with_meta,
        )

        objects, files, meta = load_files_with_meta(opts.filenames)
        origins = meta.get(ORIGINS_KEY)
        pod_ns = meta.get(POD_NAMESPACES_ANNOTATION)
        pod_nodes = meta.get(POD_NODES_ANNOTATION)
        info = SourceInfo(kind="files", description=", ".join(files) if len(files) <= 3 else f"{len(files)} files",
                          namespace=opts.namespace or "default", server_version=meta.get(SERVER_VERSION_ANNOTATION),
                          pod_namespaces=tuple(pod_ns.split(",")) if pod_ns else None,
                          incomplete=meta.get(INCOMPLETE_KEY, ()), server_time=meta.get(SERVER_TIME_ANNOTATION),
                          pod_nodes=tuple(n for n in str(pod_nodes).split(",") if n) if pod_nodes else ())
    else:
        from kubectl_dra.sources.live import load_live

        objects, info = load_live(kubeconfig=opts.kubeconfig, context=opts.context, namespace=opts.namespace,
                                  all_namespaces=opts.all_namespaces, request_timeout=opts.request_timeout,
                                  include_events_for=opts.include_events_for)
        origins = None
    notice = old_version_notice(objects)
    if notice and notice not in info.warnings:
        info = replace(info, warnings=(*info.warnings, notice))
    default_where = "" if info.kind == "files" else f"the cluster's answer ({info.description})"
    return _checked(objects, origins, default_where, info)
