"""JSON Schemas of the resource.k8s.io kinds (v1, v1beta2, v1beta1), and validating objects with them.

The schemas are generated from Kubernetes' OpenAPI v3 documents by ``scripts/gen_schemas.py`` and shipped
in ``kubectl_dra/data/schemas/<version>/<kind>.json`` (see ``schemas/README.md`` for their provenance).

    from kubectl_dra.schema import validate_object
    for issue in validate_object(obj):
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
VERSIONS = ("v1", "v1beta2", "v1beta1")
KINDS = ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice")


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
def load_schema(version: str, kind: str) -> dict:
    """The generated schema for one kind/version; InputError when there is none."""
    if version not in VERSIONS or kind not in KINDS:
        raise InputError(f"no schema for {GROUP}/{version} {kind} (known: {', '.join(KINDS)} in "
                         f"{', '.join(VERSIONS)})")
    ref = resources.files("kubectl_dra") / "data" / "schemas" / version / f"{kind.lower()}.json"
    try:
        return json.loads(ref.read_text(encoding="utf-8"))
    except FileNotFoundError:  # pragma: no cover - packaging error
        raise InputError(f"schema file for {GROUP}/{version} {kind} is missing from the installation") from None


@functools.lru_cache(maxsize=None)
def _validator(version: str, kind: str):
    schema = load_schema(version, kind)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def format_path(parts) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(root)"


def _message(err) -> str:
    v = err.validator
    if v == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        known = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(repr(e) for e in extra)} (allowed: {known})"
    if v == "required":
        return err.message.replace("is a required property", "is required")
    if v == "type":
        return f"must be {err.validator_value}, not {type(err.instance).__name__} {err.instance!r}"
    if v == "oneOf" and any("pattern" in s for s in err.validator_value if isinstance(s, dict)):
        return f"{err.instance!r} is not a Kubernetes quantity (e.g. 16Gi, 500m, 2)"
    if v == "enum":
        return f"{err.instance!r} is not one of {', '.join(repr(x) for x in err.validator_value)}"
    return err.message


def validate_object(obj: Any, version: str | None = None, kind: str | None = None) -> list[SchemaIssue]:
    """Schema issues of one object (empty list when valid), sorted by path.

    ``version``/``kind`` default to the object's own apiVersion/kind.
    """
    if not isinstance(obj, dict):
        return [SchemaIssue("(root)", f"must be an object, not {type(obj).__name__}")]
    api = str(obj.get("apiVersion") or "")
    version = version or (api.split("/", 1)[1] if "/" in api else api)
    kind = kind or obj.get("kind")
    if kind not in KINDS:
        return [SchemaIssue("kind", f"{kind!r} is not a DRA kind ({', '.join(KINDS)})")]
    if version not in VERSIONS:
        return [SchemaIssue("apiVersion", f"{api!r} is not one of "
                                          f"{', '.join(GROUP + '/' + v for v in VERSIONS)}")]
    issues = []
    for err in _validator(version, kind).iter_errors(obj):
        issues.append(SchemaIssue(format_path(err.absolute_path), _message(err)))
    issues.extend(_list_map_issues(obj, load_schema(version, kind), ()))
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
