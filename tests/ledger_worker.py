"""A process that uses a ledger, run by the tests and the benchmark as a separate process.

    python ledger_worker.py cycles json|postgres WHERE N LIMIT   # N reserve/settle cycles
    python ledger_worker.py abandon json|postgres WHERE          # reserve, then die unsettled

WHERE is the JSON ledger's base folder or the database URL. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

from pytest_peak_testnet.desk.config import DailyLimits, RunLimits, SymbolPolicy
from pytest_peak_testnet.desk.limits import LimitsController, Plan
from pytest_peak_testnet.desk.usage import Ledger, UsageLedger

PLANNED, ACTUAL = Decimal("7.35"), Decimal("7.3")


def open_ledger(kind: str, where: str) -> Ledger:
    if kind == "json":
        return UsageLedger(Path(where), 30)
    from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

    return PostgresLedger(where, 30)


def cycles(ledger: Ledger, count: int, limit: Decimal) -> dict[str, object]:
    limits = LimitsController(RunLimits(), DailyLimits(max_notional_per_day=limit, max_trades_per_day=10**6),
                              SymbolPolicy(), ledger)
    plan = Plan("BTC/EUR", PLANNED, 1, 1)
    settled, refused = [], 0
    started = time.perf_counter()
    for i in range(count):
        _, reservation = limits.reserve_run(plan, "worker", f"cycle {i}", "live")
        if reservation is None:
            refused += 1
            continue
        settled.append(ledger.settle(reservation, ACTUAL, 1, "passed").run_id)
    return {"settled": settled, "refused": refused, "seconds": time.perf_counter() - started}


def main(argv: list[str]) -> None:
    command, kind, where = argv[:3]
    ledger = open_ledger(kind, where)
    if command == "cycles":
        print(json.dumps(cycles(ledger, int(argv[3]), Decimal(argv[4]))), flush=True)
    else:
        limits = LimitsController(RunLimits(), DailyLimits(), SymbolPolicy(), ledger)
        _, reservation = limits.reserve_run(Plan("BTC/EUR", Decimal(500), 5, 1), "gone", "abandon", "live")
        assert reservation is not None
        print(json.dumps({"run_id": reservation.run_id, "pid": os.getpid()}), flush=True)
        os._exit(0)  # killed, as far as the ledger can tell: no settle


if __name__ == "__main__":
    main(sys.argv[1:])
