"""Reason codes: one constant each, all in the README's table, none spelled out elsewhere in the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kubectl_dra.analysis.why_pending as package
from kubectl_dra.analysis.why_pending import reasons, why_pending
from kubectl_dra.features import defaults_for_version
from tests.conftest import ROOT
from tests.builders import fixture_objects, pod, snapshot

PACKAGE_DIR = Path(package.__file__).parent


def readme_reason_codes() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("Reason codes (stable")
    table = text[start:text.index("\n\n", text.index("| code | meaning |", start))]
    return re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.M)


def test_readme_table_lists_exactly_the_codes_in_code():
    documented = readme_reason_codes()
    assert len(documented) == len(set(documented)), "a code appears twice in the README table"
    assert set(documented) == set(reasons.REASON_CODES)
    assert len(reasons.REASON_CODES) == len(set(reasons.REASON_CODES))


def test_every_code_constant_is_listed():
    constants = {v for k, v in vars(reasons).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(reasons.REASON_CODES)


def _is_code_access(node: ast.AST) -> bool:
    """``x.code`` or ``x["code"]``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "code"
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "code"


def _string_literals(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_no_module_spells_a_code_out():
    """Reasons are made and compared with the named constants only (a typo there is a NameError, not a new code)."""
    offenders = []
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        if path.name == "reasons.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason" and node.args:
                offenders += [f"{path.name}:{node.lineno} Reason({s!r})" for s in _string_literals(node.args[0])]
            if isinstance(node, ast.Compare) and any(_is_code_access(x) for x in [node.left, *node.comparators]):
                offenders += [f"{path.name}:{node.lineno} code compared with {s!r}"
                              for x in [node.left, *node.comparators] if not _is_code_access(x)
                              for s in _string_literals(x)]
    assert offenders == []


def test_no_claims_means_every_node_fits_for_dra():
    # The scheduler's DRA plugin skips a pod without claims: every node fits for DRA (upstream cases
    # "empty" and "no-claims-to-allocate"); the no-claims reason remains as information.
    snap = snapshot(fixture_objects("nvidia-gpu.yaml"), pod("p"))
    r = why_pending(snap, "Pod", "p", "default", defaults_for_version(None))
    assert r["fits"] is True
    assert [x["code"] for x in r["reasons"]] == [reasons.NO_CLAIMS]
    assert "uses no DRA claims" in r["reasons"][0]["message"]
    assert r["nodes"] and all(n["fits"] and n["allocation"] == {} for n in r["nodes"])


def test_allocated_claim_being_deleted_blocks_before_its_allocation_counts():
    # DynamicResources.PreFilter refuses a claim with a deletionTimestamp before it looks at the allocation,
    # so an allocated claim that is being deleted does not let the pod fit anywhere.
    from tests.builders import allocated_claim

    objs = fixture_objects("nvidia-gpu.yaml")
    slice_ = next(o for o in objs if o["kind"] == "ResourceSlice")
    drv, pool = slice_["spec"]["driver"], slice_["spec"]["pool"]["name"]
    dev = slice_["spec"]["devices"][0]["name"]
    held = allocated_claim("held", (drv, pool, dev))
    live = pod("p", ("gpu", "claim", "held"))
    r_live = why_pending(snapshot(objs, held, live), "Pod", "p", "default", defaults_for_version(None))
    assert r_live["fits"] is True and reasons.CLAIM_DELETING not in [x["code"] for x in r_live["reasons"]]

    held["metadata"]["deletionTimestamp"] = "2026-12-01T10:00:00Z"
    r = why_pending(snapshot(objs, held, live), "Pod", "p", "default", defaults_for_version(None))
    assert r["fits"] is False
    assert reasons.CLAIM_DELETING in [x["code"] for x in r["reasons"]]
    assert not any(n["fits"] for n in r["nodes"])
