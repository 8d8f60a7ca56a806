"""Every command's exit code is the one the README's table documents (kubectl_dra.errors.ExitCode), with one
`error:` line; in particular a named object that does not exist is 5 for `get` as for `explain`."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import EXAMPLE

F = ("-f", str(EXAMPLE))

NOT_FOUND = [
    (("get", "claims", "NOSUCH"), "error: resourceclaims.resource.k8s.io \"NOSUCH\" not found in namespace 'default'"),
    (("get", "claims", "NOSUCH", "-A"), 'error: resourceclaims.resource.k8s.io "NOSUCH" not found'),
    (("get", "templates", "NOSUCH"),
     "error: resourceclaimtemplates.resource.k8s.io \"NOSUCH\" not found in namespace 'default'"),
    (("get", "classes", "NOSUCH"), 'error: deviceclasses.resource.k8s.io "NOSUCH" not found'),
    (("get", "slices", "NOSUCH"), 'error: resourceslices.resource.k8s.io "NOSUCH" not found'),
    (("get", "devices", "NOSUCH"), 'error: device "NOSUCH" not found'),
    (("get", "taintrules", "NOSUCH"), 'error: devicetaintrules.resource.k8s.io "NOSUCH" not found'),
    (("get", "claims", "NOSUCH", "-o", "json"),
     "error: resourceclaims.resource.k8s.io \"NOSUCH\" not found in namespace 'default'"),
    (("get", "slices", "--node", "NOSUCH"), 'error: nodes "NOSUCH" not found'),
    (("get", "devices", "--node", "NOSUCH"), 'error: nodes "NOSUCH" not found'),
    (("get", "devices", "--class", "NOSUCH"), 'error: deviceclasses.resource.k8s.io "NOSUCH" not found'),
    (("explain", "claim/NOSUCH"), "error: resourceclaims.resource.k8s.io \"NOSUCH\" not found in namespace 'default'"),
    (("explain", "class/NOSUCH"), 'error: deviceclasses.resource.k8s.io "NOSUCH" not found'),
    (("explain", "node/NOSUCH"), 'error: nodes "NOSUCH" not found'),
    (("why-pending", "pod/NOSUCH"), "error: pods \"NOSUCH\" not found in namespace 'default'"),
    (("why-pending", "claim/NOSUCH"), "error: resourceclaims.resource.k8s.io \"NOSUCH\" not found in namespace 'default'"),
]


@pytest.mark.parametrize("args, line", NOT_FOUND, ids=[" ".join(a) for a, _ in NOT_FOUND])
def test_a_named_object_that_does_not_exist_is_5(cli, args, line):
    res = cli(*args, *F)
    assert (res.exit_code, res.stderr, res.stdout) == (5, line + "\n", "")


def test_found_names_are_shown_before_the_missing_ones_fail(cli):
    res = cli("get", "classes", "gpu.nvidia.com", "NOSUCH", "other", *F)
    assert res.exit_code == 5
    assert res.stdout.splitlines()[0].startswith("NAME ") and res.stdout.splitlines()[1].startswith("gpu.nvidia.com ")
    assert res.stderr == ('error: deviceclasses.resource.k8s.io "NOSUCH" not found; '
                          'deviceclasses.resource.k8s.io "other" not found\n')
    doc = json.loads(cli("get", "classes", "gpu.nvidia.com", "NOSUCH", "-o", "json", *F).stdout)
    assert [i["metadata"]["name"] for i in doc["items"]] == ["gpu.nvidia.com"]
    # a name that exists but the filters leave out is not "not found"
    res = cli("get", "devices", "gpu-0", "--driver", "other.example.com", *F)
    assert res.exit_code == 0 and res.stderr == "No devices found.\n"


def test_not_found_is_not_claimed_where_the_claims_could_not_be_read(cli, tmp_path):
    """Claims of other namespaces were refused: a name not among those read may exist; the answer is
    incomplete (6), not "not found" (5)."""
    gap = {"resource": "resourceclaims", "group": "resource.k8s.io", "scope": "cluster", "reason": "forbidden",
           "readNamespaces": ["default"], "effect": "devices allocated to claims in other namespaces are invisible"}
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [d for d in docs if d],
                                    "incomplete": [gap]}))
    res = cli("get", "claims", "NOSUCH", "-A", "-f", str(dump))
    assert res.exit_code == 6 and "warning: incomplete: cannot list resourceclaims" in res.stderr
    res = cli("get", "claims", "NOSUCH", "-f", str(dump))  # the namespace's own claims were all read
    assert res.exit_code == 5


OTHERS = [
    (("get", "nosuchtype"), 2, "error: unknown type 'nosuchtype'"),
    (("get", "devices", "-o", "bogus"), 2, "error: unsupported output format 'bogus'"),
    (("get", "devices", "--free", "--allocated"), 2, "error: --free and --allocated exclude each other"),
    (("get", "devices", "--request-timeout", "-1"), 2, "error: invalid --request-timeout '-1'"),
    (("match", "device.driver =="), 3, "error: compilation failed: "),
]


@pytest.mark.parametrize("args, code, start", OTHERS, ids=[" ".join(a) for a, _, _ in OTHERS])
def test_usage_and_input_errors(cli, args, code, start):
    res = cli(*args, *F)
    assert res.exit_code == code and res.stderr.startswith(start) and res.stderr.count("\n") == 1, res.stderr


def test_an_unreadable_file_is_3(cli, tmp_path):
    res = cli("get", "devices", "-f", str(tmp_path / "missing.yaml"))
    assert res.exit_code == 3 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1
