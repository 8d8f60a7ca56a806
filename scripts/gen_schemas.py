#!/usr/bin/env python3
"""Generate self-contained JSON Schemas for the resource.k8s.io kinds from Kubernetes' OpenAPI v3 documents.

Usage:
    python scripts/gen_schemas.py [OPENAPI_DIR] [--out schemas] [--package-out kubectl_dra/data/schemas]
                                  [--source "kubernetes/kubernetes@<commit>"]

OPENAPI_DIR (default ../shared/reference/openapi/) holds the upstream files
``apis__resource.k8s.io__<version>_openapi.json`` (as in api/openapi-spec/v3 of kubernetes/kubernetes).
Only ``components.schemas`` is read, so the full upstream documents and trimmed copies both work.

For each of DeviceClass, ResourceClaim, ResourceClaimTemplate and ResourceSlice in v1, v1beta2 and
v1beta1 the generator writes ``<out>/<version>/<kind lower>.json``:

* every ``$ref`` is inlined (``allOf: [{$ref}]`` wrappers unwrapped), so each file stands alone;
* ``description`` and ``default`` are dropped; types, required, enums, formats are kept;
* ``apiVersion`` and ``kind`` are pinned to the kind's group/version (``enum``);
* objects that declare ``properties`` reject unknown fields (``additionalProperties: false``), like the API
  server's strict field validation that ``kubectl apply`` uses by default;
* Quantity (``oneOf: string|number``) gets the quantity grammar as a ``pattern`` on the string branch;
  ``format: int32/int64`` gets the matching ``minimum``/``maximum``;
  ``x-kubernetes-int-or-string`` becomes ``anyOf: [integer, string]`` and
  ``x-kubernetes-preserve-unknown-fields`` keeps unknown fields allowed;
* ``x-kubernetes-list-type`` / ``x-kubernetes-list-map-keys`` / ``x-kubernetes-map-type`` are kept as
  annotations (ignored by JSON Schema validators, used by kubectl_dra.schema for duplicate-key checks).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

GROUP = "resource.k8s.io"
VERSIONS = ("v1", "v1beta2", "v1beta1")
KINDS = ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice")
REF_PREFIX = "#/components/schemas/"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# <signedNumber><suffix>, suffix = binarySI | decimalSI | decimalExponent (the grammar in Quantity's docs).
QUANTITY_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
KEEP_X = ("x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type")
INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class GenError(Exception):
    pass


def load_components(openapi_dir: Path, version: str) -> dict:
    path = openapi_dir / f"apis__{GROUP}__{version}_openapi.json"
    if not path.is_file():
        raise GenError(f"missing OpenAPI document {path}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    try:
        return doc["components"]["schemas"]
    except (KeyError, TypeError):
        raise GenError(f"{path}: no components.schemas") from None


def find_kind(schemas: dict, version: str, kind: str) -> str:
    for name, s in schemas.items():
        for gvk in s.get("x-kubernetes-group-version-kind", ()) or ():
            if gvk.get("group") == GROUP and gvk.get("version") == version and gvk.get("kind") == kind:
                return name
    raise GenError(f"no schema for {GROUP}/{version} {kind}")


def convert(node, schemas: dict, stack: tuple[str, ...] = ()):
    """Return a JSON Schema for an OpenAPI schema node, references inlined."""
    if isinstance(node, list):
        return [convert(x, schemas, stack) for x in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    # allOf: [{$ref: X}] with only annotations beside it is how openapi-gen attaches a description to a ref.
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        node.pop("allOf")
        node["$ref"] = all_of[0]["$ref"]
    if "$ref" in node:
        ref = node.pop("$ref")
        if not ref.startswith(REF_PREFIX):
            raise GenError(f"unsupported $ref {ref}")
        name = ref[len(REF_PREFIX):]
        if name in stack:
            raise GenError(f"recursive schema {' -> '.join(stack + (name,))}")
        if name not in schemas:
            raise GenError(f"dangling $ref {name}")
        target = convert(schemas[name], schemas, stack + (name,))
        if name == QUANTITY:
            target = {"oneOf": [{"type": "string", "pattern": QUANTITY_PATTERN}, {"type": "number"}]}
        rest = {k: v for k, v in node.items() if k not in ("description", "default")}
        if rest:
            return {**target, **convert(rest, schemas, stack)}
        return target
    out: dict = {}
    for k, v in node.items():
        if k in ("description", "default", "x-kubernetes-group-version-kind"):
            continue
        if k.startswith("x-kubernetes-") and k not in KEEP_X and k not in (
                "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"):
            continue
        if k == "properties":
            out[k] = {pk: convert(pv, schemas, stack) for pk, pv in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = convert(v, schemas, stack) if isinstance(v, dict) else v
        elif k in ("oneOf", "anyOf", "allOf"):
            out[k] = convert(v, schemas, stack)
        else:
            out[k] = v
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    fmt = out.get("format")
    if out.get("type") == "integer" and fmt in INT_BOUNDS:
        out["minimum"], out["maximum"] = INT_BOUNDS[fmt]
    return out


def build(openapi_dir: Path, source: str) -> dict[tuple[str, str], dict]:
    result = {}
    for version in VERSIONS:
        schemas = load_components(openapi_dir, version)
        for kind in KINDS:
            name = find_kind(schemas, version, kind)
            s = convert(schemas[name], schemas, (name,))
            props = s.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{GROUP}/{version}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            s["required"] = sorted(set(s.get("required", [])) | {"apiVersion", "kind"},
                                   key=lambda r: ("apiVersion", "kind", "metadata").index(r) if r in ("apiVersion", "kind", "metadata") else 9)
            result[(version, kind)] = {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "$id": f"https://kubectl-dra.invalid/schemas/{version}/{kind.lower()}.json",
                "title": f"{kind} ({GROUP}/{version})",
                "$comment": f"Generated by scripts/gen_schemas.py from {name} in apis__{GROUP}__{version}_openapi.json"
                            + (f" ({source})" if source else "") + ". Do not edit.",
                **{k: v for k, v in s.items()},
            }
    return result


def write(result: dict, out: Path) -> list[Path]:
    written = []
    for (version, kind), schema in sorted(result.items()):
        path = out / version / f"{kind.lower()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("openapi_dir", nargs="?", default="../shared/reference/openapi/")
    ap.add_argument("--out", default="schemas", help="where to write <version>/<kind>.json (default: schemas)")
    ap.add_argument("--package-out", default="kubectl_dra/data/schemas",
                    help="copy of the schemas shipped inside the package ('' to skip)")
    ap.add_argument("--source", default="", help="provenance recorded in each schema's $comment")
    args = ap.parse_args(argv)
    try:
        result = build(Path(args.openapi_dir), args.source)
    except (GenError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    written = write(result, Path(args.out))
    if args.package_out:
        pkg = Path(args.package_out)
        for version in VERSIONS:
            if (pkg / version).exists():
                shutil.rmtree(pkg / version)
        write(result, pkg)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
