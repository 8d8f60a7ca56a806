"""`kubectl dra get devices|classes|slices|claims|templates|taintrules`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra import kinds
from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    AllNamespaces, Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace,
    OutputFormats, RequestTimeout, SourceFlags, finish_incomplete, with_incomplete,
)

OUTPUT = OutputFormats("wide", "json", "yaml", "name", "jsonpath=", "custom-columns=")


GET_HELP = """List DRA objects with kubectl-style tables.

[bold]devices[/bold] is the inventory kubectl cannot show: every device with its node, driver, pool,
key attributes, capacity, taints, and the claim (and pods) holding it. [bold]taintrules[/bold] are the
DeviceTaintRules: what each selects and taints, and whether the feature gates put it in force.

Examples:

  kubectl dra get devices -f examples/cluster.yaml

  kubectl dra get devices --node gpu-node-1 --free

  kubectl dra get devices --class gpu.example.com -o wide

  kubectl dra get claims -A

  kubectl dra get classes -o yaml

  kubectl dra get taintrules -o wide --feature-gates DRADeviceTaintRules=true
"""


def get(
    kind: Annotated[str, typer.Argument(metavar="TYPE", help="devices, classes, slices, claims, templates or taintrules.",
                                                 autocompletion=comp.complete_get_type)],
    names: Annotated[Optional[list[str]], typer.Argument(metavar="NAME", help="Only these objects.", show_default=False,
                                                                   autocompletion=comp.complete_get_names)] = None,
    output: OUTPUT.option = "",
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Do not print the header line.")] = False,
    selector: Annotated[Optional[str], typer.Option("--selector", "-l", help="Label selector (classes, slices, claims, templates).")] = None,
    node: Annotated[Optional[str], typer.Option("--node", help="Only devices (or slices) available to this node.",
                                                         autocompletion=comp.complete_node)] = None,
    driver: Annotated[Optional[str], typer.Option("--driver", help="Only devices (or slices) of this driver.",
                                                           autocompletion=comp.complete_driver)] = None,
    class_name: Annotated[Optional[str], typer.Option("--class", help="Only devices that match this DeviceClass.",
                                                               autocompletion=comp.complete_class)] = None,
    free: Annotated[bool, typer.Option("--free", help="Only devices that no claim holds.")] = False,
    allocated: Annotated[bool, typer.Option("--allocated", help="Only devices that a claim holds.")] = False,
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete, inventory
    from kubectl_dra.errors import UsageError
    from kubectl_dra.render.get import as_document, render_names, render_text
    from kubectl_dra.render.output import emit_data, is_data

    kind_key = kinds.resolve(kind, kinds.GET).listing
    fmt = OUTPUT.check(output)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    if free and allocated:
        raise UsageError("--free and --allocated exclude each other")
    if kind_key != "devices" and (class_name or free or allocated):
        raise UsageError("--class, --free and --allocated apply to 'get devices' only")
    if selector and kind_key == "devices":
        raise UsageError("-l selects by label: classes, slices, claims and templates have labels, devices do not "
                         "(use --class, --driver or --node)")
    if selector:
        from kubectl_dra.nodeselector import parse_label_selector

        try:
            parse_label_selector(selector)
        except ValueError as e:
            raise UsageError(f"invalid label selector {selector!r}: {e}") from None
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      all_namespaces=all_namespaces, request_timeout=request_timeout)
    # DeviceTaintRules' taints on the devices they select (each naming its rule), when the gates put them in force
    snap, gates = src.snapshot_under(gate_flags, warn_inert=kind_key in ("devices", "taintrules"))
    ns = src.effective_namespace(snap)
    if kind_key == "devices":
        records = inventory.device_records(snap, node=node, driver=driver, class_name=class_name,
                                           free=free, allocated=allocated)
        if names:
            records = [r for r in records if r["device"] in names]
    elif kind_key == "classes":
        records = inventory.class_records(snap, selector, names)
    elif kind_key == "slices":
        records = inventory.slice_records(snap, selector, node=node, driver=driver)
        if names:
            records = [r for r in records if r["name"] in names]
    elif kind_key == "claims":
        records = inventory.claim_records(snap, ns, all_namespaces, selector, names)
    elif kind_key == "taintrules":
        from datetime import datetime, timezone

        from kubectl_dra.analysis.why_pending.stages import parse_time

        # AGE as kubectl counts it, against the server's time when it was read (a dump's), else the clock
        now = parse_time(snap.source.server_time) or datetime.now(timezone.utc)
        records = inventory.taint_rule_records(snap, gates, selector, names, now=now)
    else:
        records = inventory.template_records(snap, ns, all_namespaces, selector, names)
    gaps = incomplete.for_get(snap, kind_key, ns, all_namespaces, gates)
    # names nothing has are "not found" (exit 5) after what was found is shown, as kubectl does; not where the
    # objects could not all be read (then the answer is incomplete, exit 6)
    missing = inventory.missing_names(snap, kind_key, names, ns, all_namespaces) if names and not gaps else []
    if missing and not records:
        raise _not_found(kind_key, missing, None if all_namespaces else ns)
    if is_data(fmt):
        emit_data(with_incomplete(as_document(records, kind=kind_key), gaps), fmt, no_headers=no_headers)
    elif fmt == "name":
        render_names(records, kind=kind_key)
    else:
        render_text(records, kind=kind_key, wide=fmt == "wide", no_headers=no_headers,
                    all_namespaces=all_namespaces, namespace=ns)
    if missing:
        raise _not_found(kind_key, missing, None if all_namespaces else ns)
    finish_incomplete(gaps)


def _not_found(listing: str, missing: list[str], namespace: str | None):
    """One line for every name nothing has, kubectl's words for each."""
    from kubectl_dra.errors import NotFoundError

    kind = kinds.resolve(listing, kinds.GET)
    what = "device" if kind is kinds.DEVICE else kind.qualified_resource
    where = f" in namespace {namespace!r}" if kind.namespaced and namespace is not None else ""
    return NotFoundError("; ".join(f'{what} "{n}" not found{where}' for n in missing))
