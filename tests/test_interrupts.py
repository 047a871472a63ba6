"""Interrupted runs: Ctrl-C and SIGTERM end a run cleanly, and what it leaves is whole."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from servers import plain_server

from conftest import edit, ledger_runs, run_events, write_profile
from pytest_peak_testnet.desk.locking import exclusive
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

if TYPE_CHECKING:
    from pgserver import PostgresServer

#: Strategies a run's conftest can pick to be interrupted, or to run out of disk, mid-session.
STRATEGIES = """
import json, os, resource, signal, subprocess
from pytest_peak_testnet.strategies import Strategy

class Interrupt(Strategy):
    '''Sends this process PEAK_SIGNAL at candle PEAK_AT, warm-up included (a Ctrl-C, a CI cancel).'''
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

class RestartTheLedger(Interrupt):
    '''At candle PEAK_AT, runs PEAK_RESTART (a JSON command) in PEAK_RESTART_DIR.'''
    name = "restart_the_ledger"
    def on_candle(self, candle):
        if getattr(self, "seen", 0) + 1 == int(os.environ["PEAK_AT"]):
            subprocess.run(json.loads(os.environ["PEAK_RESTART"]), cwd=os.environ["PEAK_RESTART_DIR"], check=True,
                           capture_output=True)
            self.seen = getattr(self, "seen", 0) + 1
            return "buy" if self.seen % 2 else "sell"
        return super().on_candle(candle)

def pytest_peak_testnet_strategies():
    return [Interrupt, FillTheDisk, RestartTheLedger]
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


@pytest.mark.parametrize(("mode", "name"), [("rewrite", "SIGINT"), ("rewrite", "SIGTERM"), ("all", "SIGINT")])
def test_an_interrupted_recording_leaves_the_old_cassette_intact(project: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch, mode: str,
                                                                  name: str) -> None:
    path = _recorded(project, "rec")
    baseline = path.with_suffix(".baseline.yaml")
    good, good_baseline = path.read_bytes(), baseline.read_bytes()
    write_profile(project, "rec", strategy="interrupt", duration_minutes=20)
    monkeypatch.setenv("PEAK_SIGNAL", name)
    result = project.runpytest_subprocess("--testnet-profile", "rec", f"--testnet-record-mode={mode}",
                                          "--testnet-simulator")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (path.read_bytes(), baseline.read_bytes()) == (good, good_baseline)
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


