"""Build DRA manifests (ResourceClaim, ResourceClaimTemplate, DeviceClass, Pod/Deployment) from flags.

Pure functions: :func:`build_objects` turns a :class:`ScaffoldSpec` into v1-shaped objects, converts them to
the requested API version, and checks them (schema + CEL compilation) before anything is printed.
Cluster-aware helpers (:func:`like_selector`, :func:`check_against_snapshot`) take a Snapshot.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from kubectl_dra.errors import InputError, NotFoundError, UsageError

GROUP = "resource.k8s.io"
API_VERSIONS = ("v1", "v1beta2", "v1beta1")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
TOLERATION = re.compile(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?(:(?P<effect>[^:]*))?$")
EFFECTS = ("NoSchedule", "NoExecute")


@dataclass
class RequestSpec:
    name: str
    device_class: str | None = None
    count: int | None = None
    all: bool = False
    selectors: list[str] = field(default_factory=list)
    first_available: list[str] = field(default_factory=list)   # CLASS[:SELECTOR]
    admin_access: bool = False
    tolerations: list[str] = field(default_factory=list)       # KEY[=VALUE]:EFFECT
    capacity: list[str] = field(default_factory=list)          # NAME=QUANTITY
    like: list[str] = field(default_factory=list)              # NODE|DRIVER/POOL/DEVICE
    explicit_name: bool = False


@dataclass
class ScaffoldSpec:
    kind: str                                   # claim, template, class, pod
    name: str
    namespace: str | None = None
    requests: list[RequestSpec] = field(default_factory=list)
    class_selectors: list[str] = field(default_factory=list)  # kind == class
    match_attributes: list[str] = field(default_factory=list)
    distinct_attributes: list[str] = field(default_factory=list)
    config: Any = None                           # parsed --config file (opaque parameters)
    config_driver: str | None = None
    api_version: str = "v1"
    image: str = "registry.k8s.io/pause:3.10"
    claim: str | None = None                     # pod: use this existing claim instead of a template
    deployment: bool = False


def _label(text: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return (s[:63].rstrip("-")) or "x"


def parse_toleration(text: str) -> dict:
    m = TOLERATION.match(text.strip())
    if not m:
        raise UsageError(f"--toleration {text!r}: expected KEY[=VALUE]:EFFECT, e.g. gpu.example.com/unhealthy:NoSchedule")
    tol: dict = {"key": m["key"]}
    if m["value"] is not None:
        tol["operator"] = "Equal"
        tol["value"] = m["value"]
    else:
        tol["operator"] = "Exists"
    effect = m["effect"]
    if effect:
        if effect not in EFFECTS:
            raise UsageError(f"--toleration {text!r}: effect must be one of {', '.join(EFFECTS)} (or empty for all)")
        tol["effect"] = effect
    return tol


def parse_capacity(text: str) -> tuple[str, str]:
    from kubectl_dra.quantity import Quantity

    name, sep, qty = text.partition("=")
    if not sep or not name.strip() or not qty.strip():
        raise UsageError(f"--capacity {text!r}: expected NAME=QUANTITY, e.g. memory=10Gi")
    try:
        Quantity.parse(qty.strip())
    except Exception:  # noqa: BLE001 - any parse failure is a usage error
        raise UsageError(f"--capacity {text!r}: {qty.strip()!r} is not a quantity (e.g. 10Gi, 500m, 2)") from None
    return name.strip(), qty.strip()


def check_request(req: RequestSpec, kind: str) -> None:
    """Refuse flag combinations that cannot make a valid request (one line each)."""
    where = f"request {req.name!r}"
    if not DNS_LABEL.match(req.name):
        raise UsageError(f"--request {req.name!r}: a request name must be a DNS label (lower case, digits, '-')")
    if req.count is not None and req.all:
        raise UsageError(f"{where}: --count and --all exclude each other")
    if req.count is not None and req.count < 1:
        raise UsageError(f"{where}: --count must be at least 1")
    if req.first_available:
        clash = [f for f, v in (("--class", req.device_class), ("--count", req.count), ("--all", req.all),
                                ("--selector", req.selectors), ("--admin-access", req.admin_access),
                                ("--like", req.like)) if v]
        if clash:
            raise UsageError(f"{where}: --first-available takes CLASS[:SELECTOR] per alternative; "
                             f"it excludes {', '.join(clash)}")
        for alt in req.first_available:
            cls = alt.partition(":")[0]
            if not cls:
                raise UsageError(f"{where}: --first-available {alt!r}: expected CLASS[:SELECTOR]")
    elif not req.device_class:
        raise UsageError(f"{where}: needs --class CLASS (or --first-available CLASS[:SELECTOR]...)")


def _selector(expr: str) -> dict:
    return {"cel": {"expression": expr}}


def build_request(req: RequestSpec, like_selectors: list[str]) -> dict:
    out: dict = {"name": req.name}
    tolerations = [parse_toleration(t) for t in req.tolerations]
    capacity = dict(parse_capacity(c) for c in req.capacity)
    if req.first_available:
        subs, used = [], set()
        for alt in req.first_available:
            cls, _, sel = alt.partition(":")
            base = _label(cls.split(".")[0])
            name, i = base, 1
            while name in used:
                i += 1
                name = f"{base}-{i}"
            used.add(name)
            sub: dict = {"name": name, "deviceClassName": cls}
            if sel.strip():
                sub["selectors"] = [_selector(sel.strip())]
            if tolerations:
                sub["tolerations"] = copy.deepcopy(tolerations)
            if capacity:
                sub["capacity"] = {"requests": dict(capacity)}
            subs.append(sub)
        out["firstAvailable"] = subs
        return out
    exact: dict = {"deviceClassName": req.device_class}
    selectors = list(req.selectors) + list(like_selectors)
    if selectors:
        exact["selectors"] = [_selector(s) for s in selectors]
    if req.all:
        exact["allocationMode"] = "All"
    elif req.count is not None and req.count != 1:
        exact["allocationMode"] = "ExactCount"
        exact["count"] = req.count
    if req.admin_access:
        exact["adminAccess"] = True
    if tolerations:
        exact["tolerations"] = tolerations
    if capacity:
        exact["capacity"] = {"requests": capacity}
    out["exactly"] = exact
    return out


def build_claim_spec(spec: ScaffoldSpec, like: dict[str, list[str]] | None = None) -> dict:
    like = like or {}
    names = [r.name for r in spec.requests]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"request name {dup[0]!r} given twice")
    for r in spec.requests:
        check_request(r, spec.kind)
    devices: dict = {"requests": [build_request(r, like.get(r.name, [])) for r in spec.requests]}
    constraints = [{"matchAttribute": a} for a in spec.match_attributes]
    constraints += [{"distinctAttribute": a} for a in spec.distinct_attributes]
    for c in constraints:
        attr = c.get("matchAttribute") or c.get("distinctAttribute")
        if "/" not in attr:
            raise UsageError(f"constraint attribute {attr!r} must include its domain, e.g. gpu.nvidia.com/{attr}")
    if constraints:
        devices["constraints"] = constraints
    if spec.config is not None:
        devices["config"] = [{"opaque": _opaque(spec)}]
    return {"devices": devices}


def _opaque(spec: ScaffoldSpec) -> dict:
    if not spec.config_driver:
        raise UsageError("--config needs --config-driver DRIVER (the driver that reads those parameters)")
    if not isinstance(spec.config, dict):
        raise InputError("--config: the file must hold one object (the driver's parameters), e.g. "
                         "apiVersion/kind plus its fields")
    return {"driver": spec.config_driver, "parameters": spec.config}


def _meta(spec: ScaffoldSpec, namespaced: bool) -> dict:
    meta: dict = {"name": spec.name}
    if namespaced and spec.namespace:
        meta["namespace"] = spec.namespace
    return meta


def build_v1(spec: ScaffoldSpec, like: dict[str, list[str]] | None = None) -> list[dict]:
    """The objects for ``spec`` in resource.k8s.io/v1 shape (Pods/Deployments: core/apps v1)."""
    kind = spec.kind
    api = f"{GROUP}/v1"
    if kind == "class":
        if spec.requests and any(_request_flags_used(r) for r in spec.requests):
            raise UsageError("class takes --selector (and --config); request flags (--request, --class, --count, "
                             "--all, --first-available, --admin-access, --toleration, --capacity) are for claims")
        cls: dict = {"apiVersion": api, "kind": "DeviceClass", "metadata": _meta(spec, False), "spec": {}}
        if spec.class_selectors or (like or {}).get("*"):
            cls["spec"]["selectors"] = [_selector(s) for s in list(spec.class_selectors) + (like or {}).get("*", [])]
        if spec.config is not None:
            cls["spec"]["config"] = [{"opaque": _opaque(spec)}]
        return [cls]
    if kind == "pod" and spec.claim:
        if any(_request_flags_used(r) for r in spec.requests) or spec.match_attributes or spec.distinct_attributes \
                or spec.config is not None:
            raise UsageError("pod --claim NAME uses an existing claim; request flags would be ignored, drop them")
        return [_workload(spec, claim_name=spec.claim, template_name=None, request_names=[])]
    if not spec.requests:
        raise UsageError(f"{kind} needs at least one request: --class CLASS (or --request NAME --class CLASS ...)")
    claim_spec = build_claim_spec(spec, like)
    if kind == "claim":
        return [{"apiVersion": api, "kind": "ResourceClaim", "metadata": _meta(spec, True), "spec": claim_spec}]
    template = {"apiVersion": api, "kind": "ResourceClaimTemplate", "metadata": _meta(spec, True),
                "spec": {"spec": claim_spec}}
    if kind == "template":
        return [template]
    if kind == "pod":
        template["metadata"]["name"] = f"{spec.name}-devices"
        return [template, _workload(spec, claim_name=None, template_name=template["metadata"]["name"],
                                    request_names=[r.name for r in spec.requests])]
    raise UsageError(f"unknown scaffold type {kind!r} (choose from: claim, template, class, pod)")


def _request_flags_used(r: RequestSpec) -> bool:
    return bool(r.explicit_name or r.device_class or r.count is not None or r.all or r.selectors
                or r.first_available or r.admin_access or r.tolerations or r.capacity or r.like)


def _workload(spec: ScaffoldSpec, claim_name: str | None, template_name: str | None,
              request_names: list[str]) -> dict:
    pod_claim: dict = {"name": "devices"}
    if claim_name:
        pod_claim["resourceClaimName"] = claim_name
    else:
        pod_claim["resourceClaimTemplateName"] = template_name
    container_claims = [{"name": "devices"}] if len(request_names) <= 1 else \
        [{"name": "devices", "request": r} for r in request_names]
    pod_spec = {
        "containers": [{"name": "main", "image": spec.image, "resources": {"claims": container_claims}}],
        "resourceClaims": [pod_claim],
    }
    if not spec.deployment:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(spec, True), "spec": pod_spec}
    labels = {"app": spec.name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(spec, True),
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}}}


# -- API versions ----------------------------------------------------------------------------------------

def _request_to_v1beta1(req: dict) -> dict:
    out = {"name": req["name"]}
    if "exactly" in req:
        out.update(req["exactly"])
    if "firstAvailable" in req:
        out["firstAvailable"] = req["firstAvailable"]
    return out


def to_api_version(obj: dict, version: str) -> dict:
    """A v1-shaped DRA object in ``version`` (v1beta2 has v1's shape; v1beta1 has no ``exactly``)."""
    if version not in API_VERSIONS:
        raise UsageError(f"--api-version {version!r}: choose from {', '.join(API_VERSIONS)}")
    if not str(obj.get("apiVersion", "")).startswith(GROUP + "/"):
        return obj
    obj = copy.deepcopy(obj)
    obj["apiVersion"] = f"{GROUP}/{version}"
    if version != "v1beta1":
        return obj
    spec = obj.get("spec") or {}
    claim_spec = spec.get("spec") if obj["kind"] == "ResourceClaimTemplate" else spec
    if obj["kind"] in ("ResourceClaim", "ResourceClaimTemplate") and claim_spec:
        devices = claim_spec.get("devices") or {}
        if "requests" in devices:
            devices["requests"] = [_request_to_v1beta1(r) for r in devices["requests"]]
    return obj


# -- checks ----------------------------------------------------------------------------------------------

def expressions_of(obj: dict) -> list[tuple[str, str]]:
    """(path, CEL expression) for every selector in a DRA object (any version)."""
    out: list[tuple[str, str]] = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "cel" and isinstance(v, dict) and isinstance(v.get("expression"), str):
                    out.append((f"{path}.cel.expression", v["expression"]))
                else:
                    walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(obj.get("spec"), "spec")
    return out


def check_objects(objs: list[dict], lists: bool = False) -> None:
    """Every DRA object must pass its schema and every selector must compile (raises InputError; ``lists``:
    DRAListTypeAttributes is on, list-type attributes and ``includes()`` compile)."""
    from kubectl_dra.schema import is_dra_object, validate_object
    from kubectl_dra.selection import Verdict, compile_selector

    for obj in objs:
        if not is_dra_object(obj):
            continue
        issues = validate_object(obj)
        if issues:
            raise InputError(f"generated {obj['kind']} is not valid: {issues[0].path}: {issues[0].message}")
        for path, expr in expressions_of(obj):
            compiled = compile_selector(expr, lists=lists)
            if type(compiled) is Verdict:
                from kubectl_dra.selection import list_gate_hint

                hint = list_gate_hint(expr, lists)
                if hint:
                    raise InputError(f"{compiled.message}\n{hint}")
                raise compiled.error  # CelCompileError (an InputError) carries the caret


def build_objects(spec: ScaffoldSpec, like: dict[str, list[str]] | None = None, lists: bool = False) -> list[dict]:
    objs = [to_api_version(o, spec.api_version) for o in build_v1(spec, like)]
    check_objects(objs, lists)
    return objs


# -- from the command line ------------------------------------------------------------------------------

def group_requests(tokens: list[tuple[str, str | None]]) -> list[RequestSpec]:
    """The requests of the request flags, in command-line order: ``--request NAME`` starts one, the request
    flags after it belong to it (before any ``--request``: one request, named after its class)."""
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


def spec_from_flags(kind: str, *, name: str, namespace: str | None, tokens: list[tuple[str, str | None]],
                    match_attributes: list[str] | None = None, distinct_attributes: list[str] | None = None,
                    config_driver: str | None = None, image: str = ScaffoldSpec.image, claim: str | None = None,
                    deployment: bool = False) -> tuple[ScaffoldSpec, list[str]]:
    """The spec the flags describe, and (class only) the --like references that describe the class itself.

    ``tokens``: the request flags as (option, value) in command-line order (see :func:`group_requests`)."""
    requests = group_requests(tokens)
    spec = ScaffoldSpec(kind=kind, name=name, namespace=namespace, requests=requests,
                        match_attributes=list(match_attributes or []),
                        distinct_attributes=list(distinct_attributes or []),
                        config_driver=config_driver, image=image, claim=claim, deployment=deployment)
    class_likes: list[str] = []
    if kind == "class":
        # For a class, --selector and --like describe the class itself.
        for r in requests:
            spec.class_selectors += r.selectors
            r.selectors = []
        class_likes = [x for r in requests for x in r.like]
        for r in requests:
            r.like = []
        requests[:] = [r for r in requests if _request_flags_used(r)]
    return spec, class_likes


def scaffold(spec: ScaffoldSpec, snap=None, *, api_version: str | None = None,
             class_likes: list[str] | None = None, lists: bool = False) -> tuple[list[dict], list[str]]:
    """The objects for ``spec`` (validated) and, with a snapshot, the warnings from checking them against it.

    ``api_version``: as asked (default: what the snapshot's cluster serves, else v1).  With a snapshot,
    ``--like`` references become selectors (``class_likes``: those of a class).  ``lists``:
    DRAListTypeAttributes is on (the snapshot's own setting decides how its devices are read)."""
    spec.api_version = api_version or ((snap.source.resource_api_version if snap else None) or "v1")
    if spec.api_version not in API_VERSIONS:
        spec.api_version = "v1"
    like_map: dict[str, list[str]] = {}
    if snap is not None:
        for r in spec.requests:
            if r.like:
                like_map[r.name] = [like_selector(find_like(snap, ref)) for ref in r.like]
        if class_likes:
            like_map["*"] = [like_selector(find_like(snap, ref)) for ref in class_likes]
    objs = build_objects(spec, like_map, lists)
    warnings: list[str] = []
    if snap is not None:
        # Selectors from --like are part of the request now; check them with the others.
        checked = ScaffoldSpec(**{**spec.__dict__})
        checked.requests = [RequestSpec(**{**r.__dict__, "selectors": r.selectors + like_map.get(r.name, [])})
                            for r in spec.requests]
        checked.class_selectors = spec.class_selectors + like_map.get("*", [])
        warnings = check_against_snapshot(checked, snap)
    return objs, warnings


def explain_lines(obj: dict) -> list[str]:
    """What ``--explain`` says about one scaffolded object (the YAML comments above it)."""
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


# -- cluster-aware helpers -------------------------------------------------------------------------------

def find_like(snap, ref: str):
    """The device named by NODE/POOL/DEVICE or DRIVER/POOL/DEVICE."""
    parts = ref.split("/")
    if len(parts) < 3:
        raise UsageError(f"--like {ref!r}: expected NODE/POOL/DEVICE or DRIVER/POOL/DEVICE")
    first, device = parts[0], parts[-1]
    pool = "/".join(parts[1:-1])
    hits = [d for d in snap.devices if d.name == device and d.pool == pool and (d.driver == first or d.node_name == first)]
    if not hits:
        raise NotFoundError(f"--like {ref!r}: no device {device!r} in pool {pool!r} of a driver or node {first!r}")
    return hits[0]


LIKE_ATTRIBUTES = ("productName", "model", "type")


def like_selector(entry) -> str:
    """A CEL selector matching devices like ``entry``: same driver, model-ish attributes, memory."""
    from kubectl_dra.cel.device import split_qualified_name
    from kubectl_dra.selection import attribute_key

    terms = [f'device.driver == "{entry.driver}"']
    attrs = entry.device.get("attributes") or {}
    for qname, raw in sorted(attrs.items()):
        domain, name = split_qualified_name(qname, entry.driver)
        key = attribute_key(raw) if name in LIKE_ATTRIBUTES and isinstance(raw, dict) else None
        if key is not None and key[0] == "string" and isinstance(key[1], str):
            terms.append(f'device.attributes["{domain}"].{name} == "{key[1]}"')
    for qname, raw in sorted((entry.device.get("capacity") or {}).items()):
        domain, name = split_qualified_name(qname, entry.driver)
        if name == "memory" and isinstance(raw, dict) and raw.get("value") is not None:
            terms.append(f'device.capacity["{domain}"].memory.compareTo(quantity("{raw["value"]}")) == 0')
    return " && ".join(terms)


def class_devices(snap, class_name: str) -> list:
    """Devices that the class's own selectors accept (a runtime error means "not selected"; a
    selector that does not compile raises its CelCompileError).  The class is in the cluster: the
    API server accepted it, so the cost budget is not checked again."""
    from kubectl_dra.selection import MATCH, Verdict, for_snapshot

    cls = snap.device_classes.get(class_name)
    if cls is None:
        return []
    selection = for_snapshot(snap)
    texts = [s["cel"]["expression"] for s in ((cls.get("spec") or {}).get("selectors") or []) if (s or {}).get("cel")]
    for text in texts:
        compiled = selection.compile(text, check_cost=False)
        if type(compiled) is Verdict:
            raise compiled.error
    return [d for d in snap.devices if selection.evaluate_all(texts, d.driver, d.device, check_cost=False) is MATCH]


def check_against_snapshot(spec: ScaffoldSpec, snap, like: dict[str, list[str]] | None = None) -> list[str]:
    """Warnings: unknown classes (with the nearest names) and selectors matching no device (with hints)."""
    import difflib

    from kubectl_dra.cel.diagnostics import diagnose
    from kubectl_dra.selection import MATCH, Verdict, for_snapshot

    selection = for_snapshot(snap)
    warnings: list[str] = []
    classes = sorted(snap.device_classes)

    def check_class(name: str) -> bool:
        if name in snap.device_classes:
            return True
        near = difflib.get_close_matches(name, classes, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else (f"; classes: {', '.join(classes)}" if classes else "")
        warnings.append(f"device class {name!r} does not exist in the cluster{hint}")
        return False

    def check_selectors(where: str, class_name: str | None, selectors: list[str]) -> None:
        pool = class_devices(snap, class_name) if class_name else list(snap.devices)
        for expr in selectors:
            compiled = selection.compile(expr)
            if type(compiled) is Verdict:
                raise compiled.error
            # a runtime error on a device: not a match
            matched = sum(1 for d in pool if selection.evaluate(expr, d.driver, d.device) is MATCH)
            if matched == 0:
                hints = [h.message for h in diagnose(expr, pool or snap.devices)]
                scope = f" of class {class_name}" if class_name else ""
                warnings.append(f"{where}: selector matches none of the {len(pool)} devices{scope}: {expr}"
                                + "".join(f"\n  hint: {h}" for h in hints))

    if spec.kind == "class":
        check_selectors(f"class {spec.name}", None, list(spec.class_selectors))
        return warnings
    for r in spec.requests:
        if r.first_available:
            for alt in r.first_available:
                cls, _, sel = alt.partition(":")
                if check_class(cls) and sel.strip():
                    check_selectors(f"request {r.name} alternative {cls}", cls, [sel.strip()])
        elif r.device_class:
            if check_class(r.device_class):
                check_selectors(f"request {r.name}", r.device_class, list(r.selectors))
    return warnings
