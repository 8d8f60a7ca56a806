"""`kubectl dra scaffold claim|template|class|pod`: write DRA manifests from flags."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from kubectl_dra import kinds
from kubectl_dra.commands.common import Context, Filenames, Kubeconfig, Namespace, RequestTimeout, SourceFlags

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


def group_requests(tokens: list[tuple[str, str | None]]):
    from kubectl_dra.analysis.scaffold import RequestSpec, _label

    requests: list[RequestSpec] = []
    cur: RequestSpec | None = None
    for opt, val in tokens:
        if opt == "--request":
            cur = RequestSpec(name=val or "", explicit_name=True)
            requests.append(cur)
            continue
        if cur is None:
            cur = RequestSpec(name="")
            requests.append(cur)
        if opt == "--class":
            cur.device_class = val
        elif opt == "--count":
            cur.count = int(val)
        elif opt == "--all":
            cur.all = True
        elif opt == "--selector":
            cur.selectors.append(val)
        elif opt == "--first-available":
            cur.first_available.append(val)
        elif opt == "--admin-access":
            cur.admin_access = True
        elif opt == "--toleration":
            cur.tolerations.append(val)
        elif opt == "--capacity":
            cur.capacity.append(val)
        elif opt == "--like":
            cur.like.append(val)
    for r in requests:
        if not r.name:
            base = r.device_class or (r.first_available[0].partition(":")[0] if r.first_available else "")
            r.name = _label(base.split(".")[0]) if base else "devices"
    return requests


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
    output: Annotated[str, typer.Option("--output", "-o", help="yaml (default) or json.")] = "",
    filename: Filenames = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespace = None,
    request_timeout: RequestTimeout = 30.0,
) -> None:
    from kubectl_dra.analysis import scaffold as sc
    from kubectl_dra.errors import InputError, UsageError
    from kubectl_dra.render.output import check_output, to_json, warn, write

    fmt = check_output(output, ("", "yaml", "json"))
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

    requests = group_requests(_tokens(ctx))
    spec = sc.ScaffoldSpec(kind=kind_key, name=name, namespace=namespace, requests=requests,
                           match_attributes=list(match_attribute or []),
                           distinct_attributes=list(distinct_attribute or []),
                           config_driver=config_driver, image=image, claim=claim, deployment=deployment)
    if kind_key == "class":
        # For a class, --selector and --like describe the class itself.
        for r in requests:
            spec.class_selectors += r.selectors
            r.selectors = []
        class_likes = [x for r in requests for x in r.like]
        for r in requests:
            r.like = []
        requests[:] = [r for r in requests if sc._request_flags_used(r)]
    else:
        class_likes = []
    if config:
        spec.config = _read_config(config)

    needs_cluster = bool(filename or kubeconfig or context or class_likes or any(r.like for r in requests))
    snap = None
    if needs_cluster:
        snap = SourceFlags(filename=filename, kubeconfig=kubeconfig, context=context, namespace=namespace,
                           request_timeout=request_timeout).snapshot()
    spec.api_version = api_version or ((snap.source.resource_api_version if snap else None) or "v1")
    if spec.api_version not in sc.API_VERSIONS:
        spec.api_version = "v1"

    like_map: dict[str, list[str]] = {}
    if snap is not None:
        for r in requests:
            if r.like:
                like_map[r.name] = [sc.like_selector(sc.find_like(snap, ref)) for ref in r.like]
        if class_likes:
            like_map["*"] = [sc.like_selector(sc.find_like(snap, ref)) for ref in class_likes]
    objs = sc.build_objects(spec, like_map)
    if snap is not None:
        # Selectors from --like are part of the request now; check them with the others.
        checked = sc.ScaffoldSpec(**{**spec.__dict__})
        checked.requests = [sc.RequestSpec(**{**r.__dict__, "selectors": r.selectors + like_map.get(r.name, [])})
                            for r in requests]
        checked.class_selectors = spec.class_selectors + like_map.get("*", [])
        for w in sc.check_against_snapshot(checked, snap):
            warn(w)
    if fmt == "json":
        write(to_json(objs[0] if len(objs) == 1 else {"apiVersion": "v1", "kind": "List", "items": objs}))
    else:
        write(render_yaml(objs, explain))
    del InputError


def _read_config(path: str):
    import json

    import yaml

    from kubectl_dra.errors import InputError

    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise InputError(f"--config {path}: {e.strerror or e}") from None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise InputError(f"--config {path}: not YAML/JSON: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"--config {path}: must hold one object (the driver's parameters)")
    return data


def _explain_lines(obj: dict) -> list[str]:
    from kubectl_dra.analysis.inventory import request_summaries

    kind = obj["kind"]
    name = obj["metadata"]["name"]
    if kind == "DeviceClass":
        n = len((obj.get("spec") or {}).get("selectors") or [])
        return [f"DeviceClass {name}: a device matches when all {n} selector(s) are true."]
    if kind in ("ResourceClaim", "ResourceClaimTemplate"):
        claim_spec = obj["spec"]["spec"] if kind == "ResourceClaimTemplate" else obj["spec"]
        lines = [f"{kind} {name}: " + ("one ResourceClaim per pod is created from this template."
                                       if kind == "ResourceClaimTemplate" else "one claim, shared by the pods that use it.")]
        try:
            from kubectl_dra.normalize import normalize_object

            v1 = normalize_object(obj)
            claim_spec = v1["spec"]["spec"] if kind == "ResourceClaimTemplate" else v1["spec"]
        except Exception:  # noqa: BLE001 - comments are best effort
            pass
        lines += [f"  request {s}" for s in request_summaries(claim_spec)]
        for c in (claim_spec.get("devices") or {}).get("constraints") or []:
            if c.get("matchAttribute"):
                lines.append(f"  all devices share the same {c['matchAttribute']}")
            if c.get("distinctAttribute"):
                lines.append(f"  all devices differ in {c['distinctAttribute']}")
        return lines
    if kind in ("Pod", "Deployment"):
        return [f"{kind} {name}: its container gets the devices through resources.claims; "
                "the pod stays Pending until they are allocated (see kubectl dra why-pending)."]
    return []


def render_yaml(objs: list[dict], explain: bool) -> str:
    from kubectl_dra.render.output import to_yaml

    docs = []
    for o in objs:
        text = to_yaml(o)
        if explain:
            text = "".join(f"# {line}\n" for line in _explain_lines(o)) + text
        docs.append(text)
    return "---\n".join(docs)
