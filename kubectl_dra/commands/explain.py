"""`kubectl dra explain TYPE/NAME`."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra import kinds
from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    Context, Filenames, Kubeconfig, Namespace, RequestTimeout, SourceFlags, finish_incomplete, with_incomplete,
)

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
    output: Annotated[str, typer.Option("--output", "-o", help="Output format: text (default), json, yaml, jsonpath=TEMPLATE or custom-columns=SPEC.",
                                                autocompletion=comp.output_choices("text", "json", "yaml", "jsonpath=", "custom-columns="))] = "",
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.analysis.explain import explain as build
    from kubectl_dra.render.explain import render_text
    from kubectl_dra.render.output import check_output, emit_data, is_data

    fmt = check_output(output, ("", "text", "json", "yaml", "jsonpath=", "custom-columns="))
    kind, name = kinds.parse_target(target, kinds.EXPLAIN)
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      request_timeout=request_timeout)
    snap = src.snapshot()
    from kubectl_dra import taintrules

    snap = taintrules.apply(snap)  # DeviceTaintRules' taints on the devices they select, each naming its rule
    ns = src.effective_namespace(snap)
    result = build(snap, kind, name, ns)
    gaps = incomplete.for_explain(snap, kind, ns)
    if is_data(fmt):
        emit_data(with_incomplete(result, gaps), fmt)
    else:
        render_text(result)
    finish_incomplete(gaps)
