"""The usage ledger on PostgreSQL: one daily budget shared by every machine of a desk.

Same semantics as the JSON ledger (``usage.UsageLedger``): check and reserve are one
transaction, settle replaces a reservation by what the run spent, unspent runs are logged,
days older than the retention go, reservations of gone processes are released.

Check and reserve hold a row lock on the day (an upsert of its row in
``peak_testnet_days``, which locks it as ``SELECT ... FOR UPDATE`` would), not SERIALIZABLE: the limits are Python code run between the read
and the insert, and under SERIALIZABLE two reservers of one day would both read, one would
fail at commit and have to run the limits again; with the lock the second simply waits a
millisecond and reads the first one's reservation. Readers (the budget, the dashboard)
take no lock: they see the last committed day. Settling changes one row and takes no day
lock: a reserver that read the day just before a settle committed decided as if the
settle came after it, a valid order of the two (the settle reads nothing the reserve
writes). Money is ``numeric``, read back as ``Decimal``. The day is the reserving
machine's UTC date, as with the JSON files: the machines' clocks must agree (NTP).

psycopg 3 is an optional extra (``pip install "pytest-peak-testnet[postgres]"``); this module
is imported only when a ledger URL is configured. The password comes from the environment
(``PGPASSWORD``) or ``~/.pgpass``, never from the URL, so it is never in a config or an error.
"""

from __future__ import annotations

import logging
import os
import select
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import processes
from .journal import SETTLE_SECONDS, Journal, PendingSettle, settle_surely
from .usage import RUN_FIELDS, D, DayUsage, LedgerError, Reservation, RunMode, RunRecord, money, utc_now

try:
    import psycopg
except ImportError:  # pragma: no cover - the extra is not installed
    psycopg = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: How long a connection attempt may take before the ledger counts as unreachable.
CONNECT_TIMEOUT_SECONDS = 5
#: The table's run columns: RunRecord's fields, in order (a row becomes a record by position).
COLUMNS = RUN_FIELDS
#: Schema versions, each the SQL that upgrades the one before it. The first use of an empty
#: database applies them all; an older schema is upgraded by ``peak-testnet ledger migrate``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE peak_testnet_days (day date PRIMARY KEY);
    CREATE TABLE peak_testnet_runs (
        run_id text PRIMARY KEY,
        day date NOT NULL REFERENCES peak_testnet_days (day) ON DELETE CASCADE,
        profile text NOT NULL, nodeid text NOT NULL,
        mode text NOT NULL CHECK (mode IN ('live', 'replay', 'simulator')),
        planned_notional numeric NOT NULL, planned_trades integer NOT NULL, started_at text NOT NULL,
        status text NOT NULL CHECK (status IN ('reserved', 'settled', 'abandoned')),
        actual_notional numeric, actual_trades integer, ended_at text, outcome text, host text, pid integer,
        seq bigserial NOT NULL
    );
    CREATE INDEX peak_testnet_runs_day ON peak_testnet_runs (day, seq);
    """,
    # Stale reservations are looked up by host on every reserve: keep that cheap as days grow.
    """
    CREATE INDEX peak_testnet_runs_open ON peak_testnet_runs (host, status) WHERE status = 'reserved';
    """,
    # The pair a run trades, for the per-symbol daily caps (none on runs logged before).
    """
    ALTER TABLE peak_testnet_runs ADD COLUMN symbol text;
    """,
    # The exchange block a run traded on (none on runs logged before).
    """
    ALTER TABLE peak_testnet_runs ADD COLUMN venue text;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
SETTLE = ("UPDATE peak_testnet_runs SET status = 'settled', actual_notional = %s, actual_trades = %s, ended_at = %s, "
          "outcome = %s WHERE run_id = %s AND day = %s")


def redacted(url: str) -> str:
    """The URL for people: without a password, should one have slipped into it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    user, _, host = rest.partition("@")
    return f"{scheme}://{user.split(':', 1)[0]}@{host}"


def check_url(url: str, where: str) -> str:
    """A ledger URL with no password in it (it would end up in configs and logs)."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise InputError(where, f"ledger URL {redacted(url)!r} is not a postgresql:// URL")
    if redacted(url) != url:
        raise InputError(where, f"ledger URL {redacted(url)!r} carries a password; give it in PGPASSWORD "
                         "or ~/.pgpass instead")
    return url


