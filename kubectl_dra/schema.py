"""JSON Schemas of the resource.k8s.io kinds, per Kubernetes release, and validating objects with them.

The schemas are generated from each release's OpenAPI v3 documents (as a live kube-apiserver of that release
serves them) by ``scripts/gen_schemas.py`` and shipped in
``kubectl_dra/data/schemas/<release>/<version>/<kind>.json``; ``index.json`` there says which release serves
which kinds in which versions (see ``schemas/README.md`` for their provenance).

    from kubectl_dra.schema import validate_object
    for issue in validate_object(obj, release="1.34"):
        print(issue.path, issue.message)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from kubectl_dra.errors import InputError

GROUP = "resource.k8s.io"


def _data():
    return resources.files("kubectl_dra") / "data" / "schemas"


@functools.lru_cache(maxsize=None)
def index() -> dict[str, dict[str, tuple[str, ...]]]:
    """release ("1.36") -> version -> kinds it serves, oldest release first."""
    try:
        doc = json.loads((_data() / "index.json").read_text(encoding="utf-8"))
    except FileNotFoundError:  # pragma: no cover - packaging error
        raise InputError("the schema index is missing from the installation") from None
    out = {r: {v: tuple(k) for v, k in (e.get("served") or {}).items()} for r, e in doc["releases"].items()}
    return dict(sorted(out.items(), key=lambda kv: int(kv[0].split(".")[1])))


RELEASES = tuple(index())
NEWEST_RELEASE = RELEASES[-1]
VERSIONS = tuple(sorted({v for served in index().values() for v in served}))
KINDS = tuple(sorted({k for served in index().values() for kinds in served.values() for k in kinds}))


def check_release(text: str | None) -> str:
    """A release with schemas: "1.35" / "v1.35.2" -> "1.35"; None -> the newest. InputError otherwise."""
    if text is None:
        return NEWEST_RELEASE
    import re

    m = re.fullmatch(r"v?(1\.\d+)(\.\d+)?", str(text).strip())
    if not m or m.group(1) not in RELEASES:
        raise InputError(f"no schemas for Kubernetes {text!r} (known: {', '.join(RELEASES)})")
    return m.group(1)


def release_for_server(server_version: str | None) -> tuple[str, str | None]:
    """The schema release for a cluster's ``/version`` ("v1.35.2"): (release, None) when we have its schemas;
    else the nearest release we have, with a sentence saying so (None: unknown -> the newest, silently)."""
    import re

    m = re.match(r"^v?1\.(\d+)", str(server_version or "").strip())
    if not m:
        return NEWEST_RELEASE, None
    minor = int(m.group(1))
    if f"1.{minor}" in RELEASES:
        return f"1.{minor}", None
    oldest, newest = int(RELEASES[0].split(".")[1]), int(NEWEST_RELEASE.split(".")[1])
    near = RELEASES[0] if minor < oldest else NEWEST_RELEASE
    if minor < oldest or minor > newest:
        return near, (f"the cluster runs Kubernetes {server_version}; kubectl-dra has schemas for "
                      f"{RELEASES[0]}-{NEWEST_RELEASE}: checking with {near}'s (--kubernetes-version picks another)")
    return NEWEST_RELEASE, None  # pragma: no cover - a gap inside the known range


def served_versions(kind: str, release: str) -> tuple[str, ...]:
    """The versions of ``kind`` that ``release`` serves (empty when it does not serve the kind)."""
    return tuple(v for v, kinds in index()[release].items() if kind in kinds)


@dataclass(frozen=True)
class SchemaIssue:
    path: str          # JSON path inside the object, e.g. spec.devices.requests[0].exactly.count
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


def is_dra_object(obj: dict) -> bool:
    api = str(obj.get("apiVersion") or "")
    return api.split("/", 1)[0] == GROUP and obj.get("kind") in KINDS


@functools.lru_cache(maxsize=None)
def load_schema(version: str, kind: str, release: str | None = None) -> dict:
    """The generated schema for one kind/version of a release (default: the newest); InputError when
    that release does not serve it."""
    release = check_release(release)
    if version not in served_versions(kind, release):
        raise InputError(f"no schema for {GROUP}/{version} {kind} in Kubernetes {release}")
    ref = _data() / release / version / f"{kind.lower()}.json"
    try:
        return json.loads(ref.read_text(encoding="utf-8"))
    except FileNotFoundError:  # pragma: no cover - packaging error
        raise InputError(f"schema file for {GROUP}/{version} {kind} ({release}) is missing from the installation") from None


@functools.lru_cache(maxsize=None)
def _validator(version: str, kind: str, release: str):
    schema = load_schema(version, kind, release)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _subschema(schema: dict, parts) -> dict | None:
    """The schema of the value at ``parts`` (keys and list indexes) inside an object of ``schema``."""
    node = schema
    for p in parts:
        if not isinstance(node, dict):
            return None
        if isinstance(p, int):
            node = node.get("items")
        elif p in (node.get("properties") or {}):
            node = node["properties"][p]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node if isinstance(node, dict) else None


def _other_releases(version: str, kind: str, release: str, parts, test) -> list[str]:
    """Releases (other than ``release``) whose schema of version/kind passes ``test`` at ``parts``."""
    out = []
    for other in RELEASES:
        if other == release or version not in served_versions(kind, other):
            continue
        sub = _subschema(load_schema(version, kind, other), parts)
        if sub is not None and test(sub):
            out.append(other)
    return out


def format_path(parts) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(root)"


def _message(err, version: str, kind: str, release: str) -> str:
    v = err.validator
    if v == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        known = ", ".join(sorted(err.schema.get("properties", {})))
        text = f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(repr(e) for e in extra)} (allowed: {known})"
        for field in extra:  # a field of another release: say which, the usual cause of this error
            elsewhere = _other_releases(version, kind, release, list(err.absolute_path),
                                        lambda sub, f=field: f in (sub.get("properties") or {}))
            if elsewhere:
                text += f"; {field!r} is a field of Kubernetes {', '.join(elsewhere)}, not of {release}"
                continue
            # the same place in another version of the kind (v1beta1's request.deviceClassName, device.basic)
            others = [v for v in served_versions(kind, release) if v != version and (
                sub := _subschema(load_schema(v, kind, release), list(err.absolute_path))) is not None
                and field in (sub.get("properties") or {})]
            if others:
                text += (f"; {field!r} is a field of {', '.join(GROUP + '/' + v for v in others)} here, "
                         f"not of {version}")
        return text
    if v == "required":
        return err.message.replace("is a required property", "is required")
    if v == "type":
        return f"must be {err.validator_value}, not {type(err.instance).__name__} {err.instance!r}"
    if v == "oneOf" and any("pattern" in s for s in err.validator_value if isinstance(s, dict)):
        return f"{err.instance!r} is not a Kubernetes quantity (e.g. 16Gi, 500m, 2)"
    if v == "enum":
        text = f"{err.instance!r} is not one of {', '.join(repr(x) for x in err.validator_value)}"
        if isinstance(err.instance, str):
            elsewhere = _other_releases(version, kind, release, list(err.absolute_path),
                                        lambda sub: err.instance in (sub.get("enum") or ()))
            if elsewhere:
                text += f" in Kubernetes {release} ({err.instance!r} is accepted by {', '.join(elsewhere)})"
        return text
    return err.message


# Fields the OpenAPI documents mark required that kube-apiserver accepts when omitted: the JSON decoder leaves
# the Go zero value and the release's validation accepts it. (kind, path without list indexes, field.)
_ZERO_VALUE_ACCEPTED = {
    # upstream validateResourcePool (pkg/apis/resource/validation): only generation < 0 is an error
    ("ResourceSlice", ("spec", "pool"), "generation"),
    # An empty DeviceClass (no selectors: "an empty DeviceClass for users to reference", the API docs say) and
    # a claim without requests ("if empty, nothing needs to be allocated") pass ValidateDeviceClass /
    # ValidateResourceClaim(Template): their specs are plain structs, decoded empty when omitted.
    ("DeviceClass", (), "spec"),
    ("ResourceClaim", (), "spec"),
    ("ResourceClaimTemplate", (), "spec"),
    ("ResourceClaimTemplate", ("spec",), "spec"),
}


def _accepted_when_omitted(err, kind: str) -> bool:
    if err.validator not in ("required", "enum"):
        return False
    path = tuple(p for p in err.absolute_path if not isinstance(p, int))
    if path[:1] == ("status",):
        # status is a subresource of every resource.k8s.io kind that has one: a create or an update of the
        # object resets it (the registry strategies' PrepareForCreate / PrepareForUpdate), so only what
        # fails decoding (unknown fields, wrong types, bad quantities) is an error there, not a missing or
        # unlisted value the status validation would catch on a /status write.
        return True
    if err.validator != "required":
        return False
    missing = str(err.message).split("'")[1] if str(err.message).count("'") >= 2 else None
    return (kind, path, missing) in _ZERO_VALUE_ACCEPTED


def _not_served(kind: str, version: str, release: str) -> str:
    """What the API server of ``release`` says to a kind/version it does not serve, with where it is served."""
    here = served_versions(kind, release)
    if here:
        text = (f"Kubernetes {release} does not serve {kind} in {GROUP}/{version}; it serves it in "
                f"{', '.join(GROUP + '/' + v for v in here)}")
        if version == "v1alpha3" and "v1beta1" in here:
            # v1alpha3 -> v1beta1: the same fields, but for ResourceSlice capacities (bare quantities in v1alpha3).
            same = ("the same shape except that device capacities are written {value: QUANTITY}"
                    if kind == "ResourceSlice" else "the same shape")
            text += f" ({version} was its version in Kubernetes 1.31-1.33: {GROUP}/v1beta1 has {same}, or convert it to v1)"
        return text
    minor = int(release.split(".")[1])
    later = [r for r in RELEASES if served_versions(kind, r) and int(r.split(".")[1]) > minor]
    return f"Kubernetes {release} does not serve {kind} in any version" + (f" (served from {later[0]})" if later else "")


def validate_object(obj: Any, version: str | None = None, kind: str | None = None,
                    release: str | None = None) -> list[SchemaIssue]:
    """Schema issues of one object under Kubernetes ``release`` (default: the newest with schemas; empty
    list when valid), sorted by path.

    ``version``/``kind`` default to the object's own apiVersion/kind.
    """
    if not isinstance(obj, dict):
        return [SchemaIssue("(root)", f"must be an object, not {type(obj).__name__}")]
    release = check_release(release)
    api = str(obj.get("apiVersion") or "")
    version = version or (api.split("/", 1)[1] if "/" in api else api)
    kind = kind or obj.get("kind")
    if kind not in KINDS:
        return [SchemaIssue("kind", f"{kind!r} is not a DRA kind ({', '.join(KINDS)})")]
    if version not in served_versions(kind, release):
        return [SchemaIssue("apiVersion", _not_served(kind, version, release))]
    issues = []
    for err in _validator(version, kind, release).iter_errors(obj):
        if _accepted_when_omitted(err, kind):
            continue
        if err.instance is None and err.validator in ("type", "enum", "oneOf", "anyOf"):
            continue  # JSON null decodes as "not set" (creationTimestamp: null in every kubectl --dry-run output)
        issues.append(SchemaIssue(format_path(err.absolute_path), _message(err, version, kind, release)))
    issues.extend(_list_map_issues(obj, load_schema(version, kind, release), ()))
    return sorted(set(issues), key=lambda i: (i.path, i.message))


def _list_map_issues(value, schema: dict, path: tuple) -> list[SchemaIssue]:
    """Duplicate keys in x-kubernetes-list-type: map / set lists (JSON Schema cannot say this)."""
    out: list[SchemaIssue] = []
    if isinstance(value, dict) and isinstance(schema, dict):
        props = schema.get("properties") or {}
        for k, v in value.items():
            sub = props.get(k)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            if sub:
                out += _list_map_issues(v, sub, path + (k,))
    elif isinstance(value, list) and isinstance(schema, dict):
        lt = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: dict = {}
        for i, item in enumerate(value):
            if lt == "map" and isinstance(item, dict):
                ident = tuple(json.dumps(item.get(k), sort_keys=True) for k in keys)
            elif lt == "set":
                ident = json.dumps(item, sort_keys=True)
            else:
                ident = None
            if ident is not None:
                if ident in seen:
                    out.append(SchemaIssue(format_path(path + (i,)),
                                           f"duplicate entry (same {', '.join(keys) or 'value'} as item {seen[ident]})"))
                else:
                    seen[ident] = i
            out += _list_map_issues(item, schema.get("items") or {}, path + (i,))
    return out
