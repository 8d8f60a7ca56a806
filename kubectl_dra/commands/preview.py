"""`kubectl dra preview RULE_FILE`."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace, OutputFormats,
    RequestTimeout, SourceFlags, finish_incomplete, with_incomplete,
)

OUTPUT = OutputFormats("text", "json", "yaml", default="text")

PREVIEW_HELP = """What applying a DeviceTaintRule would do, before anyone applies it.

RULE_FILE holds one DeviceTaintRule (resource.k8s.io/v1alpha3 or v1beta2); deviceTaintRule/NAME (dtr/NAME)
previews a rule already in the cluster (or -f): what it does there. The cluster comes from the
live API or from -f, like every command; the rules already in it stay in force. Shows the devices the
rule selects (by node, driver and pool), the allocated claims on them, the running pods the eviction
controller would evict (NoExecute; the claims' tolerations respected as it respects them), the pending
pods that would lose their last place to fit (NoSchedule or NoExecute: the dry run re-run with the
taint), and a loud warning when the selector selects every device. When the release's feature gates
leave DeviceTaintRules inert, it says so first, then what the rule would do once they are enabled.

Examples:

  kubectl dra preview gpu-broken.yaml

  kubectl dra preview rule.yaml -f cluster-dump.json -o json

  kubectl dra preview dtr/gpu-3-broken --feature-gates DRADeviceTaintRules=true

  kubectl dra preview rule.yaml --kubernetes-version 1.34 --feature-gates DRADeviceTaints=true
"""


def preview(
    rule_file: Annotated[str, typer.Argument(
        metavar="RULE_FILE", autocompletion=comp.complete_preview_target,
        help="A file (or -) holding one DeviceTaintRule, or deviceTaintRule/NAME for one of the cluster's.")],
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    output: OUTPUT.option = "",
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.analysis.taintrule import preview as build
    from kubectl_dra.process import keep_until_exit
    from kubectl_dra.render.output import emit_data

    fmt = OUTPUT.check(output)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      request_timeout=request_timeout)
    in_cluster = _cluster_rule_name(rule_file)
    if in_cluster is None:
        rule, as_written = _rule_from_file(rule_file)  # before any cluster I/O: a bad file fails fast (exit 3)
        snap = src.snapshot()
    else:
        from kubectl_dra.analysis.taintrule import find_rule

        snap = src.snapshot()
        rule = as_written = find_rule(snap, in_cluster)
    gates = gate_flags.resolve(snap)  # the cluster's rules and this one are applied by the preview itself
    result = build(snap, rule, gates, as_written=as_written, keep_alive=keep_until_exit,
                   in_cluster=in_cluster is not None)
    gaps = incomplete.for_preview(snap)
    if fmt in ("json", "yaml"):
        emit_data(with_incomplete(result, gaps), fmt)
    else:
        from kubectl_dra.render.preview import render_text

        render_text(result)
    finish_incomplete(gaps)


def _cluster_rule_name(arg: str) -> str | None:
    """``deviceTaintRule/NAME`` (``dtr/NAME``, any word for the kind) names a rule of the cluster, unless a
    file of that path exists; None: RULE_FILE is a file."""
    import os

    from kubectl_dra import kinds

    word, slash, name = arg.partition("/")
    if not slash or kinds.lookup(word) is not kinds.DEVICE_TAINT_RULE or os.path.exists(arg):
        return None
    if not name or "/" in name:
        from kubectl_dra.errors import UsageError

        raise UsageError(f"expected deviceTaintRule/NAME, got {arg!r}")
    return name


def _rule_from_file(rule_file: str):
    """The one DeviceTaintRule of the file: (normalized, as written)."""
    from kubectl_dra.errors import InputError
    from kubectl_dra.normalize import normalize_object
    from kubectl_dra.sources.files import load_files

    objects, _ = load_files([rule_file])
    rules = [o for o in objects if isinstance(o, dict) and o.get("kind") == "DeviceTaintRule"]
    if len(rules) != 1:
        kinds_seen = ", ".join(sorted({str(o.get("kind")) for o in objects if isinstance(o, dict)})) or "nothing"
        raise InputError(f"{rule_file}: expected one DeviceTaintRule, found {len(rules)} (the file holds: {kinds_seen})")
    rule = normalize_object(rules[0], where=f"{rule_file}: ")
    if not (rule.get("metadata") or {}).get("name"):
        raise InputError(f"{rule_file}: the DeviceTaintRule has no metadata.name")
    return rule, rules[0]
