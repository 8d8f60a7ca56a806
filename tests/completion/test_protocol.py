"""The cobra answer of kubectl_complete-dra, computed in-process (the subprocess tests drive the same code
through kubectl and bash): candidates, descriptions and directives, from the bundled example file."""

from __future__ import annotations

import time

import pytest

from kubectl_dra.cli import app
from kubectl_dra.completion import cobra as comp
from tests.completion.conftest import EXAMPLE


def answer(*words: str) -> tuple[list[str], list[str], int]:
    """(values, descriptions, directive) of `kubectl_complete-dra WORDS...`, parsed from the printed text.
    Each real completion is its own process with its own deadline: so is each call here (one deadline for a
    whole test ran out on a loaded machine and turned names into [])."""
    from kubectl_dra.completion.lookup import reset_deadline

    reset_deadline()
    text = comp.cobra_output(app, list(words))
    lines = text.splitlines()
    assert text.endswith("\n") and lines[-1].startswith(":"), text
    directive = int(lines[-1][1:])
    values, descs = [], []
    for line in lines[:-1]:
        value, _, desc = line.partition("\t")
        values.append(value)
        descs.append(desc)
    return values, descs, directive


F = ("-f", EXAMPLE)


def test_subcommands_with_descriptions():
    values, descs, directive = answer("")
    assert {"why-pending", "get", "explain", "dump"} <= set(values)
    from typer.main import get_command

    from kubectl_dra.cli import app

    group = get_command(app)
    for name in ("get", "explain", "why-pending"):  # each command's one-line summary, markup removed
        assert descs[values.index(name)] == comp._plain(group.commands[name].get_short_help_str())
        assert descs[values.index(name)]
    assert directive == comp.DIRECTIVE_NO_FILE_COMP


def test_prefix_filters_subcommands():
    values, _, _ = answer("ex")
    assert values == ["explain"]


def test_flags_of_a_subcommand():
    values, descs, _ = answer("get", "--")
    for flag in ("--node", "--driver", "--class", "--free", "--filename", "--namespace", "--context", "--output"):
        assert flag in values
    assert descs[values.index("--free")] == "Only devices that no claim holds."
    values, _, _ = answer("get", "--no")
    assert sorted(values) == ["--no-headers", "--node"]


def test_get_types_and_aliases():
    values, descs, _ = answer("get", "")
    assert values == ["devices", "classes", "slices", "claims", "templates", "taintrules"]
    assert all(descs)
    assert answer("get", "cl")[0] == ["classes", "claims"]
    assert answer("get", "rc")[0] == ["rc", "rct"]


def test_get_names_per_type_from_files():
    assert answer("get", *F, "classes", "")[0] == ["gpu.nvidia.com", "mig.nvidia.com"]
    assert answer("get", *F, "slices", "gpu-node-2")[0] == ["gpu-node-2-gpu.nvidia.com-x8kq2"]
    # claims of the default namespace, with their state
    values, descs, _ = answer("get", *F, "claims", "")
    assert values == ["inference-gpu", "trainer-gpus-q9t4m"] and descs == ["pending", "pending"]
    assert answer("get", *F, "-n", "team-a", "claims", "")[0] == ["eval-gpus", "llm-finetune-0-gpus-7xk2p"]
    values, descs, _ = answer("get", *F, "-A", "claim", "")
    assert len(values) == 5 and descs[values.index("notebook-gpu")] == "team-b, allocated"
    assert answer("get", *F, "templates", "")[0] == ["trainer-gpus"]
    # names already typed are not offered again
    assert answer("get", *F, "classes", "gpu.nvidia.com", "")[0] == ["mig.nvidia.com"]


def test_get_device_names():
    values, descs, _ = answer("get", *F, "devices", "gpu-")
    assert values == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]
    assert descs[0] == "gpu-node-1, gpu-node-2, gpu-node-3"


