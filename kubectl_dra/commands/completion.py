"""`kubectl dra completion bash|zsh|fish`: print the shell's completion script, like `kubectl completion`."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra.completion import callbacks as comp

COMPLETION_HELP = """Print a shell completion script for kubectl-dra (bash, zsh or fish), like kubectl completion.

The script completes the kubectl-dra executable: commands, flags, and names from the -f files on the
command line or from the current context's cluster.  For `kubectl dra <TAB>` nothing is needed beyond
kubectl's own completion: kubectl runs kubectl_complete-dra.

Examples:

  source <(kubectl dra completion bash)

  kubectl dra completion bash > ~/.local/share/bash-completion/completions/kubectl-dra

  source <(kubectl dra completion zsh)               # after compinit

  kubectl dra completion fish > ~/.config/fish/completions/kubectl-dra.fish
"""


def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.",
                                         autocompletion=comp.output_choices("bash", "zsh", "fish"))],
) -> None:
    from kubectl_dra.completion.scripts import SHELLS, script
    from kubectl_dra.errors import UsageError
    from kubectl_dra.render.output import write

    if shell not in SHELLS:
        raise UsageError(f"unsupported shell {shell!r} (choose from: {', '.join(SHELLS)})")
    write(script(shell))
