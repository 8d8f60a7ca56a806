"""Errors that end a command with a one-line message and a documented exit code.

Every failure a user can cause (bad input, an unreachable or forbidden cluster,
a name that does not exist) is raised as a subclass of :class:`DraError`; the
CLI prints ``error: <message>`` on stderr and exits with ``exit_code``.  Anything
else is a bug and is reported the same way, with exit code 1.
"""

from __future__ import annotations

import enum
import re


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
        message = redact(message)  # whatever a message quotes (a server URL, a server's words): no credentials
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


# ----------------------------------------------------------------------------
# secrets in messages

_SECRETS: set[str] = set()
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:'\"]*):[^/@\s'\"]*@")
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_PARAM = re.compile(
    r"(?i)\b(token|access_token|id_token|refresh_token|password|passwd|secret|client_secret|api[-_]?key|sig|signature)"
    r"=[^&\s'\":,;)]+")
MASK = "xxxxx"


def register_secret(value: object) -> None:
    """A credential of this run (a kubeconfig token, a password): never shown in a message."""
    if isinstance(value, str):
        value = value.strip()
        for prefix in ("Bearer ", "bearer ", "Basic ", "basic "):
            if value.startswith(prefix):
                value = value[len(prefix):].strip()
        if len(value) >= 6:  # (a shorter one would mask ordinary words of messages, e.g. a context's name)
            _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with credentials masked: a URL's password (``https://user:xxxxx@host``, as Go's
    ``url.Redacted`` writes it), bearer/basic values, secret-looking query parameters, and every value
    given to :func:`register_secret`."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text)
