"""Input limits (kubectl_dra.sources.limits): size, depth, YAML aliasing, UTF-8 -- one line, exit 3, fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from kubectl_dra.errors import InputError
from kubectl_dra.sources import limits
from kubectl_dra.sources.files import load_files, parse_text, read_config, read_manifests

# "Billion laughs": nine levels of nine aliases each, 9**9 (387 million) strings once expanded.
_LEVELS = "abcdefghi"
BOMB = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: lol\n  labels:\n"
        + '    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"    {c}: &{c} [" + ",".join([f"*{_LEVELS[i]}"] * 9) + "]\n"
                  for i, c in enumerate(_LEVELS[1:])))


def _run(args: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "kubectl_dra", *args], input=stdin, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    return proc.returncode, proc.stderr.decode()


# The child's peak RSS, measured by a small parent: a child forked straight from pytest would count pytest's
# own pages (resident until exec) in its ru_maxrss.
_MEASURE = """
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stdout.write(f"{p.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
sys.stdout.write(p.stderr.decode())
"""


def _peak_rss_kib(args: list[str]) -> tuple[int, str, int]:
    """(exit code, stderr, peak RSS in KiB) of the console script."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "kubectl_dra", *args],
                         capture_output=True, text=True, check=True).stdout
    first, _, err = out.partition("\n")
    code, rss = map(int, first.split())
    return code, err, rss


def test_alias_bomb_is_refused_quickly_in_process():
    t0 = time.perf_counter()
    with pytest.raises(limits.LimitError, match=r"^bomb.yaml: invalid YAML: excessive aliasing"):
        parse_text(BOMB, "bomb.yaml")
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("args", [
    ["get", "devices", "-o", "json"], ["get", "devices", "-o", "yaml"], ["get", "devices", "-o", "wide"],
    ["dump"], ["explain", "pod/lol"], ["validate"],
])
def test_alias_bomb_is_one_line_exit_3_with_bounded_memory(tmp_path, args):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    code, err, rss = _peak_rss_kib([*args, "-f", str(bomb)])
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith(f"error: {bomb}: invalid YAML: excessive aliasing"), err
    assert rss < 50 * 1024, f"peak RSS {rss} KiB"


def test_a_few_aliases_are_fine():
    text = ("apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  labels: &l {a: b}\n"
            "  annotations: *l\n")
    (node,) = parse_text(text, "x.yaml")
    assert node["metadata"]["annotations"] == {"a": "b"}


def test_aliasing_budget_counts_expanded_nodes(monkeypatch):
    # 10 aliases of a 10-node sequence add 10 * 11 nodes: within a budget of 110, refused under 109.
    text = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\nx: &x [1,2,3,4,5,6,7,8,9,10]\ny: [" \
           + ",".join(["*x"] * 10) + "]\n"
    monkeypatch.setattr(limits, "MAX_ALIAS_NODES", 110)
    parse_text(text, "x.yaml")
    monkeypatch.setattr(limits, "MAX_ALIAS_NODES", 109)
    with pytest.raises(limits.LimitError, match="excessive aliasing"):
        parse_text(text, "x.yaml")


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Pod\nmetadata: &m\n  name: x\n  labels: *m\n",
    "apiVersion: v1\nkind: Pod\nspec: &s [1, *s]\nmetadata: {name: x}\n",
])
def test_recursive_alias_is_refused(text):
    with pytest.raises(limits.LimitError, match=r"^r.yaml: invalid YAML at line \d+ column \d+: an alias refers "
                                                r"to a node that contains it"):
        parse_text(text, "r.yaml")


def _nested(depth: int) -> dict:
    obj: object = "leaf"
    for _ in range(depth - 1):
        obj = {"x": obj}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": obj}  # `depth` levels


