"""`kubectl dra scaffold claim|template|class|pod`: write DRA manifests from flags."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from kubectl_dra import kinds
from kubectl_dra.commands.common import (
    Context, FeatureGatesOption, Filenames, GateFlags, Kubeconfig, KubernetesVersionOption, Namespace, OutputFormats,
    RequestTimeout, SourceFlags,
)

OUTPUT = OutputFormats("yaml", "json", default="yaml")

SCAFFOLD_HELP = """Write a ResourceClaim, ResourceClaimTemplate, DeviceClass, or a Pod/Deployment using one,
as clean YAML for `kubectl apply -f -` (or JSON with -o json). Every output is checked against the
resource.k8s.io schema and every CEL selector is compiled before it is printed.

TYPE is claim, template, class or pod. `pod` prints a ResourceClaimTemplate NAME-devices and a Pod
(--deployment: a Deployment) whose container uses it, or only the Pod with --claim EXISTING.

Requests: --class, --count/--all, --selector, --first-available, --admin-access, --toleration,
--capacity and --like belong to a request. `--request NAME` starts a new request and the request
flags after it apply to it; without --request there is one request named after the class.
--match-attribute/--distinct-attribute constrain all requests of the claim; --config applies to all.

Offline by default. With -f FILE, --kubeconfig or --context (and always with --like, which needs
devices) the cluster/files are read: classes are checked to exist, selectors to match a device
(warnings on stderr, with hints), and --api-version defaults to the version the cluster serves.

Examples:

  kubectl dra scaffold claim --name one-gpu --class gpu.example.com

  kubectl dra scaffold template --name pair --class gpu.example.com --count 2
      --match-attribute gpu.example.com/numa

  kubectl dra scaffold claim --name mixed --request gpu --class gpu.nvidia.com
      --selector 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0'
      --request nic --class dranet --count 2

  kubectl dra scaffold claim --name any-gpu --request gpu
      --first-available 'gpu.nvidia.com:device.attributes["gpu.nvidia.com"].productName == "H100"'
      --first-available mig-1g.10gb.nvidia.com

  kubectl dra scaffold claim --name like-that --like gpu-node-1/gpu-node-1/gpu-0 -f examples/cluster.yaml

  kubectl dra scaffold pod --name trainer --class gpu.example.com --image busybox --deployment

  kubectl dra scaffold class --name big-gpus --selector 'device.driver == "gpu.nvidia.com"' --api-version v1beta1
