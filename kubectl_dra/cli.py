"""The `kubectl-dra` command line (also `kubectl dra` through kubectl's plugin discovery).

Commands live in :mod:`kubectl_dra.commands`; this module only assembles them
and turns every user-facing failure into ``error: <one line>`` plus a
documented exit code (see :class:`kubectl_dra.errors.ExitCode`).
"""

from __future__ import annotations

import errno
import gc
import os
import sys

import typer
from typer.core import TyperGroup

from kubectl_dra import __version__, process
from kubectl_dra.errors import DraError, ExitCode

HELP = """Explain Kubernetes Dynamic Resource Allocation (resource.k8s.io): which devices exist,
which match a selector, who holds them, and why a pod's claims cannot be allocated.

Every command reads a live cluster (kubeconfig, --context, -n), read-only,
or files (-f: a `kubectl get -o yaml` dump, `kubectl dra dump`, manifests).

Examples:

  kubectl dra why-pending pod/trainer -f examples/cluster.yaml

  kubectl dra get devices --free

  kubectl dra explain claim/gpu-claim -n team-a

  kubectl dra match 'device.attributes["gpu.example.com"].model == "LATEST-GPU-MODEL"'
"""


def reflow(text: str) -> str:
    """Help text written wrapped in the source, unwrapped: each paragraph of plain lines becomes one line, so
    that the help wraps to the terminal's width, not the source's.  Indented lines (examples) and blank lines
    stay as they are."""
    out: list[str] = []
    para: list[str] = []
    for line in text.strip("\n").split("\n"):
        if line and not line[0].isspace():
            para.append(line.strip())
            continue
        if para:
            out.append(" ".join(para))
            para = []
        out.append(line)
    if para:
        out.append(" ".join(para))
    return "\n".join(out) + "\n"


def _fail(message: str, code: int) -> typer.Exit:
    from kubectl_dra.errors import redact
    from kubectl_dra.terminal import safe_line

    typer.echo(f"error: {safe_line(redact(message))}", err=True)
    return typer.Exit(code)


# Errors of writing the output (a full disk, `> /dev/full`, a closed or broken descriptor): the command's
# result is lost, so exit 1, on one line; a pipe whose reader went away (EPIPE) is handled apart (exit 0).
_WRITE_ERRNOS = frozenset(getattr(errno, n) for n in ("ENOSPC", "EIO", "EBADF", "EFBIG", "EDQUOT", "EROFS", "EINVAL")
                          if hasattr(errno, n))


def output_error(e: OSError) -> str:
    return f"cannot write the output: {e.strerror or e}"


def _is_framework_exception(e: BaseException) -> bool:
    """Exit/Abort/usage errors of Typer (or the Click it wraps): let Typer handle them."""
    return isinstance(e, (typer.Exit, typer.Abort)) or type(e).__module__.startswith(("click", "typer"))


def _click_exceptions():
    try:  # Typer >= 0.17 carries its own Click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older Typer on top of Click
        from click import exceptions
    return exceptions


def usage_error_lines(e: BaseException, prog: str) -> list[str]:
    """A Click usage error the way kubectl reports a flag-parsing error: ``error: <what>`` and
    ``See '<command> --help' for usage.`` (no box, no usage line).  ``prog``: the command path to name when
    the error does not carry its context."""
    exc = _click_exceptions()
    ctx = getattr(e, "ctx", None)
    path = ctx.command_path if ctx is not None else prog
    if isinstance(e, exc.NoSuchOption):
        what = f"unknown flag: {e.option_name}"
        if e.possibilities:
            what += f" (did you mean {' or '.join(sorted(e.possibilities))}?)"
    elif isinstance(e, exc.BadOptionUsage) and e.message.endswith("requires an argument."):
        what = f"flag needs an argument: {e.option_name}"
    else:
        what = e.format_message().strip()
        if what.startswith("No such command "):
            name = what[len("No such command "):].rstrip(".").strip("'")
            what = f'unknown command "{name}" for "{path}"'
        what = " ".join(what.split())
        what = what[:1].lower() + what[1:] if what[:2] != what[:2].upper() else what
        what = what.rstrip(".")
    return [f"error: {what}", f"See '{path} --help' for usage."]


