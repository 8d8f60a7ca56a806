"""Old API shapes a user meets in tutorials: resource.k8s.io/v1alpha3 objects and the pre-1.31 pod ``source:``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubectl_dra.cli import app
from kubectl_dra.errors import InputError
from kubectl_dra.normalize import normalize_object
from kubectl_dra.snapshot import Snapshot
from kubectl_dra.sources.files import parse_text

# As the Kubernetes 1.31 DRA blog post and docs wrote them.
V1ALPHA3_OBJECTS = """
apiVersion: resource.k8s.io/v1alpha3
kind: DeviceClass
metadata: {name: gpu.example.com}
spec:
  selectors:
  - cel: {expression: "device.driver == 'gpu.example.com'"}
  suitableNodes: {nodeSelectorTerms: [{matchExpressions: [{key: gpu, operator: Exists}]}]}
---
apiVersion: resource.k8s.io/v1alpha3
kind: ResourceSlice
metadata: {name: node-a-gpu}
spec:
  driver: gpu.example.com
  nodeName: node-a
  pool: {name: node-a, generation: 1, resourceSliceCount: 1}
  devices:
  - name: gpu-0
    basic:
      attributes:
        model: {string: LATEST-GPU-MODEL}
      capacity:
        memory: 80Gi
---
apiVersion: resource.k8s.io/v1alpha3
kind: ResourceClaimTemplate
metadata: {name: one-gpu, namespace: ns}
spec:
  spec:
    controller: ""
    devices:
      requests:
      - name: gpu
        deviceClassName: gpu.example.com
---
apiVersion: resource.k8s.io/v1alpha3
kind: ResourceClaim
metadata: {name: two-gpus, namespace: ns}
spec:
  devices:
    requests:
    - name: gpus
      deviceClassName: gpu.example.com
      allocationMode: ExactCount
      count: 2
"""

LEGACY_POD = """
apiVersion: v1
kind: Pod
metadata: {name: old-pod, namespace: ns}
spec:
  containers:
  - name: c
    image: x
    resources: {claims: [{name: gpu}]}
  resourceClaims:
  - name: gpu
    source:
      resourceClaimTemplateName: one-gpu
"""


def test_v1alpha3_objects_are_read_as_v1():
    snap = Snapshot.from_objects(parse_text(V1ALPHA3_OBJECTS, "old.yaml"))
    (s,) = snap.resource_slices
    assert s["apiVersion"] == "resource.k8s.io/v1"
    assert s["spec"]["devices"][0]["attributes"]["model"] == {"string": "LATEST-GPU-MODEL"}
    assert "basic" not in s["spec"]["devices"][0]
    # v1alpha3 capacities are bare quantities; v1 wraps them in {value: ...}
    assert s["spec"]["devices"][0]["capacity"] == {"memory": {"value": "80Gi"}}
    claim = snap.resource_claims[("ns", "two-gpus")]
    assert claim["spec"]["devices"]["requests"] == [
        {"name": "gpus", "exactly": {"deviceClassName": "gpu.example.com", "allocationMode": "ExactCount", "count": 2}}]
    template = snap.resource_claim_templates[("ns", "one-gpu")]
    assert "controller" not in template["spec"]["spec"]
    assert template["spec"]["spec"]["devices"]["requests"] == [
        {"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}]
    (cls,) = snap.device_classes.values()
    assert "suitableNodes" not in cls["spec"]


def test_v1alpha3_input_is_named_in_one_stderr_line(tmp_path):
    f = tmp_path / "old.yaml"
    f.write_text(V1ALPHA3_OBJECTS)
    result = CliRunner().invoke(app, ["get", "devices", "-f", str(f), "-o", "json"])
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "v1alpha3" in line]
    assert notices == ["warning: the input has 4 objects in resource.k8s.io/v1alpha3, an old API version "
                       "(Kubernetes 1.31-1.33); read as resource.k8s.io/v1 (current clusters serve v1)"]
    assert "gpu-0" in result.stdout


def test_v1_input_says_nothing_about_versions(tmp_path):
    f = tmp_path / "new.yaml"
    f.write_text(V1ALPHA3_OBJECTS.replace("v1alpha3", "v1beta1").replace("memory: 80Gi", "memory: {value: 80Gi}"))
    result = CliRunner().invoke(app, ["get", "devices", "-f", str(f)])
    assert result.exit_code == 0, result.output
    assert "old API version" not in result.stderr


def test_pre_131_pod_source_is_an_error_showing_the_current_fields():
    (pod,) = parse_text(LEGACY_POD, "pod.yaml")
    with pytest.raises(InputError) as e:
        normalize_object(pod, where="pod.yaml: ")
    assert str(e.value) == (
        "pod.yaml: Pod 'old-pod': spec.resourceClaims[0].source is the pre-1.31 form of a pod claim; "
        "write the reference on the entry itself: {name: gpu, resourceClaimTemplateName: one-gpu} "
        "(fields: name, and one of resourceClaimName or resourceClaimTemplateName)")


def test_pre_131_pod_source_through_the_cli_is_one_error_line(tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(LEGACY_POD.replace("resourceClaimTemplateName: one-gpu", "resourceClaimName: shared"))
    result = CliRunner().invoke(app, ["why-pending", "old-pod", "-n", "ns", "-f", str(f)])
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "{name: gpu, resourceClaimName: shared}" in lines[0]
    assert "Traceback" not in result.output


def test_current_pod_claim_fields_pass():
    pod = json.loads(json.dumps(parse_text(LEGACY_POD, "pod.yaml")[0]))
    pod["spec"]["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "one-gpu"}]
    assert normalize_object(pod) is pod


# `kubectl get resourceslice -o yaml` on a 1.31-1.33 cluster running the dra-example-driver (the shape its
# README showed): bare capacity quantities under basic:, one device already in the {value} form.
EXAMPLE_DRIVER_SLICE_V1ALPHA3 = """
apiVersion: resource.k8s.io/v1alpha3
kind: ResourceSlice
metadata: {name: kind-worker-gpu.example.com-k69gd}
spec:
  driver: gpu.example.com
  nodeName: kind-worker
  pool: {name: kind-worker, generation: 0, resourceSliceCount: 1}
  devices:
  - name: gpu-0
    basic:
      attributes:
        driverVersion: {version: 1.0.0}
        index: {int: 0}
        model: {string: LATEST-GPU-MODEL}
        uuid: {string: gpu-18db0e85-99e9-c746-8531-ffeb86328b39}
      capacity:
        memory: 80Gi
  - name: gpu-1
    basic:
      attributes:
        index: {int: 1}
        model: {string: LATEST-GPU-MODEL}
      capacity:
        memory: {value: 40Gi}
