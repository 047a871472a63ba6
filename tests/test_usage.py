"""The usage ledger: shared by processes, exact, atomic, never silently reset."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import error_lines
from pytest_peak_testnet.desk.config import DailyLimits, RunLimits, SymbolPolicy
from pytest_peak_testnet.desk.limits import LimitsController, Plan
from pytest_peak_testnet.desk.usage import UsageLedger, money

SPEND_TEST = """
from pytest_peak_testnet.desk.limits import Plan

def test_spend(testnet_limits, testnet_usage):
    decision, reservation = testnet_limits.reserve_run(Plan("BTC/EUR", 700, 10, 30), "manual", "test_spend", "live")
    assert decision.allowed, str(decision)
    testnet_usage.settle(reservation, 650, 8, "passed")
"""


def test_daily_limit_is_reached_across_several_runs(project: pytest.Pytester) -> None:
    project.makepyfile(test_spend=SPEND_TEST)
    for _ in range(3):
        project.runpytest("test_spend.py").assert_outcomes(passed=1)
    fourth = project.runpytest("test_spend.py")
    fourth.assert_outcomes(failed=1)
    fourth.stdout.fnmatch_lines(["*DAILY_NOTIONAL_EXHAUSTED (1950.00 used + 700.00 planned > 2000.00)*"])

    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([
        "  used       notional      1950.00   trades    24   runs 3",
        "  remaining  notional        50.00   trades    36",
    ])
    smoke = project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run", "-rs")
    smoke.assert_outcomes(skipped=1)
    smoke.stdout.fnmatch_lines([
        "*quick_smoke: blocked: DAILY_NOTIONAL_EXHAUSTED (1950.00 used + 200.00 planned > 2000.00)",
        "testnet budget *: notional 1950.00/2000.00, trades 24/60, 3 runs; 50.00 notional and 36 trades left*",
    ])


def test_blocked_run_reports_every_reason_and_can_fail(project: pytest.Pytester) -> None:
    (project.path / "profiles" / "doge.yaml").write_text(
        "strategy: ma_crossover\nsymbol: DOGE/EUR\ntimeframe: 1m\nduration_minutes: 300\nmax_notional: 1200\nmax_trades: 5\n")
    skipped = project.runpytest("--testnet-profile", "doge", "-rs")
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["SKIPPED * testnet limits: blocked: RUN_NOTIONAL_EXCEEDS_MAX (1200.00 > 1000.00); "
                                  "RUN_DURATION_EXCEEDS_MAX (300 min > 240 min); SYMBOL_NOT_ALLOWED (DOGE/EUR not in BTC/EUR, ETH/EUR, BTC/USDT)"])
    failed = project.runpytest("--testnet-profile", "doge", "--testnet-on-blocked=fail")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["testnet limits blocked this run:", "  RUN_NOTIONAL_EXCEEDS_MAX (1200.00 > 1000.00)",
                                 "  RUN_DURATION_EXCEEDS_MAX (300 min > 240 min)",
                                 "  SYMBOL_NOT_ALLOWED (DOGE/EUR not in BTC/EUR, ETH/EUR, BTC/USDT)"])
    project.makeini("[pytest]\ntestnet_on_blocked = fail\n")
    project.runpytest("--testnet-profile", "doge").assert_outcomes(failed=1)
    ledger = project.path / "test_results" / "usage"
    assert not list(ledger.glob("usage_*.json")), "a blocked run must leave no trace in the ledger"


def test_corrupt_ledger_is_an_error_never_empty(project: pytest.Pytester) -> None:
    today = datetime.now(timezone.utc).date().isoformat()
    path = project.path / "test_results" / "usage" / f"usage_{today}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"date": "' + today + '", "notional_used": 1900.0, "run_log": [')
    budget = project.runpytest("--testnet-budget")
    assert budget.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(budget)[0].startswith(f"ERROR: {path}: not valid JSON")
    project.makepyfile(test_spend=SPEND_TEST)
    run = project.runpytest("test_spend.py")
    run.assert_outcomes(failed=1)
    run.stdout.fnmatch_lines([f"*LedgerError: {path}: not valid JSON*the ledger is not read as empty*"])
    assert path.read_text().endswith('"run_log": [')  # untouched


def test_ledger_whose_totals_were_edited_is_rejected(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path, 30)
    _, reservation = ledger.reserve("p", "n", "live", 10, 1, admit=lambda usage: _Yes())
    assert reservation is not None
    ledger.settle(reservation, 5, 1, "passed")
    path = ledger.path_for(ledger.today())
    data = json.loads(path.read_text())
    data["notional_used"] = 0.0
    path.write_text(json.dumps(data))
    with pytest.raises(Exception, match="its totals disagree with its run_log"):
        ledger.read()


class _Yes:
    allowed = True


def test_a_days_file_holds_one_run_per_line_and_a_settle_changes_only_its_line(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path, 30)
    reservations = [ledger.reserve(f"p{i}", f"n::p{i}", "live", "10.50", 1, admit=lambda usage: _Yes())[1]
                    for i in range(3)]
    path = ledger.path_for(ledger.today())
    before = path.read_text().splitlines()
    assert reservations[1] is not None
    ledger.settle(reservations[1], "4.20", 1, "passed")
    after = path.read_text().splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert [json.loads(new.strip().rstrip(",")) for _, new in changed if "run_id" in new] == [
        {**json.loads(changed[-1][0].strip().rstrip(",")), "status": "settled", "actual_notional": "4.2",
         "actual_trades": 1, "ended_at": ledger.read().run_log[1].ended_at, "outcome": "passed"}]
    data = json.loads(path.read_text())
    assert data["notional_used"] == "4.2" and [run["profile"] for run in data["run_log"]] == ["p0", "p1", "p2"]


def test_old_days_are_pruned(project: pytest.Pytester) -> None:
    usage = project.path / "test_results" / "usage"
    usage.mkdir(parents=True)
    today = datetime.now(timezone.utc).date()
    old, recent = (usage / f"usage_{(today - timedelta(days=d)).isoformat()}.json" for d in (8, 7))
    for path in (old, recent):
        path.write_text("{}")
    (usage / "notes.json").write_text("{}")
    project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run")
    assert not old.exists()
    assert recent.exists() and (usage / "notes.json").exists()


def _cycles(base: str, worker: int) -> list[str]:
    ledger = UsageLedger(Path(base), 30)
    limits = LimitsController(RunLimits(), DailyLimits(max_notional_per_day=1500.0, max_trades_per_day=1000),
                              SymbolPolicy(), ledger)
    settled = []
    for i in range(50):
        _, reservation = limits.reserve_run(Plan("BTC/EUR", money("12.34"), 1, 1), f"w{worker}", f"n{i}", "live")
        if reservation is not None:
            amount = str(money(Decimal("10.01") + Decimal(worker) / 100))
            ledger.settle(reservation, amount, 1, "passed")
            settled.append(amount)
    return settled


def test_four_processes_share_one_ledger_exactly(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_cycles, [(str(tmp_path), w) for w in range(4)])
    accepted = [Decimal(a) for worker in results for a in worker]
    day = UsageLedger(tmp_path, 30).read()
    assert 0 < len(accepted) < 200, "the limit must have refused some of the 200 attempts"
    assert day.runs == len(accepted)
    assert day.notional_spent == sum(accepted)
    assert day.notional_reserved == 0 and day.trades_reserved == 0
    assert day.notional_spent <= Decimal(1500)
    # Every refusal happened because the next planned 12.34 no longer fitted: nothing was lost.
    assert day.notional_spent + Decimal("12.34") > Decimal(1500) - Decimal("12.34")
    assert not list((tmp_path / "usage").glob("*.tmp"))


SPEND_ELSEWHERE_AFTER_THE_FIRST_DECISION = """
from pathlib import Path

