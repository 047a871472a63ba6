"""The daily usage ledger: what testnet runs reserved and spent, one JSON file per UTC day.

xdist workers and separate pytest processes share it, so every read-modify-write runs
under an inter-process lock on a separate lock file, and every write goes to a temp file
in the same folder that is fsynced and renamed over the old one: a reader sees the old
day or the new day, never half of one. A file that does not parse is an error, never
"no usage": reading it as empty would hand the whole budget out again.

Money is ``Decimal`` so totals are exact however many processes add to them.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from ..atomic import atomic_write
from ..errors import InputError
from ..trading.exact import exact, plain
from . import processes
from .journal import SETTLE_SECONDS, Journal, PendingSettle, settle_surely
from .locking import LockTimeout, exclusive
from .recovery import recover

log = logging.getLogger(__name__)

#: live runs reach an exchange and spend the budget; replays and simulator runs do not.
RunMode = Literal["live", "replay", "simulator"]
#: ``abandoned``: reserved by a process that is gone; released by the next ledger access on
#: its host, or by hand (``peak-testnet ledger release RUN_ID``).
Status = Literal["reserved", "settled", "abandoned"]
STATUSES: tuple[Status, ...] = ("reserved", "settled", "abandoned")


class Admission(Protocol):
    """What the limits answer; the ledger only needs to know yes or no."""

    @property
    def allowed(self) -> bool: ...


D = TypeVar("D", bound=Admission)


def money(value: Any) -> Decimal:
    """An exact amount: a run's filled notional has as many decimals as its prices and
    volumes make, and the ledger keeps all of them (as decimal strings in the file)."""
    return Decimal(str(value))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LedgerError(InputError):
    """The ledger file cannot be trusted; a person has to look at it."""


@dataclass
class RunRecord:
    """One run in the day's ledger: what it reserved, then what it spent once settled."""

    run_id: str
    profile: str
    nodeid: str
    mode: RunMode
    planned_notional: Decimal
    planned_trades: int
    started_at: str
    status: Status = "reserved"
    actual_notional: Decimal | None = None
    actual_trades: int | None = None
    ended_at: str | None = None
    outcome: str | None = None
    #: Where the reserving process runs: a reservation whose process is gone is released.
    host: str | None = None
    pid: int | None = None
    #: The pair traded; per-symbol daily caps count it. Ledgers written before it have none.
    symbol: str | None = None
    #: The ``[exchange.NAME]`` block the run traded on. Ledgers written before it have none.
    venue: str | None = None

    @classmethod
    def reservation(cls, profile: str, nodeid: str, mode: RunMode, notional: Any, trades: int, now: str,
                    symbol: str | None, venue: str | None = None) -> RunRecord:
        """A new reservation by this process (its host and pid say whether it is still alive)."""
        return cls(run_id=uuid.uuid4().hex[:12], profile=profile, nodeid=nodeid, mode=mode,
                   planned_notional=money(notional), planned_trades=trades, started_at=now, host=processes.host(),
                   pid=os.getpid(), symbol=symbol, venue=venue)

    @classmethod
    def unspent(cls, profile: str, nodeid: str, mode: RunMode, planned_notional: Any, planned_trades: int,
                notional: Any, trades: int, outcome: str, now: str, symbol: str | None,
                venue: str | None = None) -> RunRecord:
        """A run that reached no exchange, settled as it is logged."""
        return cls(run_id=uuid.uuid4().hex[:12], profile=profile, nodeid=nodeid, mode=mode,
                   planned_notional=money(planned_notional), planned_trades=planned_trades, started_at=now,
                   status="settled", actual_notional=money(notional), actual_trades=trades, ended_at=now,
                   outcome=outcome, symbol=symbol, venue=venue)

    def abandoned_here(self) -> bool:
        """Reserved by a process on this host that no longer runs."""
        if self.status != "reserved" or self.host != processes.host() or self.pid is None:
            return False
        started = datetime.fromisoformat(self.started_at).timestamp()
        return not processes.alive(self.pid, started_before=started)

    def release(self, ended_at: str, why: str, runs_dir: Path | None = None) -> None:
        """Released: it holds nothing back any more, and spent what its run log says the
        exchange accepted (``recovery``), if there is a log to say it."""
        self.status, self.ended_at, self.outcome = "abandoned", ended_at, f"abandoned: {why}"
        found = recover(runs_dir, self.run_id) if self.spends else None
        if found is not None:
            self.actual_notional, self.actual_trades = found.notional, found.trades
            self.outcome += f"; {found.trades} accepted orders ({exact(found.notional)}) counted from {found.log}"

    @property
    def spends(self) -> bool:
        return self.mode == "live"

    @property
    def reserved(self) -> tuple[Decimal, int]:
        """What an open reservation still holds back."""
        if self.spends and self.status == "reserved":
            return self.planned_notional, self.planned_trades
        return Decimal(0), 0

    @property
    def spent(self) -> tuple[Decimal, int]:
        """Settled runs, and abandoned ones whose run log told what they spent."""
        if self.spends and self.status in ("settled", "abandoned"):
            return self.actual_notional or Decimal(0), self.actual_trades or 0
        return Decimal(0), 0


