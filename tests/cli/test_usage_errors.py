"""Usage errors the way kubectl reports them: a flag-parsing error is `error: ...` plus one `See '... --help'
for usage.` line (no Typer box, no usage line); our own usage errors stay one line.  Help text wraps to the
terminal.  The usage line says `kubectl dra` when kubectl runs the plugin.  `-l` is checked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from kubectl_dra.nodeselector import label_selector_matches, parse_label_selector

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "cluster.yaml")
SCRIPTS = os.path.dirname(sys.executable)


def run(*args: str, env: dict | None = None, exe: list[str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("KUBECTL_PLUGINS_CALLER", "_")}
    return subprocess.run([*(exe or [sys.executable, "-m", "kubectl_dra"]), *args], capture_output=True, text=True,
                          timeout=120, env={**base, **(env or {})}, cwd=ROOT)


@pytest.mark.parametrize("args, first", [
    (("get", "devices", "--bogus"), "error: unknown flag: --bogus"),
    (("get", "devices", "--nod", "x"), "error: unknown flag: --nod (did you mean --node?)"),
    (("get", "devices", "-o"), "error: flag needs an argument: -o"),
    (("get", "devices", "a", "--no-headers=x"), "error: option '--no-headers' does not take a value"),
])
def test_flag_errors_are_two_lines_like_kubectl(args, first):
    p = run(*args)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == [first, "See 'kubectl-dra get --help' for usage."]


def test_a_bad_timeout_is_one_line_like_kubectls():
    # kubectl answers a bad --request-timeout with one line saying what a timeout looks like, no usage hint
    p = run("get", "devices", "--request-timeout", "soon")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == ["error: invalid --request-timeout 'soon': give whole seconds (30) or a number "
                                     "with a unit (500ms, 30s, 1m, 1h); 0 means no timeout"]


def test_unknown_command():
    p = run("nope")
    assert p.returncode == 2
    assert p.stderr.splitlines() == ['error: unknown command "nope" for "kubectl-dra"', "See 'kubectl-dra --help' for usage."]


def test_our_own_usage_errors_stay_one_line():
    p = run("get", "devices", "--free", "--allocated", "-f", EXAMPLE)
    assert p.returncode == 2 and p.stderr == "error: --free and --allocated exclude each other\n"


def test_usage_line_names_kubectl_dra_through_kubectl(tmp_path):
    # newer kubectl sets KUBECTL_PLUGINS_CALLER; kubectl 1.32 does not, but the shell's $_ is kubectl's path
    for env in ({"KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl"}, {"_": "/usr/bin/kubectl"}):
        p = run("get", "--bogus", env=env)
        assert p.stderr.splitlines()[-1] == "See 'kubectl dra get --help' for usage.", env
        p = run("match", "--help", env={**env, "COLUMNS": "100"})
        assert "Usage: kubectl dra match [OPTIONS] EXPR" in " ".join(p.stdout.split()).replace("{EXPR}", "EXPR")
    p = run("get", "--bogus", env={"_": "/usr/local/bin/kubectl-dra"})
    assert p.stderr.splitlines()[-1] == "See 'kubectl-dra get --help' for usage."


def test_through_the_real_kubectl(tmp_path):
    if shutil.which("kubectl") is None or not os.path.exists(os.path.join(SCRIPTS, "kubectl-dra")):
        pytest.skip("kubectl or the kubectl-dra console script is missing")
    env = {"PATH": SCRIPTS + os.pathsep + os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    # run the way a shell runs it: bash sets $_ to the program it executes
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", "kubectl dra get devices --bogus"], capture_output=True,
                       text=True, timeout=120, env={**{k: v for k, v in os.environ.items() if k != "_"}, **env})
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["error: unknown flag: --bogus", "See 'kubectl dra get --help' for usage."]


def test_help_wraps_to_the_terminal_not_to_the_source():
    narrow = run("get", "--help", env={"COLUMNS": "60"}).stdout
    wide = run("get", "--help", env={"COLUMNS": "200"}).stdout
    # in the source, "driver, pool," ends a line; on a wide terminal the paragraph is one line
    para = [l for l in wide.splitlines() if "inventory kubectl cannot show" in l]
    assert len(para) == 1 and "holding it." in para[0]
    assert all(len(l.rstrip()) <= 60 for l in narrow.splitlines())
    assert any("kubectl cannot show" in l for l in narrow.splitlines())


@pytest.mark.parametrize("selector, needle", [
    ("a in (b", "'(' without ')'"),
    ("!!x", "invalid label key '!x'"),
    ("a=b,", "an empty requirement"),
    ("a in ()", "'in' needs at least one value"),
    ("n>x", "'>' needs an integer"),
    ("a=b c", "cannot read 'a=b c'"),
])
def test_invalid_label_selector_is_a_usage_error(selector, needle):
    p = run("get", "classes", "-f", EXAMPLE, "-l", selector)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith(f"error: invalid label selector {selector!r}: ") and needle in p.stderr
    assert p.stderr.count("\n") == 1


def test_label_selector_on_devices_is_refused():
    p = run("get", "devices", "-f", EXAMPLE, "-l", "a=b")
    assert p.returncode == 2 and p.stderr.startswith("error: -l selects by label")


def test_label_selector_parsing():
    sel = parse_label_selector("app=web, tier!=db,env in (a, b),!legacy,gpu,n>2,m<10,example.com/x==y")
    assert sel["matchLabels"] == {"app": "web", "example.com/x": "y"}
    labels = {"app": "web", "tier": "fe", "env": "b", "gpu": "", "n": "3", "m": "9", "example.com/x": "y"}
    assert label_selector_matches(labels, sel)
    for k, v in (("n", "2"), ("m", "10"), ("env", "c"), ("tier", "db"), ("legacy", "1")):
        assert not label_selector_matches({**labels, k: v}, sel), k
    assert parse_label_selector("") == {"matchLabels": {}, "matchExpressions": []}
