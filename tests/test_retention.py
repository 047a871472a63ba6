"""reports/ and test_runs/ are pruned like the ledger: a desk keeps the newest sessions'
reports and the newest runs, as many as its config says."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from conftest import edit, write_run
from pytest_peak_testnet.reporting.retention import GOING_SECONDS, prune_runs

#: The last line of a run that ended.
FINISHED = {"event": "run_finished", "time": 2, "at": "x", "stop_reason": "DURATION_ELAPSED", "spent_notional": "0",
            "spent_trades": 0, "metrics": {"pnl": "0"}}
KEEP = 'usage_retention_days = 7\nkeep_reports = 3\nkeep_runs = 5\ndashboard_runs = 2\n'


def test_a_week_of_runs_leaves_the_configured_number_of_reports_and_run_folders(
        replay_project: pytest.Pytester) -> None:
    edit(replay_project.path / "config" / "config.toml", "usage_retention_days = 7\n", KEEP)
    edit(replay_project.path / "config" / "config.toml", 'report_format = "markdown"', 'report_format = ["markdown", "html"]')
    reports, runs = replay_project.path / "reports", replay_project.path / "test_runs"
    reports.mkdir()
    (reports / "notes.md").write_text("the desk's own file\n")
    for day in range(1, 8):  # a week of runs from before: one session and two runs a day
        stamp = f"202611{day:02d}T0900"
        for suffix in ("md", "html", "json"):
            (reports / f"testnet-report-{stamp}00.000000Z-0000000{day}.{suffix}").write_text("{}")
        for n in range(2):
            old = write_run(runs, f"{stamp}0{n}Z-quick_smoke-0000000{n}", [FINISHED])
            os.utime(old / "events.jsonl", (time.time() - 86400 * (8 - day),) * 2)

    for _ in range(2):  # and today's sessions
        result = replay_project.runpytest("--testnet-profile", "quick_smoke,ma_crossover_small", "--testnet-report")
        result.assert_outcomes(passed=2)
        dated = {p.name.rsplit(".", 1)[0] for p in reports.glob("testnet-report-*")}
        assert len(dated) == 3 and len(list(reports.glob("testnet-report-*"))) == 3 * 3
        assert len([p for p in runs.iterdir() if p.is_dir()]) == 5
    assert {p.name for p in reports.iterdir() if not p.name.startswith("testnet-report-")} == {
        "notes.md", "latest.md", "latest.html", "latest.json", "dashboard.html", "runs.html"}
    # The newest session's reports and runs are among those kept.
    newest = json.loads((reports / "latest.json").read_text())
    assert all(Path(p["log_path"]).exists() for p in newest["profiles"])

    dashboard = (reports / "dashboard.html").read_text()
    assert dashboard.count('<tr id="row-') == 2
    assert re.search(r'The newest 2 of 5 kept runs; <a href="runs.html">all 5, one line each</a>', dashboard)
    assert (reports / "runs.html").read_text().count('<tr id="row-') == 5


def test_a_run_still_going_is_kept_and_one_cut_short_goes(tmp_path: Path) -> None:
    runs = tmp_path / "test_runs"
    started = {"event": "run_started", "time": 1, "at": "x"}
    cut_short = write_run(runs, "20261101T090000Z-quick_smoke-00000001", [started])
    going = write_run(runs, "20261102T090000Z-eth_swing-00000002", [started, {"event": "candle", "time": 2, "at": "x"}])
    ended = [write_run(runs, f"2026110{n}T090000Z-quick_smoke-0000000{n}", [started, FINISHED])
             for n in range(3, 6)]
    now = time.time()
    os.utime(cut_short / "events.jsonl", (now - GOING_SECONDS - 60,) * 2)
    assert prune_runs(runs, keep=2, now=now) == [cut_short, ended[0]]
    assert sorted(p.name for p in runs.iterdir()) == [going.name, ended[1].name, ended[2].name]


@pytest.mark.parametrize("key", ["keep_reports", "keep_runs", "dashboard_runs"])
def test_a_count_that_is_not_positive_is_one_line(project: pytest.Pytester, key: str) -> None:
    edit(project.path / "config" / "config.toml", "usage_retention_days = 7\n", f"usage_retention_days = 7\n{key} = 0\n")
    result = project.runpytest("--testnet-profile", "quick_smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.startswith("ERROR:")] == [
        f"ERROR: config/config.toml: testnet_orchestration.{key}: expected a whole number > 0, found 0"]
