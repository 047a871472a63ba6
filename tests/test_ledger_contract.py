"""One contract, two backends: the JSON ledger and the PostgreSQL ledger (a real server,
started by the ``postgres`` fixture) answer the same calls the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import write_run
from pytest_peak_testnet.desk import processes
from pytest_peak_testnet.desk.config import DailyLimits, RunLimits, SymbolPolicy
from pytest_peak_testnet.desk.limits import LimitsController, Plan
from pytest_peak_testnet.desk.usage import Ledger, LedgerError, UsageLedger, utc_now
from pytest_peak_testnet.reporting import dashboard

WORKER = Path(__file__).resolve().parent / "ledger_worker.py"
MakeLedger = Callable[..., Ledger]


class Backend:
    def __init__(self, kind: str, where: str) -> None:
        self.kind, self.where = kind, where
        self.opened: list[Ledger] = []

    def __call__(self, now: Callable[[], datetime] = utc_now, retention: int = 30,
                 runs_dir: Path | None = None) -> Ledger:
        ledger: Ledger
        if self.kind == "json":
            ledger = UsageLedger(Path(self.where), retention, now=now, runs_dir=runs_dir)
        else:
            from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

            ledger = PostgresLedger(self.where, retention, now=now, runs_dir=runs_dir)
        self.opened.append(ledger)
        return ledger

    def worker(self, *args: str, cwd: Path) -> dict[str, object]:
        done = subprocess.run([sys.executable, str(WORKER), args[0], self.kind, self.where, *args[1:]],
                              cwd=cwd, capture_output=True, text=True, timeout=300, check=True)
        result: dict[str, object] = json.loads(done.stdout)
        return result


@pytest.fixture(params=["json", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "json":
        yield Backend("json", str(tmp_path / "shared"))
        return
    made = Backend("postgres", request.getfixturevalue("postgres").new_database())
    yield made
    for ledger in made.opened:
        ledger.close()  # type: ignore[attr-defined]


def limits(ledger: Ledger, day_notional: str = "1000", day_trades: int = 10) -> LimitsController:
    return LimitsController(RunLimits(), DailyLimits(Decimal(day_notional), day_trades), SymbolPolicy(), ledger)


def at(day: date) -> Callable[[], datetime]:
    return lambda: datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def test_reserve_then_settle_to_actuals_exactly(backend: Backend) -> None:
    ledger = backend()
    decision, reservation = limits(ledger).reserve_run(Plan("BTC/EUR", Decimal("400.1"), 4, 30), "a", "t::a", "live")
    assert decision.allowed and reservation is not None
    usage = ledger.read()
    assert (usage.notional_reserved, usage.trades_reserved, usage.notional_used) == (Decimal("400.1"), 4, Decimal("400.1"))
    assert ledger.read().used_for("BTC/EUR") == (Decimal("400.1"), 4)  # per-symbol caps read the run's pair
    run = ledger.settle(reservation, "0.1000000000000000000000000001", 2, "passed")
    assert (run.status, run.actual_notional, run.outcome) == ("settled", Decimal("0.1000000000000000000000000001"), "passed")
    ledger.settle(limits(ledger).reserve_run(Plan("BTC/EUR", Decimal(1), 1, 30), "b", "t::b", "live")[1],  # type: ignore[arg-type]
                  "0.2", 1, "passed")
    again = backend().read()  # another process's view
    assert again.notional_spent == Decimal("0.3000000000000000000000000001")
    assert (again.trades_spent, again.runs, again.notional_reserved) == (3, 2, Decimal(0))
    assert [r.profile for r in again.run_log] == ["a", "b"]


def test_a_refusal_leaves_no_trace_and_names_every_reason(backend: Backend) -> None:
    ledger = backend()
    control = limits(ledger, day_notional="500")
    assert control.reserve_run(Plan("BTC/EUR", Decimal(300), 4, 30), "a", "t::a", "live")[0].allowed
    decision, reservation = control.reserve_run(Plan("DOGE/EUR", Decimal(300), 7, 30), "b", "t::b", "live")
    assert reservation is None
    assert str(decision) == ("blocked: DAILY_NOTIONAL_EXHAUSTED (300.00 used + 300.00 planned > 500.00); "
                             "DAILY_TRADES_EXHAUSTED (4 used + 7 planned > 10); "
                             "SYMBOL_NOT_ALLOWED (DOGE/EUR not in BTC/EUR, ETH/EUR)")
    assert [r.profile for r in ledger.read().run_log] == ["a"]
    assert control.remaining(ledger.read()) == (Decimal(200), 6)


def test_unspent_runs_are_logged_and_not_counted(backend: Backend) -> None:
    ledger = backend()
    ledger.log_unspent("replayed", "t::r", "replay", "100", 3, "95.5", 2, "passed")
    ledger.log_unspent("simulated", "t::s", "simulator", "100", 3, "90", 1, "failed")
    usage = ledger.read()
    assert (usage.unspent_runs, usage.runs, usage.notional_used, usage.trades_used) == (2, 0, Decimal(0), 0)
    assert usage.run_log[0].actual_notional == Decimal("95.5")


def test_a_run_across_midnight_settles_on_its_day_and_retention_prunes_old_days(backend: Backend) -> None:
    today = datetime.now(timezone.utc).date()
    old, yesterday = today - timedelta(days=10), today - timedelta(days=1)
    for day in (old, yesterday):
        backend(now=at(day)).log_unspent("p", "t", "replay", "1", 1, "1", 1, "passed")
    reservation = limits(backend(now=at(yesterday))).reserve_run(Plan("BTC/EUR", Decimal(5), 1, 30), "late", "t", "live")[1]
    assert reservation is not None
    backend(now=at(today)).settle(reservation, "4", 1, "passed")
    ledger = backend(now=at(today), retention=7)
    assert ledger.read(yesterday).notional_spent == Decimal(4) and ledger.read(today).run_log == []
    assert [u.day for u in ledger.history()] == [old, yesterday]
    assert len(ledger.prune()) == 1
    assert [u.day for u in ledger.history()] == [yesterday]
    page = dashboard.build(ledger, DailyLimits())
    assert page["retention_days"] == 7


def test_a_released_run_spends_what_its_run_log_says_was_accepted(backend: Backend, tmp_path: Path) -> None:
    gone = backend.worker("abandon", cwd=tmp_path)
    runs = tmp_path / "test_runs"
    log = write_run(runs, f"20260101T000000Z-gone-{gone['run_id']}", [
        {"event": "run_started"},
        {"event": "order_request", "notional": "120.5"}, {"event": "order_outcome", "status": "validated"},
        {"event": "order_request", "notional": "80.25"}, {"event": "order_outcome", "status": "rejected"},
        {"event": "order_request", "notional": "99.75"}, {"event": "order_outcome", "status": "unknown"},
        {"event": "order_request", "notional": "7"}, {"event": "order_outcome", "status": "denied"},
    ]) / "events.jsonl"
    with log.open("a") as cut_short:
        cut_short.write('{"event": "order_req')  # the line the kill interrupted
    [released] = backend(runs_dir=runs).release_abandoned()
    assert (released.status, released.actual_notional, released.actual_trades) == ("abandoned", Decimal("220.25"), 2)
    assert released.outcome == (f"abandoned: process {gone['pid']} on {processes.host()} is gone; 2 accepted orders "
                                f"(220.25) counted from {log}")
    usage = backend().read()
    assert (usage.notional_spent, usage.trades_spent, usage.notional_reserved) == (Decimal("220.25"), 2, 0)


def test_a_reservation_of_a_process_that_died_is_released(backend: Backend, tmp_path: Path) -> None:
    gone = backend.worker("abandon", cwd=tmp_path)
    ledger = backend()
    assert ledger.read().notional_reserved == Decimal(500)
    [released] = ledger.release_abandoned()
    assert (released.run_id, released.status) == (gone["run_id"], "abandoned")
    assert released.outcome == f"abandoned: process {gone['pid']} on {processes.host()} is gone"
    usage = backend().read()
    assert (usage.notional_used, [r.status for r in usage.run_log]) == (Decimal(0), ["abandoned"])
    assert ledger.release_abandoned() == []


def test_release_by_hand(backend: Backend) -> None:
    ledger = backend()
    reservation = limits(ledger).reserve_run(Plan("BTC/EUR", Decimal(5), 1, 30), "held", "t", "live")[1]
    assert reservation is not None
    run, where = ledger.release(reservation.run_id, "released by hand on elsewhere")
    assert (run.status, run.outcome, where) == ("abandoned", "abandoned: released by hand on elsewhere",
                                                ledger.where(ledger.today()))
    with pytest.raises(LedgerError, match=f"run {reservation.run_id} is abandoned .*nothing to release"):
        ledger.release(reservation.run_id, "again")
    with pytest.raises(LedgerError, match="no run nosuchrun in the ledger"):
        ledger.release("nosuchrun", "why")


def test_processes_from_two_folders_share_one_budget_without_lost_updates(backend: Backend, tmp_path: Path) -> None:
    """8 processes × 25 reserve/settle cycles, from two working folders (two machines)."""
    folders = [tmp_path / "machine-a", tmp_path / "machine-b"]
    for folder in folders:
        folder.mkdir()
    limit = Decimal(1000)
    procs = [subprocess.Popen([sys.executable, str(WORKER), "cycles", backend.kind, backend.where, "25", str(limit)],
                              cwd=folders[i % 2], stdout=subprocess.PIPE, text=True) for i in range(8)]
    results = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    settled = [run_id for r in results for run_id in r["settled"]]
    refused = sum(r["refused"] for r in results)
    usage = backend().read()
    assert len(settled) + refused == 200 and refused > 0
    assert sorted(r.run_id for r in usage.run_log) == sorted(settled)  # nothing lost, nothing doubled
    assert all(r.status == "settled" for r in usage.run_log)
    assert usage.notional_spent == Decimal("7.3") * len(settled)
    assert usage.notional_used <= limit
    assert limit - usage.notional_used < 8  # the budget was used up, not left idle