@pytest.fixture
def live(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of an exchange (to the plugin: a simulator behind a plain forwarder) whose
    clock runs 600 times wall time; polled every 0.1 s, a 20-minute run takes about 2 s.
    The project has the interrupting strategies and a profile ``live`` that trades on every candle."""
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    edit(project.path / "config" / "config.toml", "poll_interval_seconds = 60.0", "poll_interval_seconds = 0.1")
    project.makeconftest(STRATEGIES)
    write_profile(project, "live", strategy="interrupt", duration_minutes=20, max_notional=900.0, max_trades=20)
    with Simulator(speed=600) as sim, plain_server(sim.url) as url:
        yield url


def _accepted(project: pytest.Pytester) -> int:
    """Orders the exchange accepted, as the run log tells it."""
    return sum(1 for outcome in run_events(project, "order_outcome") if outcome["status"] in ("validated", "placed"))


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_mid_run_settles_what_was_accepted_and_reports(project: pytest.Pytester, live: str,
                                                                 monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("PEAK_SIGNAL", name)
    monkeypatch.setenv("PEAK_AT", "58")  # 50 warm-up candles, then 8 of the run
    result = project.runpytest_subprocess("--testnet-profile", "live", "--testnet-record-mode=all",
                                          "--testnet-base-url", live, timeout=120)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # not 143: the session ended as after Ctrl-C
    [run] = ledger_runs(project.path)
    assert (run["mode"], run["status"], run["outcome"]) == ("live", "settled", "interrupted")
    assert run["actual_trades"] == _accepted(project) >= 4


def test_the_previous_sigterm_handler_is_back_after_the_session(project: pytest.Pytester) -> None:
    before = signal.getsignal(signal.SIGTERM)
    project.runpytest("--testnet-budget")
    project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run")
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_killed_runs_accepted_orders_are_counted_when_its_reservation_is_released(
        project: pytest.Pytester, live: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEAK_SIGNAL", "SIGKILL")
    monkeypatch.setenv("PEAK_AT", "58")  # 50 warm-up candles, then 8 of the run
    result = project.runpytest_subprocess("--testnet-profile", "live", "--testnet-record-mode=all",
                                          "--testnet-base-url", live, timeout=120)
    assert result.ret == -signal.SIGKILL
    accepted = _accepted(project)
    requests, outcomes = run_events(project, "order_request"), run_events(project, "order_outcome")
    notional = sum(Decimal(str(r["notional"])) for r, o in zip(requests, outcomes, strict=True)
                   if o["status"] == "validated")
    assert accepted >= 4
    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([f"  used       notional {notional:>12.2f}   trades {accepted:>5}   runs 1",
                                 f"  abandoned  notional       900.00   trades    20   run * (live, started *) released, "
                                 f"abandoned: process * is gone; {accepted} accepted orders (*) counted from "
                                 "*events.jsonl"])
    [run] = ledger_runs(project.path)
    assert (run["status"], run["actual_trades"]) == ("abandoned", accepted)


def _wait_for(what: str, check: object, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline and process.poll() is None, f"the run never {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_settle_waits_for_the_ledger_lock_does_not_lose_the_spend(
        project: pytest.Pytester, live: str, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("PEAK_SIGNAL", "SIGUSR1")  # never sent: the run ends by its duration
    monkeypatch.setenv("PEAK_AT", "0")
    day_files = project.path / "test_results" / "usage"
    process = project.popen([sys.executable, "-m", "pytest", "--testnet-profile", "live", "--testnet-record-mode=all",
                             "--testnet-base-url", live], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for("reserved", lambda: any('"reserved"' in p.read_text() for p in day_files.glob("usage_*.json")),
                  process)
        with exclusive(day_files / ".usage.lock"):  # another process holds the ledger...
            _wait_for("finished", lambda: run_events(project, "run_finished"), process)
            time.sleep(0.5)  # ...while this run's settle waits for it
            process.send_signal(getattr(signal, name))
            time.sleep(0.5)
        assert process.wait(timeout=60) == pytest.ExitCode.INTERRUPTED
    finally:
        process.kill()
    [run] = ledger_runs(project.path)
    assert run["status"] == "settled" and run["actual_trades"] == _accepted(project) >= 4


FULL_DISK_SETTLE = """
import resource
from pytest_peak_testnet.desk.limits import Plan

def test_spend(testnet_limits, testnet_usage):
    for n in range(30):  # a busy day: its file is larger than the disk has room for
        testnet_usage.log_unspent(f"replay{n}", "n", "replay", 10, 1, 0, 0, "passed")
    decision, reservation = testnet_limits.reserve_run(Plan("BTC/EUR", 700, 10, 30), "manual", "test_spend", "live")
    assert decision.allowed, str(decision)
    testnet_usage.settle_seconds = 1.0
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))  # no file may grow past 2 KB: the disk is full
    try:
        testnet_usage.settle(reservation, "243.82", 10, "passed")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
"""


def test_a_settle_the_disk_cannot_take_is_journaled_and_applied_at_the_next_access(project: pytest.Pytester) -> None:
    project.makepyfile(test_spend=FULL_DISK_SETTLE)
    result = project.runpytest_subprocess("test_spend.py", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SettleJournaled: *usage_*.json: could not settle for 1 s (OSError: [[]Errno 27[]] "
                                 "File too large); 243.82 notional and 10 trades of run * are kept in "
                                 "*pending/settle_*.json and applied at the next ledger access"])
    [pending] = (project.path / "test_results" / "usage" / "pending").glob("settle_*.json")
    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines(["  used       notional       243.82   trades    10   runs 1 (+30 replay/simulator runs, "
                                 "not counted)"])
    assert not pending.exists()
    assert [(r["status"], r["actual_notional"]) for r in ledger_runs(project.path) if r["mode"] == "live"] == [
        ("settled", "243.82")]


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own: restarting or stopping it cuts every connection."""
    from pgserver import PostgresServer, bin_dir

    pytest.importorskip("psycopg")
    if bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries")
    server = PostgresServer(bin_dir() or Path()).start()
    yield server
    server.stop()


def test_a_live_run_whose_postgresql_ledger_restarts_mid_run_is_counted(
        project: pytest.Pytester, live: str, monkeypatch: pytest.MonkeyPatch, own_postgres: PostgresServer) -> None:
    command, folder = own_postgres.ctl_command("restart")
    monkeypatch.setenv("PEAK_TESTNET_LEDGER_URL", own_postgres.url())
    monkeypatch.setenv("PEAK_RESTART", json.dumps(command))
    monkeypatch.setenv("PEAK_RESTART_DIR", str(folder))
    monkeypatch.setenv("PEAK_AT", "56")
    write_profile(project, "live", strategy="restart_the_ledger", duration_minutes=20, max_notional=900.0,
                  max_trades=20)
    result = project.runpytest_subprocess("--testnet-profile", "live", "--testnet-record-mode=all",
                                          "--testnet-base-url", live, timeout=120)
    result.assert_outcomes(passed=1)
    accepted = _accepted(project)
    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([f"  used       notional * trades {accepted:>5}   runs 1"])
    assert accepted >= 4


