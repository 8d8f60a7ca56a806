"""api-rejected: a claim from files (or the claim a template would create) that the API server refuses
never reaches the scheduler: why-pending stops at the claims stage, names the rule, and still shows the
dry run of the claim as written; objects of a cluster (live, or a dump) are not second-guessed."""

from __future__ import annotations

import json

import yaml

from tests.builders import DRIVER_A, NODE1, POOL1, claim, device_class, node, pod, request, resource_slice

NESTED = ("device.attributes['driver-a'].all(a, device.attributes['driver-a'].all(b, "
          "device.attributes['driver-a'].all(c, device.attributes['driver-a'].all(d, a + b + c + d != ''))))")


def cluster(*extra):
    return [node(NODE1), device_class("class-a", driver=DRIVER_A),
            resource_slice("slice-1", NODE1, POOL1, DRIVER_A, *[f"dev-{i}" for i in range(40)]), *extra]


def why_pending(cli, tmp_path, objs, *flags, annotations=None):
    path = tmp_path / "cluster.yaml"
    doc = {"apiVersion": "v1", "kind": "List", "items": objs}
    if annotations:
        doc["metadata"] = {"annotations": annotations}
    path.write_text(yaml.safe_dump(doc))
    r = cli("why-pending", "pod/p", "-f", str(path), "-o", "json", *flags)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_too_many_requests(cli, tmp_path):
    c = claim("c", *[request(f"r-{i}") for i in range(33)])
    r = why_pending(cli, tmp_path, cluster(c, pod("p", ("c", "claim", "c"))), "--kubernetes-version", "1.34")
    assert r["fits"] is False and r["stage"] == "claims"
    rejected = [x for x in r["reasons"] if x["code"] == "api-rejected"]
    assert len(rejected) == 1 and rejected[0]["claim"] == "c"
    assert rejected[0]["message"].startswith("the API server (Kubernetes 1.34) refuses ResourceClaim default/c: "
                                             "spec.devices.requests: must have at most 32 items (has 33)")
    assert rejected[0]["details"]["violations"] == [
        {"path": "spec.devices.requests", "message": "must have at most 32 items (has 33)"}]
    assert "change the claim: spec.devices.requests: must have at most 32 items (has 33)" in r["fixes"]
    # the dry run of the claim as written is still shown: the allocator refuses more than 32 results too
    assert [x["code"] for x in r["nodes"][0]["reasons"]] == ["allocation-error"]
    ok = claim("c", *[request(f"r-{i}") for i in range(32)])
    r = why_pending(cli, tmp_path, cluster(ok, pod("p", ("c", "claim", "c"))))
    assert r["fits"] is True and "api-rejected" not in [x["code"] for x in r["reasons"]]


def test_too_many_tolerations_the_nodes_keep_the_dry_run(cli, tmp_path):
    c = claim("c", request("gpu", tolerations=[{"key": f"k{i}", "operator": "Exists"} for i in range(17)]))
    r = why_pending(cli, tmp_path, cluster(c, pod("p", ("c", "claim", "c"))))
    assert r["fits"] is False and r["stage"] == "claims"
    assert next(x for x in r["reasons"] if x["code"] == "api-rejected")["details"]["violations"] == [
        {"path": "spec.devices.requests[0].exactly.tolerations", "message": "must have at most 16 items (has 17)"}]
    # what the scheduler would do with the claim as written (node by node) stays visible
    assert [(n["name"], n["fits"]) for n in r["nodes"]] == [(NODE1, True)]
    assert r["nodes"][0]["allocation"] == {"c": [{"request": "gpu", "driver": DRIVER_A, "pool": POOL1,
                                                   "device": "dev-0"}]}


def test_a_template_whose_selector_is_too_costly(cli, tmp_path):
    tmpl = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": "t", "namespace": "default"},
            "spec": {"spec": {"devices": {"requests": [request("gpu", selectors=[NESTED])]}}}}
    r = why_pending(cli, tmp_path, cluster(tmpl, pod("p", ("gpu", "template", "t"))))
    assert r["fits"] is False and r["stage"] == "claims"
    rejected = next(x for x in r["reasons"] if x["code"] == "api-rejected")
    assert "refuses the claim ResourceClaimTemplate default/t would create for pod claim gpu: " \
           "spec.spec.devices.requests[0].exactly.selectors[0].cel.expression: too complex, exceeds cost limit" \
           in rejected["message"]
    # the controller is not the problem: template-not-generated loses its "is the controller running" fix
    assert not any("resourceclaim controller" in f for f in r["fixes"])


def test_objects_of_a_cluster_dump_are_not_second_guessed(cli, tmp_path):
    c = claim("c", *[request(f"r-{i}") for i in range(33)])
    r = why_pending(cli, tmp_path, cluster(c, pod("p", ("c", "claim", "c"))),
                    annotations={"kubectl-dra.io/server-version": "v1.36.2"})
    assert "api-rejected" not in [x["code"] for x in r["reasons"]]
