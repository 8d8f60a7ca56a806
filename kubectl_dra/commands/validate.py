"""`kubectl dra validate -f FILE...`: check DRA manifests before applying them."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_dra.completion import callbacks as comp
from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, GateFlags, Kubeconfig, Namespace, OutputFormats, RequestTimeout, SourceFlags,
)

OUTPUT = OutputFormats("text", "json", default="text")

VALIDATE_HELP = """Check DRA manifests (DeviceClass, ResourceClaim, ResourceClaimTemplate, ResourceSlice,
DeviceTaintRule; every version a release serves) before applying them.

The schemas are those of one Kubernetes release: --kubernetes-version 1.34|1.35|1.36, else the
cluster's (when checking against one), else the newest. A field or value of another release is
named with the releases that have it.

Offline: schema errors (file, document, path), CEL compile errors with a caret, request shape,
constraint attributes without a domain, likely selector mistakes.

Against a cluster: the manifests under test come from -f; the cluster state comes from
--cluster-file FILE (repeatable: a dump or kubectl get -o yaml output) or from the live cluster
with --live, --kubeconfig or --context. Then also: classes exist, selectors run on the real devices
without errors and match at least one, attributes/capacities exist for that driver, and requests
are not bigger than what any node could ever provide.

Exit code 1 when there are errors; 0 with warnings only.

Examples:

  kubectl dra validate -f claim.yaml

  kubectl dra validate -f manifests/ --cluster-file examples/cluster.yaml

  kubectl dra validate -f claim.yaml --live -o json

  kubectl dra validate -f slice.yaml --kubernetes-version 1.34
"""


def validate(
    filename: Annotated[Optional[list[str]], typer.Option(
        "--filename", "-f", metavar="FILE", help="Manifests to check: files, directories or - (repeatable).")] = None,
    cluster_file: Annotated[Optional[list[str]], typer.Option(
        "--cluster-file", "--snapshot", metavar="FILE",
        help="Cluster state to check against (a dump, kubectl get -o yaml output; repeatable).")] = None,
    live: Annotated[bool, typer.Option("--live", help="Check against the live cluster (current kubeconfig context).")] = False,
    output: OUTPUT.option = "",
    kubernetes_version: Annotated[Optional[str], typer.Option(
        "--kubernetes-version", metavar="1.NN", autocompletion=comp.complete_schema_release,
        help="Check with this release's schemas (1.34, 1.35, 1.36; default: the cluster's, offline the newest).")] = None,
    feature_gates: FeatureGatesOption = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis.validate import check_manifests
    from kubectl_dra.errors import ExitCode, UsageError
    from kubectl_dra.render.output import emit_data
    from kubectl_dra.render.validate import render_text
    from kubectl_dra.sources.files import read_manifests

    fmt = OUTPUT.check(output)
    release = _check_release(kubernetes_version)
    gate_flags = GateFlags(feature_gates, release).check()  # (selectors run on the devices under these gates)
    if not filename:
        raise UsageError("validate needs -f FILE (the manifests to check)")
    if cluster_file and (live or kubeconfig or context):
        raise UsageError("--cluster-file and the live cluster (--live/--kubeconfig/--context) exclude each other")
    docs, files, unparsable = read_manifests(filename)
    snap = None
    if cluster_file or live or kubeconfig or context:
        # The cluster state: --cluster-file dumps, or the live cluster (-f names the manifests under test).
        snap, gates = SourceFlags(filename=cluster_file, kubeconfig=kubeconfig, context=context, namespace=namespace,
                                  request_timeout=request_timeout).snapshot_under(gate_flags, warn_inert=False)
    else:
        gates = gate_flags.resolve(None)
    if release is None:
        from kubectl_dra.render.output import warn
        from kubectl_dra.schema import release_for_server

        release, note = release_for_server(snap.source.server_version if snap is not None else None)
        if note:
            warn(note)
    result = check_manifests(docs, files, unparsable, snap, release, lists=gates.list_type_attributes)
    if fmt == "json":
        emit_data(result, "json")
    else:
        render_text(result)
    if result["errors"]:
        raise typer.Exit(int(ExitCode.ERROR))


def _check_release(text: str | None) -> str | None:
    """``--kubernetes-version`` -> a release with schemas ("v1.35.2" -> "1.35"); a usage error otherwise."""
    if text is None:
        return None
    from kubectl_dra.errors import InputError, UsageError
    from kubectl_dra.schema import RELEASES, check_release

    try:
        return check_release(text)
    except InputError:
        raise UsageError(f"invalid --kubernetes-version {text!r}: validate has the schemas of "
                         f"{', '.join(RELEASES)} (or a patch release such as {RELEASES[-1]}.0)") from None