@dataclass
class DayUsage:
    """One UTC day of the ledger; totals are computed from its runs, so they cannot drift."""

    day: date
    run_log: list[RunRecord] = field(default_factory=list)

    @property
    def notional_spent(self) -> Decimal:
        return sum((r.spent[0] for r in self.run_log), Decimal(0))

    @property
    def trades_spent(self) -> int:
        return sum(r.spent[1] for r in self.run_log)

    @property
    def notional_reserved(self) -> Decimal:
        return sum((r.reserved[0] for r in self.run_log), Decimal(0))

    @property
    def trades_reserved(self) -> int:
        return sum(r.reserved[1] for r in self.run_log)

    @property
    def notional_used(self) -> Decimal:
        """Spent plus still reserved: what the daily limit is checked against."""
        return self.notional_spent + self.notional_reserved

    @property
    def trades_used(self) -> int:
        return self.trades_spent + self.trades_reserved

    @property
    def runs(self) -> int:
        return sum(1 for r in self.run_log if r.spends)

    @property
    def abandoned(self) -> list[RunRecord]:
        return [r for r in self.run_log if r.status == "abandoned"]

    @property
    def unspent_runs(self) -> int:
        """Replays and simulator recordings: logged, never counted against the budget."""
        return sum(1 for r in self.run_log if not r.spends)

    def used_for(self, symbol: str) -> tuple[Decimal, int]:
        """Spent plus still reserved by the runs on ``symbol``: what its daily caps are checked against."""
        return _used(r for r in self.run_log if r.symbol == symbol)

    def used_on(self) -> dict[str, tuple[Decimal, int, int]]:
        """Per exchange block the day's runs name: spent plus reserved notional and trades,
        and how many runs (of any mode). Runs logged before the venue was recorded are left out."""
        names = sorted({r.venue for r in self.run_log if r.venue})
        return {name: (*_used(r for r in self.run_log if r.venue == name),
                       sum(1 for r in self.run_log if r.venue == name)) for name in names}

    def find(self, run_id: str) -> RunRecord:
        for run in self.run_log:
            if run.run_id == run_id:
                return run
        raise KeyError(run_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "notional_used": exact(self.notional_spent),
            "trades_executed": self.trades_spent,
            "runs": self.runs,
            "notional_reserved": exact(self.notional_reserved),
            "trades_reserved": self.trades_reserved,
            "run_log": [plain(vars(run)) for run in self.run_log],
        }

    def to_text(self) -> str:
        """The day's file: its totals indented, then one run per line. A day's file is
        rewritten whole on every reserve and settle, so this is what a busy day costs each
        run; one line per run also keeps a day's diff to the runs that changed."""
        data = self.to_json()
        runs = data.pop("run_log")
        head = json.dumps(data, indent=2)[: -len("\n}")]
        if not runs:
            return f'{head},\n  "run_log": []\n}}\n'
        body = ",\n".join(f"    {json.dumps(run)}" for run in runs)
        return f'{head},\n  "run_log": [\n{body}\n  ]\n}}\n'


