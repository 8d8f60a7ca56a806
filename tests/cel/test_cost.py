"""The worst-case cost estimate agrees with the API server's: each figure below is the estimated cost
upstream's own CEL table expects for the expression (k8s.io/dynamic-resource-allocation/cel
compile_test.go, TestCEL's expectCost, which it compares with CompilationResult.MaxCost), including the
DRAListTypeAttributes cases: an attribute value sized at max(64, 48) = 64 entries, includes() at 48."""

from __future__ import annotations

import pytest

from kubectl_dra.cel import CelCompileError, compile_expression

D = 'device.attributes["dra.example.com"]'
C = 'device.capacity["dra.example.com"]'
NESTED = ("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(y, "
          "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z2, "
          "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z4, "
          "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z5, int('1'.find('[0-9]*')) < 100)))))))")
ALL_KINDS = " && ".join([
    f'{C}.quantity.isGreaterThan(quantity("1Ki"))', f"{D}.bool", f"{D}.int > 0", f'{D}.string == "fish"',
    f'{D}.version.isGreaterThan(semver("0.0.1"))', f'{C}["quantity"].isGreaterThan(quantity("1Ki"))',
    f'{D}["bool"]', f'{D}["int"] > 0', f'{D}["string"] == "fish"', f'{D}["version"].isGreaterThan(semver("0.0.1"))'])

UPSTREAM = [
    # (expression, DRAListTypeAttributes, upstream's estimated cost)
    (f'{D}.name == "fish"', False, 5),
    (f'{D}.name.isGreaterThan(semver("0.0.1"))', False, 6),
    (f'{D}.name.isGreaterThan(semver("v0.0.1", true)) && isSemver("v1.0.0", true)', False, 7),
    (f'{C}.name.isGreaterThan(quantity("1Ki"))', False, 6),
    (f'"name" in {C} && {C}.name.isGreaterThan(quantity("1Ki"))', False, 10),
    (f'!("name" in {C}) || {C}.name.isGreaterThan(quantity("1Ki"))', False, 11),
    (ALL_KINDS, False, 52),
    (f"{D}.a && {D}.b && {D}.c", False, 12),
    ('device.attributes.exists_one(x, x == "dra.example.com")', False, 164),
    (f'{D}.exists_one(x, x == "services")', False, 133),
    ('device.capacity.exists_one(x, x == "dra.example.com")', False, 164),
    (f'{C}.exists_one(x, x == "memory")', False, 133),
    (f'{D}.services.split("example").size() >= 2', False, 19),
    (f'{D}.services.matches("[^a]?sym")', False, 18),
    ("device.allowMultipleAllocations == true", False, 3),
    (NESTED, False, 85555551),
    # list-type attributes
    (f'{D}.name.includes(semver("3.0.0"))', True, 4 + 48 + 1),
    (f'{D}.name.includes("value-48")', True, 4 + 48),
    (f"1 in {D}.names", True, 4 + 64),
    (f'{D}.name.exists(x, x.isGreaterThan(semver("0.0.1")))', True, 5 + (3 + 4) * 64),
]


@pytest.mark.parametrize("expression,lists,cost", UPSTREAM, ids=[f"{i}" for i in range(len(UPSTREAM))])
def test_estimated_cost_is_the_api_servers(expression, lists, cost):
    assert compile_expression(expression, list_types=lists, check_cost=False).max_cost == cost


def test_over_the_budget_is_refused_when_checked():
    # NESTED's 85,555,551 exceeds CELSelectorExpressionMaxCost (1,000,000): the API server refuses it.
    with pytest.raises(CelCompileError, match="estimated cost 85555551 exceeds the budget of 1000000"):
        compile_expression(NESTED)


def test_nested_comprehensions_over_list_attributes_fit_the_budget():
    # Each list attribute ranges over at most 64 values, so two nested comprehensions stay far below the
    # budget (a range nothing sizes would be assumed 1,000 long and a third level would not fit).
    text = f"{D}.a.all(x, {D}.b.exists(y, x == y))"
    cost = compile_expression(text, list_types=True).max_cost
    assert cost == 5 + 64 * (3 + 5 + 64 * (4 + 3))
    assert cost < 1_000_000
