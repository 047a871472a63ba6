"""``peak-testnet`` as a person types it: its version, global options wherever they are
written, and a word when there is nothing to show."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, edit, write_run
from pytest_peak_testnet import __version__, cli

SCRIPT = Path(sys.executable).parent / "peak-testnet"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


def test_version() -> None:
    done = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, f"peak-testnet {__version__}\n")


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config outside the current folder whose runs_base_dir (relative to the current
    folder, as the command reads it) is not the default, and holds one run."""
    config = tmp_path / "desk" / "config.toml"
    config.parent.mkdir()
    shutil.copy(ROOT / "config" / "config.test.toml", config)
    edit(config, 'runs_base_dir = "test_runs"', 'runs_base_dir = "other_runs"')
    write_run(tmp_path / "other_runs", "20260102T000000Z-quick_smoke-ffff", [{"event": "run_started", "time": 1704067200}])
    monkeypatch.chdir(tmp_path)
    return config


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_accepted_before_and_after_the_subcommand(elsewhere: Path, where: str) -> None:
    args = ["--config", str(elsewhere), "monitor"] if where == "before" else ["monitor", "--config", str(elsewhere)]
    assert run(*args) == (0, "20260102T000000Z-quick_smoke-ffff  running or stopped  1 events\n")


def test_config_after_a_nested_subcommand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("ledger", "release", "--config", "nosuch.toml", "abc") == (1, "")
    assert capsys.readouterr().err.startswith("peak-testnet: nosuch.toml: config file not found")


def test_monitor_with_no_runs_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("monitor") == (0, "no runs under test_runs yet: a profile's run writes its log there\n")
