"""Stage claims: a template claim that was never created, because of a ResourceQuota or admin access."""

from __future__ import annotations

import pytest

from kubectl_dra.analysis.why_pending import reasons, why_pending
from kubectl_dra.features import defaults_for_version
from kubectl_dra.snapshot import Gap, Snapshot, SourceInfo
from tests.analysis.why_pending.stage_objects import CLASS, event, example_driver, namespace, quota, template
from tests.builders import pod, snapshot

GATES = defaults_for_version(None)
QUOTA_MESSAGE = ('PodResourceClaim gpu: resource claim template "single-gpu": resourceclaims.resource.k8s.io '
                 '"pod0-gpu-7xk2p" is forbidden: exceeded quota: gpu-quota, requested: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=2, used: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=7, limited: '
                 'gpu.example.com.deviceclass.resource.k8s.io/devices=8')


def _pod0():
    return pod("pod0", ("gpu", "template", "single-gpu"))


def _codes(r):
    return [x["code"] for x in r["reasons"]]


@pytest.mark.parametrize("resource, hard, used", [
    (f"{CLASS}.deviceclass.resource.k8s.io/devices", "8", "7"),
    (f"requests.deviceclass.resource.kubernetes.io/{CLASS}", "2", "1"),
    ("count/resourceclaims.resource.k8s.io", "10", "10"),
])
def test_a_quota_on_any_charged_form_explains_the_missing_claim(resource, hard, used):
    snap = snapshot(example_driver(), template("single-gpu", count=2), _pod0(),
                    quota("gpu-quota", {resource: hard}, {resource: used}))
    r = why_pending(snap, "Pod", "pod0", "default", GATES)
    assert r["stage"] == "claims" and r["fits"] is False
    q = next(x for x in r["reasons"] if x["code"] == reasons.QUOTA_EXCEEDED)
    assert q["details"]["quotas"] == [{"quota": "gpu-quota", "resource": resource, "used": used, "hard": hard,
                                       "requested": 1 if resource.startswith("count/") else 2}]
    assert "ResourceQuota gpu-quota" in q["message"] and f"used {used} of {hard}" in q["message"]
    assert any("gpu-quota" in f for f in r["fixes"])


def test_the_class_extended_resource_name_is_charged_too():
    objs = example_driver()
    next(o for o in objs if o["kind"] == "DeviceClass")["spec"]["extendedResourceName"] = "example.com/gpu"
    snap = snapshot(objs, template("single-gpu"), _pod0(),
                    quota("ext", {"requests.example.com/gpu": "4"}, {"requests.example.com/gpu": "4"}))
    r = why_pending(snap, "Pod", "pod0", "default", GATES)
    assert r["stage"] == "claims"
    assert [q["resource"] for q in r["reasons"][-1]["details"]["quotas"]] == ["requests.example.com/gpu"]


def test_a_quota_with_room_left_is_not_blamed():
    res = f"{CLASS}.deviceclass.resource.k8s.io/devices"
    snap = snapshot(example_driver(), template("single-gpu"), _pod0(), quota("gpu-quota", {res: "8"}, {res: "3"}))
    r = why_pending(snap, "Pod", "pod0", "default", GATES)
    assert reasons.QUOTA_EXCEEDED not in _codes(r)
    assert r["stage"] == "claims" and _codes(r) == [reasons.TEMPLATE_NOT_GENERATED]


def test_the_controllers_event_alone_names_the_quota():
    snap = snapshot(example_driver(), template("single-gpu"), _pod0(),
                    event("pod0", "FailedResourceClaimCreation", QUOTA_MESSAGE, source="resource_claim"))
    r = why_pending(snap, "Pod", "pod0", "default", GATES)
    q = next(x for x in r["reasons"] if x["code"] == reasons.QUOTA_EXCEEDED)
    assert q["details"]["event"]["message"] == QUOTA_MESSAGE and "exceeded quota: gpu-quota" in q["message"]


def test_admin_access_in_a_namespace_without_the_label():
    snap = snapshot(example_driver(), template("monitor", admin=True), pod("mon", ("gpu", "template", "monitor")),
                    namespace("default"))
    r = why_pending(snap, "Pod", "mon", "default", GATES)
    assert r["stage"] == "claims"
    a = next(x for x in r["reasons"] if x["code"] == reasons.ADMIN_ACCESS_NOT_ALLOWED)
    assert "resource.kubernetes.io/admin-access=true" in a["message"]
    assert any(f.startswith("kubectl label namespace default resource.kubernetes.io/admin-access=true") for f in r["fixes"])
    labelled = snapshot(example_driver(), template("monitor", admin=True), pod("mon", ("gpu", "template", "monitor")),
                        namespace("default", {"resource.kubernetes.io/admin-access": "true"}))
    assert reasons.ADMIN_ACCESS_NOT_ALLOWED not in _codes(why_pending(labelled, "Pod", "mon", "default", GATES))


def test_quotas_that_could_not_be_read_leave_the_claims_stage_unchecked():
    info = SourceInfo(kind="cluster", incomplete=(
        Gap("resourcequotas", "", "default", "forbidden", (), "quotas are unknown"),))
    snap = Snapshot.from_objects(example_driver() + [template("single-gpu"), _pod0()], source=info)
    r = why_pending(snap, "Pod", "pod0", "default", GATES)
    assert r["stage"] == "claims" and r["fits"] is False
    assert [u["stage"] for u in r["unchecked"]] == ["claims"] and r["unchecked"][0]["resource"] == "resourcequotas"
    assert [g["resource"] for g in r["incomplete"]] == ["resourcequotas"]


def test_a_quota_gap_does_not_matter_once_the_claims_exist():
    info = SourceInfo(kind="cluster", incomplete=(
        Gap("resourcequotas", "", "default", "forbidden", (), "quotas are unknown"),))
    from tests.builders import claim, request

    snap = Snapshot.from_objects(example_driver() + [claim("c", request("gpu", CLASS)), pod("p", ("gpu", "claim", "c"))],
                                 source=info)
    r = why_pending(snap, "Pod", "p", "default", GATES)
    assert r["stage"] == "allocation" and r["fits"] is True and "incomplete" not in r and "unchecked" not in r
