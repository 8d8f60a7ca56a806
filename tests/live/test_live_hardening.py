"""Live reads that must neither hang nor mislead, through the real kubectl: ``--request-timeout`` in
kubectl's syntax with one deadline for the whole load, broken servers, and honest one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.live.apiserver import ApiServer

pytestmark = pytest.mark.live


@pytest.fixture(autouse=True)
def _needs_binaries():
    if shutil.which("kubectl") is None or shutil.which("kubectl-dra") is None:
        pytest.skip("needs kubectl and the kubectl-dra console script on PATH")


def dra(env, *args, timeout=60):
    return subprocess.run(["kubectl", "dra", *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env_for(kubectl_env, tmp_path):
    def make(srv: ApiServer, **kw) -> dict:
        env = dict(kubectl_env)
        env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / f"kc-{srv.port}", **kw))
        return env
    return make


def one_error_line(res) -> str:
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["30s", "1m", "500ms", "1m30s", "2", "0", "0s"])
def test_request_timeout_takes_kubectls_syntax(make_server, env_for, value):
    srv = make_server()
    res = dra(env_for(srv), "get", "devices", "--request-timeout", value)
    assert (res.returncode, res.stderr) == (0, ""), res.stderr
    assert "gpu-0" in res.stdout


@pytest.mark.parametrize("value", ["-1", "-5s", "1.5", "abc", "30 s", ""])
def test_request_timeout_refuses_what_kubectl_refuses(make_server, env_for, value):
    srv = make_server()
    res = dra(env_for(srv), "get", "devices", f"--request-timeout={value}")
    assert res.returncode == 2 and res.stdout == ""
    line = one_error_line(res)
    assert line.startswith(f"error: invalid --request-timeout {value!r}: ")
    assert "0 means no timeout" in line
    assert srv.requests == []  # refused before reading anything


def test_zero_means_no_timeout(make_server, env_for):
    srv = make_server(delay=1.2)  # every answer slower than a 1s timeout
    env = env_for(srv)
    res = dra(env, "get", "slices", "--request-timeout", "1s")
    assert res.returncode == 4 and "did not answer within 1s" in one_error_line(res)
    res = dra(env, "get", "slices", "--request-timeout", "0")
    assert (res.returncode, res.stderr) == (0, ""), res.stderr


def test_the_timeout_bounds_the_whole_load(make_server, env_for):
    srv = make_server(delay=0.3)
    srv.page_limit = 1  # short pages, one after the other: each answer is quick, all of them are not
    t0 = time.perf_counter()
    res = dra(env_for(srv), "get", "devices", "--request-timeout", "900ms", timeout=30)
    elapsed = time.perf_counter() - t0
    assert res.returncode == 4
    assert f"error: the cluster at {srv.url} did not answer within 900ms (" in one_error_line(res)
    assert elapsed < 8, elapsed  # (process start-up included)


def test_a_server_repeating_its_continue_token(make_server, env_for):
    srv = make_server()
    srv.page_limit = 1
    srv.repeat_continue = True
    res = dra(env_for(srv), "get", "devices", "--request-timeout", "0", timeout=30)
    assert res.returncode == 4
    assert "sent the same continue token twice" in one_error_line(res)
    assert len(srv.requests) < 40


# ----------------------------------------------------------------------------- honest errors


def edit_kubeconfig(srv, tmp_path, name, mutate):
    import yaml

    path = srv.kubeconfig(tmp_path / name)
    cfg = yaml.safe_load(path.read_text())
    mutate(cfg)
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_missing_exec_credential_plugin_is_named(make_server, kubectl_env, tmp_path):
    srv = make_server()

    def use_plugin(hint):
        def mutate(cfg):
            cfg["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                "command": "kubectl-dra-no-such-plugin", "interactiveMode": "Never",
                                                **({"installHint": hint} if hint else {})}}
        return mutate

    env = dict(kubectl_env, KUBECONFIG=str(edit_kubeconfig(srv, tmp_path, "kc-exec", use_plugin(None))))
    res = dra(env, "get", "devices")
    assert res.returncode == 4
    line = one_error_line(res)
    assert line == ("error: cannot get credentials for context 'test': the exec credential plugin "
                    "'kubectl-dra-no-such-plugin' was not found (not on PATH, or no such file): install it, or "
                    "correct users[].user.exec.command in the kubeconfig")
    assert "401" not in line and srv.requests == []  # nothing was sent without credentials
    hinted = edit_kubeconfig(srv, tmp_path, "kc-hint", use_plugin("Get it with:\n  brew install acme-login\n"))
    res = dra(dict(kubectl_env, KUBECONFIG=str(hinted)), "get", "devices")
    assert one_error_line(res).endswith("(not on PATH, or no such file): Get it with: brew install acme-login")


def test_an_exec_credential_plugin_that_never_answers_is_cut_at_the_deadline(make_server, kubectl_env, tmp_path):
    srv = make_server()
    plugin = tmp_path / "bin" / "kubectl-dra-hanging-login"
    plugin.parent.mkdir()
    plugin.write_text("#!/bin/sh\nexec sleep 60\n")
    plugin.chmod(0o755)

    def use_plugin(cfg):
        cfg["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                            "command": str(plugin), "interactiveMode": "Never"}}

    env = dict(kubectl_env, KUBECONFIG=str(edit_kubeconfig(srv, tmp_path, "kc-hang", use_plugin)))
    t0 = time.monotonic()
    res = dra(env, "get", "devices", "--request-timeout", "2s")
    assert time.monotonic() - t0 < 20
    assert res.returncode == 4
    assert one_error_line(res) == ("error: the credentials of the kubeconfig were not ready within 2s (an exec "
                                   "credential plugin that does not answer?): check the plugin, or raise "
                                   "--request-timeout")
    assert srv.requests == []  # nothing was sent without credentials


def test_insecure_skip_tls_verify_says_it_once(make_server, kubectl_env, tmp_path):
    srv = make_server()

    def insecure(cfg):
        cluster = cfg["clusters"][0]["cluster"]
        del cluster["certificate-authority-data"]
        cluster["insecure-skip-tls-verify"] = True

    env = dict(kubectl_env, KUBECONFIG=str(edit_kubeconfig(srv, tmp_path, "kc-insecure", insecure)))
    res = dra(env, "get", "devices")
    assert res.returncode == 0 and "gpu-0" in res.stdout
    assert res.stderr == ("warning: TLS certificate verification is off for context 'test' "
                          "(insecure-skip-tls-verify): the server's identity is not checked\n")
    assert len(srv.requests) > 5  # (many requests, one line)


def test_credentials_are_masked_in_every_message(make_server, kubectl_env, tmp_path):
    srv = make_server()

    def server(url):
        return lambda cfg: cfg["clusters"][0]["cluster"].__setitem__("server", url)

    refused = edit_kubeconfig(srv, tmp_path, "kc-refused", server("https://admin:s3cr3t-pw@127.0.0.1:1"))
    res = dra(dict(kubectl_env, KUBECONFIG=str(refused)), "get", "devices")
    assert res.returncode == 4
    assert one_error_line(res) == "error: cannot reach the cluster at https://admin:xxxxx@127.0.0.1:1: connection refused"
    query = edit_kubeconfig(srv, tmp_path, "kc-query", server("https://127.0.0.1:1/?token=s3cr3t-pw"))
    res = dra(dict(kubectl_env, KUBECONFIG=str(query)), "get", "devices")
    assert "s3cr3t-pw" not in res.stderr and "token=xxxxx" in res.stderr
    # a server answering 401 to a wrong token: the token is not repeated
    wrong = srv.kubeconfig(tmp_path / "kc-wrong", token="wr0ng-t0ken-value")
    res = dra(dict(kubectl_env, KUBECONFIG=str(wrong)), "get", "devices")
    assert res.returncode == 4 and "wr0ng-t0ken-value" not in res.stderr
    assert one_error_line(res).endswith("(401 Unauthorized): the credentials in the kubeconfig were rejected")
    # a working URL with a password: not in what the answer says about its source either
    good = edit_kubeconfig(srv, tmp_path, "kc-good", server(srv.url.replace("https://", "https://admin:s3cr3t-pw@")))
    res = dra(dict(kubectl_env, KUBECONFIG=str(good)), "dump")
    assert res.returncode == 0 and "s3cr3t-pw" not in res.stdout + res.stderr


def test_server_warnings_are_masked_and_made_safe(make_server, env_for):
    srv = make_server()
    srv.warning = "moved: see https://admin:hunter22@example.com/x?token=abc123 \x1b[2Jnow"
    res = dra(env_for(srv), "get", "slices")
    assert res.returncode == 0
    assert res.stderr == ("warning: the API server warned: moved: see https://admin:xxxxx@example.com/x?token=xxxxx "
                          "^[[2Jnow\n")


def test_no_credentials_at_all_is_not_called_rejected_credentials(make_server, kubectl_env, tmp_path):
    srv = make_server()
    kc = edit_kubeconfig(srv, tmp_path, "kc-anon", lambda cfg: cfg["users"][0].__setitem__("user", {}))
    res = dra(dict(kubectl_env, KUBECONFIG=str(kc)), "get", "devices")
    assert res.returncode == 4
    assert one_error_line(res) == (f"error: authentication failed for context 'test' at {srv.url} (401 Unauthorized): "
                                   "the kubeconfig gives no credentials for it (no token, client certificate or exec "
                                   "plugin)")
