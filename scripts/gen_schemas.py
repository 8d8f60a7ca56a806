#!/usr/bin/env python3
"""Generate self-contained JSON Schemas of the resource.k8s.io kinds, per Kubernetes release, from its OpenAPI v3 documents.

Usage:
    python scripts/gen_schemas.py [OPENAPI_DIR] [--out kubectl_dra/data/schemas] [--release 1.NN ...]

OPENAPI_DIR (default ../shared/reference/openapi/) holds one directory per release, ``<release>/``, with
the documents ``apis__resource.k8s.io__<version>_openapi.json`` of that release (as in api/openapi-spec/v3
of kubernetes/kubernetes).  When ``<release>/with-enums/`` exists it is read instead: it is what a live
kube-apiserver of that release serves (``OpenAPIEnums`` on by default), so enum values are checked.  Only
``components.schemas`` is read, so full upstream documents and trimmed copies both work.  An optional
``sources.json`` next to the release directories gives the provenance (Kubernetes version, k8s.io/api commit).

Every kind of the group that a document serves (``x-kubernetes-group-version-kind`` on an
``io.k8s.api.resource.*`` schema, ``*List`` kinds left out) is written as
``<out>/<release>/<version>/<kind lower>.json``, and ``<out>/index.json`` says which release serves which
kinds in which version (kubectl_dra.schema reads it).  Each schema:

* has every ``$ref`` inlined (``allOf: [{$ref}]`` wrappers unwrapped), so each file stands alone;
* drops ``description`` and ``default``; types, required, enums, formats are kept;
* pins ``apiVersion`` and ``kind`` to the kind's group/version (``enum``);
* rejects unknown fields on objects that declare ``properties`` (``additionalProperties: false``), like the
  API server's strict field validation that ``kubectl apply`` uses by default;
* gives Quantity (``oneOf: string|number``) the quantity grammar as a ``pattern`` on the string branch,
  ``format: int32/int64`` the matching ``minimum``/``maximum``;
  ``x-kubernetes-int-or-string`` becomes ``anyOf: [integer, string]`` and
  ``x-kubernetes-preserve-unknown-fields`` keeps unknown fields allowed;
* keeps ``x-kubernetes-list-type`` / ``x-kubernetes-list-map-keys`` / ``x-kubernetes-map-type`` as
  annotations (ignored by JSON Schema validators, used by kubectl_dra.schema for duplicate-key checks).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

GROUP = "resource.k8s.io"
REF_PREFIX = "#/components/schemas/"
RESOURCE_SCHEMA_PREFIX = "io.k8s.api.resource."
DOC_RE = re.compile(r"^apis__resource\.k8s\.io__(v[0-9a-z]+)_openapi\.json$")
RELEASE_RE = re.compile(r"^1\.[0-9]+$")
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# <signedNumber><suffix>, suffix = binarySI | decimalSI | decimalExponent (the grammar in Quantity's docs).
QUANTITY_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
KEEP_X = ("x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type")
INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class GenError(Exception):
    pass


def load_components(path: Path) -> dict:
    if not path.is_file():
        raise GenError(f"missing OpenAPI document {path}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    try:
        return doc["components"]["schemas"]
    except (KeyError, TypeError):
        raise GenError(f"{path}: no components.schemas") from None


def served_kinds(schemas: dict, version: str) -> dict[str, str]:
    """kind -> schema name, for every top-level kind of the group this document serves (no ``*List``)."""
    out = {}
    for name, s in schemas.items():
        if not name.startswith(RESOURCE_SCHEMA_PREFIX):
            continue  # meta types (DeleteOptions, WatchEvent) list every group version too
        for gvk in s.get("x-kubernetes-group-version-kind", ()) or ():
            kind = gvk.get("kind") or ""
            if gvk.get("group") == GROUP and gvk.get("version") == version and not kind.endswith("List"):
                out[kind] = name
    if not out:
        raise GenError(f"no {GROUP}/{version} kind in the document")
    return dict(sorted(out.items()))


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


def release_documents(openapi_dir: Path, release: str) -> dict[str, Path]:
    """version -> document of one release (``with-enums/`` when present: what a live server serves)."""
    base = openapi_dir / release
    if (base / "with-enums").is_dir():
        base = base / "with-enums"
    docs = {}
    for path in sorted(base.glob("*.json")) if base.is_dir() else ():
        m = DOC_RE.match(path.name)
        if m:
            docs[m.group(1)] = path
    if not docs:
        raise GenError(f"no apis__{GROUP}__<version>_openapi.json documents in {base}")
    return docs


def find_releases(openapi_dir: Path) -> list[str]:
    if not openapi_dir.is_dir():
        raise GenError(f"missing OpenAPI directory {openapi_dir}")
    found = [p.name for p in openapi_dir.iterdir() if p.is_dir() and RELEASE_RE.match(p.name)]
    if not found:
        raise GenError(f"no release directories (1.NN/) in {openapi_dir}")
    return sorted(found, key=lambda r: int(r.split(".")[1]))


def provenance(openapi_dir: Path, release: str) -> dict:
    """What sources.json says about a release (empty when there is no sources.json)."""
    try:
        info = json.loads((openapi_dir / "sources.json").read_text(encoding="utf-8"))["releases"][release]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    out = {}
    if info.get("kubernetes_version"):
        out["kubernetes"] = info["kubernetes_version"]
    api = info.get("k8s.io/api") or {}
    if api.get("commit"):
        out["k8s.io/api"] = f"{api.get('tag', '')}@{api['commit']}".lstrip("@")
    return out


def build_release(openapi_dir: Path, release: str) -> tuple[dict[tuple[str, str], dict], dict]:
    """The schemas of one release, keyed (version, kind), and its index entry."""
    result = {}
    served: dict[str, list[str]] = {}
    docs = release_documents(openapi_dir, release)
    for version, path in docs.items():
        schemas = load_components(path)
        for kind, name in served_kinds(schemas, version).items():
            s = convert(schemas[name], schemas, (name,))
            props = s.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{GROUP}/{version}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            s["required"] = sorted(set(s.get("required", [])) | {"apiVersion", "kind"},
                                   key=lambda r: ("apiVersion", "kind", "metadata").index(r) if r in ("apiVersion", "kind", "metadata") else 9)
            result[(version, kind)] = {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "$id": f"https://kubectl-dra.invalid/schemas/{release}/{version}/{kind.lower()}.json",
                "title": f"{kind} ({GROUP}/{version}, Kubernetes {release})",
                "$comment": f"Generated by scripts/gen_schemas.py from {name} in {release}/"
                            f"{path.parent.name + '/' if path.parent.name == 'with-enums' else ''}{path.name}. Do not edit.",
                **s,
            }
            served.setdefault(version, []).append(kind)
    entry = {**provenance(openapi_dir, release),
             "openapi": "with-enums" if any(p.parent.name == "with-enums" for p in docs.values()) else "published",
             "served": {v: sorted(k) for v, k in sorted(served.items())}}
    return result, entry


def write(release: str, result: dict, out: Path) -> list[Path]:
    written = []
    for (version, kind), schema in sorted(result.items()):
        path = out / release / version / f"{kind.lower()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("openapi_dir", nargs="?", default="../shared/reference/openapi/")
    ap.add_argument("--out", default="kubectl_dra/data/schemas",
                    help="where to write <release>/<version>/<kind>.json and index.json (default: the package's copy)")
    ap.add_argument("--release", action="append", metavar="1.NN",
                    help="only these releases (repeatable; default: every 1.NN/ directory)")
    args = ap.parse_args(argv)
    openapi_dir, out = Path(args.openapi_dir), Path(args.out)
    try:
        releases = args.release or find_releases(openapi_dir)
        built = {r: build_release(openapi_dir, r) for r in releases}
    except (GenError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    index_path = out / "index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8")) if args.release else {}
    except (OSError, ValueError):
        index = {}
    releases_index = dict(index.get("releases") or {})
    written = []
    for release, (result, entry) in built.items():
        if (out / release).exists():
            shutil.rmtree(out / release)
        written += write(release, result, out)
        releases_index[release] = entry
    ordered = dict(sorted(releases_index.items(), key=lambda kv: int(kv[0].split(".")[1])))
    out.mkdir(parents=True, exist_ok=True)
    index_path.write_text(json.dumps({"$comment": "Generated by scripts/gen_schemas.py. Do not edit.",
                                      "releases": ordered}, indent=1) + "\n", encoding="utf-8")
    for p in written + [index_path]:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
