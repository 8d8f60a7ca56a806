"""kubectl's plugin completion: the ``kubectl_complete-dra`` executable, answering cobra's protocol.

kubectl (1.26+) runs ``kubectl_complete-dra`` with the plugin's words typed so far, the last one being the word
to complete (empty when a new word starts).  The answer is one candidate per line (``value<TAB>description``),
then ``:<directive>``.  A leading ``__complete`` / ``__completeNoDesc`` (cobra's own request command) is
accepted too, so the executable can also be driven like a cobra program.  The candidates come from the CLI's
own Typer app (Click's completion, the same as the bash/zsh/fish path), which the caller passes in.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from kubectl_dra.completion import KEEP_ORDER_META, debug

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
#: parameters that take a path or an object's name: names when some match, else the shell completes files
PATH_OR_NAME_PARAMS = frozenset({"rule_file"})


def _shell_completion_module():
    try:  # Typer >= 0.17 carries its own Click
        from typer._click import shell_completion
    except ImportError:  # pragma: no cover - older Typer on top of Click
        from click import shell_completion
    return shell_completion


def _plain(text: str | None) -> str:
    if not text:
        return ""
    if "[" not in text:  # no rich markup: skip importing rich (~40 ms of every `kubectl dra <TAB>`)
        return " ".join(text.split())
    try:
        from rich.text import Text

        text = Text.from_markup(text).plain
    except Exception:  # noqa: BLE001 - not markup after all
        pass
    return " ".join(text.split())


def cobra_complete(app: Any, words: list[str]) -> tuple[list[tuple[str, str]], int]:
    """Complete like a cobra program: ``words`` are the plugin's arguments to ``app`` (the CLI's Typer app),
    the last one being completed.

    Returns ([(value, description)], directive)."""
    from typer.main import get_command

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
    if not out and getattr(obj, "name", None) in PATH_OR_NAME_PARAMS and not isinstance(obj, sc.Command):
        return [], DIRECTIVE_DEFAULT
    directive = DIRECTIVE_NO_FILE_COMP
    if out and all(v.endswith(("/", "=", ",")) for v, _ in out):
        directive |= DIRECTIVE_NO_SPACE
    if ctx.meta.get(KEEP_ORDER_META):
        directive |= DIRECTIVE_KEEP_ORDER
    return out, directive


def cobra_output(app: Any, argv: list[str]) -> str:
    """What ``kubectl_complete-dra ARGV...`` prints for ``app`` (never raises)."""
    args = list(argv)
    descriptions = True
    if args and args[0] in ("__complete", "__completeNoDesc"):
        descriptions = args[0] == "__complete"
        args = args[1:]
    try:
        items, directive = cobra_complete(app, args)
    except BaseException as e:  # noqa: BLE001 - never an error in the shell
        import traceback

        debug(f"cobra_complete {args!r}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
        items, directive = [], DIRECTIVE_NO_FILE_COMP
    lines = []
    for value, desc in items:
        lines.append(f"{value}\t{desc}" if desc and descriptions else value)
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


def kubectl_complete_main(app: Any, argv: list[str] | None = None) -> None:
    """``kubectl_complete-dra`` (the console script is :func:`kubectl_dra.cli.kubectl_complete_main`, which
    hands over the app): kubectl runs it for ``kubectl dra ...<TAB>``.

    Prints the candidates and the directive, exits 0, writes nothing to stderr, and exits at once even if a
    cluster lookup is still hanging in a daemon thread."""
    import warnings

    warnings.simplefilter("ignore")
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:  # pragma: no cover
        pass
    text = cobra_output(app, sys.argv[1:] if argv is None else argv)
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


def through_kubectl(environ: Any) -> bool:
    """Whether kubectl ran us as its plugin: newer kubectl sets KUBECTL_PLUGINS_CALLER; older ones (1.32 does
    not) exec the plugin with the environment the shell gave kubectl, where bash and zsh set ``_`` to the
    program the shell ran: kubectl's path, not ours."""
    if environ.get("KUBECTL_PLUGINS_CALLER"):
        return True
    ran = os.path.basename(environ.get("_", ""))
    return ran in ("kubectl", "kubectl.exe")


def program_name(argv: list[str], environ: Any = None) -> str:
    """The name usage lines show: ``kubectl dra`` when kubectl runs the plugin (:func:`through_kubectl`),
    else ``kubectl-dra``.  Completion always uses ``kubectl-dra``: the scripts register and call the executable
    by that name (a script for "kubectl dra" would take over kubectl's own completion), and the shell finds
    the completion request in ``_KUBECTL_DRA_COMPLETE``."""
    environ = os.environ if environ is None else environ
    if not through_kubectl(environ) or environ.get(COMPLETE_VAR):
        return "kubectl-dra"
    if any(a.split("=", 1)[0] in _SCRIPT_FLAGS for a in argv):
        return "kubectl-dra"
    return "kubectl dra"
