"""Typer's completion scripts (`_KUBECTL_DRA_COMPLETE=source_<shell>`, what earlier versions' --install-completion
installed; --show-completion/--install-completion now give ours, tests/completion/test_completion_command.py): bash driven for real (the generated script loaded into bash, COMP_WORDS /
COMP_CWORD set, the completion function called), zsh and fish scripts generated and their request
protocol answered; and both paths (bash and kubectl's plugin protocol) giving the same candidates."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from kubectl_dra.cli import app
from kubectl_dra.completion import cobra as comp
from tests.completion.conftest import EXAMPLE, ROOT


def run(env, *args, extra_env=None, timeout=30):
    return subprocess.run(list(args), env={**env, **(extra_env or {})}, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture
def bash_script(tool_env):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    res = run(tool_env, "kubectl-dra", extra_env={"_KUBECTL_DRA_COMPLETE": "source_bash"})
    assert res.returncode == 0, res.stderr
    return res.stdout


def bash_complete(env, script: str, *words: str) -> tuple[list[str], str]:
    """COMPREPLY of the generated completion function for `kubectl-dra WORDS...` (last word being completed)."""
    line = " ".join(shlex.quote(w) for w in ("kubectl-dra", *words))
    prog = (script + "\n"
            f"COMP_WORDS=({line})\n"
            "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
            "_kubectl_dra_completion kubectl-dra\n"
            "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    res = run(env, "bash", "--norc", "--noprofile", "-c", prog)
    assert res.returncode == 0, res.stderr
    return [l for l in res.stdout.splitlines() if l], res.stderr


def test_bash_script_names_our_program(bash_script):
    assert "complete -o default -F _kubectl_dra_completion kubectl-dra" in bash_script
    assert "_KUBECTL_DRA_COMPLETE=complete_bash" in bash_script


def test_bash_completes_commands_flags_and_names(tool_env, bash_script):
    got, err = bash_complete(tool_env, bash_script, "")
    assert {"why-pending", "get", "explain", "dump"} <= set(got) and err == ""
    assert bash_complete(tool_env, bash_script, "get", "")[0] == ["devices", "classes", "slices", "claims",
                                                                   "templates", "taintrules"]
    assert bash_complete(tool_env, bash_script, "get", "--dr")[0] == ["--driver"]
    got, err = bash_complete(tool_env, bash_script, "explain", "-f", EXAMPLE, "cl")
    assert got == ["class/", "claim/"] and err == ""
    assert bash_complete(tool_env, bash_script, "get", "-f", EXAMPLE, "devices", "--class", "")[0] == [
        "gpu.nvidia.com", "mig.nvidia.com"]
    assert sorted(bash_complete(tool_env, bash_script, "why-pending", "-f", EXAMPLE, "")[0]) == [
        "claim/", "inference", "pod/", "trainer"]


def test_bash_silent_without_cluster(tool_env, bash_script):
    got, err = bash_complete(tool_env, bash_script, "get", "claims", "")
    assert got == [] and err == ""


def test_bash_and_kubectl_paths_agree(tool_env, bash_script):
    """The same Click machinery answers both: same candidates (bash shows them without descriptions)."""
    for words in (["get", "--n"], ["get", "-f", EXAMPLE, "-n", ""], ["explain", "-f", EXAMPLE, "node/gpu"],
                  ["get", "-f", EXAMPLE, "slices", ""], ["dump", "-o", ""], [""]):
        from kubectl_dra.completion.lookup import reset_deadline

        reset_deadline()
        text = comp.cobra_output(app, words)
        cobra = [l.split("\t")[0] for l in text.splitlines()[:-1]]
        assert bash_complete(tool_env, bash_script, *words)[0] == cobra, words


@pytest.mark.parametrize("shell, needles", [
    ("zsh", ["#compdef kubectl-dra", "_kubectl_dra_completion()", "_KUBECTL_DRA_COMPLETE=complete_zsh",
             "compdef _kubectl_dra_completion kubectl-dra"]),
    ("fish", ["complete --command kubectl-dra", "_KUBECTL_DRA_COMPLETE=complete_fish"]),
    ("bash", ["_kubectl_dra_completion()", "complete -o default -F _kubectl_dra_completion kubectl-dra"]),
])
def test_typer_scripts_for_each_shell(tool_env, shell, needles):
    res = run(tool_env, "kubectl-dra", extra_env={"_KUBECTL_DRA_COMPLETE": f"source_{shell}"})
    assert res.returncode == 0 and res.stderr == ""
    for n in needles:
        assert n in res.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_and_install_completion_give_our_scripts(tool_env, shell):
    """--show-completion / --install-completion: the script `completion SHELL` prints, for $SHELL."""
    ours = run(tool_env, "kubectl-dra", "completion", shell).stdout
    assert "__complete" in ours
    res = run(tool_env, "kubectl-dra", "--show-completion", extra_env={"SHELL": f"/usr/bin/{shell}"})
    assert res.returncode == 0 and res.stdout == ours and res.stderr == ""
    res = run(tool_env, "kubectl-dra", "--install-completion", extra_env={"SHELL": f"/usr/bin/{shell}"})
    assert res.returncode == 0, res.stderr
    from kubectl_dra.cli import COMPLETION_FILES

    path = COMPLETION_FILES[shell].replace("~", tool_env["HOME"], 1)
    with open(path) as fh:
        assert fh.read() == ours
    assert path in res.stdout


def test_show_completion_without_a_known_shell(tool_env):
    res = run(tool_env, "kubectl-dra", "--show-completion", extra_env={"SHELL": "/bin/sh"})
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == "error: cannot tell which shell this is (SHELL=sh): use kubectl-dra completion bash|zsh|fish\n"


def test_under_kubectl_the_scripts_still_name_the_executable(tool_env):
    res = run(tool_env, "kubectl-dra", "--show-completion", extra_env={
        "KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl", "SHELL": "/bin/bash"})
    assert "complete -F _kubectl_dra_complete kubectl-dra" in res.stdout
    assert "kubectl dra" not in res.stdout.replace("kubectl dra completion", "")


def test_zsh_and_fish_requests(tool_env):
    """What the zsh and fish scripts ask kubectl-dra, answered (no zsh or fish needed)."""
    res = run(tool_env, "kubectl-dra", extra_env={
        "_KUBECTL_DRA_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": f"kubectl-dra get -f {EXAMPLE} classes "})
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout.startswith("_arguments") and '"gpu.nvidia.com"' in res.stdout and '"mig.nvidia.com"' in res.stdout
    res = run(tool_env, "kubectl-dra", extra_env={
        "_KUBECTL_DRA_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": f"kubectl-dra get -f {EXAMPLE} claims "})
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout.splitlines() == ["inference-gpu\tpending", "trainer-gpus-q9t4m\tpending"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_real_zsh_or_fish_if_installed(tool_env, shell):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    script = run(tool_env, "kubectl-dra", extra_env={"_KUBECTL_DRA_COMPLETE": f"source_{shell}"}).stdout
    if shell == "fish":
        prog = script + "\ncomplete -C 'kubectl-dra get '\n"
        res = run(tool_env, "fish", "--no-config", "-c", prog)
        assert sorted(l.split("\t")[0] for l in res.stdout.splitlines()) == [  # fish sorts
            "claims", "classes", "devices", "slices", "taintrules", "templates"]
        res = run(tool_env, "fish", "--no-config", "-c", script + f"\ncomplete -C 'kubectl-dra explain -f {EXAMPLE} no'\n")
        assert [l.split("\t")[0] for l in res.stdout.splitlines()] == [
            "node/cpu-node-1", "node/gpu-node-1", "node/gpu-node-2", "node/gpu-node-3"]
    else:
        res = run(tool_env, "zsh", "-f", "-c", "autoload -Uz compinit && compinit -u && " + script.split("\n", 2)[-1]
                  + "\nwhence -w _kubectl_dra_completion")
        assert "_kubectl_dra_completion: function" in res.stdout
