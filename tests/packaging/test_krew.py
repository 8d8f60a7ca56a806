"""The krew archive, built by scripts/build_krew.py and installed the way krew installs a plugin.

krew (sigs.k8s.io/krew, internal/installation and internal/download) checks the manifest, picks the
platform whose selector matches the machine, checks the archive's sha256, extracts it (regular files and
directories only), moves the `files` into store/<plugin>/<version>/ and links bin/kubectl-<plugin> to the
platform's `bin`. The helpers below do the same steps; the installed plugin then runs with no venv: a
plain python3 on PATH, HOME empty, no PYTHONPATH. Its answers must equal those of the pip-installed
kubectl-dra of this venv (same sources, other dependency versions: see plugins/krew-requirements.txt).

The build downloads the locked wheels through pip (its cache makes later runs fast).
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT

SCRIPT = ROOT / "scripts" / "build_krew.py"
COMMITTED_MANIFEST = ROOT / "plugins" / "dra.yaml"
DEV_BIN = Path(sys.executable).parent  # this venv's console scripts: the pip-installed kubectl-dra
KUBECTL = shutil.which("kubectl")


def base_python() -> str:
    """A python3 that is no venv: the interpreter this venv was made from."""
    for name in ("python3", f"python{sys.version_info[0]}.{sys.version_info[1]}", "python"):
        path = Path(sys.base_prefix) / "bin" / name
        if path.exists():
            return os.path.realpath(path)
    pytest.skip(f"no python3 under {sys.base_prefix}")


def other_python(version: str) -> str | None:
    """An installed python<version> (on PATH, or beside this one as version managers lay them out)."""
    found = [p for p in glob.glob(str(Path(sys.base_prefix).parent / "*" / "bin" / f"python{version}"))]
    which = shutil.which(f"python{version}")
    for path in found + ([which] if which else []):
        res = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if res.returncode == 0 and res.stdout.strip() == str(tuple(int(x) for x in version.split("."))):
            return os.path.realpath(path)
    return None


# ----------------------------------------------------------------------------- krew's steps


def validate_manifest(name: str, doc: dict) -> None:
    """The checks krew's index validation makes on a plugin manifest."""
    assert doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert doc["kind"] == "Plugin"
    assert re.fullmatch(r"[\w-]+", name) and doc["metadata"]["name"] == name
    spec = doc["spec"]
    assert spec["shortDescription"] and not re.search(r"[\r\n]", spec["shortDescription"])
    assert re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", spec["version"]), spec["version"]
    assert spec["platforms"]
    for p in spec["platforms"]:
        assert p["uri"] and p["bin"]
        assert re.fullmatch(r"[a-f0-9]{64}", p["sha256"])
        if "files" in p:
            assert p["files"] and all(f.get("from") and f.get("to") for f in p["files"])
        sel = p["selector"]
        assert sel.get("matchLabels") or sel.get("matchExpressions")
        keys = list(sel.get("matchLabels") or {}) + [e["key"] for e in sel.get("matchExpressions") or []]
        assert set(keys) <= {"os", "arch"}, keys


def this_machine() -> dict[str, str]:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(),
                                                                                          platform.machine())
    return {"os": sys.platform if sys.platform != "win32" else "windows", "arch": arch}


def matching_platform(spec: dict) -> dict | None:
    labels = this_machine()
    for p in spec["platforms"]:
        sel = p["selector"]
        ok = all(labels.get(k) == v for k, v in (sel.get("matchLabels") or {}).items())
        for e in sel.get("matchExpressions") or []:
            value = labels.get(e["key"])
            op = e["operator"]
            ok &= (value in e["values"]) if op == "In" else (value not in e["values"]) if op == "NotIn" else (
                value is not None) if op == "Exists" else (value is None)
        if ok:
            return p
    return None


