"""Output plumbing shared by every command: formats, console, kubectl-style tables."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Sequence

import yaml
from rich.console import Console

from kubectl_dra.errors import UsageError

try:  # pragma: no cover
    _YamlDumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _YamlDumper = yaml.SafeDumper


def check_output(fmt: str | None, allowed: Sequence[str]) -> str:
    fmt = (fmt or "").strip()
    if fmt not in allowed:
        shown = ", ".join(a or "(default)" for a in allowed)
        raise UsageError(f"unsupported output format {fmt!r} (choose from: {shown})")
    return fmt


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_YamlDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def emit_data(data: Any, fmt: str) -> None:
    """Print a result object as JSON or YAML (the same document either way)."""
    write(to_json(data) if fmt == "json" else to_yaml(data))


def make_console(stderr: bool = False) -> Console:
    """A rich console: colour only on a terminal, NO_COLOR honoured, no wrapping into pipes."""
    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    no_color = "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"
    return Console(
        file=stream,
        force_terminal=False if not is_tty else None,
        no_color=no_color or not is_tty,
        color_system=None if (no_color or not is_tty) else "auto",
        highlight=False,
        emoji=False,
        width=None if is_tty else int(os.environ.get("COLUMNS", "0") or 0) or 100000,
        soft_wrap=not is_tty,
    )


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, no_headers: bool = False) -> str:
    """kubectl-style columns: upper-case headers, left-aligned, three spaces apart."""
    rows = [["<none>" if v is None or v == "" else str(v) for v in r] for r in rows]
    all_rows = rows if no_headers else [list(headers)] + rows
    if not all_rows:
        return ""
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(headers))]
    lines = []
    for r in all_rows:
        cells = [c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")
