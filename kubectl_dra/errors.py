"""Errors that end a command with a one-line message and a documented exit code.

Every failure a user can cause (bad input, an unreachable or forbidden cluster,
a name that does not exist) is raised as a subclass of :class:`DraError`; the
CLI prints ``error: <message>`` on stderr and exits with ``exit_code``.  Anything
else is a bug and is reported the same way, with exit code 1.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of kubectl-dra (documented in the README)."""

    OK = 0
    ERROR = 1            # unexpected failure, or a check that found problems (validate)
    USAGE = 2            # bad flags or arguments (also Click's own usage errors)
    INPUT = 3            # unreadable input: broken YAML/JSON, unknown API version, bad CEL
    CLUSTER = 4          # cluster unreachable, authentication or authorization failure
    NOT_FOUND = 5        # the named object does not exist
    INCOMPLETE = 6       # the answer is printed, but depends on objects that could not be read (forbidden, ...)


class DraError(Exception):
    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UsageError(DraError):
    exit_code = ExitCode.USAGE


class InputError(DraError):
    exit_code = ExitCode.INPUT


class ClusterError(DraError):
    exit_code = ExitCode.CLUSTER


class NotFoundError(DraError):
    exit_code = ExitCode.NOT_FOUND