def test_flag_values_from_files():
    assert answer("get", *F, "devices", "--node", "")[0] == ["cpu-node-1", "gpu-node-1", "gpu-node-2", "gpu-node-3"]
    assert answer("get", *F, "devices", "--node", "gpu-node-")[0] == ["gpu-node-1", "gpu-node-2", "gpu-node-3"]
    values, descs, _ = answer("get", *F, "devices", "--driver", "")
    assert values == ["gpu.nvidia.com"] and descs == ["12 devices"]
    assert answer("get", *F, "devices", "--class", "")[0] == ["gpu.nvidia.com", "mig.nvidia.com"]
    assert answer("get", *F, "-n", "")[0] == ["default", "team-a", "team-b"]
    assert answer("get", *F, "--namespace", "team")[0] == ["team-a", "team-b"]
    # --flag=value style: the value part is completed
    assert answer("get", *F, "devices", "--class=mig")[0] == ["mig.nvidia.com"]


def test_source_flags_anywhere_on_the_line():
    # -f after the word being completed does not count (not typed yet), but before the subcommand's args it does
    assert answer("get", "classes", *F, "")[0] == ["gpu.nvidia.com", "mig.nvidia.com"]
    assert answer("get", "--filename", EXAMPLE, "-o", "name", "classes", "m")[0] == ["mig.nvidia.com"]


def test_why_pending_orders_waiting_pods_first():
    values, descs, directive = answer("why-pending", *F, "")
    assert values == ["inference", "trainer", "pod/", "claim/"]
    assert descs[:2] == ["Pending: claim gpu pending", "Pending: claim gpus pending"]
    assert directive & comp.DIRECTIVE_KEEP_ORDER and directive & comp.DIRECTIVE_NO_FILE_COMP
    # in team-a nothing waits: the running pods come with their phase
    values, descs, _ = answer("why-pending", *F, "-n", "team-a", "")
    assert values[:2] == ["eval", "llm-finetune-0"] and descs[:2] == ["Running", "Running"]
    assert answer("why-pending", *F, "pod/")[0] == ["pod/inference", "pod/trainer"]
    assert answer("why-pending", *F, "-n", "team-b", "claim/")[0] == ["claim/notebook-gpu"]


def test_why_pending_pending_pod_before_running_one(tmp_path):
    import yaml

    from tests.completion.conftest import example_objects

    objs = example_objects()
    # a running pod in default whose name sorts first
    objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "aaa-web", "namespace": "default"},
                 "spec": {"nodeName": "cpu-node-1", "containers": [{"name": "c", "image": "x"}]},
                 "status": {"phase": "Running"}})
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump_all(objs))
    values, descs, _ = answer("why-pending", "-f", str(f), "")
    assert values[:3] == ["inference", "trainer", "aaa-web"] and descs[2] == "Running"


def test_explain_types_then_names():
    values, descs, directive = answer("explain", *F, "")
    assert values == ["class/", "slice/", "claim/", "template/", "taintrule/", "pod/", "node/"]
    assert directive == comp.DIRECTIVE_NO_FILE_COMP | comp.DIRECTIVE_NO_SPACE
    assert answer("explain", *F, "cl")[0] == ["class/", "claim/"]
    # one type matches: its names right away
    assert answer("explain", *F, "no")[0] == ["node/cpu-node-1", "node/gpu-node-1", "node/gpu-node-2",
                                             "node/gpu-node-3"]
    assert answer("explain", *F, "deviceclass/m")[0] == ["deviceclass/mig.nvidia.com"]
    assert answer("explain", *F, "-n", "team-a", "claim/")[0] == ["claim/eval-gpus", "claim/llm-finetune-0-gpus-7xk2p"]
    assert answer("explain", *F, "template/")[0] == ["template/trainer-gpus"]
    assert answer("explain", *F, "bogus/")[0] == []


def test_output_and_feature_gates():
    assert answer("get", "-o", "")[0] == ["wide", "json", "yaml", "name", "jsonpath=", "custom-columns="]
    assert answer("explain", "-o", "")[0] == ["text", "json", "yaml", "jsonpath=", "custom-columns="]
    values, _, directive = answer("match", "x", "-o", "js")
    assert values == ["json", "jsonpath="] and not directive & 2  # json takes a space after it
    values, _, directive = answer("match", "x", "-o", "jsonp")
    assert values == ["jsonpath="] and directive & 2  # the template follows without a space
    assert answer("dump", "--output", "")[0] == ["yaml", "json"]
    values, _, _ = answer("why-pending", "--feature-gates", "DRAPart")
    assert values == ["DRAPartitionableDevices=true", "DRAPartitionableDevices=false"]
    values, _, _ = answer("why-pending", "--feature-gates", "DRAAdminAccess=false,DRAP")
    assert "DRAAdminAccess=false,DRAPrioritizedList=true" in values
    assert not any(v.count("DRAAdminAccess") > 1 for v in values)


