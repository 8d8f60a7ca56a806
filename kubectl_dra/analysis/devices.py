"""Facts about devices: display values, class matching, holders."""

from __future__ import annotations

from typing import Any, Mapping

from kubectl_dra.snapshot import DeviceEntry, Snapshot

# Attributes people look for first, by bare name (any domain).
KEY_ATTRIBUTES = ("productName", "model", "type", "architecture", "profile", "family", "index", "driverVersion")
KEY_CAPACITY = ("memory", "cores", "multiprocessors", "bandwidth", "millicores")


def attribute_value(attr: Mapping[str, Any]) -> Any:
    for k in ("string", "int", "bool", "version"):
        if k in attr:
            return attr[k]
    return None


def attribute_text(attr: Mapping[str, Any]) -> str:
    v = attribute_value(attr)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def bare(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def qualified(name: str, driver: str) -> str:
    return name if "/" in name else f"{driver}/{name}"


def device_attributes(entry: DeviceEntry) -> dict[str, Any]:
    """Attributes as {qualified name: plain value}."""
    return {qualified(k, entry.driver): attribute_value(v) for k, v in (entry.device.get("attributes") or {}).items()}


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


class SelectorEvaluator:
    """Evaluates lists of CEL selectors on devices; each distinct text is compiled once.

    A compile error is treated like a runtime error on every device (the text is reported),
    so callers that only explain never crash on a bad selector.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, object] = {}

    def _expr(self, text: str):
        if text not in self._compiled:
            from kubectl_dra.cel import CelCompileError, compile_expression

            try:
                self._compiled[text] = compile_expression(text)
            except CelCompileError as e:
                self._compiled[text] = e
        return self._compiled[text]

    def passes(self, expressions, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(all selectors true, error message or None); stops at the first false or failing selector."""
        from kubectl_dra.cel import CelEvaluationError

        for text in expressions:
            expr = self._expr(text)
            if isinstance(expr, Exception):
                return False, str(expr)
            try:
                if not expr.evaluate_device(entry):
                    return False, None
            except CelEvaluationError as e:
                return False, str(e)
        return True, None


class ClassMatcher(SelectorEvaluator):
    """Evaluates DeviceClass selectors on devices."""

    def __init__(self, snapshot: Snapshot):
        super().__init__()
        self.snapshot = snapshot

    def class_selectors(self, class_name: str) -> list[str]:
        cls = self.snapshot.device_classes.get(class_name) or {}
        return selector_expressions((cls.get("spec") or {}).get("selectors"))

    def matches(self, class_name: str, entry: DeviceEntry) -> tuple[bool, str | None]:
        """(matches, error message or None) for one device against one class."""
        return self.passes(self.class_selectors(class_name), entry)