def krew_install(archive: Path, manifest: Path, root: Path) -> Path:
    """Install like `krew install --manifest=M --archive=A`; returns the bin directory to put on PATH."""
    doc = yaml.safe_load(manifest.read_text())
    name = manifest.stem
    validate_manifest(name, doc)
    plat = matching_platform(doc["spec"])
    assert plat is not None, f"the manifest offers nothing for {this_machine()}"
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == plat["sha256"]
    staging = root / "staging"
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            assert not m.name.startswith("/") and ".." not in m.name.split("/"), m.name
            assert m.isreg() or m.isdir(), f"krew cannot extract {m.name} (type {m.type!r})"
            target = staging / m.name
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(m).read())
                target.chmod(m.mode & 0o777)
    install_dir = root / "store" / name / doc["spec"]["version"]
    install_dir.mkdir(parents=True)
    for op in plat.get("files") or [{"from": "*", "to": "."}]:
        matches = sorted(p for p in staging.iterdir() if fnmatch.fnmatch(p.name, op["from"])) \
            if "/" not in op["from"] else [staging / op["from"]]
        assert matches, f"no file matches {op['from']!r}"
        for src in matches:
            shutil.move(str(src), str(install_dir / op["to"] / src.name))
    binary = install_dir / plat["bin"]
    assert binary.is_file() and os.access(binary, os.X_OK), binary
    bindir = root / "bin"
    bindir.mkdir()
    (bindir / f"kubectl-{name.replace('-', '_')}").symlink_to(binary)
    return bindir


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("krew-build")
    manifest = out / "dra.yaml"
    res = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--manifest", str(manifest)],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, f"build_krew.py failed:\n{res.stdout}\n{res.stderr}"
    (archive,) = out.glob("kubectl-dra-v*.tar.gz")
    return archive, manifest


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    archive, manifest = built
    return krew_install(archive, manifest, tmp_path_factory.mktemp("krew-root"))


def clean_env(tmp_path: Path, *path_dirs: str | Path) -> dict[str, str]:
    """No venv, no PYTHONPATH, an empty HOME; PATH: the given directories, then kubectl's and the system's."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    dirs = [str(d) for d in path_dirs] + ([os.path.dirname(KUBECTL)] if KUBECTL else []) + ["/usr/bin", "/bin"]
    return {"HOME": str(home), "PATH": os.pathsep.join(dirs), "NO_COLOR": "1", "COLUMNS": "120",
            "LANG": "C.UTF-8", "KUBECONFIG": str(tmp_path / "no-kubeconfig"), "KUBECACHEDIR": str(home / "cache")}


def run(args, env, cwd=ROOT, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def dev_run(args, tmp_path) -> subprocess.CompletedProcess:
    """The same command through this venv's pip-installed kubectl-dra."""
    return run([DEV_BIN / args[0], *args[1:]], clean_env(tmp_path, DEV_BIN))


def python_dir(tmp_path: Path, python: str, name: str = "python3") -> Path:
    """A directory holding just `python` under `name`: the python3 a krew user's PATH finds."""
    d = tmp_path / f"py-{Path(python).name}-{name}"
    d.mkdir(exist_ok=True)
    if not (d / name).exists():
        (d / name).symlink_to(python)
    return d


# ----------------------------------------------------------------------------- the manifest and the archive


