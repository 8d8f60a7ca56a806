"""Output plumbing shared by every command: formats, console, kubectl-style tables."""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from kubectl_dra.errors import UsageError, redact
from kubectl_dra.terminal import needs_escaping, safe, safe_line

if TYPE_CHECKING:  # imported when used: JSON output needs neither PyYAML nor rich (~40 ms at start-up)
    from rich.console import Console


@lru_cache(maxsize=None)
def _yaml_dumper():
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class PlainDumper(base):
        """Plain YAML like kubectl's: an object that appears twice in a report (a selector list
        shared by every node's funnel, say) is written out twice, never as an &anchor / *alias."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    return PlainDumper


#: -o formats that take an argument, kubectl's way (``-o jsonpath='{.items[*].name}'``); a command lists the
#: ones it supports in check_output's ``allowed`` as "jsonpath=" / "custom-columns="
TEMPLATE_FORMATS = ("jsonpath=", "custom-columns=")
_TEMPLATE_SHOWN = {"jsonpath=": "jsonpath=TEMPLATE", "custom-columns=": "custom-columns=HEADER:.path,..."}


def check_output(fmt: str | None, allowed: Sequence[str]) -> str:
    """The -o value, checked against the command's formats (a template is parsed here: errors come before any
    cluster is read)."""
    fmt = (fmt or "").strip()
    for prefix in TEMPLATE_FORMATS:
        if prefix in allowed and (fmt.startswith(prefix) or fmt == prefix[:-1]):
            _template(fmt)
            return fmt
    if fmt not in allowed:
        shown = ", ".join(_TEMPLATE_SHOWN.get(a, a) or "(default)" for a in allowed)
        raise UsageError(f"unsupported output format {fmt!r} (choose from: {shown})")
    return fmt


def is_data(fmt: str) -> bool:
    """-o json, yaml, jsonpath=... or custom-columns=...: the command prints its JSON document, or a view of it."""
    return fmt in ("json", "yaml") or fmt.startswith(TEMPLATE_FORMATS)


@lru_cache(maxsize=None)
def _template(fmt: str):
    from kubectl_dra.render import jsonpath

    kind, _, arg = fmt.partition("=")
    if kind == "jsonpath":
        if not arg:
            raise UsageError("template format specified but no template given (-o jsonpath='{.path}')")
        return jsonpath.parse(arg)
    return jsonpath.parse_columns(arg)


# Above this many elements in a top-level list, JSON is written one element per line.
LARGE_LIST = 200


def to_json(data: Any) -> str:
    """Indented JSON; for large documents (thousands of nodes or items) each element of a top-level
    list goes on one line.  Same data either way: Python's indenting encoder is pure Python and was
    the slowest step of `why-pending -o json` at 5,000 nodes, the compact one is C."""
    if isinstance(data, dict) and any(isinstance(v, list) and len(v) > LARGE_LIST for v in data.values()):
        return _json_one_element_per_line(data)
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _json_one_element_per_line(data: dict) -> str:
    # (reports are trees we build ourselves: no cycle to look for, which saves the encoder ~15%)
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), check_circular=False).encode
    parts = []
    for key, value in data.items():
        head = f"  {compact(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join("    " + compact(v) for v in value)
            parts.append(f"{head}[\n{items}\n  ]")
        else:
            parts.append(head + compact(value))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def to_yaml(data: Any) -> str:
    import yaml

    return yaml.dump(data, Dumper=_yaml_dumper(), sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1000)


def write(text: str) -> None:
    """Text output: characters that could drive a terminal are shown as escapes (kubectl_dra.terminal)."""
    write_data(safe(text))


def write_data(text: str) -> None:
    """A document (JSON, YAML) as it is: its syntax already escapes what needs it, values stay raw."""
    sys.stdout.write(text)
    sys.stdout.flush()


def emit_data(data: Any, fmt: str, *, no_headers: bool = False) -> None:
    """Print a result object as JSON or YAML (the same document either way), or through a jsonpath or
    custom-columns template (applied to that same document)."""
    if fmt.startswith("jsonpath"):
        from kubectl_dra.render import jsonpath

        write(jsonpath.render(_template(fmt), json.loads(json.dumps(data))))
    elif fmt.startswith("custom-columns"):
        from kubectl_dra.render import jsonpath

        write(jsonpath.render_columns(_template(fmt), json.loads(json.dumps(data)), no_headers=no_headers))
    else:
        write(to_json(data) if fmt == "json" else to_yaml(data))


@lru_cache(maxsize=None)
def _console_class():
    from rich.console import Console

    class PipeFriendlyConsole(Console):
        """rich exits with status 1 when the reader goes away (`| head`); hand the BrokenPipeError
        to the CLI instead, which treats it like every other command's output: not an error."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

        def _render_buffer(self, buffer):
            # what is printed (names, values, messages) is made safe; rich's own styles and controls are not
            # text and stay as they are
            from rich.segment import Segment

            buffer = list(buffer)
            if needs_escaping("".join([seg.text for seg in buffer if not seg.control])):  # one look, then each
                buffer = [seg if seg.control else Segment(safe(seg.text), seg.style, None) for seg in buffer]
            return super()._render_buffer(buffer)

    return PipeFriendlyConsole


def no_color_asked() -> bool:
    """no-color.org: NO_COLOR counts only when it is set to a non-empty value; a dumb terminal has none."""
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def colour_on(stream=None) -> bool:
    """Whether text written to ``stream`` (stdout) is coloured: a terminal, and no NO_COLOR.  Asks without
    importing rich, so piped output need not load it."""
    stream = sys.stdout if stream is None else stream
    return stream.isatty() and not no_color_asked()


def make_console(stderr: bool = False) -> Console:
    """A rich console: colour only on a terminal, NO_COLOR honoured, no wrapping into pipes."""
    Console = _console_class()  # noqa: N806
    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    no_color = no_color_asked()
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


def value_text(v: Any) -> str:
    """An attribute value as text: booleans as true/false, a list attribute (DRAListTypeAttributes)
    as ``[a b]`` (the way kubectl prints a list; no commas, which separate attributes)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + " ".join(value_text(x) for x in v) + "]"
    return str(v)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, no_headers: bool = False) -> str:
    """kubectl-style columns: upper-case headers, left-aligned, three spaces apart."""
    rows = [["<none>" if v is None or v == "" else str(v) for v in r] for r in rows]
    if rows and needs_escaping("".join(map("".join, rows)), line=True):  # one look at the whole table
        rows = [[safe_line(c) for c in r] for r in rows]
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
    sys.stderr.write(f"warning: {safe_line(redact(message))}\n")


def gap_line(entry: Mapping[str, Any]) -> str:
    """One entry of an answer's ``"incomplete"`` list (kubectl_dra.snapshot.Gap.to_dict) as one line:
    what could not be read, and what the answer loses."""
    resource = f"{entry['resource']}.{entry['group']}" if entry.get("group") else entry["resource"]
    where = f'in the namespace "{entry["namespace"]}"' if entry.get("scope") == "namespace" else "at the cluster scope"
    why = "forbidden" if entry.get("reason") == "forbidden" else "not served by the cluster"
    line = f"cannot list {resource} {where} ({why})"
    if entry.get("readNamespaces"):
        line += ", read " + ", ".join(f'"{n}"' for n in entry["readNamespaces"]) + " only"
    return line + (f": {entry['effect']}" if entry.get("effect") else "")
