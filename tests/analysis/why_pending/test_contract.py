"""The report's JSON shape: the typed structures of contract.py, the README's contract block and real reports agree."""

from __future__ import annotations

import copy
import re
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from kubectl_dra.analysis.why_pending import contract as c
from kubectl_dra.analysis.why_pending import why_pending
from kubectl_dra.features import defaults_for_version
from kubectl_dra.snapshot import Gap, Snapshot, SourceInfo
from kubectl_dra.sources.files import load_files
from tests.conftest import EXAMPLE, ROOT

GATES = defaults_for_version(None)

# Where each typed structure appears in the README block ("[]": the elements of a list).
README_PATHS = {
    (): c.Report,
    ("target",): c.TargetRef,
    ("claims", "[]"): c.ClaimEntry,
    ("nodes", "[]"): c.NodeEntry,
    ("nodes", "[]", "allocation", "<claim>", "[]"): c.AllocatedDevice,
    ("nodes", "[]", "reasons", "[]"): c.ReasonJSON,
    ("nodes", "[]", "reasons", "[]", "details", "funnel"): c.FunnelJSON,
    ("nodes", "[]", "ifFinishedPodsReleased"): c.WhatIfReleased,
    ("summary", "[]"): c.SummaryGroup,
    ("summary", "[]", "holders", "[]"): c.NodeHolders,
    ("scheduler",): c.SchedulerWords,
    ("pod",): c.PodState,
    ("incomplete", "[]"): c.IncompleteEntry,
    ("unchecked", "[]"): c.UncheckedStage,
    ("extendedResources", "[]"): c.ExtendedResourceEntry,
}


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```", text.index("The JSON document (`-o json`"))
    return text[start + 3:text.index("```", start + 3)]


def readme_keys(block: str) -> dict[tuple, dict[str, str]]:
    """Every "key": in the block, by the path of keys that leads to its object -> {key: its line}."""
    out: dict[tuple, dict[str, str]] = {}
    stack: list[str] = []  # the keys (or "[]") of the open containers
    pending_key: str | None = None
    for line in block.splitlines():
        code = line.split("#", 1)[0]
        for m in re.finditer(r'"([^"]*)"\s*(:)?|[\[\]{}]', code):
            tok = m.group(0)
            if m.group(1) is not None:
                if m.group(2):  # a key: the next container opened is its value
                    pending_key = m.group(1)
                    out.setdefault(tuple(stack[1:]), {})[pending_key] = line  # [0]: the document
                else:  # a string value
                    pending_key = None
                continue
            if tok in "[{":
                stack.append(pending_key if pending_key is not None else "[]")
            else:
                stack.pop()
            pending_key = None
    assert stack == [], "unbalanced README block"
    return out


def test_readme_contract_block_lists_the_keys_of_the_typed_structures():
    found = readme_keys(readme_block())
    # objects of the block without a typed structure of their own: claim name -> devices, and per-code details
    untyped = {("nodes", "[]", "allocation"), ("nodes", "[]", "reasons", "[]", "details"), ("inferredGates",)}
    assert set(found) == set(README_PATHS) | untyped, "the README block has objects the test does not know"
    for path, typed in README_PATHS.items():
        required, optional = c.keys_of(typed)
        assert set(found[path]) == required | optional, f"README keys at {path or 'top level'} != {typed.__name__}"
        for key in optional:  # the block says when an optional key is there
            assert re.search(r"#.*\bonly\b", found[path][key]), f"{'.'.join(path + (key,))}: mark it '# only ...'"


# ---------------------------------------------------------------------------------------------------
def conforms(value: Any, tp: Any, path: str = "$") -> list[str]:
    """Where value does not have the typed shape tp (a TypedDict, list[...], dict[...], X | None, ...)."""
    if tp is Any:
        return []
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        hints = get_type_hints(tp)
        errs = [f"{path}: missing {k}" for k in sorted(tp.__required_keys__ - value.keys())]
        errs += [f"{path}: undeclared key {k}" for k in sorted(value.keys() - hints.keys())]
        for k, v in value.items():
            if k in hints:
                errs += conforms(v, hints[k], f"{path}.{k}")
        return errs
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        options = [conforms(value, a, path) for a in args]
        return [] if any(not o for o in options) else min(options, key=len)
    if origin is Literal:
        return [] if value in args else [f"{path}: {value!r} not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [e for i, v in enumerate(value) for e in conforms(v, args[0], f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        return [e for k, v in value.items() for e in
                (([] if isinstance(k, str) else [f"{path}: key {k!r}"]) + conforms(v, args[1], f"{path}.{k}"))]
    if tp is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if tp is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: {value!r} not an int"]
    return [] if isinstance(value, tp) else [f"{path}: {value!r} not {tp.__name__}"]


def report_errors(report) -> list[str]:
    errs = conforms(report, c.Report)
    for where, reasons in [("reasons", report["reasons"])] + [(f"nodes.{n['name']}", n["reasons"]) for n in report["nodes"]]:
        for r in reasons:
            funnel = (r.get("details") or {}).get("funnel")
            if funnel is not None:
                errs += conforms(funnel, c.FunnelJSON, f"{where}.funnel")
    for g in report["summary"]:
        errs += conforms(g["example"], c.ReasonJSON, "summary.example")
    return errs


