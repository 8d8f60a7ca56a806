"""`kubectl dra match 'EXPR'`: which devices a CEL selector matches, and why not."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import Context, Filenames, Kubeconfig, Namespace, RequestTimeout, SourceFlags

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
    output: Annotated[str, typer.Option("--output", "-o", help="Output format: json, yaml, jsonpath=TEMPLATE or custom-columns=SPEC.",
                                        autocompletion=comp.output_choices("json", "yaml", "jsonpath=", "custom-columns="))] = "",
    show_all: Annotated[bool, typer.Option("--all", help="Show every driver/pool/node group.")] = False,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis.match import match_devices
    from kubectl_dra.cel import compile_expression
    from kubectl_dra.render.match import render_text
    from kubectl_dra.render.output import check_output, emit_data, is_data

    fmt = check_output(output, ("", "json", "yaml", "jsonpath=", "custom-columns="))
    compile_expression(expression)  # fail on a bad expression before reading the cluster
    snap = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                       request_timeout=request_timeout).snapshot()
    result = match_devices(snap, expression, class_name=class_name, node=node)
    if is_data(fmt):
        emit_data(result, fmt)
    else:
        render_text(result, show_all=show_all)
