"""Conformance tables for the Kubernetes CEL libraries and cel-go standard functions.

Cases follow the documented behaviour of upstream's quantity, semver, lists,
regex and ext.Strings/Sets libraries (our own expressions and expectations).
"""

import pytest

from kubectl_dra.cel import CelCompileError, CelEvaluationError, compile_expression

DEV = dict(driver="gpu.example.com", attributes={}, capacity={})


def ev(expr):
    return compile_expression(expr).evaluate(**DEV)


TRUE_CASES = [
    # quantity
    'quantity("1.5G") == quantity("1500M")',
    'isQuantity("1.3Gi")', '!isQuantity("1,3G")', 'isQuantity("10000k")', '!isQuantity("200K")',
    '!isQuantity("Three")', '!isQuantity("Mi")',
    'quantity("50000000G").isInteger()', 'quantity("50k").isInteger()',
    '!quantity("9999999999999999999999999999999999999G").isInteger()',
    'quantity("50k").asInteger() == 50000',
    'quantity("50k").sub(20000).asApproximateFloat() == 30000.0',
    'quantity("50k").add(quantity("20k")) == quantity("70k")',
    'quantity("50k").add(20) == quantity("50020")',
    'quantity("50k").sub(quantity("20k")) == quantity("30k")',
    'quantity("50k").sub(20000) == quantity("30k")',
    'quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")',
    'quantity("200M").compareTo(quantity("0.2G")) == 0',
    'quantity("50M").compareTo(quantity("50Mi")) == -1',
    'quantity("50Mi").compareTo(quantity("50M")) == 1',
    'quantity("150Mi").isGreaterThan(quantity("100Mi"))',
    '!quantity("50Mi").isGreaterThan(quantity("100Mi"))',
    'quantity("50M").isLessThan(quantity("100M"))',
    'quantity("-1").sign() == -1', 'quantity("0").sign() == 0', 'quantity("1m").sign() == 1',
    '!quantity("1500m").isInteger()',
    # semver
    'isSemver("1.0.0")', '!isSemver("hello")', '!isSemver("v1.0")', 'isSemver("v1.0", true)',
    'isSemver("01.01.01", true)', '!isSemver("01.01.01")',
    'semver("v1.0.0", true) == semver("1.0.0")', 'semver("1.0", true) == semver("1.0.0")',
    'semver("01.01.01", true) == semver("1.1.1")',
    'semver("1.2.3").major() == 1', 'semver("1.2.3").minor() == 2', 'semver("1.2.3").patch() == 3',
    'semver("1.2.3").compareTo(semver("1.2.3")) == 0',
    'semver("1.2.3").compareTo(semver("2.0.0")) == -1',
    'semver("1.2.3").compareTo(semver("0.1.2")) == 1',
    'semver("1.0.0-alpha").isLessThan(semver("1.0.0"))',
    'semver("1.0.0-alpha.1").isLessThan(semver("1.0.0-alpha.beta"))',
    'semver("1.0.0-2").isLessThan(semver("1.0.0-10"))',
    'semver("1.0.0+build.1") == semver("1.0.0+build.2")',
    'semver("2.0.0").isGreaterThan(semver("1.99.99"))',
    # ext.Strings v2
    '"hello".charAt(1) == "e"', '"hello".charAt(5) == ""', '"hello mellow".indexOf("ello") == 1',
    '"hello mellow".indexOf("ello", 2) == 7', '"hello mellow".lastIndexOf("ello") == 7',
    '"TacoCat".lowerAscii() == "tacocat"', '"TacoCÆt".upperAscii() == "TACOCÆT"',
    '"hello hello".replace("he", "we") == "wello wello"', '"hello hello".replace("he", "we", 1) == "wello hello"',
    '"hello hello hello".split(" ") == ["hello", "hello", "hello"]',
    '"hello hello hello".split(" ", 2) == ["hello", "hello hello"]',
    '"tacocat".substring(4) == "cat"', '"tacocat".substring(0, 4) == "taco"',
    '"  \\ttrim\\n ".trim() == "trim"', '["a", "b"].join() == "ab"', '["a", "b"].join("-") == "a-b"',
    'strings.quote("a\\nb") == "\\"a\\\\nb\\""',
    # lists (Kubernetes)
    '[1, 2, 3].isSorted()', '!["b", "a"].isSorted()', '[1, 2, 3].sum() == 6', '[1.0, 2.5].sum() == 3.5',
    '[quantity("1Gi"), quantity("1Gi")].sum() == quantity("2Gi")',
    '[3, 1, 2].min() == 1', '[3, 1, 2].max() == 3', '[1, 2, 2, 3].indexOf(2) == 1', '[1, 2, 2, 3].lastIndexOf(2) == 2',
    '[1, 2].indexOf(7) == -1', '[semver("1.0.0"), semver("2.0.0")].isSorted()',
    # regex (Kubernetes)
    '"abc 123".find("[0-9]+") == "123"', '"abc".find("[0-9]+") == ""',
    '"123 abc 456".findAll("[0-9]+") == ["123", "456"]', '"123 abc 456".findAll("[0-9]+", 1) == ["123"]',
    # sets
    'sets.contains([1, 2, 3], [3, 2])', '!sets.contains([1], [2])', 'sets.equivalent([1, 2], [2, 1, 1])',
    'sets.intersects([1, 2], [2, 3])', '!sets.intersects([1], [2])', 'sets.contains([1], [1.0])',
    # standard library
    '"abc".matches("^a.c$")', 'matches("abc", "b")', '"gpu-0".startsWith("gpu")', '"gpu-0".endsWith("-0")',
    '"abc".contains("b")', 'size("abc") == 3', '"abc".size() == 3', 'size([1, 2]) == 2', 'size({"a": 1}) == 1',
    'int("42") == 42', 'uint(3) == 3u', 'double(1) == 1.0', 'string(1.5) == "1.5"', 'string(true) == "true"',
    'bool("true")', 'type(1) == int', 'type("a") == string', 'dyn(1) == 1.0', 'dyn(1) == 1u', '2 > 1.5', '1u < 2',
    '7 / 2 == 3', '-7 / 2 == -3', '-7 % 3 == -1', '"a" + "b" == "ab"', '[1] + [2] == [1, 2]',
    '[1, 2, 3].all(x, x > 0)', '[1, 2, 3].exists(x, x == 2)', '[1, 2, 3].exists_one(x, x > 2)',
    '[1, 2, 3].map(x, x * 2) == [2, 4, 6]', '[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]',
    '[1, 2, 3].filter(x, x > 1) == [2, 3]', '{"a": 1, "b": 2}.all(k, k in ["a", "b"])',
    'cel.bind(x, 3, x * x == 9)', '{"a": 1}.a == 1', 'has({"a": 1}.a)', '!has({"a": 1}.b)',
    '2 in [1, 2]', '"a" in {"a": 1}', 'true ? true : false', '!(false && (1 / 0 == 1))', 'true || (1 / 0 == 1)',
    '(1 / 0 == 1) || true', '!((1 / 0 == 1) && false)',
    '[1, 2].all(i, x, x > i)', '{"a": 1}.exists(k, v, v == 1)',
]


