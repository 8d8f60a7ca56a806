"""Upstream allocator table: attribute values the CEL input conversion rejects, and the DRAListTypeAttributes
group (list-typed attribute values: ``ints``, ``bools``, ``strings``, ``versions``).

Each case runs under exactly the features upstream's case enables; with ListTypeAttributes the allocator is
upstream's experimental implementation (matchAttribute: the devices' value sets must share an element;
distinctAttribute: pairwise disjoint sets; a scalar is a one-element set). Without it, a list value is an
"unsupported attribute value" error.
"""

from __future__ import annotations

from tests.builders import (
    DRIVER_A, NODE1, POOL1, claim, device, device_class, feats, no_fit, picked, request, resource_slice, run_cel,
)

CA = device_class("class-a", driver=DRIVER_A)
CC = feats(consumable=True)
LISTS = feats(lists=True)
LISTS_CC = feats(lists=True, consumable=True)


def dev(name, **raw_attrs):
    d = device(name)
    d["attributes"] = dict(raw_attrs)
    return d


def objs(*devs):
    return [CA, resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *devs)]


def two_of(constraint_kind, attr, count=2):
    return claim("claim-0", request("req-0", count=count), constraints=[{constraint_kind: f"{DRIVER_A}/{attr}"}])


def unsupported(out):
    return out.error is not None and "unsupported attribute value" in out.error


def test_with_distinct_constraints_unknown_type_attribute():
    c = claim("claim-0", request("req-0"), constraints=[{"distinctAttribute": f"{DRIVER_A}/boolAttribute", "requests": ["req-0"]}])
    d = dev("device-1", boolAttribute={})
    d["allowMultipleAllocations"] = True
    assert unsupported(run_cel(objs(d), [c], gates=CC))


def test_list_attributes_disabled_match_constraint_with_lists():
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2", "value3"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3", "value4"]})),
                  [two_of("matchAttribute", "stringAttribute")])
    assert unsupported(out)


def test_list_attributes_disabled_distinct_constraint_with_lists():
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2", "value3"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3", "value4"]})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=CC)
    assert unsupported(out)


def test_list_attributes_match_constaint_with_empty_or_unknown_type():
    # device-1's attribute holds nothing: the CEL input conversion fails on it (the empty list of device-2
    # would pass CEL, as upstream's non-nil empty slice does, but never gets that far).
    out = run_cel(objs(dev("device-1", stringAttribute={}), dev("device-2", stringAttribute={"strings": []})),
                  [two_of("matchAttribute", "stringAttribute")], gates=LISTS)
    assert unsupported(out)


def test_list_attributes_distinct_constaint_with_empty_or_unknown_type():
    # device-1's empty list decodes (and is then no value for the constraint); device-2 holds nothing: an error.
    out = run_cel(objs(dev("device-1", driverVersion={"versions": []}), dev("device-2", driverVersion={})),
                  [two_of("distinctAttribute", "driverVersion")], gates=LISTS_CC)
    assert unsupported(out)


# Scalar values, under the list gate (as upstream runs them): a scalar is a one-element set.

def test_list_attributes_match_constaint_scalar_string_values():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}), dev("device-2", stringAttribute={"string": "value1"})),
                  [two_of("matchAttribute", "stringAttribute")], gates=LISTS)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")])]


def test_list_attributes_distinct_constraint_scalar_string_values_all_distinct():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}), dev("device-2", stringAttribute={"string": "value2"})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert picked(out) == [("claim-0", [("req-0", DRIVER_A, POOL1, "device-1"), ("req-0", DRIVER_A, POOL1, "device-2")])]


def test_list_attributes_distinct_constraint_scalar_string_values_not_distinct():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}), dev("device-2", stringAttribute={"string": "value1"})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert no_fit(out)


# matchAttribute over lists: the intersection of every device's values must stay non-empty.

def ids(*names):
    return [("claim-0", [("req-0", DRIVER_A, POOL1, n) for n in names])]


def test_list_attributes_match_constaint_list_of_string_values_with_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2", "value3"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3", "value4"]})),
                  [two_of("matchAttribute", "stringAttribute")], gates=LISTS)
    assert picked(out) == ids("device-1", "device-2")


def test_list_attributes_match_constaint_list_of_string_values_with_partially_common_elements():
    # Each pair shares a value, but no value is common to all three.
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3"]}),
                       dev("device-3", stringAttribute={"strings": ["value3", "value1"]})),
                  [two_of("matchAttribute", "stringAttribute", count=3)], gates=LISTS)
    assert no_fit(out)


def test_list_attributes_match_constaint_list_of_string_values_without_common_elements():
    # Upstream's case has two requests, both named req-0, one device each.
    c = claim("claim-0", request("req-0", count=1), request("req-0", count=1),
              constraints=[{"matchAttribute": f"{DRIVER_A}/stringAttribute"}])
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2"]}),
                       dev("device-2", stringAttribute={"strings": ["value3", "value4"]})), [c], gates=LISTS)
    assert no_fit(out)