class PostgresLedger:
    """``usage.Ledger`` on one PostgreSQL database; one connection per process. Settles
    that cannot reach it are journaled on this machine, under ``base_dir`` as with the JSON
    ledger (``journal``); ``runs_dir`` holds the run logs a released run is counted from."""

    def __init__(self, url: str, retention_days: int, now: Callable[[], datetime] = utc_now,
                 migrate: bool = False, base_dir: Path = Path("test_results"), runs_dir: Path | None = None,
                 settle_seconds: float = SETTLE_SECONDS) -> None:
        if psycopg is None:
            raise InputError(redacted(url), 'the PostgreSQL ledger needs psycopg: '
                             'pip install "pytest-peak-testnet[postgres]"')
        self.url = url
        self.retention_days = retention_days
        self._now = now
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = 0
        #: Per day, what this process last read under the day's lock: a reserve fetches only
        #: what may have changed since (see ``_locked_day``).
        self._seen: dict[date, _DayView] = {}
        self._schema_checked = migrate
        self.journal = Journal(base_dir / "usage" / "pending")
        self.runs_dir = runs_dir
        self.settle_seconds = settle_seconds

    def today(self) -> date:
        return self._now().date()

    def where(self, day: date) -> str:
        return redacted(self.url)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the connection -------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        """This process's connection; a new one after a fork or a lost one, or when the
        server closed this one while it was idle (``_dropped``)."""
        if self._conn is not None and self._pid == os.getpid() and not self._conn.closed and _dropped(self._conn):
            self.close()
        if self._conn is None or self._conn.closed or self._pid != os.getpid():
            try:
                self._conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True,
                                             application_name="pytest-peak-testnet")
            except psycopg.Error as exc:
                raise self._error("cannot connect", exc) from None
            self._pid = os.getpid()
            if not self._schema_checked:
                self._check_schema(self._conn)
                self._schema_checked = True
        return self._conn

    def _error(self, what: str, exc: BaseException) -> LedgerError:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return LedgerError(redacted(self.url), f"{what}: {first}")

    @contextmanager
    def _transaction(self, statements: int = 2, pipeline: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction: all of it commits or none of it does. A connection lost halfway
        rolls back on the server, and the next call connects again. One statement is a
        transaction of its own (autocommit): no BEGIN and COMMIT round trips. ``pipeline``:
        statements go out together until a result is read (fewer round trips while a lock
        is held)."""
        conn = self._connection()
        try:
            with (conn.pipeline() if pipeline else nullcontext(),
                  conn.transaction() if statements > 1 else nullcontext(), conn.cursor() as cur):
                yield cur
        except psycopg.OperationalError as exc:
            self.close()
            raise self._error("lost the database in a transaction (nothing of it was kept)", exc) from None
        except psycopg.Error as exc:
            raise self._error("the database refused", exc) from None

    # -- the schema -----------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._transaction() as cur:
            return _version(cur)

    def _check_schema(self, conn: psycopg.Connection[Any]) -> None:
        """Create the schema in an empty database; refuse one older or newer than this code."""
        try:
            with conn.transaction(), conn.cursor() as cur:
                version = self._locked_version(cur)
                if version == 0:
                    _apply(cur, 0)
                elif version < SCHEMA_VERSION:
                    raise LedgerError(redacted(self.url), f"ledger schema is version {version}, this plugin "
                                      f"needs {SCHEMA_VERSION}: run 'peak-testnet ledger migrate'")
        except psycopg.Error as exc:
            self.close()
            raise self._error("cannot set up the ledger schema", exc) from None

    def migrate(self) -> tuple[int, int]:
        """Bring the schema to this plugin's version; returns (before, after)."""
        with self._transaction() as cur:
            before = self._locked_version(cur)
            _apply(cur, before)
        return before, SCHEMA_VERSION

    def _locked_version(self, cur: psycopg.Cursor[Any]) -> int:
        """The schema's version, locked against other setups until the transaction ends; a
        version newer than this plugin's is an error either way."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('peak_testnet_schema'))")
        version = _version(cur)
        if version > SCHEMA_VERSION:
            raise LedgerError(redacted(self.url), f"ledger schema is version {version}, newer than this "
                              f"plugin's {SCHEMA_VERSION}: upgrade pytest-peak-testnet")
        return version

    # -- reading --------------------------------------------------------------------------

    def read(self, day: date | None = None) -> DayUsage:
        day = day or self.today()
        with self._transaction(statements=1) as cur:
            return self._day(cur, day)

    def history(self) -> list[DayUsage]:
        """Every day still kept that has a run, oldest first."""
        with self._transaction(statements=1) as cur:
            cur.execute(f"SELECT day, {', '.join(COLUMNS)} FROM peak_testnet_runs ORDER BY day, seq")
            days: dict[date, DayUsage] = {}
            for row in cur.fetchall():
                days.setdefault(row[0], DayUsage(row[0])).run_log.append(_record(row[1:]))
        return list(days.values())

    def _day(self, cur: psycopg.Cursor[Any], day: date) -> DayUsage:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM peak_testnet_runs WHERE day = %s ORDER BY seq", (day,))
        return DayUsage(day, [_record(row) for row in cur.fetchall()])

    # -- writing --------------------------------------------------------------------------

    def reserve(self, profile: str, nodeid: str, mode: RunMode, notional: Any, trades: int,
                admit: Callable[[DayUsage], D], symbol: str | None = None,
                venue: str | None = None) -> tuple[D, Reservation | None]:
        """Lock the day's row, read the day, ask ``admit`` (the limits), insert the run only
        if it says yes; commit. A second reserver of the same day waits on the lock."""
        self.journal.apply(self._settle_once)
        day = self.today()
        try:
            with self._transaction(pipeline=True) as cur:
                self._lock_day(cur, day)
                usage = self._locked_day(cur, day)
                self._release(cur, self._seen[day].reserved())
                decision = admit(usage)
                if not decision.allowed:
                    return decision, None
                run = RunRecord.reservation(profile, nodeid, mode, notional, trades,
                                            self._now().isoformat(timespec="seconds"), symbol, venue)
                _insert(cur, day, run)
        except BaseException:
            self._seen.pop(day, None)  # it may hold what was never committed
            raise
        return decision, Reservation(run.run_id, day)

    def _locked_day(self, cur: psycopg.Cursor[Any], day: date) -> DayUsage:
        """The day, read under its lock, fetching only rows that may have changed since this
        process last read it: a reserve then costs the same at the day's 500th run as at
        its first. Every row is written with a new seq under the day's lock (inserts, a
        settle of a run no longer reserved), so all rows above the highest seq seen are the
        new ones; the one change made without the lock, a settle, ends a reservation, and
        reservations are always fetched again. Settled and released rows do not change."""
        view = self._seen.setdefault(day, _DayView())
        cur.execute(f"SELECT seq, {', '.join(COLUMNS)} FROM peak_testnet_runs WHERE day = %s "
                    "AND (seq > %s OR status = 'reserved' OR run_id = ANY(%s)) ORDER BY seq",
                    (day, view.mark, list(view.reserved_ids)))
        view.update(cur.fetchall())
        return DayUsage(day, list(view.runs.values()))

    def settle(self, reservation: Reservation, notional: Any, trades: int, outcome: str) -> RunRecord:
        """Replace the reservation by what the run actually spent; the rest is released.
        Tried again on a new connection (a restarted server), then journaled (``journal``)."""
        entry = PendingSettle(reservation.run_id, reservation.day, money(notional), trades, outcome, "")
        return settle_surely(self._settle_once, self.journal, entry, redacted(self.url), self.settle_seconds)

    def _settle_once(self, entry: PendingSettle) -> RunRecord:
        """One try. Run twice, it settles to the same figures: a try whose commit was lost
        with its connection finds the run settled, and settles it again, as a new row version."""
        reservation = Reservation(entry.run_id, entry.day)
        values = (entry.notional, entry.trades, self._now().isoformat(timespec="seconds"), entry.outcome,
                  reservation.run_id, reservation.day)
        with self._transaction(statements=1) as cur:  # one row: no day lock (see the module's docstring)
            cur.execute(f"{SETTLE} AND status = 'reserved' RETURNING {', '.join(COLUMNS)}", values)
            row = cur.fetchone()
        if row is None:  # released meanwhile (by hand, say): settled all the same, as a new row version
            with self._transaction() as cur:
                self._lock_day(cur, reservation.day)
                cur.execute(f"{SETTLE.replace('SET', 'SET seq = DEFAULT,', 1)} RETURNING {', '.join(COLUMNS)}",
                            values)
                row = cur.fetchone()
        if row is None:
            raise LedgerError(redacted(self.url), f"run {reservation.run_id} is not in the ledger for "
                              f"{reservation.day}; was it deleted?")
        return _record(row)

    def log_unspent(self, profile: str, nodeid: str, mode: RunMode, planned_notional: Any, planned_trades: int,
                    notional: Any, trades: int, outcome: str, symbol: str | None = None,
                    venue: str | None = None) -> None:
        run = RunRecord.unspent(profile, nodeid, mode, planned_notional, planned_trades, notional, trades, outcome,
                                self._now().isoformat(timespec="seconds"), symbol, venue)
        day = self.today()  # once: the day locked is the day written, also across midnight
        with self._transaction() as cur:
            self._lock_day(cur, day)
            _insert(cur, day, run)

    def release_abandoned(self) -> list[RunRecord]:
        """Release, in every day kept, the reservations of processes on this host that are
        gone; settles kept in the journal are applied first."""
        self.journal.apply(self._settle_once)
        with self._transaction() as cur:
            return self._release_abandoned(cur)

    def release(self, run_id: str, why: str) -> tuple[RunRecord, str]:
        with self._transaction() as cur:
            cur.execute(f"SELECT day, {', '.join(COLUMNS)} FROM peak_testnet_runs WHERE run_id = %s FOR UPDATE",
                        (run_id,))
            row = cur.fetchone()
            if row is None:
                raise LedgerError(redacted(self.url), f"no run {run_id} in the ledger")
            run = _record(row[1:])
            if run.status != "reserved":
                raise LedgerError(redacted(self.url), f"run {run_id} is {run.status} "
                                  f"({run.outcome or 'no outcome'}); there is nothing to release")
            run.release(self._now().isoformat(timespec="seconds"), why)
            _close(cur, run)
        return run, redacted(self.url)

    def prune(self) -> list[date]:
        """Delete the days older than the retention period (their runs go with them)."""
        cutoff = self.today() - timedelta(days=self.retention_days)
        with self._transaction() as cur:
            cur.execute("DELETE FROM peak_testnet_days WHERE day < %s RETURNING day", (cutoff,))
            gone = sorted(row[0] for row in cur.fetchall())
        for day in gone:
            self._seen.pop(day, None)
        return gone

    def import_day(self, usage: DayUsage) -> int:
        """Copy one day of the JSON ledger in; runs already here (same id) are left alone.
        Returns how many runs were added."""
        with self._transaction() as cur:
            self._lock_day(cur, usage.day)
            added = 0
            for run in usage.run_log:
                cur.execute("SELECT 1 FROM peak_testnet_runs WHERE run_id = %s", (run.run_id,))
                if cur.fetchone() is None:
                    _insert(cur, usage.day, run)
                    added += 1
            return added

    def _lock_day(self, cur: psycopg.Cursor[Any], day: date) -> None:
        """The day's row, created if need be, locked until the transaction ends (one statement:
        an upsert that updates locks the row it meets)."""
        cur.execute("INSERT INTO peak_testnet_days (day) VALUES (%s) ON CONFLICT (day) DO UPDATE SET day = EXCLUDED.day",
                    (day,))

    def _release_abandoned(self, cur: psycopg.Cursor[Any]) -> list[RunRecord]:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM peak_testnet_runs WHERE host = %s AND status = 'reserved' "
                    "ORDER BY seq", (processes.host(),))
        return self._release(cur, list(map(_record, cur.fetchall())))

    def _release(self, cur: psycopg.Cursor[Any], reserved: list[RunRecord]) -> list[RunRecord]:
        """Release those of ``reserved`` whose process is gone, counting what their run logs
        say they spent; not one whose settle waits in the journal. A process that settled
        and exited between the read and now has settled: its run is taken as it is now."""
        gone = [run for run in reserved if run.abandoned_here()]
        if gone:
            pending = self.journal.run_ids()
            gone = [run for run in gone if run.run_id not in pending]
        released = []
        for run in gone:
            run.release(self._now().isoformat(timespec="seconds"), f"process {run.pid} on {run.host} is gone",
                        self.runs_dir)
            cur.execute(f"UPDATE peak_testnet_runs SET status = %s, ended_at = %s, outcome = %s, actual_notional = %s, "
                        f"actual_trades = %s WHERE run_id = %s AND status = 'reserved' RETURNING {', '.join(COLUMNS)}",
                        (run.status, run.ended_at, run.outcome, run.actual_notional, run.actual_trades, run.run_id))
            if cur.fetchone() is None:
                cur.execute(f"SELECT {', '.join(COLUMNS)} FROM peak_testnet_runs WHERE run_id = %s", (run.run_id,))
                row = cur.fetchone()
                for name, value in zip(COLUMNS, row or (), strict=False):
                    setattr(run, name, value)
                continue
            released.append(run)
            log.warning("ledger %s: run %s (%s) %s", redacted(self.url), run.run_id, run.profile, run.outcome)
        return released


@dataclass
class _DayView:
    """One day's runs as this process last read them, in seq order, with what the next read
    needs: the highest seq seen and the runs still reserved (kept as they change, so that a
    reserve does no work per run of the day in Python either)."""

    runs: dict[str, RunRecord] = field(default_factory=dict)
    mark: int = 0
    reserved_ids: set[str] = field(default_factory=set)

    def update(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows in seq order: a row with a seq above the mark is new or moved (a late settle)
        and goes to the end; one at or below it changed in place."""
        for row in rows:
            seq, run = row[0], _record(row[1:])
            if seq > self.mark:
                self.runs.pop(run.run_id, None)
                self.mark = seq
            self.runs[run.run_id] = run
            if run.status == "reserved":
                self.reserved_ids.add(run.run_id)
            else:
                self.reserved_ids.discard(run.run_id)

    def reserved(self) -> list[RunRecord]:
        return [self.runs[run_id] for run_id in self.reserved_ids]


