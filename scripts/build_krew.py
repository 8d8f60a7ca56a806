#!/usr/bin/env python3
"""Build the krew archive of kubectl-dra and write the krew manifest that points to it.

    python scripts/build_krew.py                # dist/krew/kubectl-dra-vX.Y.Z.tar.gz + plugins/dra.yaml
    python scripts/build_krew.py --check        # rebuild in a temporary directory; exit 1 if plugins/dra.yaml is stale
    python scripts/build_krew.py --update-lock  # re-resolve the vendored packages into plugins/krew-requirements.txt

Run it from the project's venv (it uses that venv's pip and setuptools). Downloads go through pip (its
cache and configured indexes) and are checked against the hashes in plugins/krew-requirements.txt.

What the archive is: one tar.gz for every OS and CPU that has a python3 >= 3.10 (krew links its
`kubectl-dra`, a small Python launcher, onto PATH). Beside it, `lib/` holds kubectl-dra and the
packages it imports, all pure Python, resolved for Python 3.10 (the oldest kubectl-dra supports):

* kubernetes < 37: 37 imports pydantic (pydantic-core is compiled) in `kubernetes.client`;
* jsonschema < 4.18: 4.18 and later need rpds-py (compiled, no pure fallback);
* PyYAML: its wheel's libyaml binding is removed (PyYAML falls back to its pure-Python loader);
* not vendored, because kubectl-dra never imports them (see EXCLUDED): cel-python's evaluator
  dependencies and the kubernetes client's asyncio stack.

The archive holds only regular files and directories (krew's tar extraction handles nothing else), in
sorted order with fixed times and owners: the same inputs give the same bytes, hence the same sha256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "plugins" / "krew-requirements.txt"
MANIFEST = ROOT / "plugins" / "dra.yaml"
LAUNCHER = ROOT / "scripts" / "krew_launcher.py"
PLUGIN = "dra"
PYTHON_FLOOR = "3.10"
# Markers are evaluated for every Python the archive supports, on the OSes krew installs it on.
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
SUPPORTED_PLATFORMS = (("linux", "Linux", "posix"), ("darwin", "Darwin", "posix"))
KREW_OS = ("linux", "darwin")  # windows: krew links kubectl-dra.exe there, and a Python script is no .exe

# Pins the vendored set needs on top of pyproject's dependencies (why: the module docstring).
OVERRIDES = {"kubernetes": "<37", "jsonschema": "<4.18"}
# Dependency edges not followed: the dependency is never imported by what kubectl-dra runs.
EXCLUDED = {
    ("cel-python", "google-re2"): "cel-python's evaluator only; kubectl-dra loads cel-python's parser module alone",
    ("cel-python", "pendulum"): "cel-python's evaluator only (timestamps)",
    ("cel-python", "jmespath"): "cel-python's evaluator only",
    ("kubernetes", "aiohttp"): "kubernetes.aio only; kubectl-dra uses the synchronous client",
}
# Packages whose compiled accelerator may be dropped: they fall back to their own pure-Python code.
STRIP = {"pyyaml": "the libyaml binding (yaml._yaml); PyYAML falls back to its pure-Python loader"}
# The platform whose wheel of a STRIP package is taken (the pure-Python files are the same in all of them).
STRIP_PLATFORM = ["--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                  "--implementation", "cp", "--abi", "cp310", "--python-version", PYTHON_FLOOR]
PURE_PLATFORM = ["--platform", "any", "--implementation", "py", "--abi", "none", "--python-version", PYTHON_FLOOR]
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
MTIME = 315532800  # 1980-01-01: fixed, so the archive's bytes depend on its contents only


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore
        except ImportError:
            raise SystemExit("error: reading pyproject.toml needs Python 3.11 or the tomli package") from None
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _packaging():
    try:
        from packaging.markers import Marker
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - pip always carries a copy
        from pip._vendor.packaging.markers import Marker  # type: ignore
        from pip._vendor.packaging.requirements import Requirement  # type: ignore
    return Requirement, Marker


def pip(*args: str, quiet: bool = True) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    res = subprocess.run(cmd, capture_output=quiet, text=True)
    if res.returncode != 0:
        out = (res.stdout or "") + (res.stderr or "")
        out = "\n".join(line for line in out.splitlines() if "is ignored: it is neither a file" not in line)
        raise SystemExit(f"error: pip {' '.join(args[:2])} failed:\n{out[-4000:]}")


# ----------------------------------------------------------------------------- the lock


def needed(dists: dict[str, dict], roots: list[str]) -> tuple[list[str], list[str]]:
    """Canonical names reachable from roots, over every supported Python and OS, minus EXCLUDED edges;
    and the requirements reached that `dists` lacks (pip evaluates markers for the Python it runs on only)."""
    Requirement, _ = _packaging()
    envs = [{"python_version": v, "python_full_version": v + ".0", "sys_platform": sp, "platform_system": ps,
             "os_name": osn, "implementation_name": "cpython", "platform_python_implementation": "CPython",
             "extra": ""} for v in SUPPORTED_PYTHONS for sp, ps, osn in SUPPORTED_PLATFORMS]

    def applies(req) -> bool:
        return req.marker is None or any(req.marker.evaluate(env) for env in envs)

    excluded = {(canonical(a), canonical(b)) for a, b in EXCLUDED}
    seen: list[str] = []
    missing: list[str] = []
    todo = [(Requirement(r), "kubectl-dra") for r in roots]
    while todo:
        req, parent = todo.pop(0)
        name = canonical(req.name)
        if not applies(req) or name in seen:
            continue
        if name not in dists:
            missing.append(f"{req.name}{req.specifier}")
            continue
        seen.append(name)
        for spec in dists[name].get("requires_dist") or []:
            dep = Requirement(spec)
            if (name, canonical(dep.name)) not in excluded:
                todo.append((dep, name))
    return sorted(seen), missing


def update_lock() -> None:
    """Resolve pyproject's dependencies (with OVERRIDES) for Python 3.10 and pin what the archive vendors."""
    Requirement, _ = _packaging()
    roots = []
    for spec in project()["dependencies"]:
        req = Requirement(spec)
        spec = ",".join(filter(None, [str(req.specifier), OVERRIDES.get(canonical(req.name), "")]))
        roots.append(f"{req.name}{spec}" + (f"; {req.marker}" if req.marker else ""))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        wanted = list(roots)
        for _ in range(10):
            # All wheels, of one Linux platform: pip resolves versions and the graph (compiled ones included,
            # so that the excluded edges resolve too); the pure-Python wheel of each version is fetched below.
            pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), "--target",
                str(Path(tmp) / "t"), "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64", "--platform", "any",
                "--implementation", "cp", "--abi", "cp310", "--abi", "abi3", "--abi", "none",
                "--python-version", PYTHON_FLOOR, *wanted)
            resolved = {canonical(i["metadata"]["name"]): i["metadata"]
                        for i in json.loads(report.read_text())["install"]}
            names, missing = needed(resolved, roots)
            if not missing:
                break
            wanted += missing  # requirements behind markers for other Pythons: resolve them too
        else:
            raise SystemExit(f"error: cannot close the dependency set (still missing: {missing})")
        pins = {name: f"{resolved[name]['name']}=={resolved[name]['version']}" for name in names}
        dest = Path(tmp) / "wheels"
        for group in ("pure", "strip"):
            group_pins = [pin for name, pin in pins.items() if (name in STRIP) == (group == "strip")]
            if group_pins:
                pip("download", "--no-deps", "--quiet", "--only-binary=:all:",
                    *(STRIP_PLATFORM if group == "strip" else PURE_PLATFORM), "--dest", str(dest), *group_pins)
        lines = []
        for name, pin in pins.items():
            version = pin.split("==", 1)[1]
            (wheel,) = [w for w in dest.glob("*.whl")
                        if canonical(w.name.split("-")[0]) == name and w.name.split("-")[1] == version]
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            note = f"  # {wheel.name}" + ("; stripped: " + STRIP[name] if name in STRIP else "")
            lines.append(f"{pin} --hash=sha256:{digest}{note}")
    header = [
        "# The packages scripts/build_krew.py vendors into the krew archive, with the hashes of their wheels.",
        f"# Resolved for Python {PYTHON_FLOOR} (the oldest kubectl-dra supports) from pyproject.toml's dependencies",
        f"# plus {', '.join(f'{k}{v}' for k, v in OVERRIDES.items())}; pure-Python wheels only. Not vendored",
        "# (never imported by kubectl-dra): " + "; ".join(f"{a} -> {b}" for a, b in EXCLUDED) + ".",
        "# Regenerate with: python scripts/build_krew.py --update-lock",
    ]
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    LOCK.write_text("\n".join(header + lines) + "\n")
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(lines)} packages")