def test_the_first_reserve_after_a_postgresql_restart_connects_again(own_postgres: PostgresServer) -> None:
    from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

    ledger = PostgresLedger(own_postgres.url(), 7)
    assert ledger.reserve("first", "n", "live", 10, 1, admit=lambda usage: _Yes())[1] is not None
    own_postgres.ctl("restart")  # the next profile of the session reserves on the connection the restart cut
    _, second = ledger.reserve("second", "n", "live", 10, 1, admit=lambda usage: _Yes())
    assert second is not None and [run.profile for run in ledger.read().run_log] == ["first", "second"]


def test_a_settle_while_postgresql_is_down_is_journaled_and_applied_once_it_is_back(
        tmp_path: Path, own_postgres: PostgresServer) -> None:
    from pytest_peak_testnet.desk.journal import SettleJournaled
    from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

    ledger = PostgresLedger(own_postgres.url(), 7, base_dir=tmp_path, settle_seconds=1.0)
    _, reservation = ledger.reserve("p", "n", "live", 900, 20, admit=lambda usage: _Yes())
    assert reservation is not None
    own_postgres.ctl("stop")
    with pytest.raises(SettleJournaled, match=r"^postgresql://postgres@127\.0\.0\.1:\d+/postgres: could not "
                       r"settle for 1 s \(.*\); 243\.82 notional and 10 trades of run \w+ are kept in "
                       r".*/usage/pending/settle_\w+\.json and applied at the next ledger access$"):
        ledger.settle(reservation, "243.82", 10, "passed")
    own_postgres.ctl("start")
    again = PostgresLedger(own_postgres.url(), 7, base_dir=tmp_path)  # the next session on this machine
    again.release_abandoned()
    run = again.read().find(reservation.run_id)
    assert (run.status, run.actual_notional, run.actual_trades) == ("settled", Decimal("243.82"), 10)
    assert not list((tmp_path / "usage" / "pending").iterdir())


class _Yes:
    allowed = True


@pytest.mark.parametrize(("name", "why"), [("SIGINT", "Ctrl-C"), ("SIGTERM", "SIGTERM received")])
def test_an_interrupted_session_says_what_was_interrupted_and_writes_its_report(
        project: pytest.Pytester, live: str, monkeypatch: pytest.MonkeyPatch, name: str, why: str) -> None:
    monkeypatch.setenv("PEAK_SIGNAL", name)
    monkeypatch.setenv("PEAK_AT", "58")
    result = project.runpytest_subprocess("--testnet-profile", "live", "--testnet-record-mode=all",
                                          "--testnet-base-url", live, "--testnet-report", timeout=120)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    accepted = _accepted(project)
    result.stdout.fnmatch_lines([
        f"live: interrupted ({why}) after {accepted} accepted orders, notional *; settled to the ledger",
        "testnet budget *",
        "testnet report: reports/testnet-report-*.json",
        "*KeyboardInterrupt*",
        "=* 1 interrupted in * =*"])
    assert "no tests ran" not in result.stdout.str()
    [report] = (project.path / "reports").glob("testnet-report-*.json")
    [profile] = json.loads(report.read_text())["profiles"]
    assert (profile["profile"], profile["outcome"], profile["spent_trades"]) == ("live", "interrupted", accepted)
    assert profile["error"] == f"KeyboardInterrupt: {why}"


def test_a_settle_that_cannot_be_applied_stays_pending_and_is_listed(project: pytest.Pytester) -> None:
    from pytest_peak_testnet.desk.journal import Journal, PendingSettle
    from pytest_peak_testnet.desk.usage import UsageLedger

    ledger = UsageLedger(project.path / "test_results", 7)
    kept = Journal(ledger.dir / "pending").keep(PendingSettle("0123abcd4567", ledger.today(), Decimal("12.5"), 3,
                                                              "passed", "disk full"))
    for _ in range(2):
        budget = project.runpytest("--testnet-budget")
        budget.stdout.fnmatch_lines([
            "  pending    notional        12.50   trades     3   run 0123abcd4567 settled, not yet in the ledger "
            "(kept in test_results/usage/pending/settle_0123abcd4567.json: disk full)"])
    assert kept.exists()