def test_list_attributes_match_constaint_mixed_scalar_and_list_of_string_values_with_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}),
                       dev("device-2", stringAttribute={"strings": ["value1", "value2"]})),
                  [two_of("matchAttribute", "stringAttribute")], gates=LISTS)
    assert picked(out) == ids("device-1", "device-2")


def test_list_attributes_match_constaint_mixed_scalar_and_list_of_string_values_with_partially_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}),
                       dev("device-2", stringAttribute={"strings": ["value1", "value2"]}),
                       dev("device-3", stringAttribute={"strings": ["value2", "value3"]})),
                  [two_of("matchAttribute", "stringAttribute", count=3)], gates=LISTS)
    assert no_fit(out)


def test_list_attributes_match_constaint_mixed_scalar_and_list_of_string_values_without_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3"]})),
                  [two_of("matchAttribute", "stringAttribute")], gates=LISTS)
    assert no_fit(out)


def test_list_attributes_match_constaint_list_of_int_values_with_common_elements():
    out = run_cel(objs(dev("device-1", numa={"ints": [0, 1, 2]}), dev("device-2", numa={"ints": [1, 2, 3]})),
                  [two_of("matchAttribute", "numa")], gates=LISTS)
    assert picked(out) == ids("device-1", "device-2")


def test_list_attributes_match_constaint_list_of_bool_values_with_common_elements():
    out = run_cel(objs(dev("device-1", boolAttribute={"bools": [True, False]}), dev("device-2", boolAttribute={"bools": [True]})),
                  [two_of("matchAttribute", "boolAttribute")], gates=LISTS)
    assert picked(out) == ids("device-1", "device-2")


def test_list_attributes_match_constaint_list_of_version_values_with_common_elements():
    out = run_cel(objs(dev("device-1", driverVersion={"versions": ["1.0.0", "1.1.0", "2.0.0"]}),
                       dev("device-2", driverVersion={"versions": ["1.1.0", "2.0.0", "2.1.0"]})),
                  [two_of("matchAttribute", "driverVersion")], gates=LISTS)
    assert picked(out) == ids("device-1", "device-2")


# distinctAttribute over lists: every two devices' value sets are disjoint.

def test_list_attributes_distinct_constraint_list_of_string_values_all_distinct():
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value3"]}),
                       dev("device-3", stringAttribute={"strings": ["value3", "value4"]})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert picked(out) == ids("device-1", "device-3")


def test_list_attributes_distinct_constraint_list_of_string_values_with_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"strings": ["value1", "value2", "value3"]}),
                       dev("device-2", stringAttribute={"strings": ["value2", "value4", "value5"]})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert no_fit(out)


def test_list_attributes_distinct_constraint_mixed_scalar_and_list_all_distinct():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}),
                       dev("device-2", stringAttribute={"strings": ["value1", "value2"]}),
                       dev("device-3", stringAttribute={"strings": ["value2", "value3"]})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert picked(out) == ids("device-1", "device-3")


def test_list_attributes_distinct_constraint_mixed_scalar_and_list_with_common_elements():
    out = run_cel(objs(dev("device-1", stringAttribute={"string": "value1"}),
                       dev("device-2", stringAttribute={"strings": ["value1", "value2"]})),
                  [two_of("distinctAttribute", "stringAttribute")], gates=LISTS_CC)
    assert no_fit(out)


def test_list_attributes_distinct_constraint_list_of_int_values_all_distinct():
    out = run_cel(objs(dev("device-1", numa={"ints": [0, 1]}), dev("device-2", numa={"ints": [1, 2]}),
                       dev("device-3", numa={"ints": [2, 3]})),
                  [two_of("distinctAttribute", "numa")], gates=LISTS_CC)
    assert picked(out) == ids("device-1", "device-3")


def test_list_attributes_distinct_constraint_list_of_bool_values_all_distinct():
    out = run_cel(objs(dev("device-1", boolAttribute={"bools": [True]}), dev("device-2", boolAttribute={"bools": [True, False]}),
                       dev("device-3", boolAttribute={"bools": [False]})),
                  [two_of("distinctAttribute", "boolAttribute")], gates=LISTS_CC)
    assert picked(out) == ids("device-1", "device-3")


def test_list_attributes_distinct_constraint_list_of_version_values_all_distinct():
    out = run_cel(objs(dev("device-1", driverVersion={"versions": ["1.0.0", "1.1.0"]}),
                       dev("device-2", driverVersion={"versions": ["1.1.0", "2.0.0"]}),
                       dev("device-3", driverVersion={"versions": ["2.0.0", "2.1.0"]})),
                  [two_of("distinctAttribute", "driverVersion")], gates=LISTS_CC)
    assert picked(out) == ids("device-1", "device-3")