def _used(runs: Iterable[RunRecord]) -> tuple[Decimal, int]:
    notional, trades = Decimal(0), 0
    for run in runs:
        notional += run.spent[0] + run.reserved[0]
        trades += run.spent[1] + run.reserved[1]
    return notional, trades


@dataclass(frozen=True)
class Reservation:
    """A handle to settle later; it carries its day, so a run across midnight settles right."""

    run_id: str
    day: date


class Ledger(Protocol):
    """What the limits, the fixtures, ``--testnet-budget``, the report, the dashboard and the
    CLI use: one interface, two backends (``UsageLedger`` here, JSON files for one machine;
    ``ledger_pg.PostgresLedger`` for a desk whose machines share one budget)."""

    retention_days: int
    #: Settles that could not be written yet, applied by the next access (``journal``).
    journal: Journal

    def today(self) -> date: ...

    def where(self, day: date) -> str:
        """Where that day is kept, for people (a file, or a database without its password)."""
        ...

    def read(self, day: date | None = None) -> DayUsage: ...

    def reserve(self, profile: str, nodeid: str, mode: RunMode, notional: Any, trades: int,
                admit: Callable[[DayUsage], D], symbol: str | None = None,
                venue: str | None = None) -> tuple[D, Reservation | None]: ...

    def settle(self, reservation: Reservation, notional: Any, trades: int, outcome: str) -> RunRecord: ...

    def log_unspent(self, profile: str, nodeid: str, mode: RunMode, planned_notional: Any, planned_trades: int,
                    notional: Any, trades: int, outcome: str, symbol: str | None = None,
                    venue: str | None = None) -> None: ...

    def release_abandoned(self) -> list[RunRecord]: ...

    def release(self, run_id: str, why: str) -> tuple[RunRecord, str]: ...

    def prune(self) -> Sequence[object]: ...

    def history(self) -> list[DayUsage]: ...


RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
_TYPES: dict[str, tuple[type, ...]] = {
    "planned_notional": (Decimal, int, str), "actual_notional": (Decimal, int, str, type(None)),
    "planned_trades": (int,), "actual_trades": (int, type(None)), "pid": (int, type(None)),
    "host": (str, type(None)), "run_id": (str,), "started_at": (str,), "symbol": (str, type(None)),
    "venue": (str, type(None)),
}


