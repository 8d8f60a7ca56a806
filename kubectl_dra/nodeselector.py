"""Matching core/v1 NodeSelector objects against Node objects (raw dicts).

Semantics follow ``k8s.io/component-helpers/scheduling/corev1/nodeaffinity``:
terms are ORed, the requirements inside a term are ANDed, an empty term
matches nothing, ``matchFields`` supports only ``metadata.name``.
"""

from __future__ import annotations

from typing import Any, Mapping


def _requirement_matches(values_by_key: Mapping[str, str], req: Mapping[str, Any]) -> bool:
    key = req.get("key", "")
    op = req.get("operator", "")
    values = req.get("values") or []
    present = key in values_by_key
    value = values_by_key.get(key)
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, want = int(value), int(values[0])
        except (TypeError, ValueError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(node: Mapping[str, Any], term: Mapping[str, Any]) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    if not all(_requirement_matches(labels, r) for r in exprs):
        return False
    field_values = {"metadata.name": meta.get("name", "")}
    return all(_requirement_matches(field_values, r) for r in fields)


def node_matches_selector(node: Mapping[str, Any] | None, selector: Mapping[str, Any] | None) -> bool:
    """True when ``node`` satisfies the NodeSelector ``selector`` (None matches everything)."""
    if selector is None:
        return True
    if node is None:
        return False
    return any(term_matches(node, t) for t in selector.get("nodeSelectorTerms") or [])


def label_selector_matches(labels: Mapping[str, str], selector: Mapping[str, Any] | None) -> bool:
    """metav1.LabelSelector (matchLabels + matchExpressions) against a label map."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for req in selector.get("matchExpressions") or []:
        op = req.get("operator")
        key = req.get("key", "")
        vals = req.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def parse_label_selector(text: str) -> dict:
    """Parse kubectl's ``-l`` syntax (``a=b,c!=d,e,!f,g in (x,y)``) into a LabelSelector."""
    import re

    exprs: list[dict] = []
    match_labels: dict[str, str] = {}
    # split on commas that are not inside parentheses
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    for raw in parts:
        p = raw.strip()
        m = re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)", p)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            exprs.append({"key": m.group(1), "operator": "In" if m.group(2) == "in" else "NotIn", "values": vals})
        elif "!=" in p:
            k, v = p.split("!=", 1)
            exprs.append({"key": k.strip(), "operator": "NotIn", "values": [v.strip()]})
        elif "==" in p or "=" in p:
            k, v = p.split("==", 1) if "==" in p else p.split("=", 1)
            match_labels[k.strip()] = v.strip()
        elif p.startswith("!"):
            exprs.append({"key": p[1:].strip(), "operator": "DoesNotExist"})
        elif p:
            exprs.append({"key": p, "operator": "Exists"})
    return {"matchLabels": match_labels, "matchExpressions": exprs}