def _dropped(conn: psycopg.Connection[Any]) -> bool:
    """The server spoke on an idle connection: between transactions it says something only
    as it goes (a restart, an administrator's terminate: a last message, then end of file).
    One poll of the socket, no round trip; without it the first statement after a
    restart fails on the dead connection."""
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def _version(cur: psycopg.Cursor[Any]) -> int:
    cur.execute("SELECT to_regclass('peak_testnet_schema') IS NOT NULL")
    row = cur.fetchone()
    if not row or not row[0]:
        return 0
    cur.execute("SELECT version FROM peak_testnet_schema")
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _apply(cur: psycopg.Cursor[Any], version: int) -> None:
    if version == 0:
        cur.execute("CREATE TABLE IF NOT EXISTS peak_testnet_schema (version integer NOT NULL)")
        cur.execute("INSERT INTO peak_testnet_schema (version) VALUES (0)")
    for step in MIGRATIONS[version:]:
        cur.execute(step)
    cur.execute("UPDATE peak_testnet_schema SET version = %s", (SCHEMA_VERSION,))


def _record(row: Sequence[Any]) -> RunRecord:
    return RunRecord(*row)  # COLUMNS is RUN_FIELDS: the row is in field order


def _insert(cur: psycopg.Cursor[Any], day: date, run: RunRecord) -> None:
    values = [getattr(run, name) for name in COLUMNS]
    cur.execute(f"INSERT INTO peak_testnet_runs (day, {', '.join(COLUMNS)}) "
                f"VALUES (%s, {', '.join(['%s'] * len(COLUMNS))})", (day, *values))


def _close(cur: psycopg.Cursor[Any], run: RunRecord) -> None:
    cur.execute("UPDATE peak_testnet_runs SET status = %s, ended_at = %s, outcome = %s WHERE run_id = %s",
                (run.status, run.ended_at, run.outcome, run.run_id))