def read_lock() -> list[tuple[str, str, str]]:
    """(canonical name, 'name==version', sha256) per locked package."""
    out = []
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if not m:
            raise SystemExit(f"error: {LOCK.name}: cannot read {line!r}")
        out.append((canonical(m[1]), f"{m[1]}=={m[2]}", m[3]))
    return out


# ----------------------------------------------------------------------------- building


def download(wheels: Path) -> list[Path]:
    """The locked wheels, checked against their hashes (pip reuses files already in `wheels`)."""
    lock = read_lock()
    groups = {"pure": [x for x in lock if x[0] not in STRIP], "strip": [x for x in lock if x[0] in STRIP]}
    for group, items in groups.items():
        if not items:
            continue
        req = wheels / f"{group}.txt"
        req.write_text("".join(f"{pin} --hash=sha256:{digest}\n" for _, pin, digest in items))
        platform = STRIP_PLATFORM if group == "strip" else PURE_PLATFORM
        pip("download", "--no-deps", "--quiet", "--only-binary=:all:", "--require-hashes", *platform,
            "--dest", str(wheels), "-r", str(req))
    found = []
    for name, pin, digest in lock:
        version = pin.split("==", 1)[1]
        matches = [w for w in wheels.glob("*.whl") if canonical(w.name.split("-")[0]) == name
                   and w.name.split("-")[1] == version and hashlib.sha256(w.read_bytes()).hexdigest() == digest]
        if len(matches) != 1:
            raise SystemExit(f"error: no wheel of {pin} with the locked hash in {wheels}")
        found.append(matches[0])
    return found


