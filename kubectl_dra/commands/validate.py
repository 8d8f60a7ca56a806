"""`kubectl dra validate -f FILE...`: check DRA manifests before applying them."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from kubectl_dra.commands.common import Context, Kubeconfig, Namespace, RequestTimeout, SourceFlags

VALIDATE_HELP = """Check DRA manifests (DeviceClass, ResourceClaim, ResourceClaimTemplate, ResourceSlice;
v1, v1beta2 or v1beta1) before applying them.

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
"""


def _read(paths: list[str]) -> tuple[list[tuple[str, int, object]], list[str], list[dict]]:
    from kubectl_dra.errors import InputError
    from kubectl_dra.sources.files import parse_text

    files: list[str] = []
    for p in paths:
        if p == "-":
            files.append(p)
        elif os.path.isdir(p):
            files += sorted(os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs
                            if f.endswith((".yaml", ".yml", ".json")))
        elif os.path.exists(p):
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    docs, problems = [], []
    for f in files:
        try:
            text = sys.stdin.read() if f == "-" else open(f, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{f}: {getattr(e, 'strerror', None) or e}") from None
        try:
            objs = parse_text(text, f)
        except InputError as e:
            problems.append({"file": f, "document": None, "kind": None, "name": None, "path": "(file)",
                             "severity": "error", "code": "parse", "message": e.message})
            continue
        docs += [(f, i + 1, o) for i, o in enumerate(objs)]
    return docs, files, problems


def validate(
    filename: Annotated[Optional[list[str]], typer.Option(
        "--filename", "-f", metavar="FILE", help="Manifests to check: files, directories or - (repeatable).")] = None,
    cluster_file: Annotated[Optional[list[str]], typer.Option(
        "--cluster-file", "--snapshot", metavar="FILE",
        help="Cluster state to check against (a dump, kubectl get -o yaml output; repeatable).")] = None,
    live: Annotated[bool, typer.Option("--live", help="Check against the live cluster (current kubeconfig context).")] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="text (default) or json.")] = "",
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis.validate import summary, validate_documents
    from kubectl_dra.errors import ExitCode, UsageError
    from kubectl_dra.render.output import check_output, emit_data
    from kubectl_dra.render.validate import render_text
    from kubectl_dra.schema import is_dra_object

    fmt = check_output(output, ("", "text", "json"))
    if not filename:
        raise UsageError("validate needs -f FILE (the manifests to check)")
    if cluster_file and (live or kubeconfig or context):
        raise UsageError("--cluster-file and the live cluster (--live/--kubeconfig/--context) exclude each other")
    docs, files, problems = _read(filename)
    snap = None
    if cluster_file or live or kubeconfig or context:
        # The cluster state: --cluster-file dumps, or the live cluster (-f names the manifests under test).
        snap = SourceFlags(filename=cluster_file, kubeconfig=kubeconfig, context=context, namespace=namespace,
                           request_timeout=request_timeout).snapshot()
    diags = problems + validate_documents(docs, snap)
    objects = sum(1 for _, _, o in docs if isinstance(o, dict) and is_dra_object(o))
    result = summary(diags, files, objects)
    if fmt == "json":
        emit_data(result, "json")
    else:
        render_text(result)
    if result["errors"]:
        raise typer.Exit(int(ExitCode.ERROR))
