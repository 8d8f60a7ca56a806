"""`-o jsonpath=` and `-o custom-columns=` against kubectl's own: the real kubectl, the test API server, the
same objects.  First the engine (kubectl's output for a template over the objects it lists == ours over the
`kubectl get -o json` document of that list), then `kubectl dra get` through kubectl (its `-o json` of
classes, claims, templates is the objects themselves, so kubectl's output for the same template must match)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from kubectl_dra.render import jsonpath as jp
from tests.live.apiserver import ApiServer
from tests.live.conftest import example_objects

pytestmark = pytest.mark.live

TEMPLATES = [
    "{.items[*].metadata.name}",
    '{range .items[*]}{.metadata.name}{"\\n"}{end}',
    "{.items[0].spec}",
    "{.items[0].spec.devices[*].name}",
    "{.items[-1].metadata.name}",
    "{.items[0:2].metadata.name}",
    "{.items[1:].metadata.name}",
    "{.items[::2].metadata.name}",
    "{.items[0,2].metadata.name}",
    '{.items[?(@.spec.nodeName=="gpu-node-1")].metadata.name}',
    "{.items[?(@.spec.nodeName != 'gpu-node-1')].metadata.name}",
    "{.items[?(@.spec.nodeName)].metadata.name}",
    "{.items[?(@.spec.pool.generation>=1)].spec.pool.name}",
    "{.items[?(@.spec.pool.generation<1)].spec.pool.name}",
    "{.items[*].spec.pool.generation}",
    "{..driver}",
    "{.items[0].spec.devices[0].attributes}",
    "{.items[0]['kind','apiVersion']}",
    "{.items[0].spec.devices[0].attributes['gpu.nvidia.com/index']}",
    "{.kind} {.apiVersion}",
    "x{.nope}y",
    "{.items[*].metadata.labels}",
    "{range .items[*]}[{.metadata.name}, {range .spec.devices[*]}{.name};{end}]{end}",
    "{$.kind}",
    "{@.kind}",
    "{.items[*].spec.devices[?(@.name==\"gpu-0\")].name}",
    "plain text",
    "{'a\\tb'}",
    "{.items[*].spec.devices[*].capacity.memory.value}",
    "{@}", "{$}", "{.}", "{.items[*]}", "{range .items[*]}{.spec.pool}{end}",
    "{.items[-2:].metadata.name}", "{.items[0:-1].metadata.name}",
    "{.items[?(@.spec.nodeName < 'gpu-node-2')].metadata.name}",
    "{.items[?(@.spec.nodeName == @.spec.pool.name)].metadata.name}",
]
COLUMNS = [
    "NAME:.metadata.name,NODE:.spec.nodeName,POOL:.spec.pool",
    "N:{.metadata.name},DEV:.spec.devices[*].name,X:.nope",
    "A:.spec.devices[0].attributes,GEN:.spec.pool.generation",
    'GPU0:.spec.devices[?(@.name=="gpu-0")].name',
]


@pytest.fixture(scope="module")
def server():
    with ApiServer(example_objects(), versions=("v1",)) as srv:
        yield srv


@pytest.fixture
def env(server, kubectl_env, tmp_path):
    kubectl_env["KUBECONFIG"] = str(server.kubeconfig(tmp_path / "kc"))
    # this interpreter's console scripts first: kubectl finds the kubectl-dra plugin there
    kubectl_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + kubectl_env.get("PATH", "")
    return kubectl_env


def kubectl(env, *args):
    res = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)
    return res


def test_engine_prints_what_kubectl_prints(env):
    doc = json.loads(kubectl(env, "get", "resourceslices", "-o", "json").stdout)
    assert len(doc["items"]) >= 3
    for template in TEMPLATES:
        res = kubectl(env, "get", "resourceslices", "-o", f"jsonpath={template}")
        assert res.returncode == 0, (template, res.stderr)
        assert jp.render(jp.parse(template), doc) == res.stdout, template
    for spec in COLUMNS:
        res = kubectl(env, "get", "resourceslices", "-o", f"custom-columns={spec}")
        assert res.returncode == 0, (spec, res.stderr)
        assert jp.render_columns(jp.parse_columns(spec), doc) == res.stdout, spec
        res = kubectl(env, "get", "resourceslices", "--no-headers", "-o", f"custom-columns={spec}")
        assert jp.render_columns(jp.parse_columns(spec), doc, no_headers=True) == res.stdout, spec


@pytest.mark.parametrize("template, why", [
    ("{.items[?(@.spec.pool.generation == 1.0)].metadata.name}", "int == float"),
    ("{.items[?(@.metadata.name == 1)].metadata.name}", "string == int"),
    ("{.items[?(@.metadata.name != 1)].metadata.name}", "string != int"),
])
def test_comparing_across_types_fails_like_kubectl(env, template, why):
    doc = json.loads(kubectl(env, "get", "resourceslices", "-o", "json").stdout)
    res = kubectl(env, "get", "resourceslices", "-o", f"jsonpath={template}")
    assert res.returncode == 1 and "incompatible types for comparison" in res.stderr
    with pytest.raises(jp.DraError, match=f"incompatible types for comparison: {why}"):
        jp.render(jp.parse(template), doc)


def test_index_out_of_bounds_fails_like_kubectl(env):
    doc = json.loads(kubectl(env, "get", "resourceslices", "-o", "json").stdout)
    res = kubectl(env, "get", "resourceslices", "-o", "jsonpath={.items[100].metadata.name}")
    assert res.returncode == 1 and "array index out of bounds: index 100, length 3" in res.stderr
    with pytest.raises(jp.DraError, match="array index out of bounds: index 100, length 3"):
        jp.render(jp.parse("{.items[100].metadata.name}"), doc)


@pytest.mark.parametrize("resource, ours", [("deviceclasses", ["classes"]), ("resourceclaims", ["claims", "-A"]),
                                             ("resourceclaimtemplates", ["templates", "-A"])])
def test_kubectl_dra_get_through_kubectl_matches_kubectl_get(env, resource, ours):
    if shutil.which("kubectl-dra", path=env.get("PATH")) is None:
        pytest.skip("kubectl-dra is not on PATH (pip install -e .)")
    theirs_ns = ["-A"] if "-A" in ours else []
    for template in ("{.items[*].metadata.name}", '{range .items[*]}{.metadata.name}{"\\t"}{.spec}{"\\n"}{end}',
                     "{.items[?(@.apiVersion=='resource.k8s.io/v1')].metadata.name}"):
        want = kubectl(env, "get", resource, *theirs_ns, "-o", f"jsonpath={template}")
        got = kubectl(env, "dra", "get", *ours, "-o", f"jsonpath={template}")
        assert want.returncode == 0 and got.returncode == 0, got.stderr
        assert got.stdout == want.stdout and got.stdout.strip(), template
    spec = "NAME:.metadata.name,NAMESPACE:.metadata.namespace,SPEC:.spec"
    want = kubectl(env, "get", resource, *theirs_ns, "-o", f"custom-columns={spec}")
    got = kubectl(env, "dra", "get", *ours, "-o", f"custom-columns={spec}")
    assert got.returncode == 0 and got.stdout == want.stdout


def test_null_numbers_and_maps_print_like_kubectl(make_server, kubectl_env, tmp_path):
    odd = {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
           "metadata": {"name": "x", "labels": {"a": "1", "example.com/x": "2"}},
           "spec": {"extendedResourceName": None, "config": [1.5, 2.0, 1e21, True, "<&>"]}}
    srv = make_server([odd])
    kubectl_env["KUBECONFIG"] = str(srv.kubeconfig(tmp_path / "kc"))
    doc = json.loads(kubectl(kubectl_env, "get", "deviceclasses", "-o", "json").stdout)
    for template in ("{.items[0].spec.extendedResourceName}", "{.items[0].spec.config[*]}", "{.items[0].spec}",
                     "[{.items[0].spec.extendedResourceName}]",
                     # keys with dots: ['a.b'] is a path in kubectl; a dot in a key is escaped
                     "{.items[0].metadata.labels['example.com/x']}", "{.items[0].metadata.labels.example\\.com/x}",
                     "{.items[0].metadata.labels['example\\.com/x']}", "{.items[0]['metadata.name']}",
                     "{.items[0].metadata.labels['a','example.com/x']}"):
        res = kubectl(kubectl_env, "get", "deviceclasses", "-o", f"jsonpath={template}")
        assert res.returncode == 0 and jp.render(jp.parse(template), doc) == res.stdout, template
    spec = "N:.spec.extendedResourceName,C:.spec.config,L:.metadata.labels"
    res = kubectl(kubectl_env, "get", "deviceclasses", "-o", f"custom-columns={spec}")
    assert jp.render_columns(jp.parse_columns(spec), doc) == res.stdout
