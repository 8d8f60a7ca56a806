"""Flags shared by the commands, kubectl style, and turning them into a Snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional, Sequence

import typer

from kubectl_dra.completion.callbacks import complete_context, complete_namespace
from kubectl_dra.durations import parse_timeout
from kubectl_dra.process import keep_until_exit
from kubectl_dra.snapshot import Snapshot
from kubectl_dra.sources import SourceOptions, load_snapshot
from kubectl_dra.render.output import gap_line, warn

if TYPE_CHECKING:
    from kubectl_dra.snapshot import Gap

SOURCE_PANEL = "Source (cluster or files)"

Filenames = Annotated[Optional[list[str]], typer.Option(
    "--filename", "-f", metavar="FILE",
    help="Read objects from files instead of a cluster: YAML or JSON, a directory, or - for stdin "
         "(kubectl get -o yaml output works). Repeatable.", rich_help_panel=SOURCE_PANEL)]
Kubeconfig = Annotated[Optional[str], typer.Option(
    "--kubeconfig", metavar="PATH", help="Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).",
    rich_help_panel=SOURCE_PANEL)]
Context = Annotated[Optional[str], typer.Option(
    "--context", metavar="NAME", help="The kubeconfig context to use.", rich_help_panel=SOURCE_PANEL,
    autocompletion=complete_context)]
Namespace = Annotated[Optional[str], typer.Option(
    "--namespace", "-n", metavar="NS", help="Namespace (default: the context's namespace, or 'default').",
    rich_help_panel=SOURCE_PANEL, autocompletion=complete_namespace)]
AllNamespaces = Annotated[bool, typer.Option(
    "--all-namespaces", "-A", help="List namespaced objects across all namespaces.", rich_help_panel=SOURCE_PANEL)]
RequestTimeout = Annotated[float, typer.Option(
    "--request-timeout", metavar="DURATION", parser=parse_timeout, show_default=False,
    help="How long reading the cluster may take in all (every request together), in kubectl's syntax: "
         "30s, 1m, 500ms or bare seconds; 0: no limit. Default: 30s.", rich_help_panel=SOURCE_PANEL)]


@dataclass(frozen=True)
class SourceFlags:
    """The shared source options of one command line (the Filenames ... RequestTimeout options above),
    gathered once and passed on by name: ``SourceFlags(filename=filename, kubeconfig=kubeconfig, ...)``."""

    filename: Sequence[str] | None = None
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = 30.0

    def snapshot(self, *, include_events_for: tuple[str | None, str | None] | None = None) -> Snapshot:
        """Load the snapshot these flags name, print the source's warnings, keep it alive until exit.

        ``include_events_for``: (namespace, pod) whose FailedScheduling events to read as well (namespace None:
        the effective one; pod None: every pod's)."""
        if self.filename and (self.context or self.kubeconfig):
            from kubectl_dra.errors import UsageError

            # kubectl refuses to mix files with a cluster the same way: never silently ignore a flag
            given = " and ".join(f for f, v in (("--context", self.context), ("--kubeconfig", self.kubeconfig)) if v)
            raise UsageError(f"-f reads files, not a cluster: {given} cannot be used with it")
        opts = SourceOptions(
            filenames=tuple(self.filename or ()), kubeconfig=self.kubeconfig, context=self.context,
            namespace=self.namespace, all_namespaces=self.all_namespaces, request_timeout=self.request_timeout,
            include_events_for=include_events_for,
        )
        snap = load_snapshot(opts)
        for w in snap.source.warnings:
            warn(w)
        keep_until_exit(snap)
        return snap

    def effective_namespace(self, snap: Snapshot) -> str:
        """-n, else the source's default namespace (the context's; files: default)."""
        return self.namespace or snap.source.namespace or "default"


def with_incomplete(data: dict, gaps: "Sequence[Gap]") -> dict:
    """A JSON/YAML answer with its ``"incomplete"`` list, when it depends on objects that could not be read."""
    if gaps:
        from kubectl_dra.analysis.incomplete import entries

        data = {**data, "incomplete": entries(gaps)}
    return data


def finish_incomplete(gaps: "Sequence[Gap]", *, say: bool = True) -> None:
    """After the answer: one ``warning: incomplete: ...`` line per gap on stderr (``say``; why-pending's
    text says it in the report instead), then exit with ExitCode.INCOMPLETE.  No gaps: nothing."""
    if not gaps:
        return
    from kubectl_dra.errors import ExitCode

    if say:
        for g in gaps:
            warn(f"incomplete: {gap_line(g.to_dict())}")
    raise typer.Exit(int(ExitCode.INCOMPLETE))
