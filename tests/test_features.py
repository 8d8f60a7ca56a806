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
