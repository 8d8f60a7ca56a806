"""Helpers for the completion tests: the bundled example, a fresh deadline per test, real executables."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLE = str(ROOT / "examples" / "cluster.yaml")
#: the directory of this interpreter's console scripts (pip install -e puts kubectl-dra and
#: kubectl_complete-dra there); preferred over version-manager shims, which add startup time
SCRIPTS_DIR = str(Path(sys.executable).parent)


@pytest.fixture(autouse=True)
def _fresh_completion_state():
    from kubectl_dra.completion.lookup import reset_deadline

    reset_deadline()
    yield
    reset_deadline()


def example_objects() -> list[dict]:
    import yaml

    from kubectl_dra.normalize import flatten

    with open(EXAMPLE) as fh:
        return [o for o in flatten(list(yaml.safe_load_all(fh))) if isinstance(o, dict)]


@pytest.fixture
def tool_env(tmp_path):
    """Environment for real subprocesses: our console scripts first on PATH, a private HOME, no cluster."""
    for exe in ("kubectl-dra", "kubectl_complete-dra"):
        if not (Path(SCRIPTS_DIR) / exe).exists() and shutil.which(exe) is None:
            pytest.skip(f"{exe} is not installed (pip install -e .)")
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "empty-kubeconfig"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    env = dict(os.environ)
    env.update(HOME=str(home), KUBECACHEDIR=str(home / "cache"), KUBECONFIG=str(empty), NO_COLOR="1",
               PATH=SCRIPTS_DIR + os.pathsep + env.get("PATH", ""))
    for k in ("KUBERNETES_SERVICE_HOST", "KUBECTL_PLUGINS_CALLER", "_KUBECTL_DRA_COMPLETE",
              "KUBECTL_DRA_COMPLETION_TIMEOUT", "BASH_COMP_DEBUG_FILE"):
        env.pop(k, None)
    return env