class UsageLedger:
    """Reserve before a run, settle after it; read any time without the lock.

    ``runs_dir``: the run logs, from which a released run's accepted orders are counted.
    ``settle_seconds``: how long a settle is tried before it is journaled (``journal``)."""

    def __init__(self, base_dir: Path, retention_days: int, now: Callable[[], datetime] = utc_now,
                 runs_dir: Path | None = None, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.dir = base_dir / "usage"
        self.retention_days = retention_days
        self._now = now
        self._lock_path = self.dir / ".usage.lock"
        self.journal = Journal(self.dir / "pending")
        self.runs_dir = runs_dir
        self.settle_seconds = settle_seconds

    def today(self) -> date:
        return self._now().date()

    def path_for(self, day: date) -> Path:
        return self.dir / f"usage_{day.isoformat()}.json"

    def where(self, day: date) -> str:
        return str(self.path_for(day))

    def read(self, day: date | None = None) -> DayUsage:
        day = day or self.today()
        path = self.path_for(day)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return DayUsage(day)
        except UnicodeDecodeError as exc:
            raise LedgerError(str(path), f"not UTF-8 text (byte {exc.start}); the ledger is not read as empty, "
                              "fix or remove the file") from None
        except OSError as exc:
            raise LedgerError(str(path), f"cannot read: {exc.strerror}") from None
        return _decode(path, day, text)

    def reserve(self, profile: str, nodeid: str, mode: RunMode, notional: Any, trades: int,
                admit: Callable[[DayUsage], D], symbol: str | None = None,
                venue: str | None = None) -> tuple[D, Reservation | None]:
        """Ask ``admit`` (the limits) with the day as it is under the lock; record the run
        only if it says yes. Check and write are one step, so two processes can never both
        take the last of the budget."""
        self.journal.apply(self._settle_once)
        with self._locked():
            usage = self.read(self.today())
            released = self._release_abandoned(usage)
            decision = admit(usage)
            if not decision.allowed:
                if released:
                    self._write(usage)
                return decision, None  # a refusal leaves no trace of its own
            run = RunRecord.reservation(profile, nodeid, mode, notional, trades,
                                        self._now().isoformat(timespec="seconds"), symbol, venue)
            usage.run_log.append(run)
            self._write(usage)
            return decision, Reservation(run.run_id, usage.day)

    def settle(self, reservation: Reservation, notional: Any, trades: int, outcome: str) -> RunRecord:
        """Replace the reservation by what the run actually spent; the rest is released.
        Tried again, then journaled, when the day cannot be written (``journal``)."""
        entry = PendingSettle(reservation.run_id, reservation.day, money(notional), trades, outcome, "")
        return settle_surely(self._settle_once, self.journal, entry, self.where(reservation.day), self.settle_seconds)

    def _settle_once(self, entry: PendingSettle) -> RunRecord:
        """One try, waiting for the lock no longer than a settle may take."""
        try:
            with self._update(entry.day, timeout=self.settle_seconds) as usage:
                try:
                    run = usage.find(entry.run_id)
                except KeyError:
                    raise LedgerError(str(self.path_for(entry.day)),
                                      f"run {entry.run_id} is not in the ledger; was the file edited?") from None
                run.status = "settled"
                run.actual_notional, run.actual_trades = entry.notional, entry.trades
                run.ended_at, run.outcome = self._now().isoformat(timespec="seconds"), entry.outcome
                return run
        except LockTimeout as exc:
            raise LedgerError(str(self._lock_path), str(exc)) from None

    def log_unspent(self, profile: str, nodeid: str, mode: RunMode, planned_notional: Any, planned_trades: int,
                    notional: Any, trades: int, outcome: str, symbol: str | None = None,
                    venue: str | None = None) -> None:
        """Record a run that reached no exchange (a replay, a simulator recording): it shows
        in the day's history but spends nothing."""
        run = RunRecord.unspent(profile, nodeid, mode, planned_notional, planned_trades, notional, trades, outcome,
                                self._now().isoformat(timespec="seconds"), symbol, venue)
        with self._update(self.today()) as usage:
            usage.run_log.append(run)

    def release_abandoned(self) -> list[RunRecord]:
        """Release, in every day kept, the reservations of processes on this host that are
        gone (killed outright, so they could not settle); returns them. Settles kept in
        the journal are applied first."""
        self.journal.apply(self._settle_once)
        released = []
        with self._locked():
            for day in self._days():
                try:
                    usage = self.read(day)
                except LedgerError:
                    continue  # left as it is; whoever reads that day is told why
                gone = self._release_abandoned(usage)
                if gone:
                    self._write(usage)
                    released += gone
        return released

    def release(self, run_id: str, why: str) -> tuple[RunRecord, str]:
        """Release one reservation by hand (its process ran on another host, say)."""
        with self._locked():
            for day in reversed(self._days()):
                usage = self.read(day)
                try:
                    run = usage.find(run_id)
                except KeyError:
                    continue
                if run.status != "reserved":
                    raise LedgerError(str(self.path_for(day)), f"run {run_id} is {run.status} "
                                      f"({run.outcome or 'no outcome'}); there is nothing to release")
                run.release(self._now().isoformat(timespec="seconds"), why)
                self._write(usage)
                return run, str(self.path_for(day))
        raise LedgerError(str(self.dir), f"no run {run_id} in the ledger")

    def _release_abandoned(self, usage: DayUsage) -> list[RunRecord]:
        """A run whose settle waits in the journal is not released: the journal settles it."""
        gone = [run for run in usage.run_log if run.abandoned_here()]
        if gone:
            pending = self.journal.run_ids()
            gone = [run for run in gone if run.run_id not in pending]
        for run in gone:
            run.release(self._now().isoformat(timespec="seconds"), f"process {run.pid} on {run.host} is gone",
                        self.runs_dir)
            log.warning("ledger %s: run %s (%s) %s", usage.day, run.run_id, run.profile, run.outcome)
        return gone

    def _days(self) -> list[date]:
        days = []
        for path in sorted(self.dir.glob("usage_*.json")):
            try:
                days.append(date.fromisoformat(path.stem.removeprefix("usage_")))
            except ValueError:
                continue
        return days

    def prune(self) -> list[Path]:
        """Delete day files older than the retention period; returns what went."""
        cutoff = self.today() - timedelta(days=self.retention_days)
        gone = []
        with self._locked():
            for day in self._days():
                if day < cutoff:
                    self.path_for(day).unlink()
                    gone.append(self.path_for(day))
        return gone

    def history(self) -> list[DayUsage]:
        """Every day still kept, oldest first."""
        return [self.read(day) for day in self._days()]

    @contextmanager
    def _locked(self, timeout: float | None = None) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with exclusive(self._lock_path, timeout):
            yield

    @contextmanager
    def _update(self, day: date, timeout: float | None = None) -> Iterator[DayUsage]:
        with self._locked(timeout):
            usage = self.read(day)
            self._release_abandoned(usage)
            yield usage
            self._write(usage)

    def _write(self, usage: DayUsage) -> None:
        atomic_write(self.path_for(usage.day), usage.to_text(), durable=True)


def _decode(path: Path, day: date, text: str) -> DayUsage:
    def bad(what: str) -> LedgerError:
        return LedgerError(str(path), f"{what}; the ledger is not read as empty, fix or remove the file")

    try:
        data = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, InvalidOperation) as exc:
        raise bad(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise bad("nested too deep to be a ledger") from None
    if not isinstance(data, dict) or not isinstance(data.get("run_log"), list):
        raise bad("expected an object with a run_log list")
    if data.get("date") != day.isoformat():
        raise bad(f"date is {data.get('date')!r}, expected {day.isoformat()!r}")
    runs = []
    for i, raw in enumerate(data["run_log"]):
        if not isinstance(raw, dict) or set(raw) - set(RUN_FIELDS) or "run_id" not in raw:
            raise bad(f"run_log[{i}] is not a run record")
        for key, types in _TYPES.items():
            if not isinstance(raw.get(key), types) or isinstance(raw.get(key), bool):
                raise bad(f"run_log[{i}].{key} is {raw.get(key)!r}")
        if raw.get("status", "reserved") not in STATUSES or raw.get("mode") not in ("live", "replay", "simulator"):
            raise bad(f"run_log[{i}] has status {raw.get('status')!r} and mode {raw.get('mode')!r}")
        try:
            run = RunRecord(**raw)
            datetime.fromisoformat(run.started_at)
        except (TypeError, ValueError) as exc:
            raise bad(f"run_log[{i}]: {exc}") from None
        for key in ("planned_notional", "actual_notional"):
            if getattr(run, key) is not None:
                try:
                    setattr(run, key, money(getattr(run, key)))
                except InvalidOperation:
                    raise bad(f"run_log[{i}].{key} is {getattr(run, key)!r}, not an amount") from None
        for key in ("planned_notional", "actual_notional", "planned_trades", "actual_trades"):
            figure = getattr(run, key)
            if figure is not None and not (Decimal(figure).is_finite() and figure >= 0):
                # a negative spend would hand budget back, an infinite one would wipe it out
                raise bad(f"run_log[{i}].{key} is {raw[key]!r}, not a count or amount of 0 or more")
        runs.append(run)
    usage = DayUsage(day, runs)
    try:
        total = money(data.get("notional_used", -1))
    except InvalidOperation:
        raise bad(f"notional_used is {data.get('notional_used')!r}, not an amount") from None
    if total != usage.notional_spent or data.get("trades_executed") != usage.trades_spent:
        raise bad("its totals disagree with its run_log")
    return usage
