"""`kubectl dra dump`: write a cluster's DRA state as one `kind: List` to share or analyse offline."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    AllNamespaces, Context, Filenames, Kubeconfig, Namespace, RequestTimeout, SourceFlags, finish_incomplete,
)

DUMP_HELP = """Write the DRA state (nodes, DeviceClasses, ResourceSlices, claims, templates, pods) as one
`kind: List`, in the resource.k8s.io/v1 shape, so it can be shared or analysed offline with -f.
The cluster's Kubernetes version is recorded too, so offline analysis uses the same feature gates.

Examples:

  kubectl dra dump -A > cluster.yaml

  kubectl dra dump -o json -A > cluster.json     # JSON loads ~40x faster than YAML

  kubectl dra why-pending pod/trainer -f cluster.json
"""


def dump(
    output: Annotated[str, typer.Option("--output", "-o", help="yaml or json.",
                                                autocompletion=comp.output_choices("yaml", "json"))] = "yaml",
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.render.output import check_output, emit_data
    from kubectl_dra.sources.files import dump_list

    fmt = check_output(output, ("yaml", "json"))
    # FailedScheduling events travel with the dump: they are the scheduler's own words on Pending pods.
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      all_namespaces=all_namespaces, request_timeout=request_timeout)
    snap = src.snapshot(include_events_for=(namespace, None))
    emit_data(dump_list(snap), fmt)  # (a List that could not read everything carries its "incomplete" list)
    finish_incomplete(incomplete.for_dump(snap))