"""

REQUEST_PANEL = "Request (repeat after each --request NAME)"
CLAIM_PANEL = "Claim, class and pod"

REQUEST_OPTIONS = {"--request", "--class", "--count", "--all", "--selector", "--first-available",
                   "--admin-access", "--toleration", "--capacity", "--like"}


class ScaffoldCommand(TyperCommand):
    """Keeps the raw argument list: request flags are grouped by their position after --request."""

    def parse_args(self, ctx, args):
        ctx.meta["kubectl_dra.scaffold.args"] = list(args)
        return super().parse_args(ctx, args)


def _tokens(ctx) -> list[tuple[str, str | None]]:
    """(option, value) in command-line order, for the request options."""
    takes_value: dict[str, bool] = {}
    for p in ctx.command.params:
        for o in list(getattr(p, "opts", [])) + list(getattr(p, "secondary_opts", [])):
            takes_value[o] = not getattr(p, "is_flag", False) and getattr(p, "param_type_name", "") == "option"
    args = ctx.meta.get("kubectl_dra.scaffold.args", [])
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        if a.startswith("--") and "=" in a:
            opt, _, val = a.partition("=")
            if opt in REQUEST_OPTIONS:
                out.append((opt, val))
            i += 1
            continue
        if a in takes_value:
            val = args[i + 1] if takes_value[a] and i + 1 < len(args) else None
            if a in REQUEST_OPTIONS:
                out.append((a, val))
            i += 2 if takes_value[a] else 1
            continue
        i += 1
    return out


def scaffold(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="TYPE", help="claim, template, class or pod.")],
    name: Annotated[str, typer.Option("--name", help="Name of the object (pod: of the Pod/Deployment).",
                                      rich_help_panel=CLAIM_PANEL)] = "",
    request: Annotated[Optional[list[str]], typer.Option("--request", metavar="NAME", help="Start a new request named NAME; the request flags after it apply to it.", rich_help_panel=REQUEST_PANEL)] = None,
    device_class: Annotated[Optional[list[str]], typer.Option("--class", metavar="CLASS", help="DeviceClass of the request.", rich_help_panel=REQUEST_PANEL)] = None,
    count: Annotated[Optional[list[int]], typer.Option("--count", metavar="N", help="Ask for exactly N devices (default 1).", rich_help_panel=REQUEST_PANEL)] = None,
    all_devices: Annotated[bool, typer.Option("--all", help="Ask for all matching devices (allocationMode: All).", rich_help_panel=REQUEST_PANEL)] = False,
    selector: Annotated[Optional[list[str]], typer.Option("--selector", metavar="EXPR", help="CEL selector (repeatable; all must match). For class: the class's selectors.", rich_help_panel=REQUEST_PANEL)] = None,
    first_available: Annotated[Optional[list[str]], typer.Option("--first-available", metavar="CLASS[:SELECTOR]", help="Prioritized alternatives (repeatable, in order of preference).", rich_help_panel=REQUEST_PANEL)] = None,
    admin_access: Annotated[bool, typer.Option("--admin-access", help="Admin access to devices already in use (DRAAdminAccess; needs an admin namespace).", rich_help_panel=REQUEST_PANEL)] = False,
    toleration: Annotated[Optional[list[str]], typer.Option("--toleration", metavar="KEY[=VALUE]:EFFECT", help="Tolerate a device taint (EFFECT NoSchedule or NoExecute, empty for all).", rich_help_panel=REQUEST_PANEL)] = None,
    capacity: Annotated[Optional[list[str]], typer.Option("--capacity", metavar="NAME=QUANTITY", help="Consumable capacity to request from a shared device, e.g. memory=10Gi.", rich_help_panel=REQUEST_PANEL)] = None,
    like: Annotated[Optional[list[str]], typer.Option("--like", metavar="NODE/POOL/DEVICE", help="Add a selector for devices like this one (same driver, productName/model/type, memory). Also DRIVER/POOL/DEVICE. Reads the cluster or -f.", rich_help_panel=REQUEST_PANEL)] = None,
    match_attribute: Annotated[Optional[list[str]], typer.Option("--match-attribute", metavar="DOMAIN/ATTR", help="All devices of the claim share this attribute's value.", rich_help_panel=CLAIM_PANEL)] = None,
    distinct_attribute: Annotated[Optional[list[str]], typer.Option("--distinct-attribute", metavar="DOMAIN/ATTR", help="All devices of the claim differ in this attribute.", rich_help_panel=CLAIM_PANEL)] = None,
    config: Annotated[Optional[str], typer.Option("--config", metavar="FILE", help="Opaque driver parameters (YAML/JSON object) for the claim or class.", rich_help_panel=CLAIM_PANEL)] = None,
    config_driver: Annotated[Optional[str], typer.Option("--config-driver", metavar="DRIVER", help="Driver that reads --config.", rich_help_panel=CLAIM_PANEL)] = None,
    claim: Annotated[Optional[str], typer.Option("--claim", metavar="NAME", help="pod: use this existing ResourceClaim instead of a template.", rich_help_panel=CLAIM_PANEL)] = None,
    deployment: Annotated[bool, typer.Option("--deployment", help="pod: emit a Deployment instead of a Pod.", rich_help_panel=CLAIM_PANEL)] = False,
    image: Annotated[str, typer.Option("--image", help="pod: container image.", rich_help_panel=CLAIM_PANEL)] = "registry.k8s.io/pause:3.10",
    api_version: Annotated[Optional[str], typer.Option("--api-version", metavar="VERSION", help="resource.k8s.io version: v1, v1beta2 or v1beta1 (default: what the cluster serves; v1 offline).", rich_help_panel=CLAIM_PANEL)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add short comments saying what each object does (YAML only).")] = False,
    output: OUTPUT.option = "",
    feature_gates: FeatureGatesOption = None,
    kubernetes_version: KubernetesVersionOption = None,
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import scaffold as sc
    from kubectl_dra.errors import UsageError
    from kubectl_dra.render.output import emit_data, warn
    from kubectl_dra.render.scaffold import as_document, render_text
    from kubectl_dra.sources.files import read_config

    fmt = OUTPUT.check(output)
    gate_flags = GateFlags(feature_gates, kubernetes_version).check()
    kind_key = kinds.resolve(kind, kinds.SCAFFOLD).short
    if not name:
        raise UsageError("--name is required")
    if explain and fmt == "json":
        raise UsageError("--explain adds YAML comments; it does not combine with -o json")
    if kind_key != "pod" and (claim or deployment):
        raise UsageError("--claim and --deployment are for `scaffold pod`")
    if api_version is not None and api_version not in sc.API_VERSIONS:
        raise UsageError(f"--api-version {api_version!r}: choose from {', '.join(sc.API_VERSIONS)}")
    if config_driver and not config:
        raise UsageError("--config-driver needs --config FILE")

    spec, class_likes = sc.spec_from_flags(
        kind_key, name=name, namespace=namespace, tokens=_tokens(ctx), match_attributes=match_attribute,
        distinct_attributes=distinct_attribute, config_driver=config_driver, image=image, claim=claim,
        deployment=deployment)
    if config:
        spec.config = read_config(config)

    # --like needs devices: read the cluster (or -f) for it too
    needs_cluster = bool(filename or kubeconfig or context or class_likes or any(r.like for r in spec.requests))
    snap = None
    if needs_cluster:
        snap, gates = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                                  request_timeout=request_timeout).snapshot_under(gate_flags, warn_inert=False)
    else:
        gates = gate_flags.resolve(None)
    objs, warnings = sc.scaffold(spec, snap, api_version=api_version, class_likes=class_likes,
                                 lists=gates.list_type_attributes)
    for w in warnings:
        warn(w)
    if fmt == "json":
        emit_data(as_document(objs), "json")
    else:
        render_text(objs, comments=[sc.explain_lines(o) for o in objs] if explain else None)
