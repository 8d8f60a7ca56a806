"""The CEL parser's Lark tables cached per user (kubectl_dra.cel.syntax._cached_cel_parser): JSON, never a
pickle, trusted only when private to the user."""

from __future__ import annotations

import os

import pytest
from celpy import celparser

from kubectl_dra.cel import syntax

EXPRESSIONS = [
    'device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "a100"',
    'device.capacity["x"].memory.compareTo(quantity("1Gi")) >= 0 || true',
    "[1, 2, 3].all(x, x > 0) && {'a': 1}.exists(k, k == 'a')",
]


@pytest.fixture
def fresh_parser(monkeypatch):
    """Run with celpy's class-level parser unset; restore it afterwards."""
    saved = celparser.CELParser.CEL_PARSER
    monkeypatch.delenv("KUBECTL_DRA_NO_CACHE", raising=False)

    def build():
        celparser.CELParser.CEL_PARSER = None
        return syntax._cached_cel_parser()
    try:
        yield build
    finally:
        celparser.CELParser.CEL_PARSER = saved


def _reference_trees():
    celparser.CELParser.CEL_PARSER = None
    p = celparser.CELParser()
    return [p.parse(t) for t in EXPRESSIONS]


def test_cache_written_then_used_with_the_same_trees(fresh_parser, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = _reference_trees()
    first = fresh_parser()
    files = os.listdir(tmp_path / "kubectl-dra")
    assert len(files) == 1 and files[0].endswith(".json")
    assert os.path.getsize(tmp_path / "kubectl-dra" / files[0]) > 1000
    assert [first.parse(t) for t in EXPRESSIONS] == expected
    second = fresh_parser()  # loaded from the file
    assert [second.parse(t) for t in EXPRESSIONS] == expected
    assert celparser.Lark is not None and celparser.Lark.__name__ == "Lark"  # celpy's module untouched
    assert celparser.CELParser.CEL_PARSER.source_path == "<deserialized>"


def test_corrupt_cache_file_falls_back(fresh_parser, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = _reference_trees()
    fresh_parser()
    (path,) = (tmp_path / "kubectl-dra").iterdir()
    path.write_bytes(path.read_bytes()[:500])  # half a file, as a concurrent writer would leave it
    p = fresh_parser()
    assert [p.parse(t) for t in EXPRESSIONS] == expected
    with pytest.raises(celparser.CELParseError):
        p.parse("device.driver ==")


def test_unusable_cache_dir_falls_back(fresh_parser, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # kubectl-dra/ cannot be created under a file
    expected = _reference_trees()
    p = fresh_parser()
    assert [p.parse(t) for t in EXPRESSIONS] == expected


def test_cache_can_be_turned_off(fresh_parser, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("KUBECTL_DRA_NO_CACHE", "1")
    p = fresh_parser()
    assert p.parse(EXPRESSIONS[0]) == _reference_trees()[0]
    assert not (tmp_path / "kubectl-dra").exists()


def test_only_the_parser_module_of_cel_python_is_loaded():
    """cel-python's evaluator (and pendulum, dateutil) cost ~45 ms per start and are never used."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kubectl_dra.cel import compile_expression\n"
        "assert compile_expression('device.driver == \"x\"').evaluate('x') is True\n"
        "loaded = sorted(m for m in ('celpy', 'celpy.evaluation', 'pendulum') if m in sys.modules)\n"
        "from celpy import celparser\n"  # a later import of the package sees the same parser module
        "import celpy\n"
        "print(loaded, celparser is sys.modules['celpy.celparser'], celpy.CELParser is celparser.CELParser)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True True"


def _pickle_bomb(marker) -> bytes:
    """A pickle that, loaded, creates ``marker``: what a writable cache directory would let anyone do."""
    import pickle

    class Bomb:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Bomb())


def test_a_planted_pickle_runs_nothing(fresh_parser, monkeypatch, tmp_path):
    import lark

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = _reference_trees()
    fresh_parser()
    (path,) = (tmp_path / "kubectl-dra").iterdir()
    marker = tmp_path / "pwned"
    bomb = _pickle_bomb(marker)
    path.write_bytes(bomb)  # where the tables are read from now
    old_name = f"cel-parser-lark{lark.__version__}-py{os.sys.version_info[0]}{os.sys.version_info[1]}.lark"
    (tmp_path / "kubectl-dra" / old_name).write_bytes(b"0\n" + bomb)  # and where the pickle cache used to be
    p = fresh_parser()
    assert [p.parse(t) for t in EXPRESSIONS] == expected
    assert not marker.exists()
    assert path.read_bytes() != bomb  # rebuilt and replaced


def test_tables_others_may_write_are_not_trusted(fresh_parser, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = _reference_trees()
    fresh_parser()
    (path,) = (tmp_path / "kubectl-dra").iterdir()
    doc = json.loads(path.read_text())
    doc["key"] = "0" * 64  # a file for another grammar or version: not used
    path.write_text(json.dumps(doc))
    p = fresh_parser()
    assert [p.parse(t) for t in EXPRESSIONS] == expected
    assert json.loads(path.read_text())["key"] != "0" * 64
    path.chmod(0o666)  # anyone may write it: not loaded
    calls = []
    real = syntax._load_tables
    monkeypatch.setattr(syntax, "_load_tables", lambda *a: calls.append(real(*a)) or calls[-1])
    p = fresh_parser()
    assert calls == [None] and [p.parse(t) for t in EXPRESSIONS] == expected
    path.chmod(0o600)
    (tmp_path / "kubectl-dra").chmod(0o777)  # a directory anyone may write: not loaded, nothing written
    calls.clear()
    fresh_parser()
    assert calls == [None]
