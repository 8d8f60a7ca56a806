"""Every blocking reason of a node, ranked by what actually blocks: the request whose own devices fall short
first, a request that is fine on its own (does-not-fit) last, the causes inside one request in blocking
order, every alternative of a prioritized list explained; the summary groups by that first reason, and
the text shows the rest.  Objects: shaped like what the DRA example driver publishes on its kind worker
(8 GPUs, model / index / driverVersion / memory) and like its prioritized-alternatives demo, written with
tests/builders.py; dranet-style NICs.

After an intended wording change: `UPDATE_GOLDEN=1 python -m pytest tests/analysis/why_pending/test_blocking_order.py`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
import yaml

from kubectl_dra.analysis.why_pending import why_pending
from kubectl_dra.features import defaults_for_version
from tests.builders import (
    allocation, claim, device, device_class, first_available, node, pod, request, resource_slice, snapshot, subrequest,
)

GATES = defaults_for_version(None)
GOLDEN = Path(__file__).parent.parent / "golden"
WORKER = "dra-example-driver-cluster-worker"
GPU = "gpu.example.com"
NET = "dra.net"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"text output changed; see {path}"


@pytest.fixture
def example_gpus() -> list[dict]:
    """The example driver's DeviceClass and slice: 8 GPUs of 80Gi on the kind worker."""
    gpus = [device(f"gpu-{i}", attrs={"driverVersion": "v1.0.0", "index": i, "model": "LATEST-GPU-MODEL",
                                      "uuid": f"gpu-{i:08x}-0000-0000-0000-000000000000"},
                   capacity={"memory": "80Gi"}) for i in range(8)]
    return [device_class(GPU, f"device.driver == '{GPU}'"),
            resource_slice(f"{WORKER}-{GPU}-rf2f7", WORKER, WORKER, GPU, *gpus)]


def prioritized_demo() -> list[dict]:
    """Like the example driver's prioritized-alternatives pod0: a bleeding-edge model, else a huge GPU,
    else any GPU, from a template."""
    ns = "prioritized-alternatives"
    tmpl = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": "prioritized-gpu", "namespace": ns},
            "spec": {"spec": {"devices": {"requests": [first_available(
                "gpu",
                subrequest("bleeding-edge-gpu", GPU, selectors=[
                    f"device.attributes['{GPU}'].model == 'BLEEDING-EDGE-GPU'"]),
                subrequest("huge-gpu", GPU, selectors=[
                    f"device.capacity['{GPU}'].memory.compareTo(quantity('1Ti')) >= 0"]),
                subrequest("older-gpu", GPU))]}}}}
    gen = claim("pod0-gpu", *tmpl["spec"]["spec"]["devices"]["requests"], namespace=ns)
    return [tmpl, gen, pod("pod0", ("gpu", "template", "prioritized-gpu"), namespace=ns,
                           generated={"gpu": "pod0-gpu"})]


def with_pcie_root(objs: list[dict], root: str = "pci0000:80") -> list[dict]:
    out = copy.deepcopy(objs)
    for o in out:
        if o.get("kind") == "ResourceSlice":
            for d in o["spec"]["devices"]:
                d["attributes"]["resource.kubernetes.io/pcieRoot"] = {"string": root}
    return out


def nics(*devices) -> list[dict]:
    return [device_class("dranet", f"device.driver == '{NET}'"),
            resource_slice(f"{WORKER}-dra.net", WORKER, WORKER, NET, *devices)]


def held_gpus(*names: str, holder: str = "render-job") -> list[dict]:
    return [claim(holder, request("gpu", GPU, len(names)), namespace="batch", reserved_for=[holder],
                  allocation=allocation(*[("gpu", GPU, WORKER, n) for n in names], node_name=WORKER)),
            pod(holder, ("gpu", "claim", holder), namespace="batch", phase="Running")]


def run(objs, target="p", namespace="default"):
    return why_pending(snapshot(objs), "Pod", target, namespace, GATES)


def reasons_on(report, name=WORKER) -> list[tuple]:
    n = next(x for x in report["nodes"] if x["name"] == name)
    return [(r["code"], r["claim"], r["request"]) for r in n["reasons"]]


def test_nic_without_pcie_root_is_named_before_the_fine_gpu(example_gpus):
    """One claim, a GPU and a NIC that must share a PCIe root (dranet's GPU-aligned NIC); the only NIC is
    virtual and publishes no pcieRoot.  The GPU request is fine on its own: it comes last."""
    objs = with_pcie_root(example_gpus) + [node(WORKER, hostname_label=True)] + nics(
        device("veth0", attrs={"dra.net/ifName": "eth1", "dra.net/virtual": True})) + [
        claim("gpu-nic", request("gpu", GPU), request("nic", "dranet"),
              constraints=[{"requests": ["gpu", "nic"], "matchAttribute": "resource.kubernetes.io/pcieRoot"}]),
        pod("p", ("gn", "claim", "gpu-nic"))]
    r = run(objs)
    assert reasons_on(r) == [("constraint-unsatisfiable", "gpu-nic", "nic"), ("does-not-fit", "gpu-nic", "gpu")]
    first, second = next(x for x in r["nodes"] if x["name"] == WORKER)["reasons"]
    assert "veth0 does not publish resource.kubernetes.io/pcieRoot" in first["message"]
    assert "can be satisfied on its own; the node fails on claim gpu-nic, request nic" in second["message"]
    assert [(g["code"], g["request"]) for g in r["summary"]] == [("constraint-unsatisfiable", "nic")]