def build_own_wheel(dest: Path) -> Path:
    """kubectl-dra's wheel, built by setuptools from a clean copy of the sources (no stale build/ dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, src / name)
        shutil.copytree(ROOT / "kubectl_dra", src / "kubectl_dra",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
        code = "import sys; from setuptools import build_meta as b; print(b.build_wheel(sys.argv[1]))"
        res = subprocess.run([sys.executable, "-c", code, str(dest)], cwd=src, capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"error: building kubectl-dra's wheel failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        return dest / res.stdout.strip().splitlines()[-1]


def unpack(wheel: Path, lib: Path, strip: bool, owners: dict[str, str]) -> list[str]:
    """Install a wheel's importable files into lib (what pip --target does, minus scripts); returns what was stripped."""
    stripped = []
    with zipfile.ZipFile(wheel) as zf:
        data_prefix = next((n.split("/", 1)[0] + "/" for n in zf.namelist() if n.split("/", 1)[0].endswith(".data")), None)
        for info in zf.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            if data_prefix and name.startswith(data_prefix):
                kind, _, rest = name[len(data_prefix):].partition("/")
                if kind not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: nothing kubectl-dra imports
                name = rest
            if name.endswith(".dist-info/RECORD"):
                continue  # an installer's uninstall list; it would also list what is stripped
            if name.endswith((".pyc", ".pyo")):
                continue  # bytecode of one Python version: each Python writes its own
            if name.endswith(COMPILED_SUFFIXES):
                if not strip:
                    raise SystemExit(f"error: {wheel.name} holds compiled code ({name}): the archive would not be portable")
                stripped.append(name)
                continue
            if name in owners:
                raise SystemExit(f"error: {name} is in both {owners[name]} and {wheel.name}")
            owners[name] = wheel.name
            target = lib / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
    return stripped


def _add(tar: tarfile.TarFile, arcname: str, data: bytes | None, mode: int) -> None:
    info = tarfile.TarInfo(arcname)
    info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))


