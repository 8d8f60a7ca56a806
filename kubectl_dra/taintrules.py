"""DeviceTaintRules: which devices a rule selects, whether the release's gates put rules in force, and the
snapshot the scheduler would see with their taints applied.

Two upstream components read DeviceTaintRules, and they disagree on one point:

* kube-scheduler sees ResourceSlices *patched* by the slice tracker (k8s.io/dynamic-resource-allocation
  ``resourceslice/tracker``, ``Tracker.applyPatches``): every rule's taint is appended, after the
  driver's own taints, to each device it selects.  A rule **without** ``deviceSelector`` selects every
  device there.
* the eviction controller (kube-controller-manager, ``pkg/controller/devicetainteviction``,
  ``ruleMatchesDevice``) evicts for rules with a NoExecute taint, and a rule without ``deviceSelector``
  selects **no** device there.  An empty selector (``deviceSelector: {}``) selects every device in both.

Release differences (the reference OpenAPI documents of 1.34, 1.35, 1.36):

* up to 1.34 (v1alpha3 only), the selector also has ``deviceClassName`` (the class's CEL selectors must
  match) and ``selectors`` (CEL); from 1.35 only ``driver``, ``pool`` and ``device`` remain;
* effect ``None`` exists from 1.35 (no effect on scheduling or running pods);
* v1beta2 serves DeviceTaintRule from 1.36.

Gates: up to 1.34 the tracker applies rules when ``DRADeviceTaints`` is on; from 1.35 it needs
``DRADeviceTaintRules`` (and the allocator honours taints only with ``DRADeviceTaints``).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Mapping

from kubectl_dra.snapshot import DeviceKey, Snapshot, name_of

#: the release whose rules are read when the gates carry no version
NEWEST_MINOR = 36
#: deviceSelector fields per release (1.34 has the CEL ones too)
SELECTOR_FIELDS_134 = ("driver", "pool", "device", "deviceClassName", "selectors")
SELECTOR_FIELDS = ("driver", "pool", "device")
TAINT_FIELDS = ("key", "value", "effect", "timeAdded")
PREVENTING_EFFECTS = ("NoSchedule", "NoExecute")
#: the key naming the DeviceTaintRule on a taint that :func:`apply` appended to a device
RULE_KEY = "rule"


def minor_of(gates) -> int:
    """The release minor the gates came from (``"1.34"`` -> 34); the newest when unknown."""
    version = getattr(gates, "version", None) if gates is not None else None
    try:
        return int(str(version).split(".")[1])
    except (IndexError, ValueError):
        return NEWEST_MINOR


def effects_for(minor: int) -> tuple[str, ...]:
    return ("NoSchedule", "NoExecute") + (("None",) if minor >= 35 else ())


def gates_needed(gates) -> list[str]:
    """The gates that are off and must be on for DeviceTaintRules to change what the scheduler and the
    eviction controller do (empty: rules are in force)."""
    minor = minor_of(gates)
    need = []
    if not gates.device_taints:
        need.append("DRADeviceTaints")
    if minor >= 35 and not gates.device_taint_rules:
        need.append("DRADeviceTaintRules")
    return need


def in_force(gates) -> bool:
    return not gates_needed(gates)


def inert_line(rules: Mapping[str, Mapping[str, Any]], gates) -> str:
    """The one line saying that the source's rules change nothing under these gates, and how to put them in force."""
    names = sorted(rules)
    which = (f"DeviceTaintRule {names[0]}" if len(names) == 1
             else f"{len(names)} DeviceTaintRules ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
    needed = gates_needed(gates)
    release = f"Kubernetes {gates.version}" if getattr(gates, "version", None) else "these feature gates"
    them, its = ("it", "its") if len(names) == 1 else ("them", "their")
    return (f"{which} not in force in {release} (feature gate(s) {', '.join(needed)} off): kube-scheduler and "
            f"the eviction controller ignore {them}, and no device is shown with {its} taint "
            f"(--feature-gates {','.join(g + '=true' for g in needed)} puts {them} in force)")


def under_gates(snap: Snapshot, gates) -> Snapshot:
    """The snapshot as kube-scheduler sees it under ``gates``: the rules' taints when the gates put rules in
    force (:func:`apply`), and list-type attribute values when DRAListTypeAttributes is on (selectors
    evaluated on this snapshot decode them, as the scheduler's CEL environment does)."""
    out = apply(snap, gates)
    lists = bool(getattr(gates, "list_type_attributes", False))
    if lists != out.list_type_attributes:
        out = replace(out, list_type_attributes=lists)
    return out


def enabled(gates):
    """The same gates with rules put in force (for "what it would do once enabled")."""
    return replace(gates, device_taints=True, device_taint_rules=True)


def rule_taint(rule: Mapping[str, Any]) -> dict:
    """The taint a rule applies, as a device taint (upstream copies key, value, effect, timeAdded)."""
    taint = ((rule.get("spec") or {}).get("taint")) or {}
    return {k: copy.deepcopy(taint[k]) for k in TAINT_FIELDS if k in taint}


def selector_of(rule: Mapping[str, Any]) -> Mapping[str, Any] | None:
    sel = (rule.get("spec") or {}).get("deviceSelector")
    return sel if isinstance(sel, Mapping) else None


def _cel_selectors(sel: Mapping[str, Any]) -> list[str]:
    out = []
    for s in sel.get("selectors") or ():
        expr = ((s or {}).get("cel") or {}).get("expression") if isinstance(s, Mapping) else None
        if isinstance(expr, str):
            out.append(expr)
    return out


class RuleMatcher:
    """Which devices a rule selects, for one snapshot and one release.

    ``for_eviction``: the eviction controller's reading (no deviceSelector selects nothing); otherwise
    the slice tracker's (no deviceSelector selects everything)."""

    def __init__(self, snap: Snapshot, minor: int = NEWEST_MINOR):
        self.snap = snap
        self.minor = minor
        self._selection = None

    def _cel_pass(self, expressions: list[str], driver: str, device: Mapping[str, Any]) -> bool:
        if not expressions:
            return True
        if self._selection is None:
            from kubectl_dra.selection import for_snapshot

            self._selection = for_snapshot(self.snap)
        from kubectl_dra.selection import MATCH

        # A compile or runtime error: the rule does not apply to the device (upstream applyPatches, 1.34).
        return self._selection.evaluate_all(expressions, driver, device) is MATCH

    def selects(self, rule: Mapping[str, Any], driver: str, pool: str, device: Mapping[str, Any], *,
                for_eviction: bool = False) -> bool:
        """Upstream ``Tracker.applyPatches`` (for_eviction: ``ruleMatchesDevice``)."""
        sel = selector_of(rule)
        if sel is None:
            return not for_eviction
        if sel.get("driver") is not None and sel["driver"] != driver:
            return False
        if sel.get("pool") is not None and sel["pool"] != pool:
            return False
        if sel.get("device") is not None and sel["device"] != device.get("name", ""):
            return False
        if self.minor <= 34:
            class_name = sel.get("deviceClassName")
            if class_name is not None:
                cls = self.snap.device_classes.get(class_name)
                if cls is None:
                    return False  # the class does not exist: the rule does not apply
                if not self._cel_pass(_cel_selectors(cls.get("spec") or {}), driver, device):
                    return False
            if not self._cel_pass(_cel_selectors(sel), driver, device):
                return False
        return True


def ignored_fields(rule: Mapping[str, Any], minor: int) -> list[str]:
    """Selector fields the release does not know (1.34's CEL fields, from 1.35 on)."""
    sel = selector_of(rule) or {}
    if minor <= 34:
        return []
    return [f"spec.deviceSelector.{f}" for f in ("deviceClassName", "selectors") if f in sel]


def apply(snap: Snapshot, gates=None, rules: Mapping[str, Mapping[str, Any]] | None = None) -> Snapshot:
    """The snapshot with the rules' taints appended to the devices they select, as kube-scheduler sees it
    (upstream ``Tracker.ListPatchedResourceSlices``).  ``gates`` None: apply them whatever the gates (for
    display); otherwise only when they are in force.  ``rules`` default to the snapshot's own."""
    rules = snap.device_taint_rules if rules is None else rules
    if not rules or (gates is not None and not in_force(gates)):
        return snap
    matcher = RuleMatcher(snap, minor_of(gates))
    ordered = [rules[k] for k in sorted(rules)]
    from_rules: dict[DeviceKey, list[tuple[str, dict]]] = {}
    patched_slices = []
    for s in snap.resource_slices:
        spec = s.get("spec") or {}
        driver = spec.get("driver", "")
        pool = (spec.get("pool") or {}).get("name", "")
        new_devices = None
        for i, dev in enumerate(spec.get("devices") or ()):
            # Each appended taint names its rule ("rule": NAME, our key, not the API's): get, explain and
            # why-pending show where it comes from; the allocator reads key, value and effect only.
            added = [(name_of(r), {**rule_taint(r), RULE_KEY: name_of(r)}) for r in ordered
                     if matcher.selects(r, driver, pool, dev)]
            if not added:
                continue
            if new_devices is None:
                new_devices = list(spec.get("devices") or ())
            new_devices[i] = {**dev, "taints": list(dev.get("taints") or ()) + [t for _, t in added]}
            from_rules[DeviceKey(driver, pool, dev.get("name", ""))] = added
        if new_devices is None:
            patched_slices.append(s)
        else:
            patched_slices.append({**s, "spec": {**spec, "devices": new_devices}})
    if not from_rules:
        return replace(snap, rule_taints={})
    return replace(snap, resource_slices=tuple(patched_slices),
                   rule_taints={k: tuple(v) for k, v in from_rules.items()})


def taint_sources(snap: Snapshot, key: DeviceKey, slice_name: str, taints: list) -> list[str]:
    """Where each taint of a device comes from, in order: ``slice NAME`` for the driver's, ``rule NAME``
    for those a DeviceTaintRule appended (they come last, in rule-name order)."""
    added = snap.rule_taints.get(key, ())
    own = max(len(taints) - len(added), 0)
    return [f"slice {slice_name}"] * own + [f"rule {name}" for name, _ in added][: len(taints) - own]


def source_of_taint(snap: Snapshot, device_id: str, taint: Mapping[str, Any]) -> str | None:
    """``rule NAME`` or ``slice NAME`` for a taint of the device ``driver/pool/device`` (None: unknown)."""
    parts = device_id.split("/")
    if len(parts) < 3:
        return None
    if taint.get(RULE_KEY):
        return f"rule {taint[RULE_KEY]}"
    key = DeviceKey(parts[0], parts[1], "/".join(parts[2:]))
    for name, t in snap.rule_taints.get(key, ()):
        if (t.get("key"), t.get("value"), t.get("effect")) == (taint.get("key"), taint.get("value"),
                                                               taint.get("effect")):
            return f"rule {name}"
    entry = snap.devices_by_key.get(key)
    return f"slice {entry.slice_name}" if entry is not None else None


def check_rule(rule: Mapping[str, Any], minor: int = NEWEST_MINOR) -> list[tuple[str, str, str]]:
    """What the release's API server says about a DeviceTaintRule: (path, severity, message).

    Checked: the fields of the release's schema (unknown fields are rejected, like ``kubectl apply``'s
    strict field validation), ``spec.taint`` with ``key`` and a valid ``effect``, and the served versions."""
    out: list[tuple[str, str, str]] = []
    version = str(rule.get("apiVersion") or "").rpartition("/")[2]
    if version == "v1beta2" and minor < 36:
        out.append(("apiVersion", "error", f"resource.k8s.io/v1beta2 serves DeviceTaintRule only from Kubernetes "
                                           f"1.36 (1.{minor}: resource.k8s.io/v1alpha3)"))
    allowed_top = {"apiVersion", "kind", "metadata", "spec"} | ({"status"} if minor >= 35 else set())
    for k in sorted(set(rule) - allowed_top):
        out.append((k, "error", f"unknown field {k!r} (allowed: {', '.join(sorted(allowed_top))})"))
    spec = rule.get("spec")
    if not isinstance(spec, Mapping):
        out.append(("spec", "error", "spec is required (a taint and a deviceSelector)"))
        return out
    for k in sorted(set(spec) - {"deviceSelector", "taint"}):
        out.append((f"spec.{k}", "error", f"unknown field {k!r} (allowed: deviceSelector, taint)"))
    sel = spec.get("deviceSelector")
    if sel is None:
        out.append(("spec.deviceSelector", "warning",
                    "no deviceSelector: kube-scheduler applies the taint to every device, the eviction "
                    "controller to none (write deviceSelector: {} to mean every device, or narrow it)"))
    elif not isinstance(sel, Mapping):
        out.append(("spec.deviceSelector", "error", "must be an object"))
    else:
        fields = SELECTOR_FIELDS_134 if minor <= 34 else SELECTOR_FIELDS
        for k in sorted(set(sel) - set(fields)):
            later = k in SELECTOR_FIELDS_134
            out.append((f"spec.deviceSelector.{k}", "error",
                        f"unknown field {k!r} in Kubernetes 1.{minor}"
                        + (" (it existed only up to 1.34)" if later else "")
                        + f" (allowed: {', '.join(fields)})"))
        for k in ("driver", "pool", "device", "deviceClassName"):
            if k in sel and not isinstance(sel[k], str):
                out.append((f"spec.deviceSelector.{k}", "error", "must be a string"))
        if not any(sel.get(k) for k in fields):
            out.append(("spec.deviceSelector", "warning", "the empty selector selects every device in the cluster"))
    taint = spec.get("taint")
    if not isinstance(taint, Mapping):
        out.append(("spec.taint", "error", "spec.taint is required (key and effect)"))
        return out
    for k in sorted(set(taint) - set(TAINT_FIELDS)):
        out.append((f"spec.taint.{k}", "error", f"unknown field {k!r} (allowed: {', '.join(TAINT_FIELDS)})"))
    if not taint.get("key"):
        out.append(("spec.taint.key", "error", "spec.taint.key is required"))
    effects = effects_for(minor)
    if not taint.get("effect"):
        out.append(("spec.taint.effect", "error", "spec.taint.effect is required"))
    elif taint["effect"] not in effects:
        out.append(("spec.taint.effect", "error",
                    f"{taint['effect']!r} is not one of {', '.join(repr(e) for e in effects)} in Kubernetes 1.{minor}"))
    return out
