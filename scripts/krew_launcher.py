#!/usr/bin/env python3
# kubectl-dra from the krew archive (scripts/build_krew.py copies this file in as `kubectl-dra` and as
# `kubectl_complete-dra`). It runs kubectl-dra with the pure-Python packages in the `lib` directory next to
# it, on whatever python3 (3.10 or newer) is found; nothing is installed into that Python.
#
# krew links ~/.krew/bin/kubectl-dra to this file; a link named kubectl_complete-dra (to this file or to
# that link) makes it the completion helper kubectl runs for `kubectl dra <TAB>`.
#
# This file must still parse on old Pythons (2.7, 3.6), so that they can say what is wrong.
import os
import sys

MINIMUM = (3, 10)
CANDIDATES = ("python3.14", "python3.13", "python3.12", "python3.11", "python3.10", "python3")
HERE = os.path.dirname(os.path.realpath(__file__))
LIB = os.path.join(HERE, "lib")
COMPLETING = os.path.basename(sys.argv[0]).startswith("kubectl_complete")
REEXEC = "_KUBECTL_DRA_REEXEC"  # set on the Python we hand over to, so that it never hands over again


def _fail(message):
    if COMPLETING:  # a completion helper prints candidates or nothing, never errors
        sys.stdout.write(":4\n")
        sys.exit(0)
    sys.stderr.write("error: " + message + "\n")
    sys.exit(1)


def _on_path(name):
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(d, name)
        if d and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _version_of(python):
    import subprocess

    try:
        out = subprocess.check_output([python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                                      stderr=subprocess.STDOUT)
        return tuple(int(x) for x in out.decode().split())
    except Exception:  # noqa: BLE001 - not a usable Python
        return None


def _hand_over(python):
    os.environ[REEXEC] = "1"
    args = [python, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    os.execv(python, args)  # argv[0]'s name is kept: kubectl_complete-dra stays the completion helper


def _choose_python():
    """Run on the Python KUBECTL_DRA_PYTHON names, else on this one if new enough, else on a newer python3.X."""
    if os.environ.get(REEXEC):
        if sys.version_info[:2] < MINIMUM:
            _fail("kubectl-dra needs Python %d.%d or newer; %s is %d.%d"
                  % (MINIMUM + (sys.executable,) + tuple(sys.version_info[:2])))
        return
    wanted = os.environ.get("KUBECTL_DRA_PYTHON")
    if wanted:
        python = _on_path(wanted)
        if python is None:
            _fail("KUBECTL_DRA_PYTHON=%s: no such executable" % wanted)
        if os.path.realpath(python) != os.path.realpath(sys.executable):
            _hand_over(python)
        if sys.version_info[:2] < MINIMUM:
            _fail("kubectl-dra needs Python %d.%d or newer; KUBECTL_DRA_PYTHON=%s is %d.%d"
                  % (MINIMUM + (wanted,) + tuple(sys.version_info[:2])))
        return
    if sys.version_info[:2] >= MINIMUM:
        return
    for name in CANDIDATES:
        python = _on_path(name)
        if python and os.path.realpath(python) != os.path.realpath(sys.executable):
            version = _version_of(python)
            if version and version >= MINIMUM:
                _hand_over(python)
    _fail("kubectl-dra needs Python %d.%d or newer; python3 on PATH is %d.%d (%s) and no python3.10 or newer "
          "was found on PATH. Install one, or set KUBECTL_DRA_PYTHON to it, or install kubectl-dra with "
          "pipx or uv instead of krew" % (MINIMUM + tuple(sys.version_info[:2]) + (sys.executable,)))


_choose_python()
if not os.path.isdir(os.path.join(LIB, "kubectl_dra")):
    _fail("the kubectl-dra installation is incomplete: %s has no kubectl_dra package" % LIB)


def _isolate():
    """lib, the standard library and PYTHONPATH: no site-packages, so that what this archive was tested with
    is all that runs, whatever else that Python has installed."""
    import site

    sites = []
    for get in ("getsitepackages", "getusersitepackages"):
        try:
            found = getattr(site, get)()
        except AttributeError:  # (some embedded or old site modules lack one)
            continue
        sites += [found] if isinstance(found, str) else list(found)
    drop = set(os.path.realpath(p) for p in sites) | set([HERE])
    sys.path[:] = [LIB] + [p for p in sys.path if p and os.path.realpath(p) not in drop]


_isolate()

if COMPLETING:
    try:
        from kubectl_dra.cli import kubectl_complete_main
    except ImportError:
        _fail("cannot import kubectl_dra")
    kubectl_complete_main()
else:
    from kubectl_dra.cli import main

    main()
