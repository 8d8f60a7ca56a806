"""`kubectl dra match 'EXPR'`: which devices a CEL selector matches, and why not."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace, OutputFormats,
    RequestTimeout, SourceFlags,
)
from kubectl_dra.completion import callbacks as comp

OUTPUT = OutputFormats("json", "yaml", "jsonpath=", "custom-columns=")

MATCH_HELP = """Evaluate a CEL device selector against every device, like kube-scheduler does.

Shows matches, non-matches and runtime errors grouped by driver, pool and node,
and hints for classic mistakes (wrong domain, capacity read as an attribute,
a version compared as a string, a value no device has).

Examples:

  kubectl dra match 'device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"'

  kubectl dra match 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0' --class gpu.nvidia.com

  kubectl dra match 'device.attributes["dra.net"].rdma' --node rdma-node-1 -o json
"""


def match(
    expression: Annotated[str, typer.Argument(metavar="EXPR", help="A CEL expression over `device`.")],
    class_name: Annotated[Optional[str], typer.Option("--class", help="Also apply this DeviceClass's selectors (first).",
                                                      autocompletion=comp.complete_class)] = None,
    node: Annotated[Optional[str], typer.Option("--node", help="Only devices available to this node.",
                                                autocompletion=comp.complete_node)] = None,
    output: OUTPUT.option = "",
    show_all: Annotated[bool, typer.Option("--all", help="Show every driver/pool/node group.")] = False,
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis.match import match_devices
    from kubectl_dra.cel import compile_expression
    from kubectl_dra.render.match import render_text
    from kubectl_dra.render.output import emit_data, is_data

    fmt = OUTPUT.check(output)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    # Fail on a bad expression before reading the cluster (with the list-type functions, which the gates in
    # force may lack: match_devices compiles it again in the environment those gates give).
    compile_expression(expression, list_types=True)
    snap, _ = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                          request_timeout=request_timeout).snapshot_under(gate_flags, warn_inert=False)
    result = match_devices(snap, expression, class_name=class_name, node=node)
    if is_data(fmt):
        emit_data(result, fmt)
    else:
        render_text(result, show_all=show_all)
