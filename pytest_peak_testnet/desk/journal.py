"""Settles that survive the ledger going away: retried within a bound, else journaled.

A live run's settle is the only record of what the exchange accepted. When it fails
(PostgreSQL restarted and the connection is stale, the disk is full, the ledger lock is
held too long) it is tried again, with a new connection, for up to ``SETTLE_SECONDS``.
If it still cannot be written, the settle is kept as one small file in the journal folder
beside the ledger, and the next ledger access on this machine (a reserve, a session's
start, ``--testnet-budget``) applies it: a run's spend is never dropped. SIGINT and SIGTERM
wait until all of this is done (``interrupts.held``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from ..atomic import atomic_write
from ..errors import InputError
from ..interrupts import held
from ..trading.exact import exact

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How long a settle is tried before it is journaled; a database restart takes seconds.
SETTLE_SECONDS = 10.0
#: The first wait between tries; each next one doubles, up to ``MAX_WAIT_SECONDS``.
FIRST_WAIT_SECONDS = 0.25
MAX_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class PendingSettle:
    """A settle the ledger could not take yet: what ``Ledger.settle`` was asked."""

    run_id: str
    day: date
    notional: Decimal
    trades: int
    outcome: str
    #: Why it was journaled, for ``--testnet-budget``.
    why: str

    def to_text(self) -> str:
        return json.dumps({**asdict(self), "day": self.day.isoformat(), "notional": exact(self.notional)}) + "\n"

    @classmethod
    def from_text(cls, text: str) -> PendingSettle:
        data = json.loads(text)
        return cls(run_id=str(data["run_id"]), day=date.fromisoformat(data["day"]), notional=Decimal(data["notional"]),
                   trades=int(data["trades"]), outcome=str(data["outcome"]), why=str(data["why"]))


class Journal:
    """One file per pending settle, each written whole: an entry is there complete or not
    at all, and applying one never races with another being written."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, run_id: str) -> Path:
        return self.folder / f"settle_{run_id}.json"

    def keep(self, entry: PendingSettle) -> Path:
        path = self.path_for(entry.run_id)
        atomic_write(path, entry.to_text(), durable=True)
        return path

    def pending(self) -> list[tuple[Path, PendingSettle]]:
        """What waits to be applied; an entry that does not parse is an error, never skipped."""
        entries = []
        for path in sorted(self.folder.glob("settle_*.json")) if self.folder.is_dir() else ():
            try:
                entries.append((path, PendingSettle.from_text(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, LookupError, TypeError, ArithmeticError) as exc:
                raise InputError(str(path), f"a pending settle that cannot be read ({exc}); fix or apply it "
                                  "by hand, then remove the file") from None
        return entries

    def run_ids(self) -> set[str]:
        """Runs with a settle waiting: they are not released as abandoned meanwhile."""
        if not self.folder.is_dir():
            return set()
        return {path.stem.removeprefix("settle_") for path in self.folder.glob("settle_*.json")}

    def apply(self, settle: Callable[[PendingSettle], object]) -> list[PendingSettle]:
        """Apply every pending settle with ``settle`` (the ledger's, tried once); an entry
        whose settle fails stays for the next access. Returns what was applied."""
        applied = []
        for path, entry in self.pending():
            try:
                settle(entry)
            except (InputError, OSError) as exc:
                log.warning("pending settle %s not applied yet: %s", path, exc)
                continue
            path.unlink(missing_ok=True)
            applied.append(entry)
        return applied


def settle_surely(settle: Callable[[PendingSettle], T], journal: Journal, entry: PendingSettle, where: str,
                  seconds: float = SETTLE_SECONDS) -> T:
    """``settle(entry)`` (the ledger's, tried once per call), again and again for up to
    ``seconds``; then the journal, and a ``SettleJournaled`` that says where the spend is
    kept (or, should even that fail, that it is not in the ledger, with its figures)."""
    with held():
        deadline, wait = time.monotonic() + seconds, FIRST_WAIT_SECONDS
        while True:
            try:
                return settle(entry)
            except (InputError, OSError) as exc:
                why = failure(exc, where)
            if time.monotonic() + wait > deadline:
                break
            log.warning("settle of run %s failed, trying again in %.2f s: %s", entry.run_id, wait, why)
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_SECONDS)
        spend = f"{exact(entry.notional)} notional and {entry.trades} trades of run {entry.run_id}"
        try:
            path = journal.keep(PendingSettle(entry.run_id, entry.day, entry.notional, entry.trades, entry.outcome,
                                              why))
        except OSError as exc:
            raise SettleJournaled(where, f"could not settle for {seconds:g} s ({why}), nor keep it in "
                                  f"{journal.folder} ({exc.strerror}): {spend} are NOT in the ledger") from None
    raise SettleJournaled(where, f"could not settle for {seconds:g} s ({why}); {spend} are kept in {path} "
                          "and applied at the next ledger access")


def failure(exc: InputError | OSError, where: str) -> str:
    """Why a settle failed, for a ``SettleJournaled`` that names ``where`` already: a
    file-system error on the ledger file itself is its type and reason, not the path again."""
    if isinstance(exc, InputError):
        return str(exc)
    if exc.errno is not None and exc.filename is not None and os.path.realpath(exc.filename) == os.path.realpath(where):
        exc = OSError(exc.errno, exc.strerror)
    return f"{type(exc).__name__}: {exc}"


class SettleJournaled(InputError):
    """The run's settle is in the journal, not (yet) in the ledger."""
