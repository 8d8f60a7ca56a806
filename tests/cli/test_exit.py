"""The console script leaves with os._exit (no heap teardown): output and exit codes must survive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "cluster.yaml")


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubectl_dra", *args], capture_output=True, text=True, **kw)


def test_large_output_is_flushed_whole_before_exit():
    p = run("why-pending", "pod/trainer", "-f", EXAMPLE, "-o", "json", "--verbose")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)  # complete document: nothing lost in buffers
    assert report["target"]["name"] == "trainer" and report["nodes"]


def test_exit_codes_and_one_line_errors_survive():
    p = run("why-pending", "pod/nope", "-f", EXAMPLE)
    assert p.returncode == 5
    assert p.stderr == "error: pods \"nope\" not found in namespace 'default'\n"
    p = run("get", "devices", "-f", os.path.join(ROOT, "no-such-file.yaml"))
    assert p.returncode == 3 and p.stderr.startswith("error: ") and "Traceback" not in p.stderr
    p = run("no-such-command")
    assert p.returncode == 2 and p.stderr.startswith("error: unknown command \"no-such-command\"")
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("kubectl-dra ")


@pytest.mark.parametrize("args, first_line", [
    (("get", "devices", "-o", "wide"), b"NODE"),            # plain tables
    (("why-pending", "pod/trainer", "-o", "wide"), b"Pod default/trainer"),  # rich text
])
def test_reader_going_away_is_not_an_error(tmp_path, args, first_line):
    # `kubectl dra ... | head -1`: the pipe closes early; exit 0, no traceback, no "Exception ignored".
    sys.path.insert(0, ROOT)
    from benchmarks.synth import make_cluster

    big = tmp_path / "big.json"  # 3,600 devices: far more output than a pipe buffers
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": make_cluster(300)}))
    proc = subprocess.Popen([sys.executable, "-m", "kubectl_dra", *args, "-f", str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert first.startswith(first_line)
    assert err == ""


def test_atexit_handlers_still_run(tmp_path):
    marker = tmp_path / "ran"
    code = ("import atexit, sys; from kubectl_dra.cli import main; "
            f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes')); "
            f"sys.argv = ['kubectl-dra', 'get', 'classes', '-f', {EXAMPLE!r}]; main()")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert marker.read_text() == "yes"
    assert "NAME" in p.stdout


def test_library_use_keeps_nothing_alive():
    """Only the console script (main) keeps big objects for the OS to free; library callers and
    CliRunner tests get ordinary lifetimes."""
    import weakref

    from kubectl_dra import process

    class Big:
        pass

    obj = Big()
    ref = weakref.ref(obj)
    process.keep_until_exit(obj)
    del obj
    assert ref() is None


def test_files_with_context_or_kubeconfig_is_a_usage_error(tmp_path):
    from typer.testing import CliRunner

    from kubectl_dra.cli import app
    from kubectl_dra.errors import ExitCode
    from tests.conftest import EXAMPLE

    for extra in (["--context", "prod"], ["--kubeconfig", str(tmp_path / "kc")]):
        res = CliRunner().invoke(app, ["get", "devices", "-f", str(EXAMPLE), *extra])
        assert res.exit_code == int(ExitCode.USAGE), res.output
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert lines == [f"error: -f reads files, not a cluster: {extra[0]} cannot be used with it"]