def test_manifest_is_what_krew_accepts_and_names_the_built_archive(built):
    archive, manifest = built
    doc = yaml.safe_load(manifest.read_text())
    validate_manifest("dra", doc)
    from importlib.metadata import version

    assert doc["spec"]["version"] == "v" + version("kubectl-dra")
    (plat,) = doc["spec"]["platforms"]
    assert plat["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert plat["uri"].startswith("https://") and plat["uri"].endswith("/" + archive.name)
    assert plat["bin"] == "kubectl-dra"
    # One archive for every OS krew runs kubectl-dra on: no Windows (krew links a .exe there).
    (expr,) = plat["selector"]["matchExpressions"]
    assert expr["key"] == "os" and set(expr["values"]) == {"linux", "darwin"}


def test_committed_manifest_is_the_scripts_output(built):
    """plugins/dra.yaml is what the script writes (only the sha256 may lag behind: `build_krew.py --check`)."""
    _, manifest = built

    def masked(text):
        return re.sub(r"sha256: [0-9a-f]{64}", "sha256: <sha>", text)

    assert masked(COMMITTED_MANIFEST.read_text()) == masked(manifest.read_text())


def test_archive_is_pure_python_and_extractable_by_krew(built):
    archive, _ = built
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert all(m.isreg() or m.isdir() for m in members.values())
    compiled = [n for n in members if n.endswith((".so", ".pyd", ".dylib", ".dll", ".pyc"))]
    assert not compiled, compiled
    for launcher in ("kubectl-dra", "kubectl_complete-dra"):
        assert members[launcher].mode & 0o777 == 0o755
    assert {"LICENSE", "lib/kubectl_dra/cli.py", "lib/kubectl_dra/data/schemas/1.36/v1/resourceclaim.json",
            "lib/VENDORED.txt"} <= set(members)
    # What kubectl-dra never imports stays out (see EXCLUDED in the script).
    tops = {n.split("/")[1] for n in members if n.startswith("lib/") and n.count("/") >= 1}
    assert not tops & {"pendulum", "re2", "jmespath", "aiohttp", "pydantic", "pydantic_core", "rpds"}, tops


def test_rebuilding_gives_the_same_bytes(built, tmp_path):
    """Same sources and lock, same archive: the sha256 in the manifest can be checked by anyone."""
    archive, _ = built
    again = tmp_path / "again"
    res = subprocess.run([sys.executable, str(SCRIPT), "--out", str(again), "--manifest", str(again / "m.yaml"),
                          "--wheels", str(archive.parent / "wheels")], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert (again / archive.name).read_bytes() == archive.read_bytes()


# ----------------------------------------------------------------------------- the installed plugin


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_finds_the_plugin_and_runs_why_pending(installed, tmp_path):
    env = clean_env(tmp_path, installed, python_dir(tmp_path, base_python()))
    listed = run(["kubectl", "plugin", "list"], env)
    assert str(installed / "kubectl-dra") in listed.stdout, listed.stdout + listed.stderr
    for args in (["why-pending", "pod/trainer", "-f", EXAMPLE], ["why-pending", "pod/trainer", "-f", EXAMPLE, "-o", "json"]):
        got = run(["kubectl", "dra", *args], env)
        want = dev_run(["kubectl-dra", *args], tmp_path)
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    assert got.stdout.startswith("{") and json.loads(got.stdout)["target"]["name"] == "trainer"


def test_kubectl_dra_runs_directly_on_a_plain_python3(installed, tmp_path):
    env = clean_env(tmp_path, installed, python_dir(tmp_path, base_python()))
    for args in (["why-pending", "pod/trainer", "-f", EXAMPLE], ["validate", "-f", EXAMPLE, "-o", "json"],
                 ["get", "devices", "-f", EXAMPLE, "-o", "wide"], ["explain", "claim/trainer-gpus-q9t4m", "-f", EXAMPLE],
                 ["match", "device.driver == 'gpu.nvidia.com'", "-f", EXAMPLE], ["top", "-f", EXAMPLE],
                 ["top", "--by", "class", "-f", EXAMPLE, "-o", "json"]):
        got = run(["kubectl-dra", *args], env)
        want = dev_run(["kubectl-dra", *args], tmp_path)
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr), args
    assert "Pod default/trainer" in run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE], env).stdout
    helped = run(["kubectl-dra", "--help"], env)
    assert helped.returncode == 0 and "why-pending" in helped.stdout


