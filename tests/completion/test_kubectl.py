"""`kubectl __complete dra ...` through the real kubectl binary: kubectl finds the kubectl-dra plugin and runs
kubectl_complete-dra (PATH), from -f files and against the test API server, and stays quick and silent
when the cluster is dead or hangs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from tests.live.apiserver import ApiServer
from tests.completion.conftest import EXAMPLE, ROOT, example_objects

pytestmark = pytest.mark.live


@pytest.fixture
def kenv(tool_env):
    if shutil.which("kubectl", path=tool_env["PATH"]) is None:
        pytest.skip("kubectl is not on PATH")
    return tool_env


def kcomplete(env, *words, timeout=30):
    """Run `kubectl __complete WORDS...`; (values, descriptions, directive, stderr, seconds)."""
    t0 = time.monotonic()
    res = subprocess.run(["kubectl", "__complete", *words], env=env, capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines and lines[-1].startswith(":"), res.stdout
    values, descs = [], []
    for line in lines[:-1]:
        v, _, d = line.partition("\t")
        values.append(v)
        descs.append(d)
    return values, descs, int(lines[-1][1:]), res.stderr, elapsed


def plugin_stderr(stderr: str) -> str:
    """kubectl's own debug lines on stderr ([Debug] ..., "Completion ended with ...") minus, what is left
    came from our executable."""
    return "\n".join(l for l in stderr.splitlines()
                     if l.strip() and not l.startswith("[Debug]") and not l.startswith("Completion ended"))


def test_kubectl_lists_the_plugin_and_our_subcommands(kenv):
    values, _, _, _, _ = kcomplete(kenv, "d")
    assert "dra" in values
    values, descs, directive, err, _ = kcomplete(kenv, "dra", "")
    assert {"why-pending", "get", "explain", "dump"} <= set(values)
    assert descs[values.index("explain")].startswith("Explain") and all(descs)
    assert directive == 4 and plugin_stderr(err) == ""


def test_from_files(kenv):
    f = ("-f", "examples/cluster.yaml")
    assert kcomplete(kenv, "dra", "get", *f, "classes", "")[0] == ["gpu.nvidia.com", "mig.nvidia.com"]
    values, descs, directive, err, _ = kcomplete(kenv, "dra", "why-pending", *f, "")
    assert values == ["inference", "trainer", "pod/", "claim/"]
    assert directive == 4 | 32 and plugin_stderr(err) == ""
    values, _, directive, _, _ = kcomplete(kenv, "dra", "explain", *f, "cl")
    assert values == ["class/", "claim/"] and directive == 4 | 2
    assert kcomplete(kenv, "dra", "get", *f, "-n", "")[0] == ["default", "team-a", "team-b"]
    # -f wants file names: directive 0, the shell completes files
    values, _, directive, _, _ = kcomplete(kenv, "dra", "get", "-f", "")
    assert values == [] and directive == 0


@pytest.fixture(scope="module")
def example_server():
    with ApiServer(example_objects(), versions=("v1",)) as srv:
        yield srv


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_from_the_test_api_server(kenv, tmp_path, version):
    with ApiServer(example_objects(), versions=(version,)) as srv:
        kenv["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", namespace="team-a"))
        values, descs, _, err, _ = kcomplete(kenv, "dra", "get", "claims", "")
        assert values == ["eval-gpus", "llm-finetune-0-gpus-7xk2p"]  # the context's namespace
        assert descs == ["allocated", "allocated"] and plugin_stderr(err) == ""
        values, descs, _, _, _ = kcomplete(kenv, "dra", "why-pending", "-n", "default", "")
        assert values == ["inference", "trainer", "pod/", "claim/"]
        assert descs[0] == "Pending: claim gpu pending"
        assert kcomplete(kenv, "dra", "explain", "class/")[0] == ["class/gpu.nvidia.com", "class/mig.nvidia.com"]
        assert kcomplete(kenv, "dra", "get", "devices", "--node", "gpu")[0] == ["gpu-node-1", "gpu-node-2",
                                                                              "gpu-node-3"]
        assert kcomplete(kenv, "dra", "get", "-n", "")[0] == ["default", "team-a", "team-b"]
        assert kcomplete(kenv, "dra", "get", "--context", "")[0] == ["test"]
        assert srv.methods() == {"GET"}


def test_namespaces_fall_back_when_forbidden(kenv, tmp_path):
    with ApiServer(example_objects()) as srv:
        srv.forbid("namespaces")
        kenv["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc"))
        assert kcomplete(kenv, "dra", "get", "-n", "")[0] == ["default", "team-a", "team-b"]


def test_wrong_token_is_silent(kenv, tmp_path):
    with ApiServer(example_objects()) as srv:
        kenv["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", token="wrong"))
        values, _, directive, err, _ = kcomplete(kenv, "dra", "get", "classes", "")
        assert values == [] and directive == 4 and plugin_stderr(err) == ""


def _baseline(env) -> float:
    """How long a completion that needs no lookup takes on this machine (process start-up)."""
    return min(kcomplete(env, "dra", "get", "")[4] for _ in range(2))


def test_dead_cluster_is_quick_and_silent(kenv, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    srv = ApiServer([])
    kenv["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", server=f"https://127.0.0.1:{port}"))
    base = _baseline(kenv)
    values, _, directive, err, elapsed = kcomplete(kenv, "dra", "why-pending", "")
    srv.stop()
    assert values == ["pod/", "claim/"] and directive == 4 | 2 | 32
    assert plugin_stderr(err) == ""
    # Connection refused must cost (almost) nothing beyond process start-up, which on a loaded CI machine
    # alone can take over a second: measure against the baseline, never more than the 1 s lookup budget on top.
    assert elapsed < max(1.5, base + 1.0), f"{elapsed:.2f}s (a completion without lookup took {base:.2f}s)"


def test_hanging_cluster_is_cut_at_the_deadline(kenv, tmp_path):
    """A server that accepts connections and never answers: the lookup gives up after the budget.

    Timed on kubectl_complete-dra itself, with the arguments kubectl passes: some kubectl builds (the Google
    Cloud SDK's version dispatcher) probe the kubeconfig's server on their own before running any plugin,
    which would time kubectl rather than us."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        lsock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        srv = ApiServer([])
        kenv["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc", server=f"https://127.0.0.1:{lsock.getsockname()[1]}"))
        srv.stop()

        def run(*words):
            t0 = time.monotonic()
            res = subprocess.run(["kubectl_complete-dra", *words], env=kenv, capture_output=True, text=True,
                                 timeout=30)
            return res, time.monotonic() - t0

        base = min(run("get", "")[1] for _ in range(2))  # start-up, no lookup
        res, elapsed = run("get", "claims", "")
        assert res.returncode == 0 and res.stdout == ":4\n" and res.stderr == ""
        # budget 1.0 s from the first lookup, plus process start-up
        assert elapsed < base + 1.0 + 0.5, f"{elapsed:.2f}s, start-up {base:.2f}s"
        assert held, "the completion never connected"
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        lsock.close()


def test_checkout_script_without_pip(kenv, tmp_path):
    """completions/kubectl_complete-dra works from the source tree, found on PATH by kubectl."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(ROOT / "completions" / "kubectl_complete-dra", bindir / "kubectl_complete-dra")
    kenv["PATH"] = str(bindir) + os.pathsep + kenv["PATH"]  # ahead of the console script
    res = subprocess.run(["kubectl", "__complete", "dra", "get", "-f", EXAMPLE, "slices", "gpu-node-1"],
                         env=kenv, capture_output=True, text=True, timeout=30)
    assert res.stdout.splitlines() == ["gpu-node-1-gpu.nvidia.com-x8kq2", ":4"]
    assert f"About to call: {bindir}/kubectl_complete-dra" in res.stderr
