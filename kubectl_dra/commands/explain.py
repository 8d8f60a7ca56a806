"""`kubectl dra explain TYPE/NAME`."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra import kinds
from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace, OutputFormats,
    RequestTimeout, SourceFlags, finish_incomplete, with_incomplete,
)

OUTPUT = OutputFormats("text", "json", "yaml", "jsonpath=", "custom-columns=", default="text")

EXPLAIN_HELP = """Explain one DRA object: what it asks for, what matches, who holds what.

TYPE is deviceclass (class, dc), resourceslice (slice), resourceclaim (claim, rc),
resourceclaimtemplate (template, rct), pod (po) or node (no); plurals work too.

Examples:

  kubectl dra explain claim/trainer-gpus-q9t4m -f examples/cluster.yaml

  kubectl dra explain node/gpu-node-1

  kubectl dra explain class/gpu.nvidia.com -o json

  kubectl dra explain pod/trainer -n default
"""


def explain(
    target: Annotated[str, typer.Argument(metavar="TYPE/NAME", help="The object, e.g. claim/my-claim or node/gpu-node-1.",
                                                   autocompletion=comp.complete_explain_target)],
    output: OUTPUT.option = "",
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.analysis.explain import explain as build
    from kubectl_dra.render.explain import render_text
    from kubectl_dra.render.output import emit_data, is_data

    fmt = OUTPUT.check(output)
    kind, name = kinds.parse_target(target, kinds.EXPLAIN)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      request_timeout=request_timeout)
    # DeviceTaintRules' taints on the devices they select (each naming its rule), when the gates put them in force
    # (a rule's own explanation says whether it is in force; claims, pods and templates show no device taints)
    snap, gates = src.snapshot_under(gate_flags, warn_inert=kind in (kinds.DEVICE_CLASS, kinds.RESOURCE_SLICE, kinds.NODE))
    ns = src.effective_namespace(snap)
    result = build(snap, kind, name, ns, gates)
    gaps = incomplete.for_explain(snap, kind, ns, gates)
    if is_data(fmt):
        emit_data(with_incomplete(result, gaps), fmt)
    else:
        render_text(result)
    finish_incomplete(gaps)
