"""Feature gates that change what kube-scheduler's DRA allocator does.

Defaults per release follow upstream's versioned specs of each gate
(``defaultVersionedKubernetesFeatureGates`` in kubernetes/kubernetes
``pkg/features/kube_features.go``; read at a 1.37-development commit, whose
entries for 1.36 and earlier are the released defaults: versioned specs keep
every release's default for emulated versions).  The DRA gates kube-scheduler
knows are modelled; those that change ResourceClaim allocation are features
of the allocator:

=============================  =====  =====  =====  =====  =====
gate                           1.32   1.33   1.34   1.35   1.36
=============================  =====  =====  =====  =====  =====
DRAAdminAccess                 off    off    on     on     on (GA)
DRAPrioritizedList             -      off    on     on     on (GA)
DRAResourceClaimDeviceStatus   off    on     on     on     on
DRADeviceTaints                -      off    off    off    on
DRAPartitionableDevices        -      off    off    off    on
DRAConsumableCapacity          -      -      off    off    on
DRADeviceBindingConditions     -      -      off    off    on
DRAListTypeAttributes          -      -      -      -      off
DRADeviceTaintRules            -      -      -      off    off
DRAExtendedResource            -      -      off    off    on
DRASchedulerFilterTimeout      -      -      on     on     on
DRANodeAllocatableResources    -      -      -      -      off
DRAWorkloadResourceClaims      -      -      -      -      off
DynamicResourceAllocation      off    off    on     on     on
=============================  =====  =====  =====  =====  =====

``-`` means the gate does not exist in that release (treated as off).

The allocator sees a reduced feature set (upstream ``structured.Features``):
device binding conditions count as enabled only when both
DRADeviceBindingConditions and DRAResourceClaimDeviceStatus are on.  Upstream
then picks the first of its three implementations, most stable first, whose supported features
cover every enabled one: *stable* (AdminAccess, PrioritizedList, PartitionableDevices,
DeviceTaints), *incubating* (those plus ConsumableCapacity and binding conditions with device
status), *experimental* (those plus ListTypeAttributes); see :attr:`FeatureGates.implementation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from kubectl_dra.errors import UsageError

# gate name -> [(first release "1.NN", default)], ascending.
_SPECS: dict[str, list[tuple[int, bool]]] = {
    "DRAAdminAccess": [(32, False), (34, True)],
    "DRAPrioritizedList": [(33, False), (34, True)],
    "DRAResourceClaimDeviceStatus": [(32, False), (33, True)],
    "DRADeviceTaints": [(33, False), (36, True)],
    "DRAPartitionableDevices": [(33, False), (36, True)],
    "DRAConsumableCapacity": [(34, False), (36, True)],
    "DRADeviceBindingConditions": [(34, False), (36, True)],
    "DRAListTypeAttributes": [(36, False)],
    "DRADeviceTaintRules": [(35, False)],
    "DRAExtendedResource": [(34, False), (36, True)],
    "DRASchedulerFilterTimeout": [(34, True)],
    "DRANodeAllocatableResources": [(36, False)],
    "DRAWorkloadResourceClaims": [(36, False)],
    "DynamicResourceAllocation": [(32, False), (34, True)],  # beta (off) 1.32-1.33, GA 1.34, locked on 1.35
}

#: Releases we know defaults for; the last one is used when the version is unknown.
KNOWN_MINORS = (32, 33, 34, 35, 36)
NEWEST_MINOR = KNOWN_MINORS[-1]

_ATTR = {
    "DRAAdminAccess": "admin_access",
    "DRAPrioritizedList": "prioritized_list",
    "DRAResourceClaimDeviceStatus": "device_status",
    "DRADeviceTaints": "device_taints",
    "DRAPartitionableDevices": "partitionable_devices",
    "DRAConsumableCapacity": "consumable_capacity",
    "DRADeviceBindingConditions": "device_binding_conditions",
    "DRAListTypeAttributes": "list_type_attributes",
    "DRADeviceTaintRules": "device_taint_rules",
    "DRAExtendedResource": "extended_resource",
    "DRASchedulerFilterTimeout": "scheduler_filter_timeout",
    "DRANodeAllocatableResources": "node_allocatable_resources",
    "DRAWorkloadResourceClaims": "workload_resource_claims",
    "DynamicResourceAllocation": "dynamic_resource_allocation",
}
# Gates that are not features of the allocator itself (the scheduler plugin, its slice tracker or the
# API server read them): they never change which upstream implementation is picked.
# (upstream structured.Features has no entry for them.)
_NOT_ALLOCATOR_FEATURES = frozenset({"DRADeviceTaintRules", "DRAExtendedResource", "DRASchedulerFilterTimeout",
                                     "DRANodeAllocatableResources", "DRAWorkloadResourceClaims",
                                     "DynamicResourceAllocation"})
GATE_NAMES = tuple(_ATTR)

# Features supported by each of upstream's allocator implementations (their SupportedFeatures), most
# stable first: structured/allocator.go's availableAllocators, in its order.
_STABLE_SUPPORTED = frozenset({"DRAAdminAccess", "DRAPrioritizedList", "DRAPartitionableDevices", "DRADeviceTaints"})
_INCUBATING_SUPPORTED = _STABLE_SUPPORTED | {"DRAConsumableCapacity", "DRADeviceBindingConditions",
                                             "DRAResourceClaimDeviceStatus"}
_EXPERIMENTAL_SUPPORTED = _INCUBATING_SUPPORTED | {"DRAListTypeAttributes"}
IMPLEMENTATIONS = (("stable", _STABLE_SUPPORTED), ("incubating", _INCUBATING_SUPPORTED),
                   ("experimental", _EXPERIMENTAL_SUPPORTED))


@dataclass(frozen=True)
class FeatureGates:
    admin_access: bool = False
    prioritized_list: bool = False
    device_status: bool = False
    device_taints: bool = False
    partitionable_devices: bool = False
    consumable_capacity: bool = False
    device_binding_conditions: bool = False
    list_type_attributes: bool = False
    device_taint_rules: bool = False
    extended_resource: bool = False
    scheduler_filter_timeout: bool = False
    node_allocatable_resources: bool = False
    workload_resource_claims: bool = False
    dynamic_resource_allocation: bool = False
    version: str | None = None  # release the defaults came from, e.g. "1.34"

    # -- allocator view ---------------------------------------------------
    @property
    def device_binding(self) -> bool:
        """Binding conditions are honoured only with DeviceStatus too (upstream DeviceBindingAndStatus)."""
        return self.device_binding_conditions and self.device_status

    def allocator_features(self) -> frozenset[str]:
        """Enabled features as upstream's allocator sees them (names as the gates)."""
        out = set()
        for gate, attr in _ATTR.items():
            if gate in ("DRADeviceBindingConditions", "DRAResourceClaimDeviceStatus") or gate in _NOT_ALLOCATOR_FEATURES:
                continue
            if getattr(self, attr):
                out.add(gate)
        if self.device_binding:
            out.add("DRADeviceBindingConditions")
            out.add("DRAResourceClaimDeviceStatus")
        return frozenset(out)

    @property
    def implementation(self) -> str:
        """Which upstream implementation kube-scheduler would pick: "stable", "incubating" or
        "experimental".  Mirrors upstream NewAllocator (structured/allocator.go): the first entry of
        availableAllocators whose supportedFeatures are a superset of the enabled features.
        (Incubating and experimental differ only in list-type attributes, which the allocator
        reads from the gate itself; "stable" differs in more, see ``implementation != "stable"``.)"""
        enabled = self.allocator_features()
        for name, supported in IMPLEMENTATIONS:
            if enabled <= supported:
                return name
        return "experimental"  # not reached: experimental supports every allocator feature

    def enabled(self, gate: str) -> bool:
        return bool(getattr(self, _ATTR[gate]))

    def as_dict(self) -> dict[str, bool]:
        return {gate: getattr(self, attr) for gate, attr in _ATTR.items()}

    def __str__(self) -> str:
        return ",".join(f"{g}={'true' if v else 'false'}" for g, v in self.as_dict().items())


