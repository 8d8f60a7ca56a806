"""Golden files for why-pending's text output, so wording changes are deliberate.

After an intended change: `UPDATE_GOLDEN=1 python -m pytest tests/render/why_pending/test_golden_text.py`
and review the diff of tests/render/why_pending/golden/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "trainer": ["why-pending", "pod/trainer"],
    "trainer-wide": ["why-pending", "trainer", "-o", "wide"],
    "inference": ["why-pending", "po/inference"],
    "claim-eval": ["why-pending", "claim/eval-gpus", "-n", "team-a"],
    "trainer-one-node": ["why-pending", "pod/trainer", "--node", "gpu-node-1"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_output_matches_golden(cli, name):
    res = cli(*CASES[name], "-f", str(EXAMPLE))
    assert res.exit_code == 0, res.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(res.stdout)
    assert res.stdout == path.read_text(), f"text output changed; see {path}"
