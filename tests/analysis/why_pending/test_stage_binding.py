"""Stage binding: allocated devices waiting for binding conditions, failed bindings, a full reservedFor."""

from __future__ import annotations

from datetime import datetime, timezone

from kubectl_dra.analysis.why_pending import reasons, why_pending
from kubectl_dra.features import defaults_for_version
from kubectl_dra.snapshot import Snapshot, SourceInfo
from tests.analysis.why_pending.stage_objects import NODE, allocated, event, example_driver
from tests.builders import pod, snapshot

GATES = defaults_for_version(None)
READY, FAILED = "dra.example.com/attached", "dra.example.com/attach-failed"  # a fabric-attached GPU's conditions
BINDING = {"bindingConditions": [READY], "bindingFailureConditions": [FAILED]}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _objs(status_devices=None):
    return example_driver() + [allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",), extra=BINDING,
                                         status_devices=status_devices),
                               pod("pod0", ("gpu", "claim", "pod0-gpu"))]


def test_waiting_for_binding_conditions_with_the_time_left():
    r = why_pending(snapshot(_objs()), "Pod", "pod0", "default", GATES, now=_at("2026-12-01T10:02:00Z"))
    assert r["stage"] == "binding" and r["fits"] is False
    b = r["reasons"][-1]
    assert b["code"] == reasons.BINDING_CONDITIONS_PENDING
    assert b["details"]["missing"] == [READY] and b["details"]["timeoutSeconds"] == 600
    assert b["details"]["deadline"] == "2026-12-01T10:10:00Z"
    assert "timeout 600s, 480s left" in b["message"] and "gpu.example.com/kind-worker/gpu-0" in b["message"]
    assert [n["name"] for n in r["nodes"]] == [NODE]  # from binding on: the pod's node only


def test_a_true_failure_condition_fails_the_binding():
    conds = [{"driver": "gpu.example.com", "pool": "kind-worker", "device": "gpu-0",
              "conditions": [{"type": FAILED, "status": "True", "reason": "FabricTimeout",
                              "message": "attaching to the PCIe fabric timed out", "lastTransitionTime": "2026-12-01T10:01:00Z"}]}]
    r = why_pending(snapshot(_objs(conds)), "Pod", "pod0", "default", GATES, now=_at("2026-12-01T10:02:00Z"))
    b = r["reasons"][-1]
    assert r["stage"] == "binding" and b["code"] == reasons.BINDING_FAILED
    assert b["details"]["failed"] == [FAILED] and "FabricTimeout: attaching to the PCIe fabric timed out" in b["message"]


def test_met_conditions_leave_the_pod_waiting_for_its_bind_only():
    conds = [{"driver": "gpu.example.com", "pool": "kind-worker", "device": "gpu-0",
              "conditions": [{"type": READY, "status": "True"}]}]
    r = why_pending(snapshot(_objs(conds)), "Pod", "pod0", "default", GATES, now=_at("2026-12-01T10:02:00Z"))
    assert r["stage"] == "binding" and r["fits"] is True
    assert [x["code"] for x in r["reasons"]] == []


def test_the_binding_timeout_runs_out():
    r = why_pending(snapshot(_objs()), "Pod", "pod0", "default", GATES, now=_at("2026-12-01T10:11:00Z"))
    b = r["reasons"][-1]
    assert b["code"] == reasons.BINDING_FAILED and b["details"]["timedOut"] is True
    # a scheduler configured with a longer timeout is still waiting
    r = why_pending(snapshot(_objs()), "Pod", "pod0", "default", GATES, now=_at("2026-12-01T10:11:00Z"),
                    binding_timeout=1200)
    assert r["reasons"][-1]["code"] == reasons.BINDING_CONDITIONS_PENDING


def test_now_is_the_servers_time_else_the_newest_timestamp_in_the_input():
    late = event("pod0", "FailedScheduling", "0/1 nodes are available", source="default-scheduler",
                 at="2026-12-01T10:20:00Z")
    offline = why_pending(snapshot(_objs(), late), "Pod", "pod0", "default", GATES)
    assert offline["reasons"][-1]["code"] == reasons.BINDING_FAILED
    assert offline["reasons"][-1]["details"]["now"] == "2026-12-01T10:20:00Z"
    live = Snapshot.from_objects(_objs() + [late], source=SourceInfo(kind="cluster", server_time="2026-12-01T10:03:00Z"))
    assert why_pending(live, "Pod", "pod0", "default", GATES)["reasons"][-1]["code"] == reasons.BINDING_CONDITIONS_PENDING


def test_a_full_reserved_for_names_its_consumers_by_kind():
    shared = allocated("shared-gpu", "gpu-1", reserved_for=tuple(f"worker-{i}" for i in range(250)))
    shared["status"]["reservedFor"] += [{"apiGroup": "scheduling.k8s.io", "resource": "podgroups",
                                          "name": f"training-{i}", "uid": f"uid-pg-{i}"} for i in range(6)]
    r = why_pending(snapshot(example_driver(), shared, pod("late", ("gpu", "claim", "shared-gpu"))),
                    "Pod", "late", "default", GATES)
    assert r["stage"] == "binding" and r["fits"] is False
    full = r["reasons"][-1]
    assert full["code"] == reasons.RESERVED_FOR_FULL
    assert full["details"]["consumers"] == {"pod": 250, "PodGroup": 6}
    assert "250 pods" in full["message"] and "6 PodGroup" in full["message"]


def test_an_allocated_claim_reserved_for_others_with_room_is_still_the_dry_run():
    shared = allocated("shared-gpu", "gpu-1", reserved_for=("a", "b"))
    r = why_pending(snapshot(example_driver(), shared, pod("c", ("gpu", "claim", "shared-gpu"))), "Pod", "c",
                    "default", GATES)
    assert r["stage"] == "allocation" and r["fits"] is True and len(r["nodes"]) >= 1
