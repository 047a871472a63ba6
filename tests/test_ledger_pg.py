"""The PostgreSQL ledger against a real server: two desks' pytest runs share one budget,
a lost connection keeps nothing half done, an unreachable database stops the run in one
line, the schema is versioned and migrated, JSON days are imported."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pgserver import PostgresServer, free_port
from test_usage import SPEND_TEST

from conftest import error_lines
from pytest_peak_testnet import cli
from pytest_peak_testnet.desk.ledgers import ENV_URL
from pytest_peak_testnet.desk.usage import DayUsage, LedgerError, UsageLedger


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    return postgres.new_database()


def pg_ledger(url: str, **kwargs: Any) -> Any:
    from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

    return PostgresLedger(url, 30, **kwargs)


class Allowed:
    allowed = True


def test_two_desks_pytest_runs_share_one_budget(project: pytest.Pytester, url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The second working folder stands in for a second machine: its own pytest process."""
    monkeypatch.setenv(ENV_URL, url)
    project.makepyfile(test_spend=SPEND_TEST)
    other = project.path.parent / "machine-b"
    shutil.copytree(project.path, other)
    project.runpytest("test_spend.py").assert_outcomes(passed=1)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "test_spend.py"],
                              cwd=other, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout
    fourth = project.runpytest("test_spend.py")
    fourth.assert_outcomes(failed=1)
    fourth.stdout.fnmatch_lines(["*DAILY_NOTIONAL_EXHAUSTED (1950.00 used + 700.00 planned > 2000.00)*"])
    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([f"testnet budget for * (UTC), ledger {url}",
                                 "  used       notional      1950.00   trades    24   runs 3",
                                 "  remaining  notional        50.00   trades    36"])
    assert not (project.path / "test_results" / "usage").exists() and not (other / "test_results" / "usage").exists()


def test_a_connection_lost_mid_transaction_keeps_no_half_reservation(url: str) -> None:
    import psycopg

    ledger, other = pg_ledger(url), pg_ledger(url)
    other.read()

    def lose_the_connection(usage: DayUsage) -> Allowed:
        with psycopg.connect(url, autocommit=True) as admin:
            # The timeout (PostgreSQL 14+) waits until the backend has exited: under load a
            # signalled backend can otherwise still be there when the reserve goes on.
            admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND application_name = 'pytest-peak-testnet'")
        return Allowed()

    with pytest.raises(LedgerError, match=r"lost the database in a transaction \(nothing of it was kept\)"):
        ledger.reserve("lost", "t", "live", "100", 1, lose_the_connection)
    assert pg_ledger(url).read().run_log == []
    _, reservation = ledger.reserve("next", "t", "live", "100", 1, lambda usage: Allowed())  # connects again
    assert reservation is not None
    assert [(r.profile, r.status) for r in pg_ledger(url).read().run_log] == [("next", "reserved")]


