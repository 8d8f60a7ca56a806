"""Checks of DRA manifests: schema, CEL, references and satisfiability (``kubectl dra validate``).

:func:`validate_documents` takes the manifests under test (file, 1-based document index, object) and,
optionally, a Snapshot of the cluster they will be applied to; it returns diagnostics (plain dicts):

    {"file", "document", "kind", "name", "path", "severity": "error"|"warning", "code", "message"}

Codes: parse, schema, name, request-shape, constraint-domain, cel-compile, cel-hint (offline and cluster
hints from kubectl_dra.cel.diagnostics), class-missing, cel-runtime, no-match, unsatisfiable, taint-rule
(a DeviceTaintRule warning: a selector that selects everything, or none).
"""

from __future__ import annotations

from typing import Any, Iterable

from kubectl_dra.schema import is_dra_object, validate_object
from kubectl_dra.selection import MATCH, Verdict, compile_selector, for_snapshot, list_gate_hint

CLAIM_KINDS = ("ResourceClaim", "ResourceClaimTemplate")
# Hints that compare with published devices: meaningless offline.
NEEDS_DEVICES = ("unknown-domain", "unknown-name", "unknown-value")


def _diag(file, doc, obj, path, severity, code, message) -> dict:
    meta = (obj or {}).get("metadata") or {} if isinstance(obj, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    return {"file": file, "document": doc, "kind": (obj or {}).get("kind") if isinstance(obj, dict) else None,
            "name": meta.get("name") or meta.get("generateName"), "path": path, "severity": severity,
            "code": code, "message": message}


def _claim_spec(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "ResourceClaimTemplate":
        return spec.get("spec") or {}
    return spec


def _claim_prefix(obj: dict, version: str) -> str:
    return "spec.spec.devices" if obj.get("kind") == "ResourceClaimTemplate" else "spec.devices"


def _requests_v1(obj_v1: dict) -> list[dict]:
    return ((_claim_spec(obj_v1).get("devices") or {}).get("requests")) or []


def selector_sites(obj_v1: dict) -> list[dict]:
    """Every (request, alternative) that selects devices: path, class, selectors, count/mode."""
    sites = []
    if obj_v1.get("kind") == "DeviceClass":
        for i, s in enumerate((obj_v1.get("spec") or {}).get("selectors") or []):
            expr = ((s or {}).get("cel") or {}).get("expression")
            if isinstance(expr, str):
                sites.append({"path": f"spec.selectors[{i}].cel.expression", "expression": expr,
                              "class": None, "request": None})
        return sites
    if obj_v1.get("kind") not in CLAIM_KINDS:
        return sites
    base = _claim_prefix(obj_v1, "v1")
    for ri, r in enumerate(_requests_v1(obj_v1)):
        alts = [("exactly", r.get("exactly"))] if r.get("exactly") else \
            [(f"firstAvailable[{si}]", s) for si, s in enumerate(r.get("firstAvailable") or [])]
        for where, req in alts:
            if not isinstance(req, dict):
                continue
            for i, s in enumerate(req.get("selectors") or []):
                expr = ((s or {}).get("cel") or {}).get("expression")
                if isinstance(expr, str):
                    sites.append({"path": f"{base}.requests[{ri}].{where}.selectors[{i}].cel.expression",
                                  "expression": expr, "class": req.get("deviceClassName"),
                                  "request": r.get("name")})
    return sites


def shape_finding(v1: dict) -> tuple[str, str] | None:
    """(path, message) of the first wrongly typed field of the v1 object (kubectl_dra.shape), else None."""
    from kubectl_dra import shape

    try:
        shape.check_all([v1])
    except shape.ShapeInputError as e:
        return e.field or "(root)", e.problem
    return None


def _v1_path(path: str, version: str) -> str:
    """Map a v1 path to the document's own shape (v1beta1 has no `exactly`)."""
    return path.replace(".exactly.", ".") if version == "v1beta1" else path


def offline_checks(file, doc, obj: dict, release: str | None = None,
                   lists: bool = False) -> tuple[list[dict], dict | None]:
    """Checks that need no cluster, under Kubernetes ``release``'s schemas (default: the newest); returns
    (diagnostics, the object in v1 shape or None)."""
    from kubectl_dra.cel.diagnostics import diagnose
    from kubectl_dra.normalize import normalize_object

    out: list[dict] = []
    for issue in validate_object(obj, release=release):
        out.append(_diag(file, doc, obj, issue.path, "error", "schema", issue.message))
    meta = obj.get("metadata") or {}
    if isinstance(meta, dict) and not meta.get("name") and not meta.get("generateName"):
        out.append(_diag(file, doc, obj, "metadata.name", "error", "name", "metadata.name is required"))
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    try:
        v1 = normalize_object(obj)
    except Exception as e:  # noqa: BLE001 - unsupported versions are already schema errors
        if not out:
            out.append(_diag(file, doc, obj, "apiVersion", "error", "schema", str(e)))
        return out, None
    if not isinstance(v1, dict) or not isinstance(v1.get("spec", {}), dict):
        return out, None
    bad = shape_finding(v1)
    if bad is not None:
        # A field of the wrong type: the checks below (and the cluster's) read typed fields only.
        path, message = bad
        if not any(d["code"] == "schema" for d in out):
            out.append(_diag(file, doc, obj, _v1_path(path, version), "error", "schema", message))
        return out, None
    if obj.get("kind") in CLAIM_KINDS:
        base = _claim_prefix(obj, version)
        for ri, r in enumerate(_requests_v1(v1)):
            if not isinstance(r, dict):
                continue
            path = f"{base}.requests[{ri}]"
            has_exact, has_first = bool(r.get("exactly")), bool(r.get("firstAvailable"))
            if has_exact == has_first:
                what = "both" if has_exact else "neither"
                want = "deviceClassName or firstAvailable" if version == "v1beta1" else "exactly or firstAvailable"
                out.append(_diag(file, doc, obj, path, "error", "request-shape",
                                 f"request {r.get('name')!r} sets {what} of {want}; exactly one is required"))
            ex = r.get("exactly") or {}
            if ex.get("allocationMode") == "All" and ex.get("count") is not None:
                out.append(_diag(file, doc, obj, _v1_path(path + ".exactly.count", version), "error", "request-shape",
                                 "count is only used with allocationMode ExactCount, not All"))
        for ci, c in enumerate((_claim_spec(v1).get("devices") or {}).get("constraints") or []):
            for key in ("matchAttribute", "distinctAttribute"):
                attr = (c or {}).get(key)
                if isinstance(attr, str) and "/" not in attr:
                    out.append(_diag(file, doc, obj, f"{base}.constraints[{ci}].{key}", "error", "constraint-domain",
                                     f"{key} {attr!r} must include the attribute's domain, e.g. "
                                     f"gpu.example.com/{attr}"))
    for site in selector_sites(v1):
        path = _v1_path(site["path"], version)
        compiled = compile_selector(site["expression"], lists=lists)
        if type(compiled) is Verdict:
            hint = list_gate_hint(site["expression"], lists)
            out.append(_diag(file, doc, obj, path, "error", "cel-compile",
                             compiled.message + (f"\n{hint}" if hint else "")))
            continue
        for h in diagnose(site["expression"], []):
            if h.kind in NEEDS_DEVICES:
                continue  # without devices every name is "unknown"
            out.append(_diag(file, doc, obj, path, "warning", "cel-hint", h.message))
    return out, v1


def _class_pool(snap, class_name: str, class_exprs_cache: dict) -> list:
    from kubectl_dra.analysis.scaffold import class_devices

    if class_name not in class_exprs_cache:
        class_exprs_cache[class_name] = class_devices(snap, class_name)
    return class_exprs_cache[class_name]


def cluster_checks(file, doc, obj: dict, v1: dict, snap, cache: dict) -> list[dict]:
    from kubectl_dra.cel.diagnostics import diagnose

    out: list[dict] = []
    selection = for_snapshot(snap)
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    if obj.get("kind") in CLAIM_KINDS:
        base = _claim_prefix(obj, version)
        for ri, r in enumerate(_requests_v1(v1)):
            alts = [("exactly", r.get("exactly"))] if r.get("exactly") else \
                [(f"firstAvailable[{si}]", s) for si, s in enumerate(r.get("firstAvailable") or [])]
            for where, req in alts:
                cls = (req or {}).get("deviceClassName")
                if cls and cls not in snap.device_classes:
                    import difflib

                    near = difflib.get_close_matches(cls, sorted(snap.device_classes), n=3, cutoff=0.5)
                    out.append(_diag(file, doc, obj, _v1_path(f"{base}.requests[{ri}].{where}.deviceClassName", version),
                                     "error", "class-missing", f"device class {cls!r} does not exist"
                                     + (f"; did you mean {', '.join(near)}?" if near else "")))
    # Selectors: runtime errors, hints against real devices, and "matches nothing".
    site_matches: dict[str, list] = {}
    for site in selector_sites(v1):
        path = _v1_path(site["path"], version)
        text = site["expression"]
        if type(selection.compile(text)) is Verdict:
            continue  # reported offline
        pool = _class_pool(snap, site["class"], cache) if site["class"] else list(snap.devices)
        if site["class"] and site["class"] not in snap.device_classes:
            continue
        matched, errors = [], {}
        for d in pool:
            verdict = selection.evaluate(text, d.driver, d.device)
            if verdict is MATCH:
                matched.append(d)
            elif verdict.failed:
                errors.setdefault(verdict.message, []).append(d)
        for msg, devs in errors.items():
            out.append(_diag(file, doc, obj, path, "error", "cel-runtime",
                             f"fails on {len(devs)} device(s), e.g. {devs[0].driver}/{devs[0].pool}/{devs[0].name}: {msg}"))
        for h in diagnose(site["expression"], pool or snap.devices):
            out.append(_diag(file, doc, obj, path, "warning", "cel-hint", h.message))
        if not matched:
            scope = f" of class {site['class']}" if site["class"] else ""
            out.append(_diag(file, doc, obj, path, "warning", "no-match",
                             f"selector matches none of the {len(pool)} devices{scope}"))
        site_matches[site["path"]] = matched
    if obj.get("kind") in CLAIM_KINDS:
        out += _satisfiability(file, doc, obj, v1, snap, cache, version)
    return out


def _satisfiability(file, doc, obj, v1, snap, cache, version) -> list[dict]:
    """Requests no node can ever satisfy: fewer matching devices on the best node than asked for."""
    selection = for_snapshot(snap)
    out = []
    base = _claim_prefix(obj, version)
    nodes = list(snap.nodes.values())
    for ri, r in enumerate(_requests_v1(v1)):
        alts = [r["exactly"]] if r.get("exactly") else list(r.get("firstAvailable") or [])
        best_reason = None
        satisfiable = False
        for req in alts:
            cls = req.get("deviceClassName")
            if not cls or cls not in snap.device_classes:
                satisfiable = True  # reported as class-missing; do not pile on
                break
            try:
                texts = [s["cel"]["expression"] for s in req.get("selectors") or [] if (s or {}).get("cel")]
            except Exception:  # noqa: BLE001 - malformed selectors are reported offline
                satisfiable = True
                break
            if any(type(selection.compile(t)) is Verdict for t in texts):
                satisfiable = True  # compile errors are reported offline
                break
            # a runtime error on a device: not a matching device
            matching = [d for d in _class_pool(snap, cls, cache)
                        if selection.evaluate_all(texts, d.driver, d.device) is MATCH]
            mode_all = req.get("allocationMode") == "All"
            want = 1 if mode_all else int(req.get("count") or 1)
            best, best_node = 0, None
            for n in nodes or [None]:
                c = sum(1 for d in matching if d.available_on(n))
                if c > best:
                    best, best_node = c, (n or {}).get("metadata", {}).get("name") if n else None
            if not nodes:
                best = len(matching)
            if best >= want:
                satisfiable = True
                break
            where = f" (most on one node: {best}" + (f", {best_node})" if best_node else ")")
            best_reason = (f"asks for {'all (at least 1)' if mode_all else want} device(s) of class {cls}"
                           f" but no node has that many matching devices{where}")
        if not satisfiable and best_reason:
            if len(alts) > 1:
                best_reason = f"none of the {len(alts)} firstAvailable alternatives fits; last: {best_reason}"
            out.append(_diag(file, doc, obj, f"{base}.requests[{ri}]", "error", "unsatisfiable",
                             f"request {r.get('name')!r} can never be satisfied: {best_reason}"))
    return out


def validate_documents(docs: Iterable[tuple[str, int, Any]], snap=None, release: str | None = None,
                       lists: bool = False) -> list[dict]:
    """Every document's findings (``lists``: DRAListTypeAttributes is on: selectors compile with list types)."""
    out: list[dict] = []
    cache: dict = {}
    for file, doc, obj in docs:
        if not isinstance(obj, dict):
            out.append(_diag(file, doc, None, "(root)", "error", "parse", "not a Kubernetes object"))
            continue
        if _is_taint_rule(obj):
            out += taint_rule_checks(file, doc, obj, snap, release)
            continue
        if not is_dra_object(obj):
            api = str(obj.get("apiVersion") or "")
            if api.startswith("resource.k8s.io/"):
                issues = validate_object(obj, release=release)
                out += [_diag(file, doc, obj, i.path, "error", "schema", i.message) for i in issues]
            elif obj.get("kind") == "Pod" and api == "v1":
                out += _legacy_pod_claims(file, doc, obj)
            continue  # Pods, Nodes, ...: not ours to validate
        diags, v1 = offline_checks(file, doc, obj, release, lists)
        out += diags
        if snap is not None and v1 is not None:
            out += cluster_checks(file, doc, obj, v1, snap, cache)
    return out


def _legacy_pod_claims(file, doc, pod: dict) -> list[dict]:
    """The pre-1.31 ``spec.resourceClaims[].source`` form: an unknown field to the API server since 1.31
    (strict decoding refuses it), reported with the current field names (normalize's message)."""
    from kubectl_dra.errors import InputError
    from kubectl_dra.normalize import check_pod_claim_references

    try:
        check_pod_claim_references(pod)
    except InputError as e:
        entries = (pod.get("spec") or {}).get("resourceClaims") or []
        i = next(i for i, entry in enumerate(entries) if isinstance(entry, dict) and "source" in entry)
        path = f"spec.resourceClaims[{i}].source"
        message = e.message.split(": ", 1)[1] if e.message.startswith("Pod ") else e.message
        return [_diag(file, doc, pod, path, "error", "schema", message)]
    return []


def _is_taint_rule(obj: Any) -> bool:
    return (isinstance(obj, dict) and obj.get("kind") == "DeviceTaintRule"
            and str(obj.get("apiVersion") or "").split("/", 1)[0] == "resource.k8s.io")


def taint_rule_checks(file, doc, obj: dict, snap=None, release: str | None = None) -> list[dict]:
    """A DeviceTaintRule against its release's API (kubectl_dra.taintrules.check_rule): ``release`` when
    given (validate --kubernetes-version), else the release of the cluster when one is given, else the newest."""
    from kubectl_dra.features import defaults_for_version
    from kubectl_dra.normalize import TAINT_RULE_VERSIONS
    from kubectl_dra.taintrules import check_rule, minor_of

    version = str(obj.get("apiVersion") or "").rpartition("/")[2]
    if version not in TAINT_RULE_VERSIONS:
        return [_diag(file, doc, obj, "apiVersion", "error", "schema",
                      f"{obj.get('apiVersion')!r} does not serve DeviceTaintRule (resource.k8s.io/"
                      f"{' or resource.k8s.io/'.join(TAINT_RULE_VERSIONS)})")]
    minor = minor_of(defaults_for_version(release if release else
                                          snap.source.server_version if snap is not None else None))
    # The release's schema says what the API server refuses (served versions, fields, enums); check_rule adds
    # the warnings (selectors that select everything or nothing) and what the schema cannot say, never a second
    # finding for a path the schema already reported.
    out = [_diag(file, doc, obj, i.path, "error", "schema", i.message)
           for i in validate_object(obj, release=release or f"1.{minor}")]
    reported = {d["path"] for d in out}
    out += [_diag(file, doc, obj, path, severity, "schema" if severity == "error" else "taint-rule", message)
            for path, severity, message in check_rule(obj, minor)
            if severity != "error" or not any(path == p or path.startswith(p + ".") or p.startswith(path + ".")
                                              for p in reported)]
    meta = obj.get("metadata") or {}
    if isinstance(meta, dict) and not meta.get("name") and not meta.get("generateName"):
        out.append(_diag(file, doc, obj, "metadata.name", "error", "name", "metadata.name is required"))
    if snap is not None and not any(d["severity"] == "error" for d in out):
        out += _rule_on_cluster(file, doc, obj, snap, minor, warned={d["path"] for d in out})
    return out


def _rule_on_cluster(file, doc, obj: dict, snap, minor: int, warned: set) -> list[dict]:
    """Against the cluster's devices (kube-scheduler's reading of the selector): a rule that selects none of
    them (naming the selector value no device has), or every one of them (said offline already when the
    selector is empty)."""
    from kubectl_dra.analysis.taintrule import selected_devices
    from kubectl_dra.taintrules import selector_of

    total = len(snap.devices)
    if not total:
        return []
    selected = len(selected_devices(snap, obj, minor))
    path = "spec.deviceSelector"
    if selected == total and path not in warned:
        return [_diag(file, doc, obj, path, "warning", "taint-rule",
                      f"selects every one of the {total} devices in the cluster: every claim on them is affected")]
    if selected:
        return []
    sel = selector_of(obj) or {}
    why = ""
    for field, have in (("driver", {d.driver for d in snap.devices}), ("pool", {d.pool for d in snap.devices}),
                        ("device", {d.name for d in snap.devices})):
        value = sel.get(field)
        if isinstance(value, str) and value not in have:
            import difflib

            near = difflib.get_close_matches(value, sorted(have), n=1, cutoff=0.6)
            why = f": no device has {field} {value!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
            break
    return [_diag(file, doc, obj, path, "warning", "taint-rule",
                  f"selects none of the {total} devices in the cluster{why}")]


def summary(diags: list[dict], files: list[str], objects: int, release: str | None = None) -> dict:
    from kubectl_dra.schema import check_release

    errors = sum(1 for d in diags if d["severity"] == "error")
    return {"files": files, "objects": objects, "kubernetesVersion": check_release(release), "errors": errors,
            "warnings": len(diags) - errors, "diagnostics": diags}


def check_manifests(docs: Iterable[tuple[str, int, Any]], files: list[str], unparsable: list[tuple[str, str]],
                    snap=None, release: str | None = None, lists: bool = False) -> dict:
    """The `validate` report: files that do not parse, then every document's findings under Kubernetes
    ``release``'s schemas (default: the newest; against ``snap``'s cluster state when given), with the counts.
    ``lists``: DRAListTypeAttributes is on (list-type attributes and ``includes()`` in selectors)."""
    docs = list(docs)
    diags = [_diag(f, None, None, "(file)", "error", "parse", message) for f, message in unparsable]
    diags += validate_documents(docs, snap, release, lists)
    objects = sum(1 for _, _, o in docs if isinstance(o, dict) and (is_dra_object(o) or _is_taint_rule(o)))
    return summary(diags, files, objects, release)
