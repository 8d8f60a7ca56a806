"""`kubectl dra why-pending TARGET`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace, OutputFormats,
    RequestTimeout, SourceFlags, finish_incomplete,
)

OUTPUT = OutputFormats("text", "wide", "json", "yaml", "jsonpath=", "custom-columns=", default="text")

WHY_PENDING_HELP = """Explain why a pod's (or a claim's) devices cannot be allocated.

Runs a local dry-run of kube-scheduler's structured allocator over the cluster's real objects,
node by node, and says which request, selector, constraint, counter, taint or competing claim
blocks it, and what would unblock it. TARGET is pod/NAME or resourceclaim/NAME (short names
po, claim, rc); a bare NAME means a pod. A claim alone is checked as if a pod used it.

Examples:

  kubectl dra why-pending pod/trainer -f examples/cluster.yaml

  kubectl dra why-pending trainer -n ml --node gpu-node-1 -o wide

  kubectl dra why-pending claim/big-gpus -o json

  kubectl dra why-pending pod/trainer --feature-gates DRAPartitionableDevices=true
"""


def why_pending(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="pod/NAME, resourceclaim/NAME, or a pod NAME.",
                                                   autocompletion=comp.complete_why_pending_target)],
    node: Annotated[Optional[list[str]], typer.Option("--node", help="Only check these nodes (repeatable).",
                                                               autocompletion=comp.complete_node)] = None,
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    output: OUTPUT.option = "",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every node and the device names behind every number (same as -o wide; with -o json, adds funnel.names).")] = False,
    now: Annotated[Optional[str], typer.Option(
        "--now", metavar="RFC3339",
        help="The time binding timeouts are judged against (default: the server's time; offline: the newest timestamp in the input).")] = None,
    binding_timeout: Annotated[Optional[float], typer.Option(
        "--binding-timeout", metavar="SECONDS",
        help="kube-scheduler's DynamicResources bindingTimeout, if configured otherwise (default 600).")] = None,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis.why_pending import parse_target, why_pending as build
    from kubectl_dra.process import keep_until_exit
    from kubectl_dra.render.output import emit_data, is_data

    fmt = OUTPUT.check(output)
    kind, name = parse_target(target)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()  # before any I/O
    now_at = _parse_now(now)
    if binding_timeout is not None and binding_timeout <= 0:
        from kubectl_dra.errors import UsageError

        raise UsageError(f"invalid --binding-timeout {binding_timeout:g}: expected a number of seconds > 0")
    events_for = (namespace, name) if kind == "Pod" else None  # namespace None: the context's
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      request_timeout=request_timeout)
    # DeviceTaintRules' taints on the devices they select, when the gates put them in force
    snap, gates = src.snapshot_under(gate_flags, include_events_for=events_for)
    ns = src.effective_namespace(snap)
    report = build(snap, kind, name, ns, gates, only_nodes=node, device_names=verbose or fmt == "wide",
                   keep_alive=keep_until_exit, now=now_at, binding_timeout=binding_timeout)
    if is_data(fmt):
        emit_data(report, fmt)
    else:
        from kubectl_dra.render.why_pending import render_text  # rich: only for text

        render_text(report, verbose=verbose or fmt == "wide")
    if report.get("incomplete"):  # the text says it in the report; JSON/YAML on stderr too, like every command
        from kubectl_dra.snapshot import Gap

        finish_incomplete([Gap.from_dict(g) for g in report["incomplete"]], say=is_data(fmt))


def _parse_now(text: str | None):
    """``--now`` as a datetime (UTC when no offset is given); a usage error when it is not RFC 3339."""
    if text is None:
        return None
    from kubectl_dra.analysis.why_pending.stages import parse_time
    from kubectl_dra.errors import UsageError

    at = parse_time(text)
    if at is None:
        raise UsageError(f"invalid --now {text!r}: expected an RFC 3339 time such as 2026-12-01T10:00:00Z")
    return at
