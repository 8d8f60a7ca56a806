"""Names with a way forward: a claim, template, class or pod name one edit off gets "did you mean", a
claim that exists in another namespace gets "-n NS" (or, for a pod's claim, why it cannot be used), and a
class whose driver name is misspelled shows its own selector with the driver it should name.  Objects:
the DRA example driver's kind worker (8 GPUs, class gpu.example.com), written with tests/builders.py.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/cli/test_way_forward.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.builders import claim, device, device_class, node, pod, request, resource_slice

GOLDEN = Path(__file__).parent / "golden"
WORKER = "dra-example-driver-cluster-worker"
GPU = "gpu.example.com"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"text output changed; see {path}"


def template(name: str, namespace: str, *requests) -> dict:
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"spec": {"devices": {"requests": list(requests)}}}}


def cluster(class_selector: str = f"device.driver == '{GPU}'") -> list[dict]:
    gpus = [device(f"gpu-{i}", attrs={"driverVersion": "v1.0.0", "index": i, "model": "LATEST-GPU-MODEL"},
                   capacity={"memory": "80Gi"}) for i in range(8)]
    return [node(WORKER, hostname_label=True), device_class(GPU, class_selector),
            resource_slice(f"{WORKER}-{GPU}-rf2f7", WORKER, WORKER, GPU, *gpus),
            template("single-gpu", "gpu-test1", request("gpu", GPU)),
            claim("shared-gpu", request("gpu", GPU), namespace="gpu-test2")]


@pytest.fixture
def write(tmp_path):
    def w(objs) -> str:
        f = tmp_path / "c.yaml"
        f.write_text(yaml.safe_dump_all(objs))
        return str(f)
    return w


def test_pod_claim_one_edit_off(cli, write):
    f = write(cluster() + [pod("pod0", ("gpu", "claim", "shraed-gpu"), namespace="gpu-test2")])
    text = cli("why-pending", "pod0", "-n", "gpu-test2", "-f", f).stdout
    golden("why-pending-claim-did-you-mean.txt", text)
    data = json.loads(cli("why-pending", "pod0", "-n", "gpu-test2", "-o", "json", "-f", f).stdout)
    (reason,) = data["reasons"]
    assert reason["code"] == "claim-not-found" and reason["details"] == {"didYouMean": ["shared-gpu"]}
    assert reason["fixes"][0] == "fix resourceClaimName of pod claim gpu: did you mean shared-gpu?"


def test_pod_claim_in_another_namespace(cli, write):
    """A pod only uses claims of its own namespace: the claim of that name in gpu-test2 is named, with why
    it cannot be used, not offered as a fix."""
    f = write(cluster() + [pod("pod0", ("gpu", "claim", "shared-gpu"), namespace="gpu-test1")])
    text = cli("why-pending", "pod0", "-n", "gpu-test1", "-f", f).stdout
    golden("why-pending-claim-other-namespace.txt", text)
    data = json.loads(cli("why-pending", "pod0", "-n", "gpu-test1", "-o", "json", "-f", f).stdout)
    assert data["reasons"][0]["details"] == {"otherNamespaces": ["gpu-test2"]}


def test_template_one_edit_off(cli, write):
    f = write(cluster() + [pod("pod0", ("gpu", "template", "singel-gpu"), namespace="gpu-test1")])
    text = cli("why-pending", "pod0", "-n", "gpu-test1", "-f", f).stdout
    golden("why-pending-template-did-you-mean.txt", text)
    assert "template-not-found: ResourceClaimTemplate gpu-test1/singel-gpu does not exist" in text


def test_no_near_name_no_guess(cli, write):
    """Two edits off is not guessed at: no "did you mean", and the only fix is to create it."""
    f = write(cluster() + [pod("pod0", ("gpu", "claim", "sahred-gpux"), namespace="gpu-test2")])
    data = json.loads(cli("why-pending", "pod0", "-n", "gpu-test2", "-o", "json", "-f", f).stdout)
    assert "did you mean" not in data["reasons"][0]["message"]
    assert data["reasons"][0]["fixes"] == ["create ResourceClaim sahred-gpux in namespace gpu-test2"]


def test_class_one_edit_off(cli, write):
    f = write(cluster() + [claim("gpu", request("gpu", "gpu.example.co"), namespace="gpu-test2"),
                           pod("pod0", ("gpu", "claim", "gpu"), namespace="gpu-test2")])
    text = cli("why-pending", "pod0", "-n", "gpu-test2", "-f", f).stdout
    golden("why-pending-class-did-you-mean.txt", text)


def test_class_with_a_misspelled_driver_shows_its_selector(cli, write):
    """The class's own selector names gpu.exmaple.com: the class matches no device anywhere; its selector is
    shown with the driver it most likely means, in why-pending and in match."""
    f = write(cluster(class_selector="device.driver == 'gpu.exmaple.com'")
              + [pod("pod0", ("gpu", "template", "single-gpu"), namespace="gpu-test1",
                     generated={"gpu": "pod0-gpu"}),
                 claim("pod0-gpu", request("gpu", GPU), namespace="gpu-test1")])
    text = cli("why-pending", "pod0", "-n", "gpu-test1", "-f", f).stdout
    golden("why-pending-class-driver-typo.txt", text)
    data = json.loads(cli("why-pending", "pod0", "-n", "gpu-test1", "-o", "json", "-f", f).stdout)
    reason = data["nodes"][0]["reasons"][0]
    assert reason["code"] == "no-devices-for-driver"
    assert reason["details"]["classSelectors"] == ["device.driver == 'gpu.exmaple.com'"]
    hint = 'no device the selector sees comes from driver "gpu.exmaple.com"; did you mean "gpu.example.com"?'
    assert reason["details"]["hints"] == [hint]
    m = json.loads(cli("match", "device.driver == 'gpu.exmaple.com'", "-o", "json", "-f", f).stdout)
    assert [h["message"] for h in m["hints"]] == [hint]


@pytest.mark.parametrize("args, line", [
    (["why-pending", "claim/shared-gpu"],
     """error: resourceclaims.resource.k8s.io "shared-gpu" not found in namespace 'default'; it exists in """
     "namespace gpu-test2 (use -n gpu-test2)"),
    (["explain", "claim/shared-gpu", "-n", "gpu-test1"],
     """error: resourceclaims.resource.k8s.io "shared-gpu" not found in namespace 'gpu-test1'; it exists in """
     "namespace gpu-test2 (use -n gpu-test2)"),
    (["explain", "resourceclaimtemplate/single-gpu"],
     """error: resourceclaimtemplates.resource.k8s.io "single-gpu" not found in namespace 'default'; it exists """
     "in namespace gpu-test1 (use -n gpu-test1)"),
    (["explain", "claim/shared-gpus", "-n", "gpu-test2"],
     """error: resourceclaims.resource.k8s.io "shared-gpus" not found in namespace 'gpu-test2'; did you mean """
     "shared-gpu?"),
    (["explain", "deviceclass/gpu.exmaple.com"],
     'error: deviceclasses.resource.k8s.io "gpu.exmaple.com" not found; did you mean gpu.example.com?'),
    (["explain", "node/dra-example-driver-cluster-worker2"],
     'error: nodes "dra-example-driver-cluster-worker2" not found; did you mean dra-example-driver-cluster-worker?'),
    (["why-pending", "claim/shared-gpu", "-n", "gpu-test2", "--node", "dra-example-driver-cluster-workr"],
     'error: nodes "dra-example-driver-cluster-workr" not found; did you mean dra-example-driver-cluster-worker?'),
    (["why-pending", "shared-gpu", "-n", "gpu-test2"],
     """error: pods "shared-gpu" not found in namespace 'gpu-test2'; a ResourceClaim of that name exists (use """
     "claim/shared-gpu)"),
    (["get", "devices", "--class", "gpu.example"],
     'error: deviceclasses.resource.k8s.io "gpu.example" not found'),  # three edits off: no guess
    (["match", "true", "--class", "gpu.example.con"],
     'error: deviceclass "gpu.example.con" not found; did you mean gpu.example.com?'),
])
def test_not_found_lines(args, line, write):
    """The one-line errors (exit 5) through the console script, as kubectl runs it."""
    import subprocess
    import sys

    f = write(cluster())
    p = subprocess.run([sys.executable, "-m", "kubectl_dra", *args, "-f", f], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert (p.returncode, p.stderr) == (5, line + "\n")


def test_explain_pod_names_the_way_forward(cli, write):
    f = write(cluster() + [pod("pod0", ("gpu", "claim", "shraed-gpu"), ("tmpl", "template", "singel-gpu"),
                               namespace="gpu-test2"),
                           pod("pod1", ("gpu", "claim", "shared-gpu"), namespace="gpu-test1")])
    text = cli("explain", "pod/pod0", "-n", "gpu-test2", "-f", f).stdout
    assert "ResourceClaim shraed-gpu does not exist; did you mean shared-gpu?" in text
    # the template is in gpu-test1, not in the pod's namespace
    assert ("ResourceClaimTemplate singel-gpu does not exist" in text and "did you mean" not in
            text.split("singel-gpu does not exist", 1)[1].splitlines()[0])
    data = json.loads(cli("explain", "pod/pod1", "-n", "gpu-test1", "-o", "json", "-f", f).stdout)
    assert data["claims"][0]["note"] == ("ResourceClaim shared-gpu does not exist in gpu-test1; one is in namespace "
                                         "gpu-test2, but a pod uses only objects of its own namespace")


def test_explain_class_with_a_misspelled_driver(cli, write):
    f = write(cluster(class_selector="device.driver == 'gpu.exmaple.com'"))
    text = cli("explain", f"deviceclass/{GPU}", "-f", f).stdout
    assert ('no device matches this class\n        └── hint: no device the selector sees comes from driver '
            '"gpu.exmaple.com"; did you mean "gpu.example.com"?') in text
    assert json.loads(cli("explain", f"deviceclass/{GPU}", "-o", "json", "-f", f).stdout)["hints"] == [
        'no device the selector sees comes from driver "gpu.exmaple.com"; did you mean "gpu.example.com"?']