class DraGroup(TyperGroup):
    """Runs a command; DraError and unexpected exceptions become one-line errors, usage errors kubectl's
    two lines."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        exc = _click_exceptions()
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                              **extra)
        except exc.NoArgsIsHelpError as e:  # the help is already printed
            sys.exit(e.exit_code)
        except exc.UsageError as e:
            prog = prog_name or "kubectl-dra"
            sub = next((a for a in (sys.argv[1:] if args is None else args) if not a.startswith("-")), None)
            if sub in self.commands:
                prog = f"{prog} {sub}"
            typer.echo("\n".join(usage_error_lines(e, prog)), err=True)
            sys.exit(int(ExitCode.USAGE))
        except exc.ClickException as e:
            typer.echo(f"error: {' '.join(e.format_message().split())}", err=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(int(ExitCode.ERROR))
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)

    def list_commands(self, ctx) -> list[str]:  # keep the order commands were added in
        return list(self.commands)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DraError as e:
            raise _fail(e.message, int(e.exit_code)) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except BrokenPipeError:
            # `kubectl dra get devices | head`: the reader went away; that is not an error.
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:  # pragma: no cover
                pass
            raise typer.Exit(0) from None
        except OSError as e:
            if e.errno not in _WRITE_ERRNOS or os.environ.get("KUBECTL_DRA_DEBUG"):
                raise _fail(f"internal error: {type(e).__name__}: {e} (set KUBECTL_DRA_DEBUG=1 for a traceback, "
                            f"and please report it)", int(ExitCode.ERROR)) from None
            _drop_stdout()
            raise _fail(output_error(e), int(ExitCode.ERROR)) from None
        except Exception as e:  # noqa: BLE001 - last line of defence: never a traceback
            if _is_framework_exception(e) or os.environ.get("KUBECTL_DRA_DEBUG"):
                raise
            raise _fail(f"internal error: {type(e).__name__}: {e} (set KUBECTL_DRA_DEBUG=1 for a traceback, "
                        f"and please report it)", int(ExitCode.ERROR)) from None


def _drop_stdout() -> None:
    """What is still buffered for stdout cannot be written either: drop it (no second error at exit)."""
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:  # pragma: no cover
        pass


app = typer.Typer(
    name="kubectl-dra",
    cls=DraGroup,
    help=reflow(HELP),
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,  # our own --install-completion/--show-completion below: Typer's zsh script is broken
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kubectl-dra {__version__}")
        raise typer.Exit()


try:  # Typer's own completion protocol (_KUBECTL_DRA_COMPLETE=complete_<shell>) keeps answering the scripts
    # installed by earlier versions' --install-completion, which was Typer's
    from typer._completion_classes import completion_init

    completion_init()
except ImportError:  # pragma: no cover - another Typer layout
    pass

#: where --install-completion writes each shell's script (each shell loads it from there by itself)
COMPLETION_FILES = {
    "bash": "~/.local/share/bash-completion/completions/kubectl-dra",
    "zsh": "~/.zfunc/_kubectl-dra",
    "fish": "~/.config/fish/completions/kubectl-dra.fish",
}


def _current_shell() -> str:
    from kubectl_dra.completion.scripts import SHELLS
    from kubectl_dra.errors import UsageError

    shell = os.path.basename(os.environ.get("SHELL", ""))
    if shell not in SHELLS:
        raise UsageError(f"cannot tell which shell this is (SHELL={shell or 'unset'}): "
                         f"use kubectl-dra completion {'|'.join(SHELLS)}")
    return shell


def _completion_flag_callback(install: bool):
    def callback(value: bool) -> None:
        if not value:
            return
        from kubectl_dra.completion.scripts import script

        try:
            shell = _current_shell()
        except DraError as e:
            raise _fail(e.message, int(e.exit_code)) from None
        if not install:
            sys.stdout.write(script(shell))
            raise typer.Exit()
        path = os.path.expanduser(COMPLETION_FILES[shell])
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(script(shell))
        except OSError as e:
            raise _fail(f"cannot write {path}: {e.strerror or e}", int(ExitCode.ERROR)) from None
        note = {"zsh": " (add  fpath=(~/.zfunc $fpath)  before compinit in ~/.zshrc)"}.get(shell, "")
        typer.echo(f"{shell} completion installed in {path}{note}; it applies to new shells")
        raise typer.Exit()

    return callback


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Show the version and exit.", callback=_version_callback,
                                 is_eager=True),
    install_completion: bool = typer.Option(
        False, "--install-completion", is_eager=True, expose_value=False, callback=_completion_flag_callback(True),
        help="Install completion for the current shell (the script `kubectl-dra completion SHELL` prints)."),
    show_completion: bool = typer.Option(
        False, "--show-completion", is_eager=True, expose_value=False, callback=_completion_flag_callback(False),
        help="Print the completion script for the current shell."),
) -> None:
    """Explain Kubernetes Dynamic Resource Allocation."""


def _register() -> None:
    from kubectl_dra.commands import (
        completion, dump, explain, get, match, preview, scaffold, top, validate, why_pending,
    )

    # (name, function, help, one-line summary for the command list, extra options)
    commands = [
        ("why-pending", why_pending.why_pending, why_pending.WHY_PENDING_HELP,
         "Why a pod's or claim's devices cannot be allocated: a dry run of the scheduler, node by node.", {}),
        ("get", get.get, get.GET_HELP, "List devices, classes, slices, claims, templates or DeviceTaintRules (kubectl-style tables).", {}),
        ("top", top.top, top.TOP_HELP, "Devices used and free, counters and capacity used, per node, class, driver or pool.",
         {"no_args_is_help": False}),
        ("explain", explain.explain, explain.EXPLAIN_HELP,
         "Explain one object: what it asks for, what matches, who holds what.", {}),
        ("match", match.match, match.MATCH_HELP, "Evaluate a CEL device selector against every device.", {}),
        ("scaffold", scaffold.scaffold, scaffold.SCAFFOLD_HELP,
         "Write a correct ResourceClaim, template, DeviceClass or Pod, validated before it is printed.",
         {"cls": scaffold.ScaffoldCommand}),
        ("validate", validate.validate, validate.VALIDATE_HELP,
         "Check DRA manifests offline or against a cluster (schema, CEL, references, satisfiability).", {}),
        ("preview", preview.preview, preview.PREVIEW_HELP,
         "What applying a DeviceTaintRule would do: devices, claims, evictions, pending pods left without a place.",
         {}),
        ("dump", dump.dump, dump.DUMP_HELP, "Write the cluster's DRA state as one List, to share or analyse offline.",
         {"no_args_is_help": False}),
        ("completion", completion.completion, completion.COMPLETION_HELP,
         "Print the completion script for bash, zsh or fish.", {}),
    ]
    for name, fn, help_text, short, extra in commands:
        options = {"no_args_is_help": True, **extra}
        app.command(name, help=reflow(help_text), short_help=short, **options)(fn)


_register()


def main() -> None:
    """Console-script entry point."""
    # kubectl passes plugin arguments through unchanged; completion scripts always name kubectl-dra.
    from kubectl_dra.completion.cobra import program_name

    # One short run over a big, acyclic snapshot: the cyclic collector only costs time here (each
    # collection walks every parsed object; the first one after a long pause walks the whole
    # report).  Reference counting still frees what the command drops.
    if sys.argv[1:2] in (["__complete"], ["__completeNoDesc"]):
        # cobra's completion request, what `kubectl-dra completion SHELL`'s scripts ask
        kubectl_complete_main()
    gc.disable()
    if sys.stdout is None:  # started with stdout closed (`kubectl dra ... >&-`): nowhere to write the answer
        if sys.stderr is not None:
            sys.stderr.write("error: cannot write the output: standard output is closed\n")
        process.exit_now(int(ExitCode.ERROR))
    process.start()
    try:
        app(prog_name=program_name(sys.argv[1:]))
        code: object = 0
    except SystemExit as e:
        code = e.code
    except OSError as e:  # writing --help or --version (outside the commands' own handling)
        if e.errno not in _WRITE_ERRNOS:
            raise
        _drop_stdout()
        typer.echo(f"error: {output_error(e)}", err=True)
        code = int(ExitCode.ERROR)
    process.exit_now(code)  # no heap teardown: see kubectl_dra.process


def kubectl_complete_main() -> None:
    """Console-script entry point of ``kubectl_complete-dra``: kubectl runs it for ``kubectl dra ...<TAB>``.
    The CLI hands its app to the completion package (which never imports the CLI)."""
    from kubectl_dra.completion import cobra

    cobra.kubectl_complete_main(app)
