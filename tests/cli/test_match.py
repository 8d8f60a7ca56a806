"""`kubectl dra match` through typer's CliRunner, on the driver fixtures."""

import json

import pytest
import typer
from typer.testing import CliRunner

from kubectl_dra.commands.match import match
from kubectl_dra.errors import DraError


@pytest.fixture(scope="module")
def run(drivers_dir):
    app = typer.Typer()
    app.command("match")(match)

    @app.callback()
    def _root():
        pass

    runner = CliRunner()

    def invoke(*args):
        res = runner.invoke(app, ["match", *args, "-f", drivers_dir])
        if isinstance(res.exception, DraError):
            return res.exception.exit_code, str(res.exception)
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        return res.exit_code, res.output
    return invoke


def test_matches_grouped_by_driver_pool_node(run):
    code, out = run('device.attributes["gpu.nvidia.com"].architecture == "Hopper"', "--class", "gpu.nvidia.com")
    assert code == 0
    assert out.startswith("4 of 24 devices match (class gpu.nvidia.com)")
    line = next(l for l in out.splitlines() if l.startswith("gpu.nvidia.com") and "h100-node-1" in l)
    assert line.split()[3:6] == ["4", "0", "0"]
    assert "gpu-0, gpu-1, gpu-2, gpu-3" in line


def test_errors_and_driver_guard_hint(run):
    code, out = run('device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"')
    assert code == 0
    assert "13 errors" in out
    assert "13 device(s): no such key: productName" in out
    assert 'guard the lookup with device.driver == "gpu.nvidia.com"' in out


def test_json_output(run):
    code, out = run("device.attributes[\"dra.net\"].rdma", "--node", "rdma-node-1", "-o", "json")
    data = json.loads(out)
    assert data["counts"]["match"] == 2 and data["counts"]["no-match"] == 1
    assert [d["device"] for d in data["devices"] if d["outcome"] == "match"] == ["pci-0000-8a-00-0", "pci-0000-8a-00-1"]


def test_hint_in_output(run):
    code, out = run('device.attributes["gpu.example.com"].driverVersion == "1.0.0"', "--class", "gpu.example.com")
    assert "0 of 24 devices match" in out
    assert 'compareTo(semver("1.0.0")) == 0' in out


def test_compile_error_exit_code_and_caret(run):
    code, msg = run('device.attributes["gpu.nvidia.com"].productName ==')
    assert code == 3
    assert "Syntax error" in msg and msg.rstrip().endswith("^")


def test_unknown_class(run):
    code, msg = run("true", "--class", "nope")
    assert code == 5 and 'deviceclass "nope" not found' in msg
