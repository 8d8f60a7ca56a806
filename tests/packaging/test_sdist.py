"""The source distribution: what `pip download kubectl-dra --no-binary :all:` (or a distro packager) unpacks.

Built offline with the venv's own setuptools (the `test` extra pins the backend's lower bound), from a copy
of the checkout that also holds the junk a developer's checkout has (bytecode, a venv, build output).
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Top-level directories the sdist must carry whole (every file the checkout has there, bytecode aside).
CARRIED_DIRS = ("examples", "tests", "completions", "schemas", "benchmarks", "scripts", "plugins")
CARRIED_FILES = ("LICENSE", "README.md", "ARCHITECTURE.md", "pyproject.toml", "MANIFEST.in")


def _is_junk(rel: str) -> bool:
    parts = rel.split("/")
    return (any(p in ("__pycache__", ".venv", ".git", ".pytest_cache", ".hypothesis", "build", "dist")
                or p.endswith(".egg-info") for p in parts)
            or rel.endswith((".pyc", ".pyo")) or rel.startswith("benchmarks/out/"))


def _source_files(tree: Path) -> set[str]:
    return {p.relative_to(tree).as_posix() for p in tree.rglob("*")
            if p.is_file() and not _is_junk(p.relative_to(tree).as_posix())}


def _build(backend_call: str, src: Path, out: Path) -> Path:
    out.mkdir(exist_ok=True)
    code = f"import sys; from setuptools import build_meta as b; print(b.{backend_call}(sys.argv[1]))"
    res = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, f"{backend_call} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return out / res.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the checkout, plus the junk a working checkout accumulates."""
    tree = tmp_path_factory.mktemp("checkout") / "kubectl-dra"
    shutil.copytree(ROOT, tree, ignore=lambda d, names: [n for n in names if _is_junk(
        (Path(d) / n).relative_to(ROOT).as_posix())])
    for junk in ("tests/__pycache__/conftest.cpython-311.pyc", "kubectl_dra/__pycache__/cli.cpython-311.pyc",
                 ".venv/bin/python", "benchmarks/out/run.json", "build/lib/kubectl_dra/cli.py",
                 "examples/stray.pyc"):
        (tree / junk).parent.mkdir(parents=True, exist_ok=True)
        (tree / junk).write_text("junk\n")
    return tree


@pytest.fixture(scope="module")
def sdist(checkout, tmp_path_factory) -> Path:
    return _build("build_sdist", checkout, tmp_path_factory.mktemp("sdist"))


def _members(sdist: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
    top = {m.name.split("/", 1)[0] for m in members}
    assert top == {"kubectl_dra-0.1.0"}, top
    return {m.name.split("/", 1)[1]: m for m in members if "/" in m.name and m.isfile()}


def test_sdist_carries_examples_tests_completions_and_the_rest(checkout, sdist):
    names = set(_members(sdist))
    source = _source_files(checkout)
    for d in CARRIED_DIRS:
        expected = {f for f in source if f.startswith(d + "/")}
        assert expected, f"the checkout has no {d}/"
        missing = sorted(expected - names)
        assert not missing, f"sdist lacks files of {d}/: {missing}"
    for f in CARRIED_FILES:
        if (checkout / f).exists():
            assert f in names, f"sdist lacks {f}"
    # The package itself, with its data (the schemas `validate` reads).
    assert {f for f in source if f.startswith("kubectl_dra/")} <= names
    assert "kubectl_dra/data/schemas/1.36/v1/resourceclaim.json" in names
    assert {"examples/cluster.yaml", "completions/kubectl_complete-dra", "tests/conftest.py",
            "plugins/dra.yaml", "scripts/build_krew.py", "LICENSE"} <= names


def test_sdist_leaves_out_bytecode_venvs_and_build_output(sdist):
    junk = sorted(n for n in _members(sdist) if _is_junk(n) and not n.startswith("kubectl_dra.egg-info/"))
    assert not junk, junk


def test_completion_helper_stays_executable_in_the_sdist(sdist):
    assert _members(sdist)["completions/kubectl_complete-dra"].mode & 0o111


def test_sdist_metadata_declares_license_urls_and_classifiers(sdist):
    with tarfile.open(sdist) as tar:
        pkg_info = tar.extractfile("kubectl_dra-0.1.0/PKG-INFO").read().decode()
    meta = email.message_from_string(pkg_info)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = meta.get_all("Classifier")
    assert "Environment :: Console" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression says it
    assert "kubectl-plugin" in meta["Keywords"]


def test_wheel_built_from_the_unpacked_sdist_installs_both_commands(sdist, tmp_path):
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp_path)
    wheel = _build("build_wheel", tmp_path / "kubectl_dra-0.1.0", tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read("kubectl_dra-0.1.0.dist-info/entry_points.txt").decode()
    assert "kubectl_dra/data/schemas/1.34/v1beta1/resourceslice.json" in names
    assert "kubectl_dra-0.1.0.dist-info/licenses/LICENSE" in names
    assert "kubectl-dra = kubectl_dra.cli:main" in entry_points
    assert "kubectl_complete-dra = kubectl_dra.cli:kubectl_complete_main" in entry_points
    # The wheel is the package only: tests and examples stay in the sdist.
    assert not [n for n in names if n.startswith(("tests/", "examples/", "benchmarks/"))]
