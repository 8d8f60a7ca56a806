"""One table of kinds (kubectl_dra.kinds): every type word a command accepted before the table existed
still works, through the real commands, and a type a command does not take still gets that command's
own one-line usage error."""

from __future__ import annotations

import pytest

from kubectl_dra import kinds
from kubectl_dra.errors import UsageError
from tests.conftest import EXAMPLE

F = ("-f", str(EXAMPLE))

# The alias tables each command kept for itself before kinds.py (word -> what the command understood).
GET_BEFORE = {
    "device": "devices", "devices": "devices", "dev": "devices",
    "class": "classes", "classes": "classes", "deviceclass": "classes", "deviceclasses": "classes",
    "slice": "slices", "slices": "slices", "resourceslice": "slices", "resourceslices": "slices",
    "claim": "claims", "claims": "claims", "resourceclaim": "claims", "resourceclaims": "claims", "rc": "claims",
    "template": "templates", "templates": "templates", "resourceclaimtemplate": "templates",
    "resourceclaimtemplates": "templates", "rct": "templates",
}
EXPLAIN_BEFORE = {
    "deviceclass": "DeviceClass", "deviceclasses": "DeviceClass", "class": "DeviceClass", "dc": "DeviceClass",
    "resourceslice": "ResourceSlice", "resourceslices": "ResourceSlice", "slice": "ResourceSlice",
    "resourceclaim": "ResourceClaim", "resourceclaims": "ResourceClaim", "claim": "ResourceClaim",
    "rc": "ResourceClaim",
    "resourceclaimtemplate": "ResourceClaimTemplate", "resourceclaimtemplates": "ResourceClaimTemplate",
    "template": "ResourceClaimTemplate", "rct": "ResourceClaimTemplate",
    "pod": "Pod", "pods": "Pod", "po": "Pod",
    "node": "Node", "nodes": "Node", "no": "Node",
}
WHY_PENDING_BEFORE = {"pod": "Pod", "pods": "Pod", "po": "Pod", "resourceclaim": "ResourceClaim",
                      "resourceclaims": "ResourceClaim", "claim": "ResourceClaim", "rc": "ResourceClaim"}
SCAFFOLD_BEFORE = {"claim": "claim", "resourceclaim": "claim", "template": "template",
                   "resourceclaimtemplate": "template", "class": "class", "deviceclass": "class", "pod": "pod"}


@pytest.mark.parametrize("word", sorted(GET_BEFORE))
def test_get_aliases_still_resolve(word):
    assert kinds.resolve(word, kinds.GET).listing == GET_BEFORE[word]
    assert kinds.resolve(word.upper(), kinds.GET).listing == GET_BEFORE[word]


@pytest.mark.parametrize("word", sorted(EXPLAIN_BEFORE))
def test_explain_aliases_still_resolve(word):
    assert kinds.parse_target(f"{word}/x", kinds.EXPLAIN)[0].kind == EXPLAIN_BEFORE[word]
    # TYPE.GROUP/NAME, as kubectl writes it
    assert kinds.parse_target(f"{word.upper()}.resource.k8s.io/x", kinds.EXPLAIN) == (kinds.by_kind(EXPLAIN_BEFORE[word]), "x")


@pytest.mark.parametrize("word", sorted(WHY_PENDING_BEFORE))
def test_why_pending_aliases_still_resolve(word):
    kind, name = kinds.parse_target(f"{word}/trainer", kinds.WHY_PENDING, bare=kinds.POD)
    assert (kind.kind, name) == (WHY_PENDING_BEFORE[word], "trainer")


@pytest.mark.parametrize("word", sorted(SCAFFOLD_BEFORE))
def test_scaffold_aliases_still_resolve(word):
    assert kinds.resolve(word, kinds.SCAFFOLD).short == SCAFFOLD_BEFORE[word]


def test_why_pending_target_parser_contract():
    """What the why-pending target parser returned and raised before, from kinds.parse_target."""
    def parse(target):
        kind, name = kinds.parse_target(target, kinds.WHY_PENDING, bare=kinds.POD)
        return kind.kind, name

    assert parse("trainer") == ("Pod", "trainer")
    assert parse("claim/a/b") == ("ResourceClaim", "a/b")
    assert parse("ResourceClaim.resource.k8s.io/big") == ("ResourceClaim", "big")
    with pytest.raises(UsageError) as e:
        parse("Node/x")
    assert e.value.message == ("unknown target type 'Node' (use pod/NAME or resourceclaim/NAME; "
                               "short names po, claim, rc)")
    with pytest.raises(UsageError) as e:
        parse("pod/")
    assert e.value.message == "missing name in 'pod/'"
    with pytest.raises(UsageError) as e:
        parse("deviceclass.x/y")
    assert e.value.message.startswith("unknown target type 'deviceclass.x' ")


