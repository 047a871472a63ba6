"""Interrupted runs: Ctrl-C and SIGTERM end a run cleanly, and what it leaves is whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_profile

#: Strategies a run's conftest can pick to be interrupted, or to run out of disk, mid-session.
STRATEGIES = """
import os, resource, signal
from pytest_peak_testnet.strategies import Strategy

class Interrupt(Strategy):
    '''Sends this process PEAK_SIGNAL at candle PEAK_AT (the user's Ctrl-C, a CI cancel).'''
    name = "interrupt"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == int(os.environ.get("PEAK_AT", "3")):
            os.kill(os.getpid(), getattr(signal, os.environ["PEAK_SIGNAL"]))
        return "buy" if self.seen % 2 else "sell"

class FillTheDisk(Strategy):
    '''From candle 3 on, no file this process writes may grow past PEAK_FSIZE bytes.'''
    name = "fill_the_disk"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == 3:
            limit = int(os.environ["PEAK_FSIZE"])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return None

def pytest_peak_testnet_strategies():
    return [Interrupt, FillTheDisk]
"""


def _recorded(project: pytest.Pytester, name: str) -> Path:
    """A good cassette for profile ``name``, recorded against the simulator."""
    project.makeconftest(STRATEGIES)
    write_profile(project, name, duration_minutes=20, params={"fast": 2, "slow": 4})
    project.runpytest_subprocess("--testnet-profile", name, "--testnet-record-mode=rewrite",
                                 "--testnet-simulator").assert_outcomes(passed=1)
    path = project.path / "cassettes" / f"{name}.json"
    assert len(json.loads(path.read_text())["interactions"]) > 20
    return path


@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_an_interrupted_recording_leaves_the_old_cassette_intact(project: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    path = _recorded(project, "rec")
    good = path.read_bytes()
    write_profile(project, "rec", strategy="interrupt", duration_minutes=20)
    monkeypatch.setenv("PEAK_SIGNAL", "SIGINT")
    result = project.runpytest_subprocess("--testnet-profile", "rec", f"--testnet-record-mode={mode}",
                                          "--testnet-simulator")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == ["rec.baseline.yaml", "rec.json"]


def test_a_recording_that_runs_out_of_disk_leaves_the_old_cassette_intact(project: pytest.Pytester,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = _recorded(project, "rec")
    good = path.read_bytes()
    write_profile(project, "rec", strategy="fill_the_disk", duration_minutes=20)
    monkeypatch.setenv("PEAK_FSIZE", str(len(good) // 2))  # the new cassette cannot be written whole
    result = project.runpytest_subprocess("--testnet-profile", "rec", "--testnet-record-mode=all",
                                          "--testnet-simulator")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*File too large*"])
    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == ["rec.baseline.yaml", "rec.json"]
