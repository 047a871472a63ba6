"""Every plugin error is one line, wherever it happens: configure, setup, teardown, the
terminal summary, the simulator's command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import error_lines
from pytest_peak_testnet.exchange.simulator import Simulator

OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")
TODAY = datetime.now(timezone.utc).date().isoformat()

LEDGERS = {
    "corrupt": (b'{"date": "%s", "notional_used": 1900.0, "run_log": [' % TODAY.encode(), "not valid JSON"),
    "truncated": (b'{"date": "%s", "notional_used": 0.0, "trades_executed": 0, "run' % TODAY.encode(),
                  "not valid JSON"),
    "non_utf8": (b'{"date": "%s", "run_log": [], "note": "\xff\xfe"}' % TODAY.encode(), "not UTF-8 text (byte "),
    "inconsistent": (b'{"date": "%s", "notional_used": 5.0, "trades_executed": 0, "run_log": []}' % TODAY.encode(),
                     "its totals disagree with its run_log"),
}


@pytest.mark.parametrize("kind", LEDGERS)
def test_a_bad_ledger_met_by_a_profile_run_is_one_line_and_untouched(replay_project: pytest.Pytester,
                                                                      kind: str) -> None:
    content, message = LEDGERS[kind]
    path = replay_project.path / "test_results" / "usage" / f"usage_{TODAY}.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE, "--testnet-report")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert "Traceback" not in text and "def setup" not in text
    lines = [line for line in result.stdout.lines if str(path) in line]
    assert lines[0].startswith(f"LedgerError: {path}: {message}")
    assert lines[1].startswith(f"testnet dashboard not written: {path}: {message}")  # the summary says it too
    assert len(result.stdout.lines) < 25
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".usage.lock")) == [path.name]


def test_a_ledger_that_goes_bad_during_a_run_fails_its_teardown_in_one_line(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest(f"""
        import pathlib

        def pytest_runtest_call(item):
            path = pathlib.Path("test_results/usage/usage_{TODAY}.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\\x00garbage")
    """)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of *", "LedgerError: */usage_*.json: not valid JSON*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("option", ["", ",", "quick_smoke,", " , quick_smoke"])
def test_an_empty_profile_name_is_a_usage_error(project: pytest.Pytester, option: str) -> None:
    result = project.runpytest("--testnet-profile", option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [f"ERROR: --testnet-profile: empty profile name in {option!r}; "
                                   "name one or more profiles (pytest --testnet-list shows them)"]


def test_a_busy_simulator_port_is_one_line(kraken_simulator: Simulator) -> None:
    port = kraken_simulator.url.rsplit(":", 1)[1]
    busy = subprocess.run([sys.executable, "-m", "pytest_peak_testnet.simulator", "--port", port],
                          capture_output=True, text=True, timeout=30)
    assert busy.returncode == 1 and busy.stdout == ""
    assert busy.stderr == f"python -m pytest_peak_testnet.simulator: cannot listen on 127.0.0.1:{port}: " \
                          "Address already in use\n"


def test_the_simulator_command_line_still_starts_on_a_free_port(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "pytest_peak_testnet.simulator"], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_session_that_sees_no_candle_renders_its_report(project: pytest.Pytester) -> None:
    from conftest import write_profile

    write_profile(project, "hourly", timeframe="1h", duration_minutes=30)  # no hour closes within 30 minutes
    result = project.runpytest("--testnet-profile", "hourly", "--testnet-record-mode=all", "--testnet-simulator",
                               "--testnet-report")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "Traceback" not in result.stdout.str() and "not written" not in result.stdout.str()
    markdown = (project.path / "reports" / "latest.md").read_text()
    assert "after 0 candles (no candles in this session)" in markdown


def test_report_names_of_sessions_started_together_never_collide(replay_project: pytest.Pytester) -> None:
    for _ in range(3):
        replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE, "--testnet-report")
    reports = sorted((replay_project.path / "reports").glob("testnet-report-*.md"))
    assert len(reports) == 3
    assert all(len(p.stem.split("-")) == 4 for p in reports)  # testnet-report-<stamp>-<run id>
