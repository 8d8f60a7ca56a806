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


def age(seconds: int | None) -> str:
    """kubectl's AGE column for an object ``seconds`` old, in the coarsening steps kubectl uses (``90s``,
    ``5m30s``, ``45m``, ``5h20m``, ``30h``, ``3d4h``, ``200d``, ``2y10d``); ``<unknown>`` without a
    creation time, ``<invalid>`` for one in the future."""
    if seconds is None:
        return "<unknown>"
    if seconds < -1:
        return "<invalid>"
    s = max(seconds, 0)
    m, h, d = s // 60, s // 3600, s // 86400

    def pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
        return f"{big}{big_unit}" if small == 0 else f"{big}{big_unit}{small}{small_unit}"

    if s < 120:
        return f"{s}s"
    if m < 10:
        return pair(m, "m", s % 60, "s")
    if m < 180:
        return f"{m}m"
    if h < 8:
        return pair(h, "h", m % 60, "m")
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return pair(d, "d", h % 24, "h")
    if d < 365 * 2:
        return f"{d}d"
    if d < 365 * 8:
        return pair(d // 365, "y", d % 365, "d")
    return f"{d // 365}y"


def _rule_rows(records: list[dict], wide: bool):
    headers = ["NAME", "DRIVER", "POOL", "DEVICE", "EFFECT", "AGE"]
    if wide:
        headers += ["TAINT", "SELECTED", "IN FORCE"]
    rows = []
    for r in records:
        any_ = "<any>" if r["hasSelector"] else "<all>"  # no deviceSelector at all: every device, for the scheduler
        row = [r["name"], r["driver"] or any_, r["pool"] or any_, r["device"] or any_, r["effect"] or "<none>",
               age(r["ageSeconds"])]
        if wide:
            taint = (r["key"] or "") + (f"={r['value']}" if r.get("value") else "")
            force = "yes" if r["inForce"] else f"no: {','.join(r['gatesNeeded'])} off"
            row += [taint or "<none>", f"{r['selected']} of {r['total']}", force]
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
        where = "" if kind in ("devices", "classes", "slices", "taintrules") or all_namespaces else f" in {namespace} namespace"
        sys.stderr.write(f"No {'resources' if kind != 'devices' else 'devices'} found{where}.\n")
        return
    if kind == "devices":
        headers, rows = _device_rows(records, wide)
    elif kind == "taintrules":
        headers, rows = _rule_rows(records, wide)
    else:
        headers, rows = _object_rows(kind, records, wide, all_namespaces)
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
