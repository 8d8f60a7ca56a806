"""`--kubernetes-version`: which release's feature-gate defaults a dry run uses."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubectl_dra.cli import app
from kubectl_dra.errors import UsageError
from kubectl_dra.features import check_kubernetes_version, defaults_for_version, gates_for
from tests.conftest import EXAMPLE


def _gates(*args: str) -> dict:
    result = CliRunner().invoke(app, ["why-pending", "pod/llm-finetune-0", "-n", "team-a", "-f", str(EXAMPLE), "-o", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["featureGates"]


@pytest.mark.parametrize("release", ["1.34", "1.35", "1.36"])
def test_the_release_named_picks_its_defaults(release):
    gates = _gates("--kubernetes-version", release)
    assert gates["version"] == release
    expected = defaults_for_version(release).as_dict()
    assert {k: v for k, v in gates.items() if k in expected} == expected


def test_release_defaults_differ_where_upstream_changed_them():
    assert _gates("--kubernetes-version", "1.35")["DRADeviceTaints"] is False
    assert _gates("--kubernetes-version", "1.36")["DRADeviceTaints"] is True


def test_offline_default_is_the_newest_release_and_feature_gates_still_override():
    assert _gates()["version"] == "1.36"
    gates = _gates("--kubernetes-version", "1.34", "--feature-gates", "DRADeviceTaints=true")
    assert gates["version"] == "1.34" and gates["DRADeviceTaints"] is True


def test_flag_wins_over_the_recorded_server_version():
    assert gates_for("1.34", "v1.36.1", None).version == "1.34"
    assert gates_for(None, "v1.35.0", None).version == "1.35"


@pytest.mark.parametrize("bad", ["1.40", "2.0", "latest", "1.35.x"])
def test_unknown_release_is_a_usage_error_before_any_io(bad):
    with pytest.raises(UsageError, match=r"invalid --kubernetes-version"):
        check_kubernetes_version(bad)
    result = CliRunner().invoke(app, ["why-pending", "pod/x", "-f", "/nonexistent", "--kubernetes-version", bad])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: invalid --kubernetes-version {bad!r}: expected one of 1.32, 1.33, 1.34, 1.35, 1.36 "
        f"(or a patch release such as 1.36.0)"]


def test_patch_releases_name_their_minor():
    assert check_kubernetes_version("v1.35.2") == "1.35"