@pytest.fixture(params=["decoder", "bytes"])
def json_depth_by(request, monkeypatch):
    """Both ways of bounding JSON's depth: the decoder's recursion limit (CPython <= 3.11) and the bytes."""
    if request.param == "bytes":
        monkeypatch.setattr(limits, "_decoder_frames", None)
    elif limits._calibrate() is None:
        pytest.skip("this interpreter's JSON decoder is not bounded by the recursion limit")
    return request.param


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_depth_limit_is_exact(fmt, json_depth_by):
    import yaml

    def text(depth: int) -> str:
        obj = _nested(depth)  # the object itself is level 1, spec level 2, ...
        return json.dumps(obj) if fmt == "json" else yaml.safe_dump(obj)

    parse_text(text(limits.MAX_DEPTH), "ok")
    with pytest.raises(limits.LimitError, match=f"^deep: nested more than {limits.MAX_DEPTH} levels deep"):
        parse_text(text(limits.MAX_DEPTH + 1), "deep")


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 100_000 + "1" + "}" * 100_000,
    "[" * 100_000,                        # not even closed
])
def test_deep_json_is_an_input_error_not_a_recursion_error(text, json_depth_by):
    with pytest.raises(InputError, match=r"^deep.json: (nested more than 100 levels deep|invalid JSON)"):
        parse_text(text, "deep.json")


def test_deep_yaml_is_an_input_error():
    with pytest.raises(limits.LimitError, match="nested more than 100 levels deep"):
        parse_text("[" * 100_000 + "]" * 100_000, "deep.yaml")
    block = "".join("  " * i + "a:\n" for i in range(150)) + "  " * 150 + "b: 1\n"
    with pytest.raises(limits.LimitError, match="nested more than 100 levels deep"):
        parse_text(block, "deep.yaml")


@pytest.mark.parametrize("text, depth", [
    ('[[],[[]],{"x":{}}]', 3),
    ('{"a\\"[[[": [1, {"b": "]]]]"}]}', 3),           # brackets inside strings, an escaped quote
    ('{"a\\\\": [1, {"b": "]\\\\\\"[["}]}', 3),        # escaped backslashes before quotes
    ('"[[[["', 0),
])
def test_json_depth_is_measured_on_structure_only(text, depth):
    """The byte measure (the fallback where the decoder is not bounded)."""
    json.loads(text)  # valid JSON
    assert not limits.json_depth_exceeds(text, depth)
    assert limits.json_depth_exceeds(text, depth - 1) == (depth > 0)


def test_non_utf8_input_names_line_and_column(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("apiVersion: v1\nkind: Node\nmetadata:\n  name: nöde\n".encode("latin-1"))
    with pytest.raises(InputError, match=rf"^{f}: not UTF-8 text: byte 0xf6 at line 4 column 10"):
        load_files([str(f)])
    code, err = _run(["get", "devices", "-f", "-"], stdin=b"kind: Node\nmetadata: {name: \xff}\n")
    assert code == 3 and err == "error: <stdin>: not UTF-8 text: byte 0xff at line 2 column 18 (save the file " \
                                "as UTF-8)\n", err


def test_the_recursion_limit_is_restored(json_depth_by):
    before = sys.getrecursionlimit()
    parse_text(json.dumps(_nested(50)), "ok")
    with pytest.raises(limits.LimitError):
        parse_text("[" * 5000 + "]" * 5000, "deep")
    assert sys.getrecursionlimit() == before


def test_byte_order_mark_is_allowed(tmp_path):
    f = tmp_path / "bom.json"
    f.write_bytes(b'\xef\xbb\xbf{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}')
    objs, _ = load_files([str(f)])
    assert objs[0]["metadata"]["name"] == "n"


def test_size_limit(tmp_path, monkeypatch):
    f = tmp_path / "big.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}) + " " * 100)
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 64)
    with pytest.raises(limits.LimitError, match=rf"^{f}: file is larger than the 64 bytes kubectl-dra reads"):
        load_files([str(f)])


def test_validate_refuses_limits_but_reports_broken_yaml(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [\n")
    with pytest.raises(limits.LimitError):
        read_manifests([str(broken), str(bomb)])
    docs, files, unparsable = read_manifests([str(broken)])
    assert unparsable and unparsable[0][0] == str(broken)


def test_config_file_is_read_within_the_limits(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(BOMB)
    with pytest.raises(limits.LimitError, match="excessive aliasing"):
        read_config(str(cfg))
    cfg.write_text("a: 1\n---\nb: 2\n")
    with pytest.raises(InputError, match="holds 2 YAML documents"):
        read_config(str(cfg))


def test_closed_stdin_is_an_input_error():
    p = subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "kubectl_dra", "get", "devices",
                        "-f", "-"], capture_output=True, text=True)
    assert p.returncode == 3
    assert p.stderr == "error: <stdin>: cannot read: standard input is closed\n"