def test_file_flags_leave_it_to_the_shell():
    for flag in ("-f", "--filename", "--kubeconfig"):
        assert answer("get", flag, "") == ([], [], comp.DIRECTIVE_DEFAULT)


def test_context_from_kubeconfig(tmp_path, monkeypatch):
    kc = tmp_path / "kc"
    kc.write_text("""
apiVersion: v1
kind: Config
current-context: prod
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u1, user: {token: x}}]
contexts:
- {name: dev, context: {cluster: c1, user: u1, namespace: ml}}
- {name: prod, context: {cluster: c1, user: u1}}
""")
    values, descs, _ = answer("get", "--kubeconfig", str(kc), "--context", "")
    assert values == ["prod", "dev"]
    assert descs == ["current, cluster c1", "cluster c1, namespace ml"]
    monkeypatch.setenv("KUBECONFIG", str(kc))
    assert answer("why-pending", "--context", "d")[0] == ["dev"]


def test_no_descriptions_request():
    values, descs, _ = answer("__completeNoDesc", "get", "")
    assert values == ["devices", "classes", "slices", "claims", "templates", "taintrules"] and not any(descs)
    assert answer("__complete", "get", "cla")[0] == ["classes", "claims"]


def test_silent_on_broken_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    assert answer("get", "-f", str(bad), "classes", "") == ([], [], comp.DIRECTIVE_NO_FILE_COMP)
    assert answer("get", "-f", str(tmp_path / "missing.yaml"), "-n", "")[0] == []
    assert answer("get", "--request-timeout", "abc", "")[0] == ["devices", "classes", "slices", "claims", "templates", "taintrules"]
    # an unknown command: Click (and so the bash path too) falls back to the command names
    values, _, directive = answer("nosuchcommand", "")
    assert "get" in values and directive == comp.DIRECTIVE_NO_FILE_COMP
    # stdin is never read while completing
    assert answer("get", "-f", "-", "classes", "") == ([], [], comp.DIRECTIVE_NO_FILE_COMP)
    # no cluster configured at all (the test KUBECONFIG is empty)
    assert answer("get", "classes", "")[0] == []
    assert capsys.readouterr().err == ""


def test_lookups_stop_at_the_deadline(monkeypatch):
    from kubectl_dra.completion import lookup as completion_data

    monkeypatch.setenv(completion_data.BUDGET_ENV, "0.3")
    completion_data.reset_deadline()
    monkeypatch.setattr(completion_data.Lookup, "_list_live", lambda self, r, ns: time.sleep(30))
    t0 = time.monotonic()
    values, _, directive = answer("get", "classes", "")
    assert values == [] and directive == comp.DIRECTIVE_NO_FILE_COMP
    assert time.monotonic() - t0 < 1.0


@pytest.mark.parametrize("env, argv, expected", [
    ({}, ["get"], "kubectl-dra"),
    ({"KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl"}, ["get"], "kubectl dra"),
    ({"KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl"}, ["--show-completion"], "kubectl-dra"),
    ({"KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl"}, ["--install-completion=bash"], "kubectl-dra"),
    ({"KUBECTL_PLUGINS_CALLER": "/usr/bin/kubectl", "_KUBECTL_DRA_COMPLETE": "complete_bash"}, [], "kubectl-dra"),
    ({"_": "/usr/bin/kubectl"}, ["get"], "kubectl dra"),  # kubectl 1.32 sets no variable; the shell's $_ says it
    ({"_": "/home/u/.local/bin/kubectl-dra"}, ["get"], "kubectl-dra"),
])
def test_program_name(env, argv, expected):
    assert comp.program_name(argv, env) == expected


def test_debug_log_says_why_a_completion_is_empty(tmp_path, monkeypatch):
    log = tmp_path / "complete.log"
    monkeypatch.setenv("KUBECTL_DRA_COMPLETION_DEBUG", str(log))
    assert answer("get", "--kubeconfig", str(tmp_path / "nope"), "claims", "")[0] == []
    assert "kubeconfig" in log.read_text() and "does not exist" in log.read_text()
