"""Golden text of the later Pending stages (one scenario per stage's typical answer), so wording changes are deliberate.

After an intended change: `UPDATE_GOLDEN=1 python -m pytest tests/render/why_pending/test_stage_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.analysis.why_pending import stage_objects as so
from tests.builders import claim, pod, request

GOLDEN = Path(__file__).parent / "golden"
NOT_REGISTERED = ("Failed to prepare dynamic resources: get gRPC client for DRA driver gpu.example.com: "
                  "DRA driver gpu.example.com is not registered")
BINDING = {"bindingConditions": ["dra.example.com/attached"], "bindingFailureConditions": ["dra.example.com/attach-failed"]}
RES = "gpu.example.com.deviceclass.resource.k8s.io/devices"


def _scenarios():
    mine = so.allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",))
    yield "stage-claims-quota", [so.template("single-gpu", count=2), pod("pod0", ("gpu", "template", "single-gpu")),
                                 so.quota("gpu-quota", {RES: "8"}, {RES: "7"})], ["pod0"]
    yield "stage-binding-pending", [so.allocated("pod0-gpu", "gpu-0", reserved_for=("pod0",), extra=BINDING),
                                    pod("pod0", ("gpu", "claim", "pod0-gpu"))], ["pod0", "--now", "2026-12-01T10:02:00Z"]
    yield "stage-prepare-driver", [mine, so.bound(pod("pod0", ("gpu", "claim", "pod0-gpu"))),
                                   so.plugin_pod("dra-example-driver-kubeletplugin-x7q2m", ready=False,
                                                 waiting="CrashLoopBackOff"),
                                   so.event("pod0", "FailedPrepareDynamicResources", NOT_REGISTERED)], ["pod0"]
    yield "stage-prepare-node-name", [claim("c", request("gpu", so.CLASS)),
                                      so.bound(pod("pinned", ("gpu", "claim", "c")), scheduled=False)], ["pinned"]
    yield "stage-prepare-unknown-plugin", [mine, so.bound(pod("pod0", ("gpu", "claim", "pod0-gpu"))),
                                           so.plugin_pod("agent-1", env_driver=None, owner="node-agent",
                                                         labels={"app": "agent"})], ["pod0"]


@pytest.mark.parametrize("name, objs, args", list(_scenarios()), ids=[s[0] for s in _scenarios()])
def test_stage_text_matches_golden(cli, tmp_path, name, objs, args):
    f = tmp_path / "cluster.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": so.example_driver() + objs}))
    res = cli("why-pending", *args, "-f", str(f))
    assert res.exit_code == 0, res.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(res.stdout)
    assert res.stdout == path.read_text(), f"text output changed; see {path}"
