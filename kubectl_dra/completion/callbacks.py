"""The ``autocompletion=`` callbacks of the commands' arguments and options.

Each completes from the ``-f`` files already on the command line, or from the kubeconfig's cluster
(:mod:`kubectl_dra.completion.lookup`), within about a second.  They never raise and never print: a shell
must not see errors (set ``KUBECTL_DRA_COMPLETION_DEBUG=FILE`` to see why a completion is empty).
Type words (``get TYPE``, ``explain TYPE/``) come from :mod:`kubectl_dra.kinds`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import typer

from kubectl_dra import kinds
from kubectl_dra.completion import KEEP_ORDER_META, debug
from kubectl_dra.kinds import Kind


# ----------------------------------------------------------------------------------------------------------
# helpers


def _safe(fn: Callable[..., list]) -> Callable[..., list]:
    """A completion callback that never raises (an error would land in the user's shell) or warns."""

    def wrapper(ctx: typer.Context, incomplete: str) -> list:
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return list(fn(ctx, incomplete or ""))
        except BaseException as e:  # noqa: BLE001
            import traceback

            debug(f"{fn.__name__}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            return []

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__annotations__ = {"ctx": typer.Context, "incomplete": str, "return": list}
    return wrapper


def _params(ctx: Any) -> dict[str, Any]:
    """Every parameter value parsed so far, the innermost command winning."""
    chain = []
    while ctx is not None:
        chain.append(ctx)
        ctx = ctx.parent
    out: dict[str, Any] = {}
    for c in reversed(chain):
        out.update({k: v for k, v in (c.params or {}).items() if v is not None})
    return out


def _lookup(ctx: Any):
    from kubectl_dra.completion.lookup import SourceSpec, lookup_for

    return lookup_for(SourceSpec.from_params(_params(ctx)))


def _namespace(ctx: Any, lk: Any) -> str | None:
    """The namespace names are completed in (None: all namespaces, for -A)."""
    if lk.spec.all_namespaces:
        return None
    return lk.default_namespace()


def _names(objects: Iterable[dict]) -> list[str]:
    from kubectl_dra.completion.lookup import name_of

    return sorted({name_of(o) for o in objects if name_of(o)})


def _typed_values(ctx: Any, name: str) -> set[str]:
    """Values already given for a repeatable option or a variadic argument (not offered again)."""
    v = (ctx.params or {}).get(name)
    if isinstance(v, (list, tuple)):
        return {str(x) for x in v}
    return set()


# ----------------------------------------------------------------------------------------------------------
# source flags


@_safe
def complete_namespace(ctx: typer.Context, incomplete: str) -> list:
    """-n/--namespace: the cluster's namespaces (or those of the -f objects)."""
    lk = _lookup(ctx)
    names = _names(lk.objects("namespaces"))
    if not names and not lk.offline:
        # Listing namespaces may be forbidden; the namespaces that hold DRA objects are the useful ones anyway.
        got = lk.fetch([("resourceclaims", None), ("resourceclaimtemplates", None)])
        from kubectl_dra.completion.lookup import namespace_of

        names = sorted({namespace_of(o) for objs in got.values() for o in objs if namespace_of(o)})
    return names


@_safe
def complete_context(ctx: typer.Context, incomplete: str) -> list:
    """--context: the contexts of the kubeconfig (no network)."""
    from kubectl_dra.completion.lookup import context_names

    return context_names(_params(ctx).get("kubeconfig"))


# ----------------------------------------------------------------------------------------------------------
# per-command flags


def output_choices(*choices: str) -> Callable[..., list]:
    """An -o/--output completion offering ``choices``."""
    fixed = [c for c in choices if c]

    @_safe
    def complete_output(ctx: typer.Context, incomplete: str) -> list:
        return fixed

    return complete_output


@_safe
def complete_node(ctx: typer.Context, incomplete: str) -> list:
    """--node: node names (not the ones already given)."""
    given = _typed_values(ctx, "node")
    lk = _lookup(ctx)
    return [n for n in _names(lk.objects("nodes")) if n not in given]


@_safe
def complete_driver(ctx: typer.Context, incomplete: str) -> list:
    """--driver: the drivers that publish ResourceSlices, with their device counts."""
    counts: dict[str, int] = {}
    for s in _lookup(ctx).objects("resourceslices"):
        spec = s.get("spec") or {}
        drv = spec.get("driver")
        if isinstance(drv, str) and drv:
            counts[drv] = counts.get(drv, 0) + len(spec.get("devices") or [])
    return [(d, f"{n} device{'s' if n != 1 else ''}") for d, n in sorted(counts.items())]


@_safe
def complete_class(ctx: typer.Context, incomplete: str) -> list:
    """--class: DeviceClass names."""
    return _names(_lookup(ctx).objects("deviceclasses"))


@_safe
def complete_feature_gates(ctx: typer.Context, incomplete: str) -> list:
    """--feature-gates Name=true,...: the DRA gates kubectl-dra knows, for the last comma-separated item."""
    from kubectl_dra.features import GATE_NAMES

    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    done = {item.split("=", 1)[0] for item in head.split(",") if item}
    return [f"{prefix}{g}={v}" for g in GATE_NAMES if g not in done for v in ("true", "false")]


@_safe
def complete_kubernetes_version(ctx: typer.Context, incomplete: str) -> list:
    """--kubernetes-version: the releases kubectl-dra knows the feature-gate defaults of, newest first."""
    from kubectl_dra.features import KNOWN_MINORS

    return [f"1.{m}" for m in reversed(KNOWN_MINORS)]


@_safe
def complete_schema_release(ctx: typer.Context, incomplete: str) -> list:
    """validate --kubernetes-version: the releases whose schemas kubectl-dra has, newest first."""
    from kubectl_dra.schema import RELEASES

    return list(reversed(RELEASES))


# ----------------------------------------------------------------------------------------------------------
# get TYPE [NAME...]

#: what `get TYPE` offers next to each type
GET_DESCRIPTIONS: dict[Kind, str] = {
    kinds.DEVICE: "every device: node, driver, attributes, who holds it",
    kinds.DEVICE_CLASS: "DeviceClasses",
    kinds.RESOURCE_SLICE: "ResourceSlices",
    kinds.RESOURCE_CLAIM: "ResourceClaims",
    kinds.RESOURCE_CLAIM_TEMPLATE: "ResourceClaimTemplates",
    kinds.DEVICE_TAINT_RULE: "DeviceTaintRules: what each taints, in force or not",
}


@_safe
def complete_get_type(ctx: typer.Context, incomplete: str) -> list:
    """get TYPE: the six types, or any alias that the prefix only matches (rc, deviceclass, ...)."""
    types = kinds.accepted_by(kinds.GET)
    out = [(k.listing, GET_DESCRIPTIONS[k]) for k in types if k.listing.startswith(incomplete)]
    if out or not incomplete:
        return out
    low = incomplete.lower()
    return sorted(n for k in types for n in k.names if n.startswith(low))


def _device_names(lk: Any, params: dict) -> list[tuple[str, str]]:
    node, driver = params.get("node"), params.get("driver")
    seen: dict[str, set[str]] = {}
    for s in lk.objects("resourceslices"):
        spec = s.get("spec") or {}
        if driver and spec.get("driver") != driver:
            continue
        if node and spec.get("nodeName") not in (None, node):
            continue
        where = spec.get("nodeName") or ("all nodes" if spec.get("allNodes") else "node selector")
        for d in spec.get("devices") or []:
            if isinstance(d, dict) and d.get("name"):
                seen.setdefault(str(d["name"]), set()).add(str(where))
    return [(n, ", ".join(sorted(w))) for n, w in sorted(seen.items())]


def _claim_entries(lk: Any, ns: str | None) -> list[tuple[str, str]]:
    out = {}
    for c in lk.objects("resourceclaims", ns):
        md = c.get("metadata") or {}
        state = "allocated" if (c.get("status") or {}).get("allocation") else "pending"
        where = f"{md.get('namespace')}, " if ns is None else ""
        out.setdefault(str(md.get("name") or ""), f"{where}{state}")
    return sorted((k, v) for k, v in out.items() if k)


@_safe
def complete_get_names(ctx: typer.Context, incomplete: str) -> list:
    """get TYPE NAME...: names of that type (claims and templates in the namespace)."""
    params = _params(ctx)
    kind = kinds.lookup(str(params.get("kind") or ""), kinds.GET)
    if kind is None:
        return []
    lk = _lookup(ctx)
    given = _typed_values(ctx, "names")
    if kind is kinds.DEVICE:
        entries: list = _device_names(lk, params)
    elif kind is kinds.RESOURCE_CLAIM:
        entries = _claim_entries(lk, _namespace(ctx, lk))
    else:
        entries = _names(lk.objects(kind.resource, _namespace(ctx, lk) if kind.namespaced else None))
    return [e for e in entries if (e[0] if isinstance(e, tuple) else e) not in given]


@_safe
def complete_preview_target(ctx: typer.Context, incomplete: str) -> list:
    """preview RULE_FILE: ``deviceTaintRule/NAME`` for the rules of the cluster (or the -f files) when the word
    is empty or starts like a word for the kind; nothing otherwise (kubectl's protocol then lets the shell
    complete a file name)."""
    kind = kinds.DEVICE_TAINT_RULE
    word, slash, _ = incomplete.partition("/")
    if slash:
        if kinds.lookup(word) is not kind:
            return []
    else:
        word = "dtr" if not incomplete else next((w for w in kind.names if w.startswith(incomplete.lower())), "")
        if not word:
            return []
    entries = []
    for r in _lookup(ctx).objects(kind.resource):
        taint = ((r.get("spec") or {}).get("taint")) or {}
        name = (r.get("metadata") or {}).get("name")
        if name:
            entries.append((f"{word}/{name}", f"taint {taint.get('key', '')}:{taint.get('effect', '')}"))
    return sorted(entries)


# ----------------------------------------------------------------------------------------------------------
# TYPE/NAME targets

#: what `TYPE/` offers next to each type (explain and why-pending)
TARGET_DESCRIPTIONS: dict[Kind, str] = {
    kinds.DEVICE_CLASS: "a DeviceClass",
    kinds.RESOURCE_SLICE: "a ResourceSlice",
    kinds.RESOURCE_CLAIM: "a ResourceClaim",
    kinds.RESOURCE_CLAIM_TEMPLATE: "a ResourceClaimTemplate",
    kinds.DEVICE_TAINT_RULE: "a DeviceTaintRule and the devices it taints",
    kinds.POD: "a Pod and its claims",
    kinds.NODE: "a Node's devices",
}


def _targets(incomplete: str, command: str, names_for: Callable[[Kind], list], bare: list | None = None) -> list:
    """TYPE/NAME candidates.  Before the slash: the type words the prefix matches (``claim/``), or, when
    only one type matches and nothing else does, that type's names right away (so one <TAB> goes far)."""
    if "/" in incomplete:
        word, _, _ = incomplete.partition("/")
        kind = kinds.lookup(word, command)
        if kind is None:
            return []
        return [_prefixed(word, e) for e in names_for(kind)]
    low = incomplete.lower()
    matched = []
    for kind in kinds.accepted_by(command):
        word = next((w for w in kind.names if w.startswith(low)), None)
        if word is not None:
            matched.append((kind, word, TARGET_DESCRIPTIONS[kind]))
    bare = [b for b in (bare or []) if (b[0] if isinstance(b, tuple) else b).startswith(incomplete)]
    if incomplete and len(matched) == 1 and not bare:
        kind, word, desc = matched[0]
        names = names_for(kind)
        if names:
            return [_prefixed(word, e) for e in names]
    return bare + [(f"{word}/", desc) for _, word, desc in matched]


def _prefixed(word: str, entry: Any) -> Any:
    if isinstance(entry, tuple):
        return (f"{word}/{entry[0]}", entry[1])
    return f"{word}/{entry}"


@_safe
def complete_explain_target(ctx: typer.Context, incomplete: str) -> list:
    """explain TYPE/NAME: types, then the names of that type."""
    lk = _lookup(ctx)

    def names_for(kind: Kind) -> list:
        if kind is kinds.RESOURCE_CLAIM:
            return _claim_entries(lk, _namespace(ctx, lk))
        if kind is kinds.POD:
            return _pod_entries(lk, _namespace(ctx, lk))
        return _names(lk.objects(kind.resource, _namespace(ctx, lk) if kind.namespaced else None))

    return _targets(incomplete, kinds.EXPLAIN, names_for)


def _pod_entries(lk: Any, ns: str | None) -> list[tuple[str, str]]:
    """Pods, those waiting for their claims first (with why), then the others (with their phase)."""
    from kubectl_dra.snapshot import Snapshot

    got = lk.fetch([("pods", ns), ("resourceclaims", ns)])
    pods = got.get(("pods", ns), [])
    snap = Snapshot.from_objects(list(pods) + list(got.get(("resourceclaims", ns), [])))
    first, rest = [], []
    for pod in pods:
        md = pod.get("metadata") or {}
        name = str(md.get("name") or "")
        if not name:
            continue
        phase = str((pod.get("status") or {}).get("phase") or "Pending")
        waiting = [pc for pc in snap.pod_claims(pod) if pc.state != "allocated"]
        unscheduled = not (pod.get("spec") or {}).get("nodeName") and phase == "Pending"
        where = f"{md.get('namespace')}, " if ns is None else ""
        if waiting and unscheduled:
            what = ", ".join(f"claim {pc.pod_claim_name} {pc.state}" for pc in waiting)
            first.append((name, f"{where}Pending: {what}"))
        else:
            rest.append((name, f"{where}{phase}"))
    return sorted(first) + sorted(rest)


@_safe
def complete_why_pending_target(ctx: typer.Context, incomplete: str) -> list:
    """why-pending TARGET: pods waiting for claims first, then other pods; pod/NAME and claim/NAME."""
    ctx.meta[KEEP_ORDER_META] = True
    lk = _lookup(ctx)
    ns = _namespace(ctx, lk)

    def names_for(kind: Kind) -> list:
        if kind is kinds.POD:
            return _pod_entries(lk, ns)
        claims = _claim_entries(lk, ns)
        return [c for c in claims if c[1].endswith("pending")] + [c for c in claims if not c[1].endswith("pending")]

    bare = [] if "/" in incomplete else _pod_entries(lk, ns)
    return _targets(incomplete, kinds.WHY_PENDING, names_for, bare=bare)


# ----------------------------------------------------------------------------------------------------------
# top [NAME...]


@_safe
def complete_top_names(ctx: typer.Context, incomplete: str) -> list:
    """top NAME: the rows `--by` makes (given before the names; default node): nodes with devices bound to
    them by name, DeviceClasses, drivers, or pools (with their driver); not the ones already given."""
    by = (ctx.params or {}).get("by") or "node"
    given = _typed_values(ctx, "names")
    lk = _lookup(ctx)
    if by == "class":
        return [n for n in _names(lk.objects("deviceclasses")) if n not in given]
    if by == "driver":
        return [d for d in complete_driver(ctx, incomplete) if d[0] not in given]
    out: dict[str, set[str]] = {}
    for s in lk.objects("resourceslices"):
        spec = s.get("spec") or {}
        if by == "pool":
            pool, driver = (spec.get("pool") or {}).get("name"), spec.get("driver")
            if isinstance(pool, str) and pool and isinstance(driver, str):
                out.setdefault(pool, set()).add(driver)
            continue
        nodes = [spec.get("nodeName")] + [d.get("nodeName") for d in spec.get("devices") or [] if isinstance(d, dict)]
        for n in nodes:
            if isinstance(n, str) and n:
                out.setdefault(n, set())
    return [(n, ", ".join(sorted(d))) if d else n for n, d in sorted(out.items()) if n not in given]
