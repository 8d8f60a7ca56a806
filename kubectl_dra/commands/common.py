"""Flags shared by the commands, kubectl style, and turning them into a Snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional, Sequence

import typer

from kubectl_dra.completion.callbacks import (
    complete_context, complete_feature_gates, complete_kubernetes_version, complete_namespace, output_choices,
)
from kubectl_dra.durations import parse_timeout
from kubectl_dra.process import keep_until_exit
from kubectl_dra.render.output import gap_line, warn

if TYPE_CHECKING:
    # imported when a command runs: `--help` and every completion keystroke load this module (and every
    # command's) without ever reading a source
    from kubectl_dra.features import FeatureGates
    from kubectl_dra.snapshot import Gap, Snapshot

SOURCE_PANEL = "Source (cluster or files)"
GATES_PANEL = "Kubernetes release and feature gates"

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

FeatureGatesOption = Annotated[Optional[str], typer.Option(
    "--feature-gates", metavar="Name=true,...", autocompletion=complete_feature_gates, rich_help_panel=GATES_PANEL,
    help="Override DRA feature gates (default: what the cluster's Kubernetes version enables; newest release offline).")]
KubernetesVersionOption = Annotated[Optional[str], typer.Option(
    "--kubernetes-version", metavar="1.NN", autocompletion=complete_kubernetes_version, rich_help_panel=GATES_PANEL,
    help="Behave as this Kubernetes release (its feature-gate defaults and API) instead of the cluster's "
         "(offline default: the newest).")]


class OutputFormats:
    """One command's ``-o/--output``: the formats it takes, the option (``output: OUTPUT.option = ""``) and
    the check (``fmt = OUTPUT.check(output)``).  ``default``: the format without ``-o`` (one of ``formats``,
    or "" for a plain table or text that has no name)."""

    def __init__(self, *formats: str, default: str = ""):
        self.formats = formats
        self.default = default
        shown_as = {"jsonpath=": "jsonpath=TEMPLATE", "custom-columns=": "custom-columns=SPEC"}
        named = [f"{f} (default)" if f == default else shown_as.get(f, f) for f in formats]
        shown = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]
        self.option = Annotated[str, typer.Option(
            "--output", "-o", help=f"Output format: {shown}.", autocompletion=output_choices(*formats))]

    def check(self, value: str | None) -> str:
        """The format asked for (the default when none was); a usage error for one this command lacks
        (before any I/O)."""
        from kubectl_dra.render.output import check_output

        return check_output(value, ("", *self.formats)) or self.default


@dataclass(frozen=True)
class GateFlags:
    """``--feature-gates`` and ``--kubernetes-version`` of one command line: checked before any I/O
    (:meth:`check`), resolved against the source's server version once the snapshot is read."""

    feature_gates: str | None = None
    kubernetes_version: str | None = None

    def check(self) -> "GateFlags":
        """Usage errors (exit 2) for an unknown gate, a bad value or a release without defaults."""
        from kubectl_dra.features import check_kubernetes_version, parse_feature_gates

        parse_feature_gates(self.feature_gates)
        check_kubernetes_version(self.kubernetes_version)
        return self

    def resolve(self, snap: Snapshot | None) -> "FeatureGates":
        """The gates in force: ``--kubernetes-version``'s defaults, else the source's release's (None: no
        source), else the newest's; then ``--feature-gates``."""
        from kubectl_dra.features import gates_for

        server = snap.source.server_version if snap is not None else None
        return gates_for(self.kubernetes_version, server, self.feature_gates)


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
        from kubectl_dra.sources import SourceOptions, load_snapshot

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

    def snapshot_under(self, gates: GateFlags, *,
                       include_events_for: tuple[str | None, str | None] | None = None, warn_inert: bool = True,
                       ) -> "tuple[Snapshot, FeatureGates]":
        """The snapshot as kube-scheduler sees it under the gates in force, and those gates: DeviceTaintRules'
        taints on the devices they select when the gates put rules in force (one ``warning:`` line when the
        source has rules the gates leave inert, unless ``warn_inert`` is false: for answers that show no taint),
        list-type attributes when DRAListTypeAttributes is on."""
        from kubectl_dra import taintrules

        snap = self.snapshot(include_events_for=include_events_for)
        resolved = gates.resolve(snap)
        if warn_inert and snap.device_taint_rules and not taintrules.in_force(resolved):
            warn(taintrules.inert_line(snap.device_taint_rules, resolved))
        under = taintrules.under_gates(snap, resolved)
        if under is not snap:
            keep_until_exit(under)
        return under, resolved

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
