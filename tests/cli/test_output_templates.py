"""`-o jsonpath=...` / `-o custom-columns=...` on get, explain, why-pending and match: a view of the very document
`-o json` prints; anything outside the supported syntax is a one-line usage error naming what is supported.
(kubectl's own output for the same templates: tests/live/test_jsonpath.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kubectl_dra.render import jsonpath as jp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "cluster.yaml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubectl_dra", *args, "-f", EXAMPLE], capture_output=True,
                          text=True, timeout=120)


def as_json(*args: str):
    p = run(*args, "-o", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_get_devices_jsonpath_and_columns_are_views_of_the_json():
    doc = as_json("get", "devices")
    p = run("get", "devices", "-o", 'jsonpath={range .items[*]}{.node}/{.device}{"\\n"}{end}')
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.splitlines() == [f"{d['node']}/{d['device']}" for d in doc["items"]] and len(doc["items"]) > 3
    p = run("get", "devices", "-o", "custom-columns=DEVICE:.device,NODE:.node,MEMORY:.capacity.gpu\\.nvidia\\.com/memory",
            "--no-headers")
    rows = [line.split() for line in p.stdout.splitlines()]
    assert rows == [[d["device"], d["node"], d["capacity"].get("gpu.nvidia.com/memory", "<none>")] for d in doc["items"]]


@pytest.mark.parametrize("args, template, key", [
    (("why-pending", "pod/trainer"), "{.stage}", "stage"),
    (("explain", "class/gpu.nvidia.com"), "{.kind}", "kind"),
    (("match", "device.driver == 'gpu.nvidia.com'"), "{.counts.match}", None),
])
def test_reports_through_jsonpath(args, template, key):
    doc = as_json(*args)
    p = run(*args, "-o", f"jsonpath={template}")
    assert p.returncode == 0, p.stderr
    want = doc[key] if key else doc["counts"]["match"]
    assert p.stdout == str(want) and p.stdout
    # a report is one object: custom-columns gives one row
    p = run(*args, "-o", f"custom-columns=X:{template}")
    assert p.stdout.splitlines() == ["X", str(want)]


@pytest.mark.parametrize("fmt, needle", [
    ("jsonpath={.items[?(@.x =~ 'y')]}", "unsupported filter operator"),
    ("jsonpath={.a", "unclosed action"),
    ("jsonpath={range .items[*]}{.a}", "{range} without {end}"),
    ("jsonpath={if .a}x{end}", "Go template syntax"),
    ("jsonpath=", "no template given"),
    ("jsonpath={.items[(@.length-1)]}", "unsupported subscript"),
    ('jsonpath={.items["a"]}', "keys in [...] take single quotes"),
])
def test_unsupported_jsonpath_is_a_usage_error_naming_what_is_supported(fmt, needle):
    p = run("get", "devices", "-o", fmt)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1 and needle in p.stderr
    if fmt != "jsonpath=":
        assert "supported: " in p.stderr and "{range EXPR}...{end}" in p.stderr


def test_other_formats_name_the_templates():
    p = run("get", "devices", "-o", "go-template={{.x}}")
    assert p.returncode == 2 and "jsonpath=TEMPLATE, custom-columns=HEADER:.path" in p.stderr
    p = run("get", "devices", "-o", "custom-columns=NAME")
    assert p.returncode == 2 and p.stderr.startswith("error: unexpected custom-columns spec: 'NAME'")


def test_out_of_bounds_is_an_error():
    p = run("get", "classes", "-o", "jsonpath={.items[9].metadata.name}")
    assert p.returncode == 1 and p.stderr == "error: jsonpath: array index out of bounds: index 9, length 2\n"


def test_values_print_as_kubectl_prints_them():
    doc = {"items": [{"m": {"b": 1, "a": "<x>"}, "l": [1, "two", True, None], "f": 1.5, "n": None}]}
    assert jp.render(jp.parse("{.items[0].m}"), doc) == '{"a":"\\u003cx\\u003e","b":1}'
    assert jp.render(jp.parse("{.items[0].l[*]}"), doc) == "1 two true null"  # as kubectl 1.32 prints them
    assert jp.render(jp.parse("{.items[0].f}|{.items[0].l}"), doc) == '1.5|[1,"two",true,null]'
    assert jp.render_columns(jp.parse_columns("M:.m,L:.l,F:.f"), doc) == (
        "M                L                    F\nmap[a:<x> b:1]   [1 two true <nil>]   1.5\n")
    assert jp.render(jp.parse(r"{.items[0]['m']['a']} {..b}"), doc) == "<x> 1"
    # as in kubectl, ['a.b'] is a path; a dot inside a key is escaped
    dotted = {"k": {"x.y/z": 1, "x": {"y/z": 2}}}
    assert jp.render(jp.parse(r"{.k['x.y/z']} {.k['x\.y/z']} {.k.x\.y/z}"), dotted) == "2 1 1"
