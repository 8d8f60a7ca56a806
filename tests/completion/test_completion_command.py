"""`kubectl-dra completion bash|zsh|fish`: the scripts loaded into the real shells, driven interactively in a
pseudo-terminal (TAB pressed, the line buffer read back through a key binding), so what is tested is what a
user's shell inserts and lists.  zsh and fish are installed by .ci/run where it can; without them those
tests are skipped, saying so."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.completion.conftest import EXAMPLE, ROOT

SETUP = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}


def need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs zsh and fish with apt-get when it runs as root)")


class Shell:
    """One interactive shell in a pseudo-terminal with our completion script loaded and Ctrl-X bound to
    "write the line buffer to a file"."""

    def __init__(self, shell: str, env: dict, tmp: Path, columns: int = 200, fpath: bool = False):
        need(shell)
        import pty

        self.shell, self.tmp = shell, tmp
        self.out = tmp / f"{shell}-buffer"
        master, slave = pty.openpty()
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        env = {**env, "TERM": "xterm", "COLUMNS": str(columns), "LINES": "50"}
        def controlling_tty() -> None:  # the pty becomes the shell's terminal (fish insists on one)
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(SETUP[shell], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     preexec_fn=controlling_tty)
        os.close(slave)
        self.master = master
        self.screen = b""
        ready = tmp / f"{shell}-ready"
        if shell == "bash":
            setup = (f'source <(kubectl-dra completion bash); '
                     f'bind -x \'"\\C-x": printf "%s" "$READLINE_LINE" > {self.out}\'; touch {ready}\n')
        elif shell == "zsh" and fpath:  # installed the documented way: a file _kubectl-dra in $fpath
            funcs = tmp / "zfunc"
            funcs.mkdir(exist_ok=True)
            (funcs / "_kubectl-dra").write_text(subprocess.run(["kubectl-dra", "completion", "zsh"], env=env,
                                                               capture_output=True, text=True).stdout)
            setup = (f"fpath=({funcs} $fpath); autoload -Uz compinit && compinit -u -D; "
                     f"_dra_dump() {{ print -rn -- \"$BUFFER\" > {self.out} }}; zle -N _dra_dump; "
                     f"bindkey '^X' _dra_dump; touch {ready}\n")
        elif shell == "zsh":
            setup = ("autoload -Uz compinit && compinit -u -D; source <(kubectl-dra completion zsh); "
                     f"_dra_dump() {{ print -rn -- \"$BUFFER\" > {self.out} }}; zle -N _dra_dump; "
                     f"bindkey '^X' _dra_dump; touch {ready}\n")
        else:
            setup = (f"kubectl-dra completion fish | source; "
                     f"bind \\cx 'commandline > {self.out}'; touch {ready}\n")
        self.send(setup)
        self.wait_for(ready)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    return

    def wait_for(self, path: Path, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if path.exists() and (path.stat().st_size or path.name.endswith("ready")):
                self.pump(0.2)
                return
        raise AssertionError(f"{self.shell} did not answer; screen: {self.screen[-2000:]!r}")

    def complete(self, line: str, tabs: int = 1, listing: bytes = b"") -> str:
        """Type LINE, press TAB (tabs times), return the line buffer the shell then holds; the screen (what it
        listed) is in self.screen.  ``listing``: wait until the screen shows it (a list is not drawn while
        keys are pending, so the buffer is asked for only after it)."""
        if self.out.exists():
            self.out.unlink()
        self.screen = b""
        self.send(line)
        for _ in range(tabs):
            self.send("\t")
            self.pump(0.3)  # the keys queue: Ctrl-X is read once the completion is done
        end = time.monotonic() + 30
        while listing and listing not in self.screen and time.monotonic() < end:
            self.pump(0.2)
        self.send("\x18")
        self.wait_for(self.out)
        buf = self.out.read_text().rstrip("\n")
        self.send("\x15" if self.shell != "fish" else "\x03")  # clear the line for the next one
        self.pump(0.3)
        return buf

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except OSError:
            pass
        self.proc.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def shell_factory(tool_env, tmp_path):
    shells = []

    def make(name: str, **kw) -> Shell:
        s = Shell(name, tool_env, tmp_path, **kw)
        shells.append(s)
        return s

    yield make
    for s in shells:
        s.close()


def test_completion_command_prints_each_script(tool_env):
    for shell, needle in (("bash", "complete -F _kubectl_dra_complete kubectl-dra"),
                          ("zsh", "#compdef kubectl-dra"), ("fish", "complete -c kubectl-dra")):
        res = subprocess.run(["kubectl-dra", "completion", shell], env=tool_env, capture_output=True, text=True,
                             cwd=ROOT, timeout=30)
        assert res.returncode == 0 and res.stderr == "" and needle in res.stdout
        assert "__complete" in res.stdout
    res = subprocess.run(["kubectl-dra", "completion", "ksh"], env=tool_env, capture_output=True, text=True,
                         cwd=ROOT, timeout=30)
    assert res.returncode == 2 and res.stderr == "error: unsupported shell 'ksh' (choose from: bash, zsh, fish)\n"


def test_complete_request_on_the_main_executable(tool_env):
    """The scripts ask `kubectl-dra __complete ...`: the same answer kubectl_complete-dra gives kubectl."""
    words = ["match", "x", "-f", EXAMPLE, "--class", ""]
    a = subprocess.run(["kubectl-dra", "__complete", *words], env=tool_env, capture_output=True, text=True,
                       timeout=30)
    b = subprocess.run(["kubectl_complete-dra", *words], env=tool_env, capture_output=True, text=True, timeout=30)
    assert a.stdout == b.stdout == "gpu.nvidia.com\nmig.nvidia.com\n:4\n" and a.stderr == ""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_real_shell_inserts(shell_factory, shell):
    sh = shell_factory(shell)
    f = f"-f {EXAMPLE}"
    # a unique candidate is inserted whole
    assert sh.complete(f"kubectl-dra expl").startswith("kubectl-dra explain")
    assert sh.complete(f"kubectl-dra explain {f} node/c").rstrip() == f"kubectl-dra explain {f} node/cpu-node-1"
    # several candidates sharing `node/`: the word stays as typed (never node/-node or the like)
    assert sh.complete(f"kubectl-dra explain {f} node/") == f"kubectl-dra explain {f} node/"
    # TYPE/ without a trailing space (no-space directive), then names under it
    assert sh.complete(f"kubectl-dra explain {f} clas") == f"kubectl-dra explain {f} class/"
    # match --class and --node complete
    assert sh.complete(f"kubectl-dra match x {f} --class mi").rstrip() == f"kubectl-dra match x {f} --class mig.nvidia.com"
    assert sh.complete(f"kubectl-dra match x {f} --node cpu").rstrip() == f"kubectl-dra match x {f} --node cpu-node-1"
    # --flag=VALUE and values holding = (bash splits words there)
    assert sh.complete(f"kubectl-dra get {f} devices -o=ya").rstrip() == f"kubectl-dra get {f} devices -o=yaml"
    got = sh.complete(f"kubectl-dra why-pending {f} trainer --feature-gates DRAPrioritizedList=f")
    assert got.rstrip() == f"kubectl-dra why-pending {f} trainer --feature-gates DRAPrioritizedList=false"
    # -f takes file names: the shell's own file completion
    assert sh.complete("kubectl-dra get -f examples/cluster.ya").rstrip() == "kubectl-dra get -f examples/cluster.yaml"


def test_zsh_from_fpath(shell_factory):
    sh = shell_factory("zsh", fpath=True)
    f = f"-f {EXAMPLE}"
    assert sh.complete(f"kubectl-dra explain {f} node/c").rstrip() == f"kubectl-dra explain {f} node/cpu-node-1"
    assert sh.complete(f"kubectl-dra explain {f} node/") == f"kubectl-dra explain {f} node/"


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_real_shell_lists_descriptions_whole(shell_factory, shell):
    """Descriptions keep their apostrophes (zsh) and, at 70 columns, none of their words becomes a candidate
    (fish)."""
    sh = shell_factory(shell, columns=70)
    buf = sh.complete("kubectl-dra match x --", listing=b"--request-timeout")  # ambiguous: the first TAB lists
    assert buf == "kubectl-dra match x --"
    screen = sh.screen.decode(errors="replace")
    assert "--class" in screen and "--node" in screen
    assert "DeviceClass's" in screen, screen[-3000:]


def test_fish_candidates_at_70_columns(tool_env):
    need("fish")
    script = subprocess.run(["kubectl-dra", "completion", "fish"], env=tool_env, capture_output=True, text=True,
                            timeout=30).stdout
    res = subprocess.run(["fish", "--no-config", "-c", script + "\ncomplete -C 'kubectl-dra match x --'\n"],
                         env={**tool_env, "COLUMNS": "70"}, capture_output=True, text=True, timeout=60, cwd=ROOT)
    values = [l.split("\t")[0] for l in res.stdout.splitlines()]
    assert values and all(v.startswith("--") for v in values), values
    assert {"--class", "--node", "--output", "--filename"} <= set(values)
    # the command list: Typer's fish script offered words of its wrapped descriptions here ("offline.", ...)
    res = subprocess.run(["fish", "--no-config", "-c", script + "\ncomplete -C 'kubectl-dra '\n"],
                         env={**tool_env, "COLUMNS": "70"}, capture_output=True, text=True, timeout=60, cwd=ROOT)
    values = [l.split("\t")[0] for l in res.stdout.splitlines()]
    from typer.main import get_command

    from kubectl_dra.cli import app

    assert values == list(get_command(app).commands) and "completion" in values, values
    res = subprocess.run(["fish", "--no-config", "-c", script + f"\ncomplete -C 'kubectl-dra why-pending -f {EXAMPLE} '\n"],
                         env=tool_env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    # kept in our order: pods waiting for their claims first
    assert [l.split("\t")[0] for l in res.stdout.splitlines()] == ["inference", "trainer", "pod/", "claim/"]


def test_bash_lists_candidates(tool_env, tmp_path):
    """The bash function's COMPREPLY for a few lines (no terminal needed)."""
    script = subprocess.run(["kubectl-dra", "completion", "bash"], env=tool_env, capture_output=True, text=True,
                            timeout=30).stdout

    def reply(line: str) -> list[str]:
        prog = (script + f"\nCOMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n"
                "read -ra COMP_WORDS <<< \"$COMP_LINE\"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
                "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n_kubectl_dra_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
        res = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], env=tool_env, capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
        return [l for l in res.stdout.splitlines() if l]

    assert reply(f"kubectl-dra get -f {EXAMPLE} ") == ["devices", "classes", "slices", "claims", "templates", "taintrules"]
    assert reply(f"kubectl-dra match x -f {EXAMPLE} --node ") == ["cpu-node-1", "gpu-node-1", "gpu-node-2",
                                                                    "gpu-node-3"]
    assert reply("kubectl-dra get claims ") == []  # no cluster: nothing, silently
    assert {"completion", "why-pending"} <= set(reply("kubectl-dra "))
