"""Tables and object lists for `get`."""

from __future__ import annotations

import sys

from kubectl_dra import kinds
from kubectl_dra.render.output import format_table, value_text, write

#: `get` type -> what `-o name` writes before /NAME
_NAME_PREFIX = {k.listing: k.name_prefix for k in kinds.accepted_by(kinds.GET)}


def _holder_text(rec: dict) -> tuple[str, str]:
    claims = ",".join(f"{h['namespace']}/{h['claim']}" + (" (admin)" if h.get("adminAccess") else "")
                      + (" (deleted)" if h.get("deleting") else "") for h in rec["holders"])
    # a PodGroup (or another kind) is named as what it is, never as a pod
    pods = ",".join((c["name"] if c["kind"] == "Pod" else c["label"]) if "consumers" in h else c
                    for h in rec["holders"] for c in (h["consumers"] if "consumers" in h else h["pods"]))
    return claims, pods


def _device_rows(records: list[dict], wide: bool):
    headers = ["NODE", "DRIVER", "POOL", "DEVICE", "ATTRIBUTES", "CAPACITY", "TAINTS", "STATE", "CLAIM", "PODS"]
    if wide:
        headers += ["SLICE", "ALL ATTRIBUTES"]
    rows = []
    for r in records:
        claim, pods = _holder_text(r)
        row = [r["node"], r["driver"], r["pool"], r["device"], r["summary"], r["capacitySummary"],
               r["taintSummary"], r["availability"]["text"], claim, pods]
        if wide:
            row += [r["slice"], ",".join(f"{k.rsplit('/', 1)[-1]}={value_text(v)}" for k, v in r["attributes"].items())]
        rows.append(row)
    return headers, rows


def _object_rows(kind: str, records: list[dict], wide: bool, all_namespaces: bool):
    if kind == "classes":
        headers = ["NAME", "SELECTORS", "DEVICES", "FREE"] + (["CONFIG", "CEL ERRORS", "SELECTOR TEXT"] if wide else [])
        rows = [[r["name"], len(r["selectors"]), r["devices"], r["free"]]
                + ([r["config"], r["errors"], " && ".join(r["selectors"])] if wide else []) for r in records]
    elif kind == "slices":
        headers = ["NAME", "DRIVER", "POOL", "NODE", "DEVICES", "GENERATION", "POOL SLICES"] + (["COUNTER SETS", "STATUS"] if wide else [])
        rows = []
        for r in records:
            status = "stale" if not r["current"] else ("complete" if r["complete"] else "incomplete")
            rows.append([r["name"], r["driver"], r["pool"], r["node"], r["devices"], r["generation"], r["poolSlices"]]
                        + ([r["sharedCounters"], status] if wide else []))
    elif kind == "claims":
        headers = ["NAME", "STATE", "REQUESTS", "NODE", "DEVICES"] + (["RESERVED FOR"] if wide else [])
        rows = [[r["name"], r["state"], "; ".join(r["requests"]), r["node"],
                 ",".join(d.rsplit("/", 1)[-1] for d in r["devices"]) if not wide else ",".join(r["devices"])]
                + ([",".join(r["reservedFor"])] if wide else []) for r in records]
    else:
        headers = ["NAME", "REQUESTS", "CLAIMS"] + (["PODS"] if wide else [])
        rows = [[r["name"], "; ".join(r["requests"]), len(r["claims"])] + ([",".join(r["pods"])] if wide else [])
                for r in records]
    if all_namespaces and kind in ("claims", "templates"):
        headers = ["NAMESPACE"] + headers
        rows = [[r["namespace"]] + row for r, row in zip(records, rows)]
    return headers, rows


def render_text(records: list[dict], *, kind: str, wide: bool = False, no_headers: bool = False,
                all_namespaces: bool = False, namespace: str = "default") -> None:
    """The table of ``records`` (analysis.inventory) of one `get` type (``kind``: devices, classes, ...)."""
    if not records:
        where = "" if kind in ("devices", "classes", "slices") or all_namespaces else f" in {namespace} namespace"
        sys.stderr.write(f"No {'resources' if kind != 'devices' else 'devices'} found{where}.\n")
        return
    headers, rows = _device_rows(records, wide) if kind == "devices" else _object_rows(kind, records, wide, all_namespaces)
    write(format_table(headers, rows, no_headers=no_headers))


def render_names(records: list[dict], *, kind: str) -> None:
    """`-o name`: ``TYPE/NAME`` lines, as kubectl writes them (devices: ``device/DRIVER/POOL/DEVICE``)."""
    if kind == "devices":
        write("".join(f"device/{r['driver']}/{r['pool']}/{r['device']}\n" for r in records))
    else:
        write("".join(f"{_NAME_PREFIX[kind]}/{r['name']}\n" for r in records))


def as_document(records: list[dict], *, kind: str) -> dict:
    """What `-o json|yaml` prints: a List of the objects (devices: their records, without the text summaries)."""
    if kind == "devices":
        items = [{k: v for k, v in r.items() if not k.endswith("Summary") and k != "summary"} for r in records]
    else:
        items = [r["object"] for r in records]
    return {"apiVersion": "v1", "kind": "List", "items": items}