@pytest.mark.parametrize("args, message", [
    (("get", "widget"), "unknown type 'widget' (choose from: devices, classes, slices, claims, templates, taintrules)"),
    (("get", "Pods"), "unknown type 'Pods' (choose from: devices, classes, slices, claims, templates, taintrules)"),
    (("explain", "Widget.example.com/x"), "unknown type 'widget' (choose from: deviceclass, resourceslice, "
                                         "resourceclaim, resourceclaimtemplate, devicetaintrule, pod, node)"),
    (("explain", "device/x"), "unknown type 'device' (choose from: deviceclass, resourceslice, "
                              "resourceclaim, resourceclaimtemplate, devicetaintrule, pod, node)"),
    (("explain", "claim"), "expected TYPE/NAME (for example claim/my-claim), got 'claim'"),
    (("explain", "claim/"), "missing name in 'claim/'"),
    (("why-pending", "Node/gpu-node-1"), "unknown target type 'Node' (use pod/NAME or resourceclaim/NAME; "
                                         "short names po, claim, rc)"),
    (("scaffold", "Widget", "--name", "x"), "unknown scaffold type 'Widget' (choose from: claim, template, "
                                            "class, pod)"),
    (("scaffold", "slice", "--name", "x"), "unknown scaffold type 'slice' (choose from: claim, template, "
                                           "class, pod)"),
])
def test_unknown_types_keep_each_commands_message(cli, args, message):
    r = cli(*args, *F)
    assert (r.exit_code, r.stderr, r.stdout) == (2, f"error: {message}\n", "")


def _same_output(cli, a: tuple, b: tuple) -> None:
    ra, rb = cli(*a), cli(*b)
    assert ra.exit_code == 0, ra.stderr
    assert (ra.exit_code, ra.stdout, ra.stderr) == (rb.exit_code, rb.stdout, rb.stderr)


@pytest.mark.parametrize("word", sorted(GET_BEFORE))
def test_get_prints_the_same_for_every_alias(cli, word):
    _same_output(cli, ("get", word, "-A", *F), ("get", GET_BEFORE[word], "-A", *F))


NAMES = {"DeviceClass": "gpu.nvidia.com", "ResourceSlice": "gpu-node-2-gpu.nvidia.com-x8kq2",
         "ResourceClaim": "trainer-gpus-q9t4m", "ResourceClaimTemplate": "trainer-gpus", "Pod": "trainer",
         "Node": "gpu-node-1"}


@pytest.mark.parametrize("word", sorted(EXPLAIN_BEFORE))
def test_explain_prints_the_same_for_every_alias(cli, word):
    kind = EXPLAIN_BEFORE[word]
    _same_output(cli, ("explain", f"{word}/{NAMES[kind]}", "-o", "json", *F),
                 ("explain", f"{kind.lower()}/{NAMES[kind]}", "-o", "json", *F))


@pytest.mark.parametrize("word", ["po", "pods", "rc", "claim"])
def test_why_pending_prints_the_same_for_aliases(cli, word):
    kind = WHY_PENDING_BEFORE[word]
    _same_output(cli, ("why-pending", f"{word}/{NAMES[kind]}", "-o", "json", *F),
                 ("why-pending", f"{kind.lower()}/{NAMES[kind]}", "-o", "json", *F))


@pytest.mark.parametrize("word", sorted(SCAFFOLD_BEFORE))
def test_scaffold_prints_the_same_for_every_alias(cli, word):
    flags = (("--selector", 'device.driver == "gpu.nvidia.com"') if SCAFFOLD_BEFORE[word] == "class"
             else ("--class", "gpu.nvidia.com"))
    _same_output(cli, ("scaffold", word, "--name", "x", *flags), ("scaffold", SCAFFOLD_BEFORE[word], "--name", "x", *flags))


def test_one_word_names_one_kind_for_every_command():
    """A word that works for one command means the same kind for every command that takes that kind."""
    seen: dict[str, str] = {}
    for k in kinds.KINDS:
        for word in k.names:
            assert seen.setdefault(word, k.kind) == k.kind, word
            for command in k.commands:
                assert kinds.lookup(word, command) is k
    for command in (kinds.GET, kinds.EXPLAIN, kinds.WHY_PENDING, kinds.SCAFFOLD):
        for k in kinds.KINDS:
            if k not in kinds.accepted_by(command):
                assert all(kinds.lookup(w, command) is None for w in k.names), (command, k.kind)


def test_resource_names_as_kubectl_writes_them(cli):
    assert kinds.RESOURCE_CLAIM.qualified_resource == "resourceclaims.resource.k8s.io"
    assert kinds.POD.qualified_resource == "pods"
    r = cli("get", "claims", "-o", "name", *F)
    assert r.stdout.splitlines()[0].startswith("resourceclaim.resource.k8s.io/")
    r = cli("explain", "node/nope", *F)
    assert r.stderr == 'error: nodes "nope" not found\n'
