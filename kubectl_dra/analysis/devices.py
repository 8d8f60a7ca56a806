"""Facts about devices: display values, class matching, holders."""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.selection import MATCH, NO_MATCH, Kind, attribute_plain, for_snapshot
from kubectl_dra.snapshot import DeviceEntry, Snapshot

# Attributes people look for first, by bare name (any domain).
KEY_ATTRIBUTES = ("productName", "model", "type", "architecture", "profile", "family", "index", "driverVersion")
KEY_CAPACITY = ("memory", "cores", "multiprocessors", "bandwidth", "millicores")


def attribute_text(attr: Mapping[str, Any]) -> str:
    v = attribute_plain(attr)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def bare(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def qualified(name: str, driver: str) -> str:
    return name if "/" in name else f"{driver}/{name}"


def device_attributes(entry: DeviceEntry) -> dict[str, Any]:
    """Attributes as {qualified name: plain value}."""
    return {qualified(k, entry.driver): attribute_plain(v) for k, v in (entry.device.get("attributes") or {}).items()}


def device_capacity(entry: DeviceEntry) -> dict[str, str]:
    return {qualified(k, entry.driver): str((v or {}).get("value")) for k, v in (entry.device.get("capacity") or {}).items()}


def summary_attributes(entry: DeviceEntry) -> str:
    attrs = entry.device.get("attributes") or {}
    by_bare = {bare(k): v for k, v in attrs.items()}
    parts = [f"{k}={attribute_text(by_bare[k])}" for k in KEY_ATTRIBUTES if k in by_bare]
    return ",".join(parts[:3])


def summary_capacity(entry: DeviceEntry) -> str:
    cap = entry.device.get("capacity") or {}
    by_bare = {bare(k): v for k, v in cap.items()}
    parts = [f"{k}={(by_bare[k] or {}).get('value')}" for k in KEY_CAPACITY if k in by_bare]
    if not parts:
        parts = [f"{bare(k)}={(v or {}).get('value')}" for k, v in list(cap.items())[:2]]
    return ",".join(parts)


def taints_text(entry: DeviceEntry) -> str:
    out = []
    for t in entry.device.get("taints") or []:
        kv = t.get("key", "") + (f"={t['value']}" if t.get("value") else "")
        out.append(f"{kv}:{t.get('effect', '')}")
    return ",".join(out)


def selector_expressions(selectors) -> list[str]:
    """CEL texts of a DeviceClass's or request's ``selectors`` list."""
    return [((sel.get("cel") or {}).get("expression") or "") for sel in selectors or []]


def device_label(entry: DeviceEntry) -> str:
    """driver/pool/device, and the node when the device is node-local: how errors name a device."""
    label = f"{entry.driver}/{entry.pool}/{entry.name}"
    return f"{label} (node {entry.node_name})" if entry.node_name else label


class ClassMatcher:
    """DeviceClass and request selectors on the snapshot's devices, worded for explanations:
    ``(passes, error message or None)``; an error never passes (see :mod:`kubectl_dra.selection`
    for the verdicts and their cache, shared by everything that looks at this snapshot)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.selection = for_snapshot(snapshot)

    def class_selectors(self, class_name: str) -> list[str]:
        cls = self.snapshot.device_classes.get(class_name) or {}
        return selector_expressions((cls.get("spec") or {}).get("selectors"))

    def passes(self, expressions, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(all selectors true, error message or None); stops at the first false or failing selector.
        A runtime error's message names the device; a compile error's is the compiler's text."""
        verdict = self.selection.evaluate_all(expressions, entry.driver, entry.device)
        if verdict is MATCH:
            return True, None
        if verdict is NO_MATCH:
            return False, None
        if verdict.kind is Kind.RUNTIME_ERROR:
            return False, f"device {device_label(entry)}: {verdict.message}"
        return False, verdict.message  # the compile error

    def matches(self, class_name: str, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(matches, error message or None) for one device against one class."""
        return self.passes(self.class_selectors(class_name), entry)
