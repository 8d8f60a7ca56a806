"""A summary group of nodes whose devices are all held names the holders of every node, not only the
first node's (text: three nodes, then a count with -o wide for all; JSON: every node)."""

from __future__ import annotations

import json

import yaml

from tests.builders import allocation, claim, device, device_class, node, pod, request, resource_slice

DRIVER = "gpu.example.com"


def cluster(n_nodes: int) -> list[dict]:
    objs = [device_class("gpu", f"device.driver == '{DRIVER}'"),
            claim("want", request("gpu", "gpu")), pod("p", ("gpu", "claim", "want"))]
    for i in range(n_nodes):
        name = f"gpu-node-{i}"
        objs += [node(name, hostname_label=True),
                 resource_slice(f"{name}-gpus", name, name, DRIVER, device("gpu-0", attrs={"model": "a100"})),
                 claim(f"train-{i}", request("gpu", "gpu"), reserved_for=[f"trainer-{i}"],
                       allocation=allocation(("gpu", DRIVER, name, "gpu-0"), node_name=name)),
                 pod(f"trainer-{i}", ("gpu", "claim", f"train-{i}"), phase="Running")]
    return objs


def test_every_node_of_a_held_group_names_its_holders(cli, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(cluster(5)))
    data = json.loads(cli("why-pending", "p", "-o", "json", "-f", str(f)).stdout)
    group = next(g for g in data["summary"] if g["code"] == "all-matching-devices-allocated")
    assert len(group["nodes"]) == 5
    assert {h["node"]: h["holders"] for h in group["holders"]} == {
        f"gpu-node-{i}": [f"default/train-{i} holds gpu-0 (pod trainer-{i} Running)"] for i in range(5)}
    text = cli("why-pending", "p", "-f", str(f)).stdout
    for i in range(3):
        assert f"on gpu-node-{i}: default/train-{i} holds gpu-0 (pod trainer-{i} Running)" in text
    assert "... and 2 more node(s) (-o wide for all)" in text
    wide = cli("why-pending", "p", "-o", "wide", "-f", str(f)).stdout
    assert all(f"on gpu-node-{i}: default/train-{i} holds gpu-0" in wide for i in range(5))
