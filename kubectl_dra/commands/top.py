"""`kubectl dra top`: devices used and free, shared counters and consumable capacity, per node, class, driver or pool."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra.commands.common import (
    AllNamespaces, Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace,
    OutputFormats, RequestTimeout, SourceFlags, finish_incomplete, with_incomplete,
)
from kubectl_dra.completion import callbacks as comp

OUTPUT = OutputFormats("json", "yaml")

TOP_HELP = "\n\n".join([
    "The device picture at a glance, like kubectl top: per node (or --by class, driver or pool), how many devices "
    "there are, how many are used and free (as the scheduler's allocator judges it, the same as `get devices`' "
    "STATE), the shared counters of partitionable devices (MIG-style) used, and the consumable capacity of shared "
    "devices used.",
    "USED counts devices that cannot be allocated now: held by a claim (# in the bar), or not held but their shared "
    "counters are used up by other devices of their pool (=). FREE (.) counts devices that could be allocated now, "
    "shared devices with capacity left included; \"(N tainted)\": N of them carry a NoSchedule or NoExecute taint "
    "(their own or a DeviceTaintRule's), free only for requests that tolerate it (!); \"(N in incomplete pools)\": "
    "N of them are in a pool whose slices are not all published yet, which the scheduler does not allocate from "
    "until they are (?).",
    "Examples:",
    "  kubectl dra top -f examples/cluster.yaml",
    "  kubectl dra top --by class --sort-by free",
    "  kubectl dra top --class mig.nvidia.com --sort-by free",
    "  kubectl dra top --by pool -o json",
]) + "\n"


def top(
    names: Annotated[Optional[list[str]], typer.Argument(
        metavar="NAME", help="Only these nodes (classes, drivers, pools).", show_default=False,
        autocompletion=comp.complete_top_names)] = None,
    by: Annotated[str, typer.Option("--by", help="Group by node, class, driver or pool.",
                                    autocompletion=comp.output_choices("node", "class", "driver", "pool"))] = "node",
    sort_by: Annotated[str, typer.Option(
        "--sort-by", help="name (default), or the most first: devices, used, free, counters or capacity (the "
                          "highest percentage used).",
        autocompletion=comp.output_choices("name", "devices", "used", "free", "counters", "capacity"))] = "name",
    driver: Annotated[Optional[str], typer.Option("--driver", help="Only devices of this driver.",
                                                  autocompletion=comp.complete_driver)] = None,
    class_name: Annotated[Optional[str], typer.Option("--class", help="Only devices that this DeviceClass selects.",
                                                      autocompletion=comp.complete_class)] = None,
    output: OUTPUT.option = "",
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Do not print the header line.")] = False,
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    total: Annotated[bool, typer.Option("--sum", help="Print the total under the rows (every device once), "
                                                      "as kubectl top pod --sum does.")] = False,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import incomplete
    from kubectl_dra.analysis.top import BY, SORT_BY, check_choice, device_top
    from kubectl_dra.render.output import emit_data
    from kubectl_dra.render.top import render_text

    fmt = OUTPUT.check(output)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    by = check_choice("--by", by, BY)  # usage errors before any cluster is read
    sort_by = check_choice("--sort-by", sort_by, SORT_BY)
    src = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                      all_namespaces=all_namespaces, request_timeout=request_timeout)
    # DeviceTaintRules' taints too, when the gates put them in force, as `get devices` shows them
    snap, _ = src.snapshot_under(gate_flags)
    report = device_top(snap, by=by, sort_by=sort_by, names=names or (), driver=driver, class_name=class_name)
    gaps = incomplete.holders(snap)  # used/free depend on every allocated claim
    if fmt:
        emit_data(with_incomplete(report, gaps), fmt)
    else:
        render_text(report, no_headers=no_headers, total=total)
    finish_incomplete(gaps)
