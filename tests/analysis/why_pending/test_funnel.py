"""The funnel: a typed object whose JSON carries every field the text renderer reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kubectl_dra.render.why_pending as render
from kubectl_dra.allocator import Allocator
from kubectl_dra.analysis.why_pending import contract as c
from kubectl_dra.analysis.why_pending.explainer import Funnel, SeenDevice, _Explainer
from kubectl_dra.features import defaults_for_version
from kubectl_dra.sources import SourceOptions, load_snapshot
from tests.conftest import EXAMPLE

GATES = defaults_for_version(None)
CLAIM = ("default", "trainer-gpus-q9t4m")

# The renderer's names for the parts of the report, and their typed structures.
RENDERER_VARIABLES = {"report": c.Report, "t": c.TargetRef, "n": c.NodeEntry, "c": c.ClaimEntry, "r": c.ReasonJSON,
                      "g": c.SummaryGroup, "funnel": c.FunnelJSON, "sched": c.SchedulerWords, "ev": c.SchedulerEvent,
                      "d": c.AllocatedDevice}


def renderer_reads() -> dict[str, set[str]]:
    """The constant keys render/why_pending.py reads, as ``var["key"]`` or ``var.get("key")``, by variable."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(Path(render.__file__).read_text())):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant):
            out.setdefault(node.value.id, set()).add(node.slice.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, ast.Name) and node.args and isinstance(node.args[0], ast.Constant)):
            out.setdefault(node.func.value.id, set()).add(node.args[0].value)
    return out


@pytest.fixture(scope="module")
def funnel_on_gpu_node_1() -> Funnel:
    """The trainer's failed request on gpu-node-1 (4 devices match, 3 held), with device names."""
    snap = load_snapshot(SourceOptions(filenames=(str(EXAMPLE),)))
    claim = snap.resource_claims[CLAIM]
    alloc = Allocator(snap, GATES)
    explainer = _Explainer(snap, {CLAIM[1]: claim}, alloc, with_names=True)
    outcome = alloc.allocate("gpu-node-1", [claim])
    assert not outcome.fits
    failed = [rt for rt in outcome.trace.requests if rt.failed]
    return explainer.funnel(failed[0], claim, "gpu-node-1")


def test_the_renderer_reads_the_funnel():
    """The walk below sees the renderer's funnel reads (so the next test checks something)."""
    assert {"summary", "needed", "names"} <= renderer_reads()["funnel"]


def test_funnel_json_has_every_field_the_renderer_reads(funnel_on_gpu_node_1):
    f = funnel_on_gpu_node_1
    assert isinstance(f, Funnel)
    data = f.to_dict()
    required, optional = c.keys_of(c.FunnelJSON)
    assert renderer_reads()["funnel"] <= set(data) <= required | optional
    assert data["summary"] == "4 reachable -> 4 match class gpu.nvidia.com -> 4 match the request's selectors -> 1 free"
    assert data["needed"] == 2
    assert data["names"]["free"] == [d.name for d in f.free] == ["gpu-3"]


def test_funnel_stages_are_device_lists(funnel_on_gpu_node_1):
    f = funnel_on_gpu_node_1
    for stage in (f.reachable, f.matching_class, f.matching_selectors, f.free):
        assert all(isinstance(d, SeenDevice) for d in stage)
    assert [len(f.reachable), len(f.matching_class), len(f.matching_selectors), len(f.free)] == [4, 4, 4, 1]
    keys = [{d.key for d in stage} for stage in (f.free, f.matching_selectors, f.matching_class, f.reachable)]
    assert keys[0] <= keys[1] <= keys[2] <= keys[3]
    assert sorted(f.held_by) == ["team-a/llm-finetune-0-gpus-7xk2p", "team-b/notebook-gpu"]
    data = f.to_dict()
    assert not any(k.startswith("_") for k in data), "no private keys in the JSON"


def test_without_names_the_funnel_carries_counts_only(funnel_on_gpu_node_1):
    data = funnel_on_gpu_node_1._replace(with_names=False).to_dict()
    assert "names" not in data and data["free"] == 1


def test_the_renderer_reads_only_keys_the_contract_declares():
    reads = renderer_reads()
    for var, typed in RENDERER_VARIABLES.items():
        assert var in reads, f"render/why_pending.py no longer names {var!r}: update RENDERER_VARIABLES"
        required, optional = c.keys_of(typed)
        assert reads[var] <= required | optional, f"{var} ({typed.__name__})"
