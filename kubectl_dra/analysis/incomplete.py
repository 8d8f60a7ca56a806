"""Which of the source's gaps (lists it could not read: :class:`kubectl_dra.snapshot.Gap`) an answer depends on.

An answer that depends on a gap is incomplete: its JSON carries ``"incomplete": [...]`` (:func:`entries`),
its text one line per gap, and the command exits with ``ExitCode.INCOMPLETE``.  A gap the answer does not
depend on (the events of a `get devices`, the claims of other namespaces for `get claims -n ns`) is not
reported: that answer is complete.  why-pending decides for itself, node by node
(:mod:`kubectl_dra.analysis.why_pending.report`).
"""

from __future__ import annotations

from typing import Iterable

from kubectl_dra import kinds
from kubectl_dra.kinds import Kind
from kubectl_dra.snapshot import Gap, Snapshot

CLAIMS = "resourceclaims"
PODS = "pods"
DEVICE_TAINT_RULES = "devicetaintrules"


def _unique(gaps: Iterable[Gap]) -> list[Gap]:
    out: list[Gap] = []
    for g in gaps:
        if g not in out:
            out.append(g)
    return out


def holders(snap: Snapshot) -> list[Gap]:
    """Who holds which device: every allocated claim, in every namespace."""
    return list(snap.source.gaps(CLAIMS))


def taint_rules(snap: Snapshot, gates=None) -> list[Gap]:
    """DeviceTaintRules that could not be read, when an answer showing devices depends on them: the gates
    put rules in force (``gates`` None: whatever the gates)."""
    gaps = list(snap.source.gaps(DEVICE_TAINT_RULES))
    if gaps and gates is not None:
        from kubectl_dra import taintrules

        if not taintrules.in_force(gates):
            return []
    return gaps


def for_get(snap: Snapshot, listing: str, namespace: str, all_namespaces: bool, gates=None) -> list[Gap]:
    """`get TYPE` (``listing``: devices, classes, slices, claims, templates, taintrules) under ``gates``."""
    if listing == "devices":  # holders, free counts, the rules' taints
        return _unique(holders(snap) + taint_rules(snap, gates))
    if listing == "classes":  # holders, free counts
        return holders(snap)
    if listing == "claims":
        return list(snap.source.gaps(CLAIMS, None if all_namespaces else namespace))
    if listing == "templates":  # the claims generated for pods, by the pods
        scope = None if all_namespaces else namespace
        return _unique(snap.source.gaps("resourceclaimtemplates", scope) + snap.source.gaps(PODS, scope))
    if listing == "taintrules":
        return list(snap.source.gaps(DEVICE_TAINT_RULES))
    return []  # slices: nothing but slices


def for_explain(snap: Snapshot, kind: Kind, namespace: str, gates=None) -> list[Gap]:
    """`explain TYPE/NAME`: devices and their holders (class, slice, node) with the rules' taints under
    ``gates``, a DeviceTaintRule's devices and the claims on them, or one namespace's objects."""
    if kind in (kinds.DEVICE_CLASS, kinds.RESOURCE_SLICE, kinds.NODE):
        # holders and their pods' phases
        return _unique(holders(snap) + list(snap.source.gaps(PODS)) + taint_rules(snap, gates))
    if kind == kinds.DEVICE_TAINT_RULE:  # the claims on its devices, in any namespace, and whom it evicts
        return for_preview(snap)
    return _unique(snap.source.gaps(CLAIMS, namespace) + snap.source.gaps(PODS, namespace))


def for_preview(snap: Snapshot) -> list[Gap]:
    """`preview RULE_FILE`: the claims on the devices, the pods they run, the rules already in force."""
    return _unique(holders(snap) + list(snap.source.gaps(PODS)) + list(snap.source.gaps(DEVICE_TAINT_RULES)))


def for_dump(snap: Snapshot) -> list[Gap]:
    """A dump is missing whatever was not read."""
    return list(snap.source.incomplete)


def entries(gaps: Iterable[Gap]) -> list[dict]:
    """The ``"incomplete"`` list of a JSON answer."""
    return [g.to_dict() for g in gaps]
