"""Import layering: the CLI imports the commands, the commands import completion's callbacks, and nothing
imports back (completion never imports the CLI or the commands; the commands never import the CLI).  Shell
completion, a fresh process per <TAB>, also stays clear of the slow `kubernetes` package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

PACKAGE = ROOT / "kubectl_dra"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}  # `from kubectl_dra import cli`
    return out


def files_of(subpackage: str) -> list[Path]:
    return sorted((PACKAGE / subpackage).glob("*.py"))


def _is(module: str, *names: str) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def test_completion_never_imports_the_cli_or_the_commands():
    files = files_of("completion")
    assert {f.name for f in files} >= {"__init__.py", "callbacks.py", "lookup.py", "cobra.py"}
    for f in files:
        bad = sorted(m for m in imported_modules(f) if _is(m, "kubectl_dra.cli", "kubectl_dra.commands"))
        assert bad == [], f"{f.relative_to(ROOT)} imports {bad}"


def test_commands_never_import_the_cli():
    for f in files_of("commands"):
        bad = sorted(m for m in imported_modules(f) if _is(m, "kubectl_dra.cli"))
        assert bad == [], f"{f.relative_to(ROOT)} imports {bad}"


def run_python(code: str) -> dict:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def test_completion_answers_without_the_cli_or_the_commands_loaded():
    """A Typer app of its own, completed through completion's callbacks and cobra protocol: names come from
    the file, and neither kubectl_dra.cli nor kubectl_dra.commands is ever imported."""
    got = run_python(f"""
import json, sys
from typing import List, Optional
import typer
from kubectl_dra.completion import callbacks, cobra

app = typer.Typer()

@app.callback()
def root() -> None: ...

@app.command()
def get(kind: str = typer.Argument(..., autocompletion=callbacks.complete_get_type),
        names: Optional[List[str]] = typer.Argument(None, autocompletion=callbacks.complete_get_names),
        filename: Optional[List[str]] = typer.Option(None, "--filename", "-f")) -> None: ...

text = cobra.cobra_output(app, ["get", "-f", {str(EXAMPLE)!r}, "classes", ""])
print(json.dumps({{"text": text, "loaded": sorted(m for m in sys.modules if m.startswith("kubectl_dra"))}}))
""")
    assert got["text"] == "gpu.nvidia.com\nmig.nvidia.com\n:4\n"
    assert not [m for m in got["loaded"] if _is(m, "kubectl_dra.cli", "kubectl_dra.commands")], got["loaded"]


def test_commands_load_without_the_cli():
    got = run_python("""
import importlib, json, pkgutil, sys
import kubectl_dra.commands as commands
for m in pkgutil.iter_modules(commands.__path__):
    importlib.import_module(f"kubectl_dra.commands.{m.name}")
print(json.dumps(sorted(sys.modules)))
""")
    assert "kubectl_dra.commands.get" in got and "kubectl_dra.cli" not in got


@pytest.mark.parametrize("words, kubeconfig", [
    (["get", ""], "empty"),
    (["get", "-f", str(EXAMPLE), "claims", ""], "empty"),
    (["why-pending", "-f", str(EXAMPLE), ""], "empty"),
    (["get", "claims", ""], "empty"),        # no context at all: nothing to look up, nothing to import
    (["get", "claims", ""], "dead-server"),  # a token context: the small stdlib client
    (["get", "--context", ""], "dead-server"),
])
def test_completion_does_not_import_the_kubernetes_client(tmp_path, words, kubeconfig):
    """Importing `kubernetes` costs about a second, the whole completion budget."""
    kc = tmp_path / "kc"
    if kubeconfig == "empty":
        kc.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    else:
        kc.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
                      "users: [{name: u, user: {token: t}}]\n"
                      "contexts: [{name: c, context: {cluster: c, user: u}}]\n")
    got = run_python(f"""
import json, os, sys
os.environ["KUBECONFIG"] = {str(kc)!r}
from kubectl_dra.cli import app
from kubectl_dra.completion import cobra
text = cobra.cobra_output(app, {words!r})
print(json.dumps({{"text": text, "kubernetes": sorted(m for m in sys.modules if m.split(".")[0] == "kubernetes")}}))
""")
    assert got["text"].endswith("\n") and got["kubernetes"] == []


def _runtime_imports(path: Path) -> set[str]:
    """Like :func:`imported_modules`, without the imports under ``if TYPE_CHECKING:`` (annotations only)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    out: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
    return out


# ARCHITECTURE.md's table: what each layer must never import at run time.
FORBIDDEN = {
    "sources": ("analysis", "allocator", "cel", "render", "commands", "completion", "cli"),
    "allocator": ("sources", "analysis", "render", "commands", "completion", "cli", "process"),
    "cel": ("sources", "snapshot", "allocator", "analysis", "render", "commands", "completion", "cli"),
    "analysis": ("sources", "render", "commands", "completion", "cli", "process"),
    "render": ("sources", "snapshot", "allocator", "analysis", "commands", "completion", "cli"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer):
    forbidden = tuple(f"kubectl_dra.{n}" for n in FORBIDDEN[layer])
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for f in files:
        bad = sorted(m for m in _runtime_imports(f) if _is(m, *forbidden))
        assert bad == [], f"{f.relative_to(ROOT)} imports {bad} (see ARCHITECTURE.md)"


def test_loading_the_app_reads_no_source_and_parses_nothing():
    """`kubectl-dra --help` and every `kubectl dra <TAB>` load the CLI with all its commands: that must not
    import the snapshot, the sources, any analysis or parser (each is imported when a command runs)."""
    got = run_python("""
import json, sys
from kubectl_dra.cli import app
from kubectl_dra.completion import cobra
text = cobra.cobra_output(app, [""])
print(json.dumps({"text": text, "loaded": sorted(sys.modules)}))
""")
    assert "why-pending" in got["text"] and "top" in got["text"]
    heavy = [m for m in got["loaded"] if _is(m, "kubectl_dra.snapshot", "kubectl_dra.sources", "kubectl_dra.analysis",
                                             "kubectl_dra.cel", "kubectl_dra.allocator", "kubectl_dra.normalize",
                                             "yaml", "jsonschema", "lark", "celpy", "kubernetes", "markdown_it")]
    assert heavy == []
