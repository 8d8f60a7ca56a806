import pytest

from kubectl_dra.errors import UsageError
from kubectl_dra.features import GATE_NAMES, defaults_for_version, parse_feature_gates


def test_defaults_134():
    g = defaults_for_version("v1.34.1")
    assert g.admin_access and g.prioritized_list and g.device_status
    assert not (g.device_taints or g.partitionable_devices or g.consumable_capacity or g.device_binding_conditions)
    assert g.implementation == "stable"


def test_defaults_unknown_is_newest():
    assert defaults_for_version(None) == defaults_for_version("v1.99.0") == defaults_for_version("1.36")
    assert defaults_for_version("1.36").consumable_capacity
    # 1.36's defaults enable ConsumableCapacity and binding conditions, not list-type attributes
    assert defaults_for_version("1.36").implementation == "incubating"


def test_implementation_choice_mirrors_upstream_new_allocator():
    base = parse_feature_gates(",".join(f"{g}=false" for g in GATE_NAMES))
    assert base.implementation == "stable"
    assert parse_feature_gates("DRADeviceTaints=true,DRAAdminAccess=true", base=base).implementation == "stable"
    assert parse_feature_gates("DRAConsumableCapacity=true", base=base).implementation == "incubating"
    # binding conditions count only together with device status (upstream DeviceBindingAndStatus)
    assert parse_feature_gates("DRADeviceBindingConditions=true", base=base).implementation == "stable"
    assert parse_feature_gates("DRADeviceBindingConditions=true,DRAResourceClaimDeviceStatus=true",
                               base=base).implementation == "incubating"
    assert parse_feature_gates("DRAListTypeAttributes=true", base=base).implementation == "experimental"
    assert parse_feature_gates("DRAListTypeAttributes=true", base=defaults_for_version("1.36")).implementation \
        == "experimental"
    # gates the allocator does not read never change the choice
    assert parse_feature_gates("DRAExtendedResource=true,DRADeviceTaintRules=true", base=base).implementation == "stable"


def test_parse():
    g = parse_feature_gates("DRAAdminAccess=false, DRADeviceTaints=true", base=defaults_for_version("1.34"))
    assert not g.admin_access and g.device_taints
    with pytest.raises(UsageError):
        parse_feature_gates("Nope=true")
    with pytest.raises(UsageError):
        parse_feature_gates("DRAAdminAccess=yes")
    with pytest.raises(UsageError):
        parse_feature_gates("DRAAdminAccess")


# Upstream's defaults per release, written out gate by gate from the versioned specs in kubernetes/kubernetes
# pkg/features/kube_features.go (not derived from features.py's table, so a slip there shows here).
UPSTREAM_DEFAULTS = {
    "1.34": {"DRAAdminAccess": True, "DRAPrioritizedList": True, "DRAResourceClaimDeviceStatus": True,
             "DRADeviceTaints": False, "DRAPartitionableDevices": False, "DRAConsumableCapacity": False,
             "DRADeviceBindingConditions": False, "DRAListTypeAttributes": False, "DRADeviceTaintRules": False,
             "DRAExtendedResource": False, "DRASchedulerFilterTimeout": True, "DRANodeAllocatableResources": False,
             "DRAWorkloadResourceClaims": False, "DynamicResourceAllocation": True},
    "1.35": {"DRAAdminAccess": True, "DRAPrioritizedList": True, "DRAResourceClaimDeviceStatus": True,
             "DRADeviceTaints": False, "DRAPartitionableDevices": False, "DRAConsumableCapacity": False,
             "DRADeviceBindingConditions": False, "DRAListTypeAttributes": False, "DRADeviceTaintRules": False,
             "DRAExtendedResource": False, "DRASchedulerFilterTimeout": True, "DRANodeAllocatableResources": False,
             "DRAWorkloadResourceClaims": False, "DynamicResourceAllocation": True},
    "1.36": {"DRAAdminAccess": True, "DRAPrioritizedList": True, "DRAResourceClaimDeviceStatus": True,
             "DRADeviceTaints": True, "DRAPartitionableDevices": True, "DRAConsumableCapacity": True,
             "DRADeviceBindingConditions": True, "DRAListTypeAttributes": False, "DRADeviceTaintRules": False,
             "DRAExtendedResource": True, "DRASchedulerFilterTimeout": True, "DRANodeAllocatableResources": False,
             "DRAWorkloadResourceClaims": False, "DynamicResourceAllocation": True},
}


@pytest.mark.parametrize("release", sorted(UPSTREAM_DEFAULTS))
def test_defaults_per_release_are_upstreams(release):
    gates = defaults_for_version(f"v{release}.0")
    assert gates.version == release
    assert gates.as_dict() == UPSTREAM_DEFAULTS[release]
    assert defaults_for_version(release) == gates


def test_implementation_per_release():
    # 1.34/1.35 defaults: only stable-supported features on; 1.36 turns on consumable capacity and binding.
    assert defaults_for_version("1.34").implementation == "stable"
    assert defaults_for_version("1.35").implementation == "stable"
    # upstream NewAllocator takes the first implementation whose SupportedFeatures cover the enabled ones:
    # incubating covers consumable capacity and binding; only list-type attributes need experimental
    assert defaults_for_version("1.36").implementation == "incubating"
    lists = parse_feature_gates("DRAListTypeAttributes=true", base=defaults_for_version("1.36"))
    assert lists.implementation == "experimental"


def test_a_real_1_36_scheduler_gate_string_parses_and_gates_outside_the_allocator_pick_no_implementation():
    text = ("DynamicResourceAllocation=true,DRANodeAllocatableResources=true,DRAWorkloadResourceClaims=true,"
            "DRADeviceTaintRules=true")
    gates = parse_feature_gates(text, base=defaults_for_version("1.35"))
    assert gates.node_allocatable_resources and gates.workload_resource_claims and gates.device_taint_rules
    assert gates.implementation == "stable"  # none of them is a feature of upstream's structured allocator
