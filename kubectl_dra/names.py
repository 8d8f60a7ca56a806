"""Names with a way forward: "did you mean" for a name one edit off, and the namespaces where a
namespaced name does exist.

Used wherever a name the user wrote is not found (why-pending's target and claims, `explain`, a pod's
claim or template, a request's DeviceClass, a selector's driver).  Only names *one edit* away are offered
(one character inserted, deleted, replaced, or two neighbours swapped): a guess further off is more
often wrong than helpful, and a wrong "did you mean" sends the user the wrong way.
"""

from __future__ import annotations

from typing import Hashable, Iterable, Mapping


def one_edit_off(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one character inserted, deleted or replaced, or two adjacent
    characters swapped (never when they are equal)."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def near(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates one edit off ``name`` (sorted, at most ``limit``)."""
    if not name:
        return []
    low = name.lower()
    return sorted({c for c in candidates if c and c != name and (one_edit_off(name, c) or c.lower() == low)})[:limit]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean X?"`` (or ``X, Y``) for names one edit off, else ``""``."""
    close = near(name, candidates)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def namespaces_with(objects: Mapping[tuple[str, str], object], name: str, namespace: str) -> list[str]:
    """The other namespaces holding an object of this exact name (``objects`` keyed by (namespace, name))."""
    return sorted({ns for ns, n in objects if n == name and ns != namespace})


def names_in(objects: Mapping[tuple[str, str], object], namespace: str) -> list[str]:
    """The names of the objects of one namespace (``objects`` keyed by (namespace, name))."""
    return [n for ns, n in objects if ns == namespace]


def not_found_hint(objects: Mapping[Hashable, object], name: str, namespace: str | None = None) -> str:
    """What to add to a "not found" message: the namespaces where the name exists (``-n NS``), else the
    names one edit off (in the namespace, for a namespaced kind: ``objects`` keyed by (namespace, name);
    by name for a cluster-scoped kind)."""
    if namespace is None:
        return did_you_mean(name, [str(k) for k in objects])
    elsewhere = namespaces_with(objects, name, namespace)  # type: ignore[arg-type]
    if elsewhere:
        shown = ", ".join(elsewhere[:3]) + (" ..." if len(elsewhere) > 3 else "")
        return f"; it exists in namespace {shown} (use -n {elsewhere[0]})"
    return did_you_mean(name, names_in(objects, namespace))  # type: ignore[arg-type]