def _example_objects() -> list[dict]:
    objs, _ = load_files([str(EXAMPLE)])
    return objs


def _find(objs, kind, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


# A source that could not list the claims of other namespaces, nor their pods, nor events (live: 403s).
PARTIAL = SourceInfo(kind="cluster", pod_namespaces=("default",), incomplete=(
    Gap("pods", "", None, "forbidden", ("default",), "pods of other namespaces are unknown"),
    Gap("resourceclaims", "resource.k8s.io", None, "forbidden", ("default",), "claims of other namespaces look free",
        "resourceclaims.resource.k8s.io is forbidden"),
    Gap("events", "", "default", "forbidden", (), "no scheduler events")))


QUOTAS_UNREAD = SourceInfo(kind="cluster", incomplete=(
    Gap("resourcequotas", "", "default", "forbidden", (), "quotas are unknown"),))


def _variants():
    """The example, and edits of it that reach the report's optional keys."""
    base = _example_objects()
    yield "example", base
    yield "partial", base  # (built with the PARTIAL source)
    objs = copy.deepcopy(base)  # a template claim not generated yet
    trainer = _find(objs, "Pod", "trainer")
    trainer["status"].pop("resourceClaimStatuses", None)
    yield "not-generated", objs
    yield "not-generated-quotas-unread", objs  # (built with the QUOTAS_UNREAD source: the claims stage is unchecked)
    objs = copy.deepcopy(base)  # extended resources backed by a DeviceClass; a claim reserved for a PodGroup
    trainer = _find(objs, "Pod", "trainer")
    trainer["spec"]["containers"][0].setdefault("resources", {})["limits"] = {
        "deviceclass.resource.kubernetes.io/gpu.nvidia.com": "1", "deviceclass.resource.kubernetes.io/mig.nvidia.com": "500m"}
    _find(objs, "Node", "gpu-node-1").setdefault("status", {}).setdefault("allocatable", {})[
        "deviceclass.resource.kubernetes.io/gpu.nvidia.com"] = "1"
    _find(objs, "ResourceClaim", "trainer-gpus-q9t4m").setdefault("status", {})["reservedFor"] = [
        {"apiGroup": "scheduling.k8s.io", "resource": "podgroups", "name": "training", "uid": "uid-pg"}]
    yield "extended", objs
    objs = copy.deepcopy(base)  # a missing template: a claim entry without a name
    _find(objs, "Pod", "trainer")["spec"]["resourceClaims"][0]["resourceClaimTemplateName"] = "nope"
    _find(objs, "Pod", "trainer")["status"].pop("resourceClaimStatuses", None)
    yield "template-missing", objs
    objs = copy.deepcopy(base)  # a claim being deleted
    _find(objs, "ResourceClaim", "trainer-gpus-q9t4m")["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    yield "deleting", objs


TARGETS = [("Pod", "trainer", "default"), ("Pod", "inference", "default"), ("Pod", "eval", "team-a"),
           ("Pod", "notebook", "team-b"), ("ResourceClaim", "eval-gpus", "team-a"),
           ("ResourceClaim", "trainer-gpus-q9t4m", "default")]


def _reports():
    for label, objs in _variants():
        snap = Snapshot.from_objects(objs, source={"partial": PARTIAL, "not-generated-quotas-unread": QUOTAS_UNREAD}.get(label))
        for kind, name, ns in TARGETS:
            for names in (False, True):
                yield f"{label}:{kind}/{name}:names={names}", why_pending(snap, kind, name, ns, GATES, device_names=names)


@pytest.fixture(scope="module")
def reports():
    return dict(_reports())


def test_real_reports_have_the_typed_shape(reports):
    errors = {label: errs for label, r in reports.items() if (errs := report_errors(r))}
    assert errors == {}


def test_the_optional_keys_are_reached(reports):
    """The typed structures declare no key the code never writes (checked on the scenarios above)."""
    seen: dict[str, set] = {"Report": set(), "NodeEntry": set(), "ClaimEntry": set(), "ReasonJSON": set(), "FunnelJSON": set(),
                            "IncompleteEntry": set()}
    for r in reports.values():
        seen["Report"] |= set(r)
        for gap in r.get("incomplete", ()):
            seen["IncompleteEntry"] |= set(gap)
        for n in r["nodes"]:
            seen["NodeEntry"] |= set(n)
            for reason in n["reasons"]:
                seen["ReasonJSON"] |= set(reason)
                seen["FunnelJSON"] |= set((reason.get("details") or {}).get("funnel") or {})
        for claim in r["claims"]:
            seen["ClaimEntry"] |= set(claim)
    for name, keys in seen.items():
        required, optional = c.keys_of(getattr(c, name))
        assert keys == required | optional, name


def test_a_report_with_an_undeclared_key_does_not_conform(reports):
    """The check above can fail: a key outside the contract, or a value of another type, is reported."""
    r = copy.deepcopy(reports["example:Pod/trainer:names=False"])
    r["nodes"][0]["extra"] = 1
    r["claims"][0]["state"] = "lost"
    r["fits"] = "no"
    errs = report_errors(r)
    assert any("undeclared key extra" in e for e in errs)
    assert any("claims[0].state" in e for e in errs) and any("$.fits" in e for e in errs)
