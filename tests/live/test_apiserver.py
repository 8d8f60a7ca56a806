"""The test API server itself: it must behave like kube-apiserver where our loader and kubectl look."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

from kubectl_dra.normalize import normalize_object
from tests.live.apiserver import DEFAULT_TOKEN, convert
from tests.live.conftest import small_cluster


def _get(srv, path, token=DEFAULT_TOKEN, method="GET"):
    ctx = ssl.create_default_context(cadata=srv.ca_pem)
    req = urllib.request.Request(srv.url + path, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_tls_is_verified_with_the_generated_ca(apiserver):
    # Default trust store does not know our CA: the certificate is really checked.
    with pytest.raises(urllib.error.URLError) as exc:
        urllib.request.urlopen(apiserver.url + "/version", timeout=5)
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value)
    status, doc = _get(apiserver, "/version")
    assert status == 200 and doc["gitVersion"] == "v1.34.1"


def test_wrong_token_gets_401_and_is_recorded(apiserver):
    status, doc = _get(apiserver, "/api/v1/nodes", token="wrong")
    assert status == 401 and doc["reason"] == "Unauthorized"
    assert apiserver.requests[-1].authorization == "Bearer wrong"


def test_discovery_lists_only_served_versions(make_server):
    srv = make_server(versions=("v1beta2", "v1beta1"))
    _, group = _get(srv, "/apis/resource.k8s.io")
    assert [v["version"] for v in group["versions"]] == ["v1beta2", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1beta2"
    assert _get(srv, "/apis/resource.k8s.io/v1")[0] == 404
    _, res = _get(srv, "/apis/resource.k8s.io/v1beta1")
    assert {r["name"]: r["namespaced"] for r in res["resources"]} == {
        "deviceclasses": False, "resourceclaims": True, "resourceclaimtemplates": True, "resourceslices": False}
    assert _get(srv, "/apis/resource.k8s.io/v1/resourceslices")[0] == 404


def test_no_dra_group_is_404(make_server):
    srv = make_server(versions=())
    assert _get(srv, "/apis/resource.k8s.io")[0] == 404
    assert _get(srv, "/apis")[1]["groups"] == []


def test_paging_with_continue_tokens(apiserver):
    seen, token, pages = [], None, 0
    while True:
        q = "?limit=2" + (f"&continue={token}" if token else "")
        status, doc = _get(apiserver, "/apis/resource.k8s.io/v1/resourceslices" + q)
        assert status == 200 and doc["kind"] == "ResourceSliceList"
        pages += 1
        seen += [i["metadata"]["name"] for i in doc["items"]]
        token = doc["metadata"].get("continue")
        if not token:
            break
        assert doc["metadata"]["remainingItemCount"] == 3 - len(seen)
    assert pages == 2 and sorted(seen) == [f"node-{i}-gpu.example.com" for i in range(3)]


def test_namespaced_all_namespaces_and_get(apiserver):
    _, all_claims = _get(apiserver, "/apis/resource.k8s.io/v1/resourceclaims")
    assert {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in all_claims["items"]} == {
        ("team-b", "other-team-gpu"), ("default", "my-gpu")}
    _, ns_claims = _get(apiserver, "/apis/resource.k8s.io/v1/namespaces/team-b/resourceclaims")
    assert [i["metadata"]["name"] for i in ns_claims["items"]] == ["other-team-gpu"]
    # list items carry no kind/apiVersion, like the real server
    assert "kind" not in ns_claims["items"][0]
    status, one = _get(apiserver, "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/my-gpu")
    assert status == 200 and one["kind"] == "ResourceClaim" and one["apiVersion"] == "resource.k8s.io/v1"
    status, missing = _get(apiserver, "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/nope")
    assert status == 404 and missing["reason"] == "NotFound"
    status, ns = _get(apiserver, "/api/v1/namespaces/team-b")
    assert status == 200 and ns["kind"] == "Namespace"


def test_field_and_label_selectors(apiserver):
    sel = "involvedObject.name=trainer,involvedObject.namespace=default"
    _, ev = _get(apiserver, f"/api/v1/namespaces/default/events?fieldSelector={sel}")
    assert [e["metadata"]["name"] for e in ev["items"]] == ["trainer.1"]
    _, nodes = _get(apiserver, "/api/v1/nodes?fieldSelector=metadata.name%3Dnode-1")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-1"]
    _, nodes = _get(apiserver, "/api/v1/nodes?fieldSelector=metadata.name!%3Dnode-1&labelSelector=gpu%3Dyes")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-0", "node-2"]
    _, nodes = _get(apiserver, "/api/v1/nodes?labelSelector=gpu%20notin%20(yes)")
    assert nodes["items"] == []


def test_forbid_scopes(apiserver):
    apiserver.forbid("resourceclaims", "")  # only the cluster-wide list
    status, doc = _get(apiserver, "/apis/resource.k8s.io/v1/resourceclaims")
    assert status == 403
    assert doc["message"] == ('resourceclaims.resource.k8s.io is forbidden: User "test-user" cannot list resource '
                              '"resourceclaims" in API group "resource.k8s.io" at the cluster scope')
    assert _get(apiserver, "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims")[0] == 200


def test_writes_are_refused_and_recorded(apiserver):
    status, doc = _get(apiserver, "/api/v1/namespaces/default/pods/trainer", method="DELETE")
    assert status == 405
    assert "DELETE" in apiserver.methods()


@pytest.mark.parametrize("version", ["v1beta2", "v1beta1"])
def test_down_conversion_round_trips_through_normalize(version):
    for obj in small_cluster():
        served = convert(obj, version)
        if obj["kind"] in ("ResourceSlice", "ResourceClaim", "ResourceClaimTemplate", "DeviceClass"):
            assert served["apiVersion"] == f"resource.k8s.io/{version}"
        assert normalize_object(served) == obj


def test_v1beta1_shapes():
    objs = {o["metadata"]["name"]: o for o in small_cluster()}
    sl = convert(objs["node-0-gpu.example.com"], "v1beta1")
    dev = sl["spec"]["devices"][0]
    assert set(dev) == {"name", "basic"} and dev["basic"]["attributes"]["model"] == {"string": "A100"}
    claim = convert(objs["my-gpu"], "v1beta1")
    req = claim["spec"]["devices"]["requests"][0]
    assert "exactly" not in req and req["count"] == 2 and req["deviceClassName"] == "gpu.example.com"
