"""Values that could drive a terminal (escape sequences, control characters, bidi overrides) reach text
output only as visible escapes; JSON keeps them raw (its syntax escapes them)."""

from __future__ import annotations

import json

import pytest
import yaml

from kubectl_dra.terminal import safe, safe_line

EVIL = "\x1b]0;pwned\x07\x1b[2J\u202e\r"
RAW = ("\x1b", "\x07", "\u202e", "\r")


def test_safe_shows_what_it_replaces():
    assert safe("plain text\n\tindented") == "plain text\n\tindented"
    assert safe("a\x1b[31mred\x1b[0m") == "a^[[31mred^[[0m"
    assert safe("bell\x07 cr\r nul\x00 del\x7f csi\x9b rlo\u202e") == "bell\\x07 cr\\r nul\\x00 del\\x7f csi\\x9b rlo\\u202e"
    assert safe_line("two\nlines\tand a tab") == "two\\nlines\\tand a tab"


def test_the_fast_check_agrees_with_the_escaping():
    from kubectl_dra.terminal import needs_escaping

    for code in range(0x3000):
        ch = chr(code)
        assert needs_escaping("abc" + ch) == (safe("abc" + ch) != "abc" + ch), hex(code)
        assert needs_escaping("é" + ch, line=True) == (safe_line("é" + ch) != "é" + ch), hex(code)


@pytest.fixture
def evil_cluster(tmp_path):
    objs = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-0"}},
        {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": "gpu.example.com"},
         "spec": {"selectors": [{"cel": {"expression": "device.driver == 'gpu.example.com'"}}]}},
        {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": {"name": "slice" + EVIL},
         "spec": {"driver": "gpu.example.com", "nodeName": "node-0",
                  "pool": {"name": "node-0", "generation": 1, "resourceSliceCount": 1},
                  "devices": [{"name": "gpu-0", "attributes": {"model": {"string": "A100" + EVIL + "\nFAKE"}}}]}},
        {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "claim" + EVIL, "namespace": "default"},
         "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com", "count": 2}}]}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
         "spec": {"containers": [{"name": "c", "image": "x"}],
                  "resourceClaims": [{"name": "gpu", "resourceClaimName": "claim" + EVIL}]},
         "status": {"phase": "Pending"}},
    ]
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump_all(objs, allow_unicode=True))
    return str(path)


@pytest.mark.parametrize("args", [
    ("get", "devices", "-o", "wide"), ("get", "slices"), ("get", "claims"), ("get", "claims", "-o", "name"),
    ("explain", "claim/claim" + EVIL), ("explain", "node/node-0"), ("why-pending", "pod/p"),
    ("match", "device.attributes['gpu.example.com'].model.startsWith('A100')"),
])
def test_text_output_carries_no_raw_control_characters(cli, evil_cluster, args):
    res = cli(*args, "-f", evil_cluster)
    assert res.exit_code in (0, 1), res.stderr
    out = res.stdout + res.stderr
    assert not [c for c in RAW if c in out], out
    assert "^[]0;pwned" in out or args[0] == "match"  # shown, not hidden


def test_a_table_value_cannot_forge_a_line(cli, evil_cluster):
    res = cli("get", "devices", "-o", "wide", "-f", evil_cluster)
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and "\\nFAKE" in lines[1]


def test_json_keeps_the_raw_values(cli, evil_cluster):
    res = cli("get", "claims", "-o", "json", "-f", evil_cluster)
    assert "\x1b" not in res.stdout  # JSON escapes it...
    assert json.loads(res.stdout)["items"][0]["metadata"]["name"] == "claim" + EVIL  # ...and the value is the raw one


def test_errors_quote_names_safely(cli, evil_cluster):
    res = cli("explain", "claim/nope" + EVIL, "-f", evil_cluster)
    assert res.exit_code == 5
    assert res.stderr.count("\n") == 1 and not [c for c in RAW if c in res.stderr]
    assert "nope^[]0;pwned\\x07^[[2J\\u202e\\r" in res.stderr