def test_a_broken_schema_file_is_reported_the_same(installed, tmp_path):
    """`validate` on the archive's jsonschema (4.17, pure Python) finds what the pip install's finds."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: x}\n"
                   "spec: {devices: {requests: [{name: gpu, exactly: {deviceClassName: 7, count: two, colour: red}}]}}\n")
    env = clean_env(tmp_path, installed, python_dir(tmp_path, base_python()))
    got = run(["kubectl-dra", "validate", "-f", bad, "-o", "json"], env)
    want = dev_run(["kubectl-dra", "validate", "-f", bad, "-o", "json"], tmp_path)
    assert got.returncode == want.returncode == 1
    report = json.loads(got.stdout)
    assert report == json.loads(want.stdout)
    assert report["errors"] == 3 and {d["path"].rsplit(".", 1)[-1] for d in report["diagnostics"]} >= {
        "exactly", "count", "deviceClassName"}


def test_live_cluster_through_the_archive(installed, tmp_path):
    """The archive's kubernetes client (36.x) against the test API server: same answers as the venv's."""
    from tests.live.apiserver import ApiServer
    from tests.live.conftest import example_objects

    with ApiServer(example_objects()) as srv:
        kubeconfig = srv.kubeconfig(tmp_path / "kc")
        env = clean_env(tmp_path, installed, python_dir(tmp_path, base_python()))
        env["KUBECONFIG"] = str(kubeconfig)
        dev_env = clean_env(tmp_path, DEV_BIN)
        dev_env["KUBECONFIG"] = str(kubeconfig)
        for args in (["get", "devices"], ["why-pending", "pod/trainer", "-o", "json"]):
            got = run(["kubectl-dra", *args], env)
            want = run([DEV_BIN / "kubectl-dra", *args], dev_env)
            assert got.returncode == want.returncode and got.stdout == want.stdout, (args, got.stderr)
        assert "gpu-node-1" in got.stdout
        denied = run(["kubectl-dra", "get", "devices", "--request-timeout", "5", "--kubeconfig",
                      srv.kubeconfig(tmp_path / "kc-bad", token="wrong")], env)
        assert denied.returncode == 4 and denied.stderr.startswith("error: authentication failed"), denied.stderr
        assert srv.methods() == {"GET"}


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_completion_helper_linked_next_to_the_plugin(installed, tmp_path):
    """The manifest's caveat: `ln -s kubectl-dra ~/.krew/bin/kubectl_complete-dra` makes `kubectl dra <TAB>` work."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kubectl-dra").symlink_to(os.readlink(installed / "kubectl-dra"))
    (bindir / "kubectl_complete-dra").symlink_to("kubectl-dra")
    env = clean_env(tmp_path, bindir, python_dir(tmp_path, base_python()))
    got = run(["kubectl", "__complete", "dra", "get", "-f", EXAMPLE, "classes", ""], env)
    assert got.stdout.splitlines()[:2] == ["gpu.nvidia.com", "mig.nvidia.com"], got.stdout + got.stderr
    values = [line.split("\t")[0] for line in run(["kubectl", "__complete", "dra", ""], env).stdout.splitlines()]
    assert {"why-pending", "get", "explain"} <= set(values)


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13", "3.14"])
def test_runs_on_each_supported_python(installed, tmp_path, version):
    python = other_python(version)
    if python is None:
        pytest.skip(f"no python{version} on this machine")
    env = clean_env(tmp_path, installed, python_dir(tmp_path, python))
    got = run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE, "-o", "json"], env)
    want = dev_run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE, "-o", "json"], tmp_path)
    assert got.returncode == want.returncode and json.loads(got.stdout) == json.loads(want.stdout), got.stderr
    checked = run(["kubectl-dra", "validate", "-f", EXAMPLE], env)
    assert checked.returncode == 0 and "0 errors" in checked.stdout, checked.stderr


def test_too_old_python3_is_one_error_line_or_hands_over_to_a_newer_one(installed, tmp_path):
    old = other_python("3.9") or other_python("3.8")
    if old is None:
        pytest.skip("no python3.9 or 3.8 on this machine to play an old system python3")
    env = clean_env(tmp_path, installed, python_dir(tmp_path, old))
    env["PATH"] = os.pathsep.join([str(installed), str(python_dir(tmp_path, old))])  # no other python3 anywhere
    res = run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE], env)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("error: kubectl-dra needs Python 3.10 or newer; python3 on PATH is 3.")
    assert len(res.stderr.splitlines()) == 1 and "KUBECTL_DRA_PYTHON" in res.stderr
    # The completion helper stays silent, as kubectl expects of it.
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "kubectl_complete-dra").symlink_to(installed / "kubectl-dra")
    env_c = dict(env, PATH=os.pathsep.join([str(tmp_path / "c"), str(python_dir(tmp_path, old))]))
    res = run(["kubectl_complete-dra", "get", ""], env_c)
    assert (res.returncode, res.stdout, res.stderr) == (0, ":4\n", "")
    # A newer python3.X on PATH next to the old python3 is used instead.
    newer = python_dir(tmp_path, base_python(), f"python{sys.version_info[0]}.{sys.version_info[1]}")
    env["PATH"] = os.pathsep.join([str(installed), str(python_dir(tmp_path, old)), str(newer)])
    res = run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE], env)
    assert res.returncode == 0 and res.stdout.startswith("Pod default/trainer"), res.stderr
    # KUBECTL_DRA_PYTHON names the interpreter outright.
    env["PATH"] = os.pathsep.join([str(installed), str(python_dir(tmp_path, old))])
    env["KUBECTL_DRA_PYTHON"] = base_python()
    res = run(["kubectl-dra", "why-pending", "pod/trainer", "-f", EXAMPLE], env)
    assert res.returncode == 0 and res.stdout.startswith("Pod default/trainer"), res.stderr
