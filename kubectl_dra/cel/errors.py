"""Errors raised by the DRA CEL environment.

``CelCompileError`` and ``CelEvaluationError`` are user-facing (exit code 3,
like any other bad input).  ``CelError`` is the internal runtime error value
that travels through evaluation; CEL's ``&&``/``||`` may absorb it.
"""

from __future__ import annotations

from kubectl_dra.errors import InputError


class CelError(Exception):
    """A CEL runtime error (the Go implementation's ``types.Err``)."""

    def __init__(self, message: str, *, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key  # the missing map key, for "no such key" errors

    def __str__(self) -> str:
        return self.message


class CelCompileError(InputError):
    """The expression does not parse or does not type-check in the DRA environment."""

    def __init__(self, detail: str, *, expression: str, column: int | None = None,
                 line: int | None = None, kind: str = "compile"):
        self.detail = detail
        self.expression = expression
        self.column = column  # 0-based column within ``line`` (1-based line), when known
        self.line = line if line is not None else (1 if column is not None else None)
        self.kind = kind      # "syntax", "check", "cost", "unsupported"
        super().__init__(self._render())

    def caret(self) -> str:
        """The offending source line and a caret under the column ('' when unknown)."""
        if self.column is None:
            return ""
        lines = self.expression.splitlines() or [""]
        idx = min(max((self.line or 1) - 1, 0), len(lines) - 1)
        src = lines[idx]
        return f" | {src}\n | {'.' * self.column}^"

    def _render(self) -> str:
        caret = self.caret()
        return f"{self.detail}\n{caret}" if caret else self.detail


class CelEvaluationError(InputError):
    """A runtime error while evaluating an expression for one device."""

    def __init__(self, message: str, *, expression: str = "", device: str | None = None,
                 missing_key: str | None = None):
        self.detail = message
        self.expression = expression
        self.device = device
        self.missing_key = missing_key
        text = message if device is None else f"device {device}: {message}"
        super().__init__(text)