---
apiVersion: resource.k8s.io/v1alpha3
kind: DeviceClass
metadata: {name: gpu.example.com}
spec:
  selectors:
  - cel: {expression: "device.driver == 'gpu.example.com'"}
---
apiVersion: v1
kind: Node
metadata: {name: kind-worker}
---
apiVersion: resource.k8s.io/v1alpha3
kind: ResourceClaim
metadata: {name: big-gpu, namespace: default}
spec:
  devices:
    requests:
    - name: gpu
      deviceClassName: gpu.example.com
      selectors:
      - cel: {expression: "device.capacity['gpu.example.com'].memory.compareTo(quantity('64Gi')) >= 0"}
"""


def test_v1alpha3_bare_capacities_are_quantities_cel_can_compare(tmp_path):
    f = tmp_path / "slice.yaml"
    f.write_text(EXAMPLE_DRIVER_SLICE_V1ALPHA3)
    result = CliRunner().invoke(app, ["get", "devices", "-f", str(f), "-o", "json"])
    assert result.exit_code == 0, result.output
    snap = Snapshot.from_objects(parse_text(EXAMPLE_DRIVER_SLICE_V1ALPHA3, "slice.yaml"))
    (s,) = snap.resource_slices
    assert [d["capacity"] for d in s["spec"]["devices"]] == [{"memory": {"value": "80Gi"}}, {"memory": {"value": "40Gi"}}]
    expr = "device.capacity['gpu.example.com'].memory.compareTo(quantity('64Gi')) >= 0"
    match = CliRunner().invoke(app, ["match", expr, "-f", str(f), "-o", "json"])
    assert match.exit_code == 0, match.output
    report = json.loads(match.stdout)
    assert report["counts"]["match"] == 1 and report["counts"]["error"] == 0
    assert report["groups"][0]["matching"] == ["gpu-0"]  # 80Gi yes, 40Gi no
    # and the claim of the same tutorial fits on that device in a dry run
    pending = CliRunner().invoke(app, ["why-pending", "claim/big-gpu", "-n", "default", "-f", str(f), "-o", "json"])
    assert pending.exit_code in (0, 1), pending.output
    verdict = json.loads(pending.stdout)
    assert verdict["fits"] is True, verdict
