"""Shell completion for ``kubectl-dra`` and for ``kubectl dra``.

Two ways in, one machinery (Typer/Click's completion: the same commands, flags and callbacks answer both):

* ``kubectl-dra --install-completion`` / ``--show-completion`` (Typer): bash, zsh and fish call
  ``kubectl-dra`` with ``_KUBECTL_DRA_COMPLETE=complete_<shell>``.
* ``kubectl dra <TAB>``: kubectl (1.26+) runs the executable ``kubectl_complete-dra`` (the console script
  :func:`kubectl_complete_main`) with the plugin's words typed so far, the last one being the word to complete
  (empty when a new word starts).  It answers cobra's way: one candidate per line (``value<TAB>description``),
  then ``:<directive>``.  A leading ``__complete`` / ``__completeNoDesc`` (cobra's own request command) is
  accepted too, so the executable can also be driven like a cobra program.

The ``autocompletion=`` callbacks below complete names (pods, claims, classes, nodes, drivers, namespaces,
contexts) from the ``-f`` files already typed, or from the kubeconfig's cluster, within about a second
(:mod:`kubectl_dra.completion_data`).  They never raise and never print: a shell must not see errors.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterable

import typer

from kubectl_dra import kinds
from kubectl_dra.kinds import Kind

# cobra's ShellCompDirective bits
DIRECTIVE_DEFAULT = 0
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_FILE_EXT = 8
DIRECTIVE_FILTER_DIRS = 16
DIRECTIVE_KEEP_ORDER = 32

#: parameters whose values are paths: the shell completes files for them
FILE_PARAMS = frozenset({"filename", "kubeconfig"})
#: ctx.meta key a callback sets when its candidates are ordered on purpose
KEEP_ORDER_META = "kubectl_dra.completion.keep_order"
DEBUG_ENV = "KUBECTL_DRA_COMPLETION_DEBUG"

Candidate = "str | tuple[str, str]"


# ----------------------------------------------------------------------------------------------------------
# helpers


def _debug(message: str) -> None:
    path = os.environ.get(DEBUG_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(message.rstrip("\n") + "\n")
    except OSError:
        pass


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

            _debug(f"{fn.__name__}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
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
    from kubectl_dra.completion_data import SourceSpec, lookup_for

    return lookup_for(SourceSpec.from_params(_params(ctx)))


def _namespace(ctx: Any, lk: Any) -> str | None:
    """The namespace names are completed in (None: all namespaces, for -A)."""
    if lk.spec.all_namespaces:
        return None
    return lk.default_namespace()


def _names(objects: Iterable[dict]) -> list[str]:
    from kubectl_dra.completion_data import name_of

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
        from kubectl_dra.completion_data import namespace_of

        names = sorted({namespace_of(o) for objs in got.values() for o in objs if namespace_of(o)})
    return names


@_safe
def complete_context(ctx: typer.Context, incomplete: str) -> list:
    """--context: the contexts of the kubeconfig (no network)."""
    from kubectl_dra.completion_data import context_names

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


# ----------------------------------------------------------------------------------------------------------
# get TYPE [NAME...]

#: what `get TYPE` offers next to each type
GET_DESCRIPTIONS: dict[Kind, str] = {
    kinds.DEVICE: "every device: node, driver, attributes, who holds it",
    kinds.DEVICE_CLASS: "DeviceClasses",
    kinds.RESOURCE_SLICE: "ResourceSlices",
    kinds.RESOURCE_CLAIM: "ResourceClaims",
    kinds.RESOURCE_CLAIM_TEMPLATE: "ResourceClaimTemplates",
}


@_safe
def complete_get_type(ctx: typer.Context, incomplete: str) -> list:
    """get TYPE: the five types, or any alias that the prefix only matches (rc, deviceclass, ...)."""
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


# ----------------------------------------------------------------------------------------------------------
# TYPE/NAME targets

#: what `TYPE/` offers next to each type (explain and why-pending)
TARGET_DESCRIPTIONS: dict[Kind, str] = {
    kinds.DEVICE_CLASS: "a DeviceClass",
    kinds.RESOURCE_SLICE: "a ResourceSlice",
    kinds.RESOURCE_CLAIM: "a ResourceClaim",
    kinds.RESOURCE_CLAIM_TEMPLATE: "a ResourceClaimTemplate",
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
# kubectl's plugin completion (cobra protocol)


def _shell_completion_module():
    try:  # Typer >= 0.17 carries its own Click
        from typer._click import shell_completion
    except ImportError:  # pragma: no cover - older Typer on top of Click
        from click import shell_completion
    return shell_completion


def _plain(text: str | None) -> str:
    if not text:
        return ""
    try:
        from rich.text import Text

        text = Text.from_markup(text).plain
    except Exception:  # noqa: BLE001 - not markup after all
        pass
    return " ".join(text.split())


def cobra_complete(words: list[str]) -> tuple[list[tuple[str, str]], int]:
    """Complete like a cobra program: ``words`` are the plugin's arguments, the last one being completed.

    Returns ([(value, description)], directive)."""
    from typer.main import get_command

    from kubectl_dra.cli import app

    words = list(words) or [""]
    args, incomplete = words[:-1], words[-1]
    sc = _shell_completion_module()
    cli = get_command(app)
    ctx = sc._resolve_context(cli, {}, "kubectl-dra", list(args))
    obj, incomplete = sc._resolve_incomplete(ctx, list(args), incomplete)
    if getattr(obj, "name", None) in FILE_PARAMS and not isinstance(obj, sc.Command):
        return [], DIRECTIVE_DEFAULT  # let the shell complete file names
    items = obj.shell_complete(ctx, incomplete)
    out = [(str(i.value), _plain(i.help)) for i in items]
    directive = DIRECTIVE_NO_FILE_COMP
    if out and all(v.endswith(("/", "=", ",")) for v, _ in out):
        directive |= DIRECTIVE_NO_SPACE
    if ctx.meta.get(KEEP_ORDER_META):
        directive |= DIRECTIVE_KEEP_ORDER
    return out, directive


def cobra_output(argv: list[str]) -> str:
    """What ``kubectl_complete-dra ARGV...`` prints (never raises)."""
    args = list(argv)
    descriptions = True
    if args and args[0] in ("__complete", "__completeNoDesc"):
        descriptions = args[0] == "__complete"
        args = args[1:]
    try:
        items, directive = cobra_complete(args)
    except BaseException as e:  # noqa: BLE001 - never an error in the shell
        import traceback

        _debug(f"cobra_complete {args!r}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
        items, directive = [], DIRECTIVE_NO_FILE_COMP
    lines = []
    for value, desc in items:
        lines.append(f"{value}\t{desc}" if desc and descriptions else value)
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


def kubectl_complete_main(argv: list[str] | None = None) -> None:
    """Console script ``kubectl_complete-dra``: kubectl runs it for ``kubectl dra ...<TAB>``.

    Prints the candidates and the directive, exits 0, writes nothing to stderr, and exits at once even if a
    cluster lookup is still hanging in a daemon thread."""
    import warnings

    warnings.simplefilter("ignore")
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:  # pragma: no cover
        pass
    text = cobra_output(sys.argv[1:] if argv is None else argv)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError):  # pragma: no cover - the reader went away
        pass
    os._exit(0)


# ----------------------------------------------------------------------------------------------------------
# program name

COMPLETE_VAR = "_KUBECTL_DRA_COMPLETE"
_SCRIPT_FLAGS = ("--install-completion", "--show-completion")


def program_name(argv: list[str], environ: Any = None) -> str:
    """The name usage lines show: ``kubectl dra`` when kubectl runs the plugin (it sets KUBECTL_PLUGINS_CALLER),
    else ``kubectl-dra``.  Completion always uses ``kubectl-dra``: the scripts register and call the executable
    by that name (a script for "kubectl dra" would take over kubectl's own completion), and the shell finds
    the completion request in ``_KUBECTL_DRA_COMPLETE``."""
    environ = os.environ if environ is None else environ
    if not environ.get("KUBECTL_PLUGINS_CALLER") or environ.get(COMPLETE_VAR):
        return "kubectl-dra"
    if any(a.split("=", 1)[0] in _SCRIPT_FLAGS for a in argv):
        return "kubectl-dra"
    return "kubectl dra"