@pytest.mark.parametrize("expr", TRUE_CASES)
def test_true(expr):
    assert ev(expr) is True


RUNTIME_ERRORS = [
    ('quantity("9999999999999999999999999999999999999G").asInteger() == 0', "cannot convert value to integer"),
    ('quantity("200K") == quantity("1")', "unable to parse quantity's suffix"),
    ('quantity("Three") == quantity("1")', "quantities must match the regular expression"),
    ('semver("v1.0.0") == semver("1.0.0")', 'Invalid character(s) found in major number "v1"'),
    ('semver("1.0") == semver("1.0.0")', "No Major.Minor.Patch elements found"),
    ('semver("01.0.0") == semver("1.0.0")', 'Major number must not contain leading zeroes "01"'),
    ('semver("1.0-beta", true) == semver("1.0.0")', "short version cannot contain PreRelease/Build meta data"),
    ("1 / 0 == 1", "division by zero"),
    ("1 % 0 == 1", "modulus by zero"),
    ("9223372036854775807 + 1 > 0", "integer overflow"),
    ('{"a": 1}.b == 1', "no such key: b"),
    ('[1].min() == 1 && [].min() == 1', "min(list) called on empty list"),
    ('"abc".charAt(4) == ""', "index out of range: 4"),
    ('"abc".substring(2, 1) == ""', "invalid substring range"),
    ('dyn("a") < 1', "no such overload"),
    ('[1, 2][5] == 1', "index out of bounds"),
]


@pytest.mark.parametrize("expr,message", RUNTIME_ERRORS)
def test_runtime_errors(expr, message):
    with pytest.raises(CelEvaluationError) as ei:
        ev(expr)
    assert message in str(ei.value)


COMPILE_ERRORS = [
    ("foo == 1", "undeclared reference to 'foo'"),
    ('device.atributes["x"].y', "undefined field 'atributes'"),
    ('"a".noSuchFunction()', "undeclared reference to 'noSuchFunction'"),
    ('quantity("1") > "1"', "found no matching overload for '_>_' applied to '(kubernetes.Quantity, string)'"),
    ('quantity("1") < quantity("2")', "found no matching overload for '_<_'"),
    ('1 == "1"', "found no matching overload for '_==_' applied to '(int, string)'"),
    ('"a" + 1 == "a1"', "found no matching overload for '_+_'"),
    ("1 + 2", "must evaluate to bool or the unknown type, not int"),
    ('"x"', "must evaluate to bool or the unknown type, not string"),
    ("device.driver", "must evaluate to bool or the unknown type, not string"),
    ('semver("1.0.0", true, 1) == semver("1.0.0")', "found no matching overload for 'semver'"),
    ('timestamp("2024-01-01T00:00:00Z") > timestamp("2023-01-01T00:00:00Z")', "not implemented by kubectl-dra"),
]


@pytest.mark.parametrize("expr,message", COMPILE_ERRORS)
def test_compile_errors(expr, message):
    with pytest.raises(CelCompileError) as ei:
        compile_expression(expr)
    assert message in str(ei.value)


def test_runtime_cost_limit_stops_runaway_expression():
    expr = compile_expression("[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, "
                              "[1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))", cost_limit=500, check_cost=False)
    with pytest.raises(CelEvaluationError, match="operation cancelled: actual cost limit exceeded"):
        expr.evaluate(**DEV)


def test_estimated_cost_rejects_nested_comprehensions_over_attributes():
    text = ('device.attributes["gpu.example.com"].all(a, device.attributes["gpu.example.com"].all(b, '
            'device.attributes["gpu.example.com"].all(c, device.attributes["gpu.example.com"].all(d, '
            'a + b + c + d != ""))))')
    with pytest.raises(CelCompileError, match="estimated cost"):
        compile_expression(text)