def write_archive(tree: Path, archive: Path) -> None:
    """tree's files as a reproducible tar.gz (sorted, fixed times and owners, regular files and dirs only)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(tree.rglob("*"), key=lambda p: p.relative_to(tree).as_posix()):
            rel = path.relative_to(tree).as_posix()
            if path.is_symlink():
                raise SystemExit(f"error: {rel} is a symlink; krew extracts regular files and directories only")
            if path.is_dir():
                _add(tar, rel, None, 0o755)
            else:
                _add(tar, rel, path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)
    with open(archive, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue())


def build(out: Path, wheels: Path) -> Path:
    meta = project()
    version = meta["version"]
    out.mkdir(parents=True, exist_ok=True)
    wheels.mkdir(parents=True, exist_ok=True)
    deps = download(wheels)
    with tempfile.TemporaryDirectory() as tmp:
        own = build_own_wheel(Path(tmp))
        tree = Path(tmp) / "tree"
        lib = tree / "lib"
        lib.mkdir(parents=True)
        owners: dict[str, str] = {}
        notes = []
        unpack(own, lib, strip=False, owners=owners)
        # The dist-info's WHEEL names the setuptools that built it: not part of what the archive is.
        for generated in lib.glob("kubectl_dra-*.dist-info/WHEEL"):
            generated.unlink()
        lock = {name: pin for name, pin, _ in read_lock()}
        for wheel in deps:
            name = canonical(wheel.name.split("-")[0])
            stripped = unpack(wheel, lib, strip=name in STRIP, owners=owners)
            notes.append(f"{lock[name]}" + (f" (removed: {', '.join(stripped)}: {STRIP[name]})" if stripped else ""))
        leftovers = [p for p in lib.rglob("*") if p.name.endswith(COMPILED_SUFFIXES)]
        if leftovers:
            raise SystemExit(f"error: compiled files in the archive: {leftovers}")
        (lib / "VENDORED.txt").write_text(
            f"kubectl-dra {version} and the packages it imports, as vendored by scripts/build_krew.py:\n"
            + "".join(f"  {n}\n" for n in notes)
            + "Not vendored (kubectl-dra never imports them):\n"
            + "".join(f"  {a} -> {b}: {why}\n" for (a, b), why in EXCLUDED.items())
            + "Each package's license is in its .dist-info directory.\n")
        launcher = LAUNCHER.read_bytes()
        for name in ("kubectl-dra", "kubectl_complete-dra"):
            (tree / name).write_bytes(launcher)
            (tree / name).chmod(0o755)
        shutil.copy2(ROOT / "LICENSE", tree / "LICENSE")
        shutil.copy2(ROOT / "README.md", tree / "README.md")
        for p in tree.rglob("*"):
            if p.is_file() and p.name not in ("kubectl-dra", "kubectl_complete-dra"):
                p.chmod(0o644)
        archive = out / f"kubectl-dra-v{version}.tar.gz"
        write_archive(tree, archive)
    return archive


# ----------------------------------------------------------------------------- the manifest


def manifest_text(archive: Path, base_url: str | None) -> str:
    meta = project()
    version = "v" + meta["version"]
    homepage = meta["urls"]["Homepage"]
    base = (base_url or f"{homepage}/releases/download/{version}").rstrip("/")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    oses = ", ".join(KREW_OS)
    return f"""\
# krew plugin manifest, written by scripts/build_krew.py (do not edit by hand: rerun the script).
# sha256 is that of the archive the script built; `python scripts/build_krew.py --check` tells if it is stale.
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: {PLUGIN}
spec:
  version: {version}
  homepage: {homepage}
  shortDescription: Explain DRA devices, claims and why a pod's claims do not fit
  description: |
    Explains Kubernetes Dynamic Resource Allocation (resource.k8s.io): which devices
    exist on which nodes, which match a CEL selector, who holds them, and why a pod's
    ResourceClaims cannot be allocated (a local dry run of kube-scheduler's structured
    allocator, node by node). Read-only: it only sends GET requests. Also reads
    `kubectl get -o yaml` dumps offline (-f), scaffolds and validates DRA manifests.
  caveats: |
    kubectl-dra is written in Python: it needs python3 3.10 or newer on PATH
    (or KUBECTL_DRA_PYTHON=/path/to/python3). Its dependencies come with it.

    `kubectl dra <TAB>` completion: link the completion helper once, next to the plugin:
      ln -s kubectl-dra "${{KREW_ROOT:-$HOME/.krew}}/bin/kubectl_complete-dra"
  platforms:
  - selector:
      matchExpressions:
      - key: os
        operator: In
        values: [{oses}]
    uri: {base}/{archive.name}
    sha256: {digest}
    bin: kubectl-dra
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist" / "krew", help="where the archive goes (default: dist/krew)")
    ap.add_argument("--wheels", type=Path, help="download cache for the vendored wheels (default: OUT/wheels)")
    ap.add_argument("--manifest", type=Path, default=MANIFEST, help="manifest to write (default: plugins/dra.yaml)")
    ap.add_argument("--base-url", help="where the archive will be published (default: HOMEPAGE/releases/download/vVERSION)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="build in a temporary directory; fail if --manifest differs")
    mode.add_argument("--update-lock", action="store_true", help="re-resolve plugins/krew-requirements.txt")
    args = ap.parse_args(argv)
    if args.update_lock:
        update_lock()
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            archive = build(Path(tmp), args.wheels or ROOT / "dist" / "krew" / "wheels")
            want = manifest_text(archive, args.base_url)
            have = args.manifest.read_text() if args.manifest.exists() else ""
            if want != have:
                print(f"{args.manifest}: stale (the archive built now has sha256 "
                      f"{hashlib.sha256(archive.read_bytes()).hexdigest()}); rerun scripts/build_krew.py", file=sys.stderr)
                return 1
            print(f"{args.manifest}: up to date")
            return 0
    archive = build(args.out, args.wheels or args.out / "wheels")
    args.manifest.parent.mkdir(parents=True, exist_ok=True)
    args.manifest.write_text(manifest_text(archive, args.base_url))
    size = archive.stat().st_size
    print(f"{archive} ({size / 1e6:.1f} MB, sha256 {hashlib.sha256(archive.read_bytes()).hexdigest()})")
    print(f"wrote {args.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
