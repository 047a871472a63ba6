"""The figures measured inside this process: strategy + executor throughput, the ledger."""

from __future__ import annotations

import multiprocessing
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from pytest_peak_testnet.desk.config import EnvironmentConfig, RiskLimitsConfig
from pytest_peak_testnet.desk.usage import Ledger, UsageLedger, money
from pytest_peak_testnet.exchange.protocol import OrderAck
from pytest_peak_testnet.reporting.runlog import RunLog
from pytest_peak_testnet.trading.executor import OrderRequest, TestnetExchangeOrderExecutor
from pytest_peak_testnet.trading.market import Candle
from pytest_peak_testnet.trading.risk import LiveRiskLimits, RiskState
from pytest_peak_testnet.trading.strategies import BUILTIN_STRATEGIES, make_strategy

#: Defaults, except RSI's zones, which the defaults make rare on a random walk.
STRATEGY_PARAMS = {"ma_crossover": {}, "rsi_strategy": {"oversold": 45.0, "overbought": 55.0}, "momentum_1h": {}}
ALLOW = SimpleNamespace(allowed=True)
TICK = Decimal("0.1")
VOLUME = Decimal("0.001")


def candles(count: int, seed: int = 7) -> list[Candle]:
    """A 1m random walk around 60,000 on Kraken's 0.1 EUR grid, exact as the client parses it."""
    rng = random.Random(seed)
    price, rows = Decimal("60000.0"), []
    for i in range(count):
        close = (price * Decimal(1 + rng.gauss(0, 0.001))).quantize(TICK)
        rows.append(Candle(1_700_000_000 + 60 * i, price, max(price, close), min(price, close), close,
                           ((price + close) / 2).quantize(TICK), Decimal(1), 10))
        price = close
    return rows


class OfflineClient:
    """Answers an order as a venue does in validate-only mode, with no HTTP."""

    validate_only = True

    def place_order(self, symbol: str, side: str, type: str, quantity: Decimal, *_: object) -> OrderAck:
        return OrderAck(client_order_id="1", order_id=None, validated=True, status=None,
                        description=f"{side} {quantity} {symbol} @ market")


def throughput_noop(rows: list[Candle], repeat: int) -> float:
    """The floor: the same loop calling a function that does nothing with each candle."""
    def on_candle(candle: Candle) -> None:
        return None

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for candle in rows:
            signal = on_candle(candle)
            if signal is not None:
                pass
        best = min(best, time.perf_counter() - start)
    return len(rows) / best


def throughput(name: str, rows: list[Candle], log_dir: Path, repeat: int) -> tuple[float, int]:
    """Best-of-``repeat`` candles per second through strategy -> guarded executor, and orders sent."""
    best, orders = float("inf"), 0
    state = RiskState(exposure=Decimal(0), daily_loss=Decimal(0))
    for _ in range(repeat):
        strategy = make_strategy(name, STRATEGY_PARAMS[name], "bench: ", BUILTIN_STRATEGIES)
        log = RunLog(log_dir, name, "bench")
        executor = TestnetExchangeOrderExecutor(EnvironmentConfig(mode="testnet"), OfflineClient(),  # type: ignore[arg-type]
                                                LiveRiskLimits(RiskLimitsConfig()), log, "BTC/EUR")
        on_candle, submit = strategy.on_candle, executor.submit
        start = time.perf_counter()
        for candle in rows:
            signal = on_candle(candle)
            if signal is not None:
                submit(OrderRequest(signal, VOLUME, candle.close, candle.time), state)
        best = min(best, time.perf_counter() - start)
        log.close()
        orders = executor.tally.sent
    return len(rows) / best, orders


@dataclass(frozen=True)
class LedgerResult:
    cycles: int
    seconds: float
    exact: bool
    detail: str

    @property
    def per_second(self) -> float:
        return self.cycles / self.seconds


def _open(base: str, url: str | None) -> Ledger:
    """The JSON ledger in ``base``, or the PostgreSQL one at ``url``."""
    if url is None:
        return UsageLedger(Path(base), 30)
    from pytest_peak_testnet.desk.ledger_pg import PostgresLedger

    return PostgresLedger(url, 30)


def _cycles(base: str, worker: int, count: int, go: multiprocessing.synchronize.Event,  # type: ignore[name-defined]
            out: multiprocessing.Queue, url: str | None = None) -> None:  # type: ignore[type-arg]
    ledger = _open(base, url)
    ledger.read()  # connected (and the schema made) before the clock starts
    go.wait()
    start = time.monotonic()
    for i in range(count):
        _, reservation = ledger.reserve(f"w{worker}", f"bench::w{worker}", "live", "100", 2, lambda usage: ALLOW)
        assert reservation is not None
        ledger.settle(reservation, _notional(worker, i), 1, "passed")
    out.put((start, time.monotonic()))


def _notional(worker: int, i: int) -> str:
    """Amounts with all 8 decimals in use, which a float sum would not keep exact."""
    return f"{worker + 1}.{(i * 7919 + worker * 104729) % 10**8:08d}"


def ledger(processes: int, cycles_each: int, url: str | None = None) -> LedgerResult:
    """``processes`` processes reserve and settle on one ledger (JSON files, or the PostgreSQL
    database at ``url``, which must be empty); then its totals are checked."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with tempfile.TemporaryDirectory(prefix="ledger-") as base:
        go, out = context.Event(), context.Queue()
        workers = [context.Process(target=_cycles, args=(base, w, cycles_each, go, out, url)) for w in range(processes)]
        for proc in workers:
            proc.start()
        go.set()
        spans = [out.get() for _ in workers]
        for proc in workers:
            proc.join()
            if proc.exitcode != 0:
                raise SystemExit(f"ledger worker failed with exit code {proc.exitcode}")
        seconds = max(end for _, end in spans) - min(start for start, _ in spans)
        usage = _open(base, url).read(datetime.now(timezone.utc).date())
        expected = sum((money(_notional(w, i)) for w in range(processes) for i in range(cycles_each)), Decimal(0))
        total = processes * cycles_each
        got = (usage.notional_spent, usage.trades_spent, usage.runs, usage.notional_reserved, usage.trades_reserved)
        want = (expected, total, total, Decimal(0), 0)
        detail = f"notional {got[0]} (expected {expected}), trades {got[1]}/{total}, runs {got[2]}/{total}"
        return LedgerResult(total, seconds, got == want, detail)