def _minor_of(version: str | None) -> int | None:
    if not version:
        return None
    m = re.match(r"^v?(\d+)\.(\d+)", version.strip())
    if not m or m.group(1) != "1":
        return None
    return int(m.group(2))


def defaults_for_version(version: str | None) -> FeatureGates:
    """Default gates of a Kubernetes release ("v1.34.1", "1.35"); None or unknown -> newest known."""
    minor = _minor_of(version)
    if minor is None or minor > NEWEST_MINOR or minor < KNOWN_MINORS[0]:
        minor = NEWEST_MINOR
    values = {}
    for gate, specs in _SPECS.items():
        value = False
        for since, default in specs:
            if minor >= since:
                value = default
        values[_ATTR[gate]] = value
    return FeatureGates(**values, version=f"1.{minor}")


def check_kubernetes_version(text: str | None) -> str | None:
    """``--kubernetes-version`` as given ("1.35", "v1.35.2") -> "1.35"; None stays None.

    UsageError for a release we know no defaults for (silently using another release's gates would
    be a confident wrong answer)."""
    if text is None:
        return None
    minor = _minor_of(text)
    if minor is None or minor not in KNOWN_MINORS or not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", text.strip()):
        known = ", ".join(f"1.{m}" for m in KNOWN_MINORS)
        raise UsageError(f"invalid --kubernetes-version {text!r}: expected one of {known} (or a patch release such as 1.{NEWEST_MINOR}.0)")
    return f"1.{minor}"


def gates_for(kubernetes_version: str | None, server_version: str | None, overrides: str | None) -> FeatureGates:
    """The gates in force: the defaults of ``--kubernetes-version`` (when given), else of the source's
    server version (live, or recorded by ``dump``), else of the newest release; then ``--feature-gates``."""
    release = check_kubernetes_version(kubernetes_version) or server_version
    return parse_feature_gates(overrides, base=defaults_for_version(release))


_TRUE = {"true": True, "false": False}


def parse_feature_gates(text: str | None, base: FeatureGates | None = None) -> FeatureGates:
    """Apply ``Name=true,Other=false`` (kube-scheduler --feature-gates syntax) on top of ``base``."""
    gates = base if base is not None else defaults_for_version(None)
    if not text:
        return gates
    changes: dict[str, bool] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise UsageError(f"invalid feature gate {part!r}: expected Name=true|false")
        name, _, raw = part.partition("=")
        name, raw = name.strip(), raw.strip().lower()
        if name not in _ATTR:
            known = ", ".join(GATE_NAMES)
            raise UsageError(f"unknown feature gate {name!r} (known: {known})")
        if raw not in _TRUE:
            raise UsageError(f"invalid value {raw!r} for feature gate {name}: expected true or false")
        changes[_ATTR[name]] = _TRUE[raw]
    return replace(gates, **changes)


def all_enabled() -> FeatureGates:
    return FeatureGates(**{f.name: True for f in fields(FeatureGates) if f.name != "version"})
