"""One testnet session: candles in, signals out, orders through the guarded executor.

Validate-only orders never fill, so fills are simulated on a paper account: an accepted
order fills at the *next* candle's open (the first price the market offers after the
decision, so there is no look-ahead), with slippage and fees. Time is the exchange's:
the session stops when the server clock passes the planned duration, and the clock only
decides how waiting happens (real, instant in a replay, or by advancing the simulator).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .clock import Clock
from .config import TIMEFRAMES, SessionConfig
from .executor import OrderRequest, Outcome, TestnetExchangeOrderExecutor
from .kraken import KrakenTestnetClient
from .market import Candle
from .paper import Metrics, PaperAccount, Side
from .profiles import Profile
from .risk import RiskState
from .runlog import RunLog
from .strategies import Strategy

DURATION_ELAPSED = "DURATION_ELAPSED"
SELL_HEADROOM = 1.05


@dataclass(frozen=True)
class Rejection:
    time: float
    side: Side
    by: str
    reason: str


@dataclass(frozen=True)
class SessionResult:
    profile: str
    strategy: str
    symbol: str
    timeframe: str
    validate_only: bool
    started_at: int
    ended_at: int
    candles: int
    stop_reason: str
    #: What reached the exchange and was accepted: this is what the ledger settles.
    spent_notional: float
    spent_trades: int
    metrics: Metrics
    rejections: tuple[Rejection, ...]
    log_path: Path

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = self.metrics.to_dict()
        data["log_path"] = str(self.log_path)
        return data


class Session:
    """Runs a profile once. ``spent_notional``/``spent_trades`` are kept current, so what a
    failed or interrupted run used can still be settled."""

    def __init__(self, profile: Profile, strategy: Strategy, settings: SessionConfig, max_order_notional: float,
                 client: KrakenTestnetClient, executor: TestnetExchangeOrderExecutor, clock: Clock, log: RunLog) -> None:
        self.profile = profile
        self.strategy = strategy
        self.settings = settings
        self.max_order_notional = max_order_notional
        self.client = client
        self.executor = executor
        self.clock = clock
        self.log = log
        self.paper = PaperAccount(settings)
        #: A buy is sized to position_fraction of equity, but never past the risk limit per
        #: order nor past an even share of the run's notional (less SELL_HEADROOM, so the sell
        #: that closes the position still fits after a rise), so a run can use all its trades.
        self.order_cap = min(max_order_notional, profile.max_notional / profile.max_trades / SELL_HEADROOM)
        self.spent_notional = 0.0
        self.spent_trades = 0
        self.rejections: list[Rejection] = []
        self._pending: tuple[Side, float] | None = None
        self._candles = 0

    def run(self) -> SessionResult:
        p, interval = self.profile, TIMEFRAMES[self.profile.timeframe]
        started = self.client.server_time()
        end = started + p.duration_minutes * 60
        self.log.write("run_started", started, profile=p.name, strategy=p.strategy, symbol=p.symbol,
                       timeframe=p.timeframe, duration_minutes=p.duration_minutes, max_notional=p.max_notional,
                       max_trades=p.max_trades, validate_only=self.executor.validate_only)
        page = self.client.ohlc(p.symbol, interval)
        warmup = page.candles[-self.settings.warmup_candles:]
        for candle in warmup:
            self.strategy.on_candle(candle)  # signals before the start are history, not orders
        last_time = warmup[-1].time if warmup else 0
        since, now, stop = page.last, started, None
        while stop is None:
            self.clock.sleep(self.settings.poll_interval_seconds)
            now = self.client.server_time()
            page = self.client.ohlc(p.symbol, interval, since=since)
            since = page.last
            for candle in page.candles:
                if candle.time <= last_time or candle.time + interval * 60 > end:
                    continue  # seen already, or closes after the session's end
                last_time = candle.time
                stop = self._on_candle(candle)
                if stop:
                    break
            if stop is None and now >= end:
                stop = DURATION_ELAPSED
        metrics = self.paper.metrics(self.executor.tally)
        result = SessionResult(
            profile=p.name, strategy=p.strategy, symbol=p.symbol, timeframe=p.timeframe,
            validate_only=self.executor.validate_only, started_at=started, ended_at=now, candles=self._candles,
            stop_reason=stop, spent_notional=round(self.spent_notional, 8), spent_trades=self.spent_trades,
            metrics=metrics, rejections=tuple(self.rejections), log_path=self.log.path)
        self.log.write("run_finished", now, stop_reason=stop, spent_notional=result.spent_notional,
                       spent_trades=self.spent_trades, metrics=metrics.to_dict())
        return result

    def _on_candle(self, candle: Candle) -> str | None:
        """Fill what was accepted on the last candle, mark, ask the strategy; a stop reason
        when the run's own caps would be passed."""
        self._candles += 1
        paper = self.paper
        if self._pending is not None:
            side, volume = self._pending
            self._pending = None
            fill = paper.fill(side, volume, candle.open, candle.time)
            if fill is not None:
                self.log.write("fill", candle.time, side=side, volume=fill.volume, price=fill.price, fee=fill.fee,
                               realized_pnl=fill.realized_pnl)
        paper.mark(candle.close, candle.time)
        signal = self.strategy.on_candle(candle)
        if signal == "buy" and paper.position == 0:
            volume = min(paper.size(candle.close), self.order_cap / candle.close)
        elif signal == "sell" and paper.position > 0:
            volume = paper.position
        else:
            return None
        volume = math.floor(volume * 1e8) / 1e8
        if volume <= 0:
            return None
        order = OrderRequest(signal, volume, candle.close, candle.time)
        return self._send(order, RiskState(exposure=paper.position * candle.close, daily_loss=paper.daily_loss))

    def _send(self, order: OrderRequest, state: RiskState) -> str | None:
        p = self.profile
        if self.spent_trades + 1 > p.max_trades:
            return self._cap(order, f"RUN_MAX_TRADES_REACHED ({self.spent_trades} of {p.max_trades} trades used)")
        if self.spent_notional + order.notional > p.max_notional:
            return self._cap(order, f"RUN_MAX_NOTIONAL_REACHED ({self.spent_notional:.2f} used + "
                                    f"{order.notional:.2f} next > {p.max_notional:.2f})")
        outcome: Outcome = self.executor.submit(order, state)
        if outcome.accepted:
            self.spent_trades += 1
            self.spent_notional += order.notional
            self._pending = (order.side, order.volume)
        else:
            self.rejections.append(Rejection(order.time, order.side, outcome.by or "?", outcome.reason or ""))
        return None

    def _cap(self, order: OrderRequest, reason: str) -> str:
        self.log.write("limit_reached", order.time, reason=reason)
        return reason
