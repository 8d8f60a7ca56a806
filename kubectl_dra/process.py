"""The life of the `kubectl-dra` process: leave without freeing, object by object, what the
operating system takes back at once.

A big cluster snapshot is millions of small objects, and why-pending's caches add more; freeing
them one by one at the end of a command costs a tenth of a second or more at 5,000 nodes.  When
:func:`kubectl_dra.cli.main` runs as the process entry point it calls :func:`start`; code that
builds such objects hands them to :func:`keep_until_exit`, and :func:`exit_now` ends the process
with ``os._exit`` after doing what a normal exit does that matters (atexit handlers, such as the
kubernetes client's removal of its temporary certificate files, and flushing stdout/stderr).
In library use and in tests (no :func:`start`), :func:`keep_until_exit` keeps nothing.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import Any, NoReturn

_kept: list | None = None


def start() -> None:
    """This process is the command: objects handed to keep_until_exit may live until it ends."""
    global _kept
    if _kept is None:
        _kept = []


def keep_until_exit(*objects: Any) -> None:
    if _kept is not None:
        _kept.extend(objects)


def exit_now(code: object) -> NoReturn:
    """Exit like ``sys.exit(code)`` would, without tearing the heap down."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            pass  # the reader went away (`| head`): nothing left to write
        except (ValueError, OSError) as e:
            if stream is sys.stdout and isinstance(e, OSError) and status == 0:
                # the last of the answer could not be written (`> /dev/full`): not a success
                status = 1
                try:
                    sys.stderr.write(f"error: cannot write the output: {e.strerror or e}\n")
                    sys.stderr.flush()
                except (OSError, ValueError, AttributeError):
                    pass
    os._exit(status & 0xFF if status >= 0 else 1)