def test_gpu_held_by_another_pod_ranks_before_the_fine_nic(example_gpus, cli, tmp_path):
    """Two claims, the NIC's first: the NIC is free, every GPU is held by a running pod.  The node is
    labelled with the GPU's holders, the NIC's does-not-fit follows, in JSON and in text."""
    names = [f"gpu-{i}" for i in range(8)]
    objs = example_gpus + [node(WORKER, hostname_label=True)] + nics(
        device("pci-0000-8a-00-0", attrs={"dra.net/ifName": "eth1", "dra.net/rdma": True})) + held_gpus(*names) + [
        claim("nic", request("nic", "dranet")), claim("gpu", request("gpu", GPU)),
        pod("p", ("nic", "claim", "nic"), ("gpu", "claim", "gpu"))]
    r = run(objs)
    assert reasons_on(r) == [("all-matching-devices-allocated", "gpu", "gpu"), ("does-not-fit", "nic", "nic")]
    assert r["summary"][0]["code"] == "all-matching-devices-allocated"
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    text = cli("why-pending", "p", "-f", str(f)).stdout
    golden("why-pending-held-gpu-fine-nic.txt", text)
    assert text.index("all-matching-devices-allocated: claim gpu") < text.index("and does-not-fit: claim nic")


def test_a_request_never_reached_is_explained_too(example_gpus):
    """The GPU claim comes first and fails (all held), so the search never tries the NIC claim, whose
    selector needs a pcieRoot no NIC publishes: both are named, so fixing one does not uncover the other."""
    names = [f"gpu-{i}" for i in range(8)]
    objs = example_gpus + [node(WORKER, hostname_label=True)] + nics(
        device("veth0", attrs={"dra.net/ifName": "eth1"})) + held_gpus(*names) + [
        claim("gpu", request("gpu", GPU)),
        claim("nic", request("nic", "dranet", selectors=["has(device.attributes['resource.kubernetes.io'].pcieRoot)"])),
        pod("p", ("gpu", "claim", "gpu"), ("nic", "claim", "nic"))]
    r = run(objs)
    assert reasons_on(r) == [("all-matching-devices-allocated", "gpu", "gpu"), ("selector-matches-nothing", "nic", "nic")]


def test_every_alternative_of_a_prioritized_list_is_explained(cli, tmp_path, example_gpus):
    """The example driver's pod0 (bleeding-edge-gpu, huge-gpu, then older-gpu) while a render job holds all
    8 GPUs: the first two alternatives match no device, the fallback finds them all held; all three are
    shown, in the list's order, in JSON and in text."""
    names = [f"gpu-{i}" for i in range(8)]
    objs = example_gpus + prioritized_demo() + [node(WORKER, hostname_label=True)] + held_gpus(*names)
    r = run(objs, "pod0", "prioritized-alternatives")
    assert reasons_on(r) == [
        ("selector-matches-nothing", "pod0-gpu", "gpu/bleeding-edge-gpu"),
        ("selector-matches-nothing", "pod0-gpu", "gpu/huge-gpu"),
        ("all-matching-devices-allocated", "pod0-gpu", "gpu/older-gpu")]
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    text = cli("why-pending", "pod0", "-n", "prioritized-alternatives", "-f", str(f)).stdout
    golden("why-pending-prioritized-all-held.txt", text)
    assert "and selector-matches-nothing: claim pod0-gpu, request gpu/huge-gpu" in text
    assert "and all-matching-devices-allocated: claim pod0-gpu, request gpu/older-gpu" in text
    data = json.loads(cli("why-pending", "pod0", "-n", "prioritized-alternatives", "-o", "json", "-f", str(f)).stdout)
    assert [(x["code"], x["request"]) for x in data["nodes"][0]["reasons"]] == [(c, q) for c, _, q in reasons_on(r)]


def test_causes_inside_one_request_in_blocking_order(example_gpus):
    """Two GPUs wanted; six are held and one of the two free ones is tainted by the driver: the taint is
    what rejects the free ones, and the holders of the other six block too; both are named."""
    objs = example_gpus
    objs[1]["spec"]["devices"][7]["taints"] = [{"key": "gpu.example.com/unhealthy", "value": "ecc", "effect": "NoSchedule"}]
    objs += [node(WORKER, hostname_label=True)] + held_gpus(*[f"gpu-{i}" for i in range(6)]) + [
        claim("pair", request("gpus", GPU, 2)), pod("p", ("gpus", "claim", "pair"))]
    r = run(objs)
    assert reasons_on(r) == [("taint", "pair", "gpus"), ("all-matching-devices-allocated", "pair", "gpus")]
    taint, held = next(x for x in r["nodes"] if x["name"] == WORKER)["reasons"]
    assert "device gpu-7 has taint gpu.example.com/unhealthy=ecc:NoSchedule" in taint["message"]
    assert "may be broken" in taint["fixes"][0]
    assert held["message"].startswith("8 device(s) match, 2 free but rejected (see the reason above), the other 6 held; "
                                      "batch/render-job holds gpu-0, gpu-1, gpu-2, gpu-3, gpu-4, gpu-5 (pod render-job Running)")


def test_taint_and_held_in_one_request_when_too_few_are_free(example_gpus):
    """Three wanted, six held, one of the two free ones tainted: too few free is the first cause, the taint
    on a free one the next."""
    objs = example_gpus
    objs[1]["spec"]["devices"][7]["taints"] = [{"key": "gpu.example.com/unhealthy", "value": "ecc", "effect": "NoSchedule"}]
    objs += [node(WORKER, hostname_label=True)] + held_gpus(*[f"gpu-{i}" for i in range(6)]) + [
        claim("three", request("gpus", GPU, 3)), pod("p", ("gpus", "claim", "three"))]
    r = run(objs)
    assert reasons_on(r) == [("all-matching-devices-allocated", "three", "gpus"), ("taint", "three", "gpus")]
