"""Shell completion for ``kubectl-dra`` and for ``kubectl dra``.

Three ways in, one machinery (Typer/Click's completion: the same commands, flags and callbacks answer both):

* ``kubectl-dra completion bash|zsh|fish`` prints :mod:`.scripts`: bash, zsh and fish call
  ``kubectl-dra __complete WORDS...``, answered by :mod:`.cobra` (cobra's protocol);
  (``--show-completion`` / ``--install-completion`` give the same scripts, for ``$SHELL``);
* Typer's own scripts (``_KUBECTL_DRA_COMPLETE=source_<shell>``, what earlier versions' ``--install-completion``
  installed): they call ``kubectl-dra`` with ``_KUBECTL_DRA_COMPLETE=complete_<shell>``, still answered;
* ``kubectl dra <TAB>``: kubectl (1.26+) runs the executable ``kubectl_complete-dra`` with the plugin's words
  typed so far; :mod:`.cobra` answers it cobra's way.

The package:

* :mod:`.callbacks` -- the ``autocompletion=`` callbacks the commands attach to their arguments and options
  (names of pods, claims, classes, nodes, drivers, namespaces, contexts, ``TYPE/NAME`` targets);
* :mod:`.lookup` -- where those names come from: the ``-f`` files already typed, or the kubeconfig's cluster,
  within a deadline, never raising, never printing;
* :mod:`.cobra` -- kubectl's plugin protocol, given the CLI's app (``kubectl_dra.cli`` hands it over);
* :mod:`.scripts` -- the bash, zsh and fish scripts over that protocol.

It imports neither :mod:`kubectl_dra.cli` nor :mod:`kubectl_dra.commands`: they import it.
"""

from __future__ import annotations

import os

DEBUG_ENV = "KUBECTL_DRA_COMPLETION_DEBUG"
#: ctx.meta key a callback sets when its candidates are ordered on purpose (cobra then keeps the order)
KEEP_ORDER_META = "kubectl_dra.completion.keep_order"


def debug(message: str) -> None:
    """Append to $KUBECTL_DRA_COMPLETION_DEBUG (a file), if set: the only place completion reports errors."""
    path = os.environ.get(DEBUG_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(message.rstrip("\n") + "\n")
    except OSError:
        pass