def test_an_unreachable_database_is_one_line_and_the_run_does_not_start(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    down = f"postgresql://desk@127.0.0.1:{free_port()}/ledger"
    monkeypatch.setenv(ENV_URL, down)
    monkeypatch.setenv("PGPASSWORD", "never-shown-3f9a")
    project.makepyfile(test_spend=SPEND_TEST)
    for args in (("test_spend.py",), ("--testnet-budget",), ("-n", "2", "test_spend.py")):
        result = project.runpytest_subprocess(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        [line] = error_lines(result)
        assert line.startswith(f"ERROR: {down}: cannot connect: "), line
        assert "never-shown" not in result.stdout.str() + result.stderr.str()
        assert "Traceback" not in result.stderr.str() and "passed" not in result.stdout.str()


def test_a_password_in_the_url_is_refused_without_showing_it(project: pytest.Pytester,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, "postgresql://desk:hunter2@db.example/ledger")
    result = project.runpytest("--testnet-budget")
    assert error_lines(result) == [f"ERROR: {ENV_URL}: ledger URL 'postgresql://desk@db.example/ledger' carries a "
                                   "password; give it in PGPASSWORD or ~/.pgpass instead"]
    assert "hunter2" not in result.stdout.str() + result.stderr.str()


def test_the_schema_is_versioned_and_migrated(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    from pytest_peak_testnet.desk import ledger_pg

    with psycopg.connect(url) as conn, conn.cursor() as cur:  # a database set up by an older plugin
        cur.execute("CREATE TABLE peak_testnet_schema (version integer NOT NULL)")
        cur.execute("INSERT INTO peak_testnet_schema (version) VALUES (1)")
        cur.execute(ledger_pg.MIGRATIONS[0])
    with pytest.raises(LedgerError, match=f"ledger schema is version 1, this plugin needs {ledger_pg.SCHEMA_VERSION}: "
                       "run 'peak-testnet ledger migrate'"):
        pg_ledger(url).read()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_URL, url)
    out = io.StringIO()
    assert cli.main(["ledger", "migrate"], out=out) == 0
    assert out.getvalue() == f"ledger schema {url}: version 1 -> {ledger_pg.SCHEMA_VERSION}\n"
    assert pg_ledger(url).schema_version() == ledger_pg.SCHEMA_VERSION
    out = io.StringIO()
    assert cli.main(["ledger", "migrate"], out=out) == 0
    assert out.getvalue() == f"ledger schema {url}: version {ledger_pg.SCHEMA_VERSION}, up to date\n"
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE peak_testnet_schema SET version = 99")
    with pytest.raises(LedgerError, match="version 99, newer than this plugin's"):
        pg_ledger(url).read()


def test_json_days_are_imported_once(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(timezone.utc).date()
    source = UsageLedger(tmp_path / "test_results", 30)
    _, reservation = source.reserve("p", "t", "live", "12.345678901", 2, lambda usage: Allowed())
    assert reservation is not None
    source.settle(reservation, "12.000000001", 2, "passed")
    source.log_unspent("r", "t", "replay", "5", 1, "5", 1, "passed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_URL, url)
    out = io.StringIO()
    assert cli.main(["ledger", "import"], out=out) == 0
    assert out.getvalue() == (f"imported 2 runs from 1 days of {Path('test_results', 'usage')} into {url} "
                              "(0 already there)\n")
    out = io.StringIO()
    assert cli.main(["ledger", "import", "--from", str(tmp_path / "test_results")], out=out) == 0
    assert "imported 0 runs from 1 days" in out.getvalue()
    assert pg_ledger(url).read(today) == source.read(today)
    assert cli.main(["dashboard", "board.html"], out=io.StringIO()) == 0  # the dashboard reads the database
    from pytest_peak_testnet.desk.config import DailyLimits
    from pytest_peak_testnet.reporting import dashboard

    def board(ledger: Any) -> dict[str, Any]:
        data = dashboard.build(ledger, DailyLimits())
        data.pop("generated_at")
        return data

    assert board(pg_ledger(url)) == board(source) and (tmp_path / "board.html").exists()
    monkeypatch.delenv(ENV_URL)
    assert cli.main(["ledger", "migrate"]) == 1
    assert capsys.readouterr().err.startswith("peak-testnet: no PostgreSQL ledger configured")
    assert pg_ledger(url).read().notional_spent == Decimal("12.000000001")


def test_a_reserve_sees_every_change_since_its_last_read(url: str) -> None:
    """A reserve reads only the rows that may have changed since this process last read the
    day; what other processes did in between, settled, released or settled after a release,
    is all in what the limits see."""
    mine, theirs = pg_ledger(url), pg_ledger(url)
    seen: list[DayUsage] = []

    def admit(usage: DayUsage) -> Allowed:
        seen.append(usage)
        return Allowed()

    _, first = mine.reserve("a", "t", "live", "10", 1, admit)
    _, second = theirs.reserve("b", "t", "live", "20", 2, admit)
    assert first is not None and second is not None
    theirs.settle(second, "19.5", 2, "passed")
    theirs.release(first.run_id, "released by hand")
    mine.settle(first, "9.25", 1, "passed")  # its process was alive after all: it settles
    theirs.log_unspent("c", "t", "replay", "5", 1, "5", 1, "passed")
    mine.reserve("d", "t", "live", "1", 1, admit)
    assert seen[-1].run_log == pg_ledger(url).read().run_log[:3]  # all but d, as a fresh read has them
    assert (seen[-1].notional_spent, seen[-1].trades_spent, seen[-1].unspent_runs) == (Decimal("28.75"), 3, 1)
    assert sorted(r.profile for r in seen[-1].run_log) == ["a", "b", "c"]
