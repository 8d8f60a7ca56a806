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
        if op in ("Gt", "Lt"):  # only from -l's `>` / `<` (parse_label_selector): integers on both sides
            try:
                have, want = int(labels[key]), int(vals[0])
            except (KeyError, ValueError, IndexError):
                return False
            if not (have > want if op == "Gt" else have < want):
                return False
    return True


_LABEL_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_DNS_SUBDOMAIN = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"


def _check_key(key: str) -> str:
    import re

    prefix, _, name = key.rpartition("/")
    if not key or not re.fullmatch(_LABEL_NAME, name) or len(name) > 63 or (
            "/" in key and (not re.fullmatch(_DNS_SUBDOMAIN, prefix) or len(prefix) > 253)):
        raise ValueError(f"invalid label key {key!r}")
    return key


def _check_value(value: str) -> str:
    import re

    if len(value) > 63 or (value and not re.fullmatch(_LABEL_NAME, value)):
        raise ValueError(f"invalid label value {value!r}")
    return value


def parse_label_selector(text: str) -> dict:
    """Parse kubectl's ``-l`` syntax (``a=b,c!=d,e,!f,g in (x,y),h notin (z),n>1``) into a LabelSelector
    (``>``/``<``: operators ``Gt``/``Lt``, as the labels package reads them).  Malformed text (an empty
    requirement, a bad key or value, an unclosed parenthesis, an empty set for ``in``/``notin``, a
    non-integer for ``>``/``<``) raises ValueError saying what is wrong."""
    import re

    exprs: list[dict] = []
    match_labels: dict[str, str] = {}
    # split on commas that are not inside parentheses
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
            if depth > 1:
                raise ValueError("nested '('")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("')' without '('")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if depth:
        raise ValueError("'(' without ')'")
    parts.append(cur)
    if len(parts) == 1 and not parts[0].strip():
        return {"matchLabels": {}, "matchExpressions": []}  # "" selects everything
    for raw in parts:
        p = raw.strip()
        if not p:
            raise ValueError("an empty requirement (a stray ',')")
        m = re.fullmatch(r"(\S+?)\s+(in|notin)\s*\((.*)\)", p)
        if m:
            vals = [_check_value(v.strip()) for v in m.group(3).split(",")]
            if vals == [""]:
                raise ValueError(f"{m.group(2)!r} needs at least one value")
            exprs.append({"key": _check_key(m.group(1)), "operator": "In" if m.group(2) == "in" else "NotIn",
                          "values": vals})
            continue
        m = re.fullmatch(r"([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)", p)
        if m:
            key, op, value = _check_key(m.group(1)), m.group(2), m.group(3)
            if op in (">", "<"):
                if not re.fullmatch(r"-?\d+", value):
                    raise ValueError(f"{op!r} needs an integer, not {value!r}")
                exprs.append({"key": key, "operator": "Gt" if op == ">" else "Lt", "values": [value]})
            elif op == "!=":
                exprs.append({"key": key, "operator": "NotIn", "values": [_check_value(value)]})
            else:
                match_labels[key] = _check_value(value)
            continue
        if p.startswith("!"):
            exprs.append({"key": _check_key(p[1:].strip()), "operator": "DoesNotExist"})
        elif re.fullmatch(r"\S+", p):
            exprs.append({"key": _check_key(p), "operator": "Exists"})
        else:
            raise ValueError(f"cannot read {p!r}")
    return {"matchLabels": match_labels, "matchExpressions": exprs}
