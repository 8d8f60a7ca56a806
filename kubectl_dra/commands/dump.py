"""`kubectl dra dump`: write a cluster's DRA state as one `kind: List` to share or analyse offline."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_dra.commands.common import (
    AllNamespaces, Context, Filenames, Kubeconfig, Namespace, OutputFormats, RequestTimeout, SourceFlags,
    finish_incomplete,
)

OUTPUT = OutputFormats("yaml", "json", default="yaml")

DUMP_HELP = """Write the DRA state (nodes, DeviceClasses, ResourceSlices, claims, templates, pods) as one
`kind: List`, in the resource.k8s.io/v1 shape, so it can be shared or analysed offline with -f.
What why-pending's later stages read comes along: the pods' scheduling, claim-creation and device-preparation
events, the claims' events, ResourceQuotas, Namespaces, and the pods on each node where a pod waits to start.
The cluster's Kubernetes version and time are recorded too, so offline analysis uses the same feature gates
and judges binding timeouts at the same moment.
Made to be shared: container env values and secret-looking values are replaced by REDACTED, managedFields
and last-applied-configuration dropped, and the header says so (--no-redact keeps everything); the
answers of a redacted dump are the same.

Examples:

  kubectl dra dump -A > cluster.yaml

  kubectl dra dump -o json -A > cluster.json     # JSON loads ~40x faster than YAML

  kubectl dra why-pending pod/trainer -f cluster.json
"""


def dump(
    output: OUTPUT.option = "yaml",
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 30.0,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Keep everything: container env values, "
                                            "secret-looking values, managedFields, last-applied-configuration "
                                            "(redacted by default: a dump is made to be shared).")] = False,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.render.output import emit_data
    from kubectl_dra.sources.files import dump_list

    fmt = OUTPUT.check(output)
    # What why-pending's stages read travels with the dump (the scheduler's, the resourceclaim controller's and
    # the kubelet's events on the pods, quotas, namespaces, the pods on a waiting pod's node): the same answers.
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      all_namespaces=all_namespaces, request_timeout=request_timeout)
    snap = src.snapshot(include_events_for=(namespace, None))
    doc = dump_list(snap, redact=not no_redact)  # (a List that could not read everything carries "incomplete")
    if no_redact or fmt == "json":
        emit_data(doc, fmt)
    else:
        from kubectl_dra.redact import WHAT
        from kubectl_dra.render.output import to_yaml, write

        write(f"# kubectl dra dump: {WHAT}\n" + to_yaml(doc))
    finish_incomplete(incomplete.for_dump(snap))
