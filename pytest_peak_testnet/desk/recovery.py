"""What a killed run spent, read back from its run log when its reservation is released.

A run killed outright (SIGKILL, a lost machine) cannot settle; its reservation is later
released as abandoned. The exchange may still have accepted its orders, and its run log
(one folder per run under ``runs_base_dir``, named after the reservation's run id) says
which: every ``order_outcome`` that is ``validated``, ``placed`` or ``unknown`` is a trade,
counted at the notional its ``order_request`` was sized at. A log that reached
``run_finished`` states the run's own figures, which are taken as they are. The event
names are the executor's and the session's (``trading``); this module only reads lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

ACCEPTED = ("validated", "placed", "unknown")


@dataclass(frozen=True)
class Recovered:
    notional: Decimal
    trades: int
    log: Path


def recover(runs_dir: Path | None, run_id: str) -> Recovered | None:
    """The run's spend as its log tells it; None when there is no readable log."""
    if runs_dir is None or not runs_dir.is_dir():
        return None
    for log in sorted(runs_dir.glob(f"*-{run_id}/events.jsonl")):
        try:
            return _spent(log)
        except (OSError, ValueError, InvalidOperation):
            return None
    return None


def _spent(log: Path) -> Recovered:
    notional, trades, sized = Decimal(0), 0, Decimal(0)
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the line a kill cut short
        kind = event.get("event")
        if kind == "run_finished":
            return Recovered(Decimal(str(event["spent_notional"])), int(event["spent_trades"]), log)
        if kind == "order_request":
            sized = Decimal(str(event["notional"]))
        elif kind == "order_outcome" and event.get("status") in ACCEPTED:
            notional, trades = notional + sized, trades + 1
    return Recovered(notional, trades, log)