from pytest_peak_testnet.desk.usage import UsageLedger

SPENT = []


class Yes:
    allowed = True


def pytest_runtest_logreport(report):
    if report.when == "setup" and not SPENT:  # another desk spends almost the whole day
        SPENT.append(report.nodeid)
        ledger = UsageLedger(Path("test_results"), 7)
        _, reservation = ledger.reserve("elsewhere", "other::desk", "live", 1990, 1, lambda usage: Yes())
        ledger.settle(reservation, 1990, 1, "passed")
"""


def test_a_dry_run_decides_every_profile_against_the_day_as_it_first_read_it(project: pytest.Pytester) -> None:
    project.makeconftest(SPEND_ELSEWHERE_AFTER_THE_FIRST_DECISION)
    result = project.runpytest("--testnet-profile", "quick_smoke,ma_crossover_small", "--testnet-dry-run")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*testnet dry run: limit decisions*",
        "quick_smoke: allowed",
        "ma_crossover_small: allowed",
        "testnet budget *: notional 1990.00/2000.00, trades 1/60, 1 runs;*",  # spent meanwhile, elsewhere
    ])
    replay = project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run", "-rs")
    replay.stdout.fnmatch_lines(["*quick_smoke: blocked: DAILY_NOTIONAL_EXHAUSTED (1990.00 used + 200.00 planned*"])


@pytest.mark.parametrize(("key", "value"), [
    ("actual_notional", "-100000"), ("actual_notional", "-Infinity"), ("actual_notional", "Infinity"),
    ("actual_notional", "NaN"), ("planned_notional", "-800"), ("actual_trades", -5), ("planned_trades", -20),
])
def test_a_negative_or_infinite_figure_in_a_day_is_corruption(project: pytest.Pytester, key: str,
                                                                value: object) -> None:
    ledger = UsageLedger(project.path / "test_results", 30)
    _, reservation = ledger.reserve("p", "n", "live", 800, 20, admit=lambda usage: _Yes())
    assert reservation is not None
    ledger.settle(reservation, 100, 2, "passed")
    path = ledger.path_for(ledger.today())
    data = json.loads(path.read_text())
    data["run_log"][0][key] = value
    if key == "actual_notional":  # totals that agree: only the figure itself gives it away
        data["notional_used"] = value
    if key == "actual_trades":
        data["trades_executed"] = value
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    budget = project.runpytest("--testnet-budget")
    assert budget.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(budget) == [f"ERROR: {path}: run_log[0].{key} is {value!r}, not a count or amount of 0 or "
                                   "more; the ledger is not read as empty, fix or remove the file"]
    assert "Traceback" not in budget.stdout.str() + budget.stderr.str()
    assert path.read_bytes() == before


def test_a_symlinked_day_is_written_through_its_link(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path / "results", 30)
    elsewhere = tmp_path / "kept-elsewhere" / "today.json"
    elsewhere.parent.mkdir()
    ledger.dir.mkdir(parents=True)
    ledger.reserve("first", "n", "live", 10, 1, admit=lambda usage: _Yes())
    link = ledger.path_for(ledger.today())
    link.rename(elsewhere)
    link.symlink_to(elsewhere)
    ledger.reserve("second", "n", "live", 10, 1, admit=lambda usage: _Yes())
    assert link.is_symlink() and link.resolve() == elsewhere
    assert [run["profile"] for run in json.loads(elsewhere.read_text())["run_log"]] == ["first", "second"]
    assert not list(ledger.dir.glob("*.tmp")) and not list(elsewhere.parent.glob("*.tmp"))
