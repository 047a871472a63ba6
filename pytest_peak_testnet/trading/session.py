"""One testnet session: candles in, signals out, orders through the guarded executor.

Validate-only orders never fill, so fills are simulated on a paper account: an accepted
order fills at the *next* candle's open (the first price the market offers after the
decision, so there is no look-ahead), with slippage and fees. With live orders
(``validate_only = false`` and ``allow_live_orders = true``) nothing is invented: each
placed order is queried back (QueryOrders with its trades, then QueryTrades) right after it
is placed and at every candle until it is closed, and the account books the exchange's own
fills: its volumes, prices, costs and fees. Time is the exchange's:
the session stops when the server clock passes the planned duration, and the clock only
decides how waiting happens (real, instant in a replay, or by advancing the simulator).

What a candle does is ``Trader``'s job, shared by the session and by ``backtest``, which
runs the same logic over a list of candles with no exchange (the reference tests compare
it with independent backtesters). The rules:

- An order goes out only on a candle that has a next one to fill it. A sell sells the whole
  position cut down to the lot grid; a remainder below one lot step (a buy's commission
  taken in the base asset) is dust: the run is flat with it, and reports it. On the last candle a
  position still open is closed at that candle's close when the profile says
  ``close_at_end``; otherwise it is reported as open, with its unrealized PnL.
- A buy is sent only when the run's caps leave room for it *and* for the sell that closes
  it: two trades, and its notional plus ``SELL_HEADROOM`` times it for the sell. A sell that
  closes the position is never held back. When a buy does not fit, or the run's notional
  shared among its round trips makes it smaller than the pair's minimum order, the session
  ends (``RUN_MAX_TRADES_REACHED`` / ``RUN_MAX_NOTIONAL_REACHED``, logged as
  ``limit_reached``): it is flat then.
- A trade is an order the exchange accepted; the notional is the filled notional (volume
  times fill price, fees apart). An accepted order not filled yet counts at its order
  price. The run's caps, the ledger and the reports all use these two figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..desk.config import TIMEFRAMES, SessionConfig
from ..desk.profiles import Profile
from ..exchange.clock import Clock
from ..exchange.protocol import ExchangeClient, Instrument, OrderReport
from ..exchange.reference import ReferenceMarket, read
from ..reporting.runlog import RunLog
from .bounds import Bounds
from .drift import Drift, drift
from .exact import BOOKS, RATIOS, ZERO, exact, plain, total
from .execution import Execution, booking
from .executor import OrderRequest, Outcome, TestnetExchangeOrderExecutor
from .market import Candle
from .paper import Metrics, OrderTally, PaperAccount
from .risk import RiskState
from .strategies import Strategy

DURATION_ELAPSED = "DURATION_ELAPSED"
#: The sell that closes a position may be worth this much more than the buy that opened it
#: (a 5 % rise) and still fit the run's notional.
SELL_HEADROOM = Decimal("1.05")


@dataclass(frozen=True)
class Rejection:
    """An order the risk limits or the exchange refused, for the report."""

    time: int
    side: str
    by: str
    reason: str


class Trader:
    """The decisions of one run, candle by candle, and the paper account they trade on.

    ``on_candle`` fills what was accepted on the previous candle, marks the account, asks
    the strategy and returns an order to send, a stop reason, or None. The caller sends the
    order and calls ``accepted`` if the exchange took it."""

    def __init__(self, profile: Profile, strategy: Strategy, settings: SessionConfig, instrument: Instrument,
                 max_order_notional: Decimal, simulate_fills: bool = True) -> None:
        self.profile = profile
        #: False with live orders: the exchange's fills are booked through ``paper.record``.
        self.simulate_fills = simulate_fills
        self.strategy = strategy
        self.instrument = instrument
        self.paper = PaperAccount(settings, instrument.lot_step)
        #: A buy is sized to position_fraction of equity, but never past the risk limit per
        #: order nor past an even share of the run's notional among the round trips its
        #: trades allow, so that a run can use all its trades.
        trips = profile.max_trades // 2
        share = RATIOS.divide(profile.max_notional, trips * (1 + SELL_HEADROOM)) if trips else ZERO
        self.risk_cap = max_order_notional
        self.order_cap = min(max_order_notional, share)
        self.trades = 0
        self.candles = 0
        self._pending: OrderRequest | None = None
        #: Placed orders the exchange has not closed yet, by txid (live orders only).
        self.placed: dict[str, OrderRequest] = {}
        #: Orders whose answer was lost and that no lookup confirmed: counted as spent.
        self.unknown: list[OrderRequest] = []

    @property
    def spent_notional(self) -> Decimal:
        """Filled notional, plus accepted orders not filled (or not closed) yet at their
        order price: conservative while the exchange has not said what they cost."""
        orders = ([self._pending] if self._pending else []) + list(self.placed.values()) + self.unknown
        return BOOKS.add(self.paper.notional, total(order.notional for order in orders))

    def warm(self, candle: Candle) -> None:
        """A candle from before the start: history for the strategy, never an order."""
        self.strategy.on_candle(candle)

    def on_candle(self, candle: Candle, last: bool) -> OrderRequest | str | None:
        """``last``: no candle will follow this one within the run, so nothing could fill
        an order sent now."""
        self.candles += 1
        paper = self.paper
        pending, self._pending = self._pending, None
        if pending is not None:
            paper.fill(pending.side, pending.volume, candle.open, candle.time)
        paper.mark(candle.close, candle.time)
        signal = self.strategy.on_candle(candle)
        position = paper.open_volume  # dust below one lot step can be neither sold nor held against a buy
        if last:
            if self.profile.close_at_end and position:
                return OrderRequest("sell", position, candle.close, candle.time, at_close=True)
            return None
        if signal == "sell" and position:
            return OrderRequest("sell", position, candle.close, candle.time)
        if signal == "buy" and not position:
            return self._buy(candle)
        return None

    def _buy(self, candle: Candle) -> OrderRequest | str | None:
        paper, rules, p = self.paper, self.instrument, self.profile
        price = candle.close
        if self.trades + 2 > p.max_trades:
            return f"RUN_MAX_TRADES_REACHED ({self.trades} of {p.max_trades} trades used; a buy needs 2 left)"
        sized = paper.size(price)
        volume = min(sized, paper.lots(RATIOS.divide(self.order_cap, paper.slipped("buy", price))))
        if self._too_small(volume, price):
            if self._too_small(min(sized, paper.lots(RATIOS.divide(self.risk_cap, paper.slipped("buy", price)))), price):
                return None  # the account or the risk limit per order: too small for the exchange, the run goes on
            return (f"RUN_MAX_NOTIONAL_REACHED (a buy within {p.max_notional:.2f} for {p.max_trades // 2} round "
                    f"trips, {volume} {rules.symbol.split('/')[0]}, is below the pair's minimum order)")
        estimate = BOOKS.multiply(volume, paper.slipped("buy", price))
        needed = BOOKS.multiply(estimate, 1 + SELL_HEADROOM)
        spent = self.spent_notional
        if spent + needed > p.max_notional:
            return (f"RUN_MAX_NOTIONAL_REACHED ({spent:.2f} used + {needed:.2f} for a buy and its sell "
                    f"> {p.max_notional:.2f})")
        return OrderRequest("buy", volume, price, candle.time)

    def _too_small(self, volume: Decimal, price: Decimal) -> bool:
        rules = self.instrument
        return not volume or volume < rules.min_quantity or (rules.min_notional is not None
                                                             and volume * price < rules.min_notional)

    def accepted(self, order: OrderRequest, txids: tuple[str, ...] = ()) -> None:
        """The exchange took ``order``. Simulated, it fills at the next open (or now at this
        close); placed, it waits in ``placed`` for the exchange's fills."""
        self.trades += 1
        if not self.simulate_fills:
            self.placed.update(dict.fromkeys(txids, order))
        elif order.at_close:
            self.paper.fill(order.side, order.volume, order.price, order.time)
            self.paper.mark(order.price, order.time)  # the close's fee and slippage show in the curve
        else:
            self._pending = order

    def possibly_placed(self, order: OrderRequest) -> None:
        """The exchange may have taken ``order``: it counts as a trade and as spent, and is
        not booked on the account (nothing says it filled)."""
        self.trades += 1
        self.unknown.append(order)

    def metrics(self, tally: OrderTally) -> Metrics:
        return self.paper.metrics(tally)


def backtest(candles: Iterable[Candle], profile: Profile, strategy: Strategy, settings: SessionConfig,
             instrument: Instrument, max_order_notional: Decimal) -> Metrics:
    """Run ``Trader`` over ``candles`` with no exchange: the first ``warmup_candles`` are
    history, every order is accepted. The same decisions and books as a session's."""
    rows = list(candles)
    warmup = min(settings.warmup_candles, len(rows))
    trader = Trader(profile, strategy, settings, instrument, max_order_notional)
    tally = OrderTally()
    for candle in rows[:warmup]:
        trader.warm(candle)
    for index in range(warmup, len(rows)):
        step = trader.on_candle(rows[index], last=index == len(rows) - 1)
        if isinstance(step, str):
            break
        if step is not None:
            tally.sent += 1
            tally.accepted += 1
            trader.accepted(step)
    return trader.metrics(tally)


@dataclass(frozen=True)
class SessionResult:
    """Everything a finished run reports: what stopped it, what it spent, and its figures."""

    profile: str
    strategy: str
    symbol: str
    #: The quote currency every money figure is in.
    currency: str
    timeframe: str
    validate_only: bool
    started_at: int
    ended_at: int
    candles: int
    stop_reason: str
    #: What the exchange accepted: this is what the ledger settles.
    spent_notional: Decimal
    spent_trades: int
    metrics: Metrics
    rejections: tuple[Rejection, ...]
    log_path: Path
    #: The exchange's fills judged (placed orders only; None when fills were simulated).
    execution: Execution | None = None
    #: How far the run's closes were from the reference market (None without one).
    drift: Drift | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (exact decimal strings): it crosses from xdist workers on the report."""
        return {
            "profile": self.profile, "strategy": self.strategy, "symbol": self.symbol, "currency": self.currency,
            "timeframe": self.timeframe, "validate_only": self.validate_only, "started_at": self.started_at,
            "ended_at": self.ended_at, "candles": self.candles, "stop_reason": self.stop_reason,
            "spent_notional": exact(self.spent_notional), "spent_trades": self.spent_trades,
            "metrics": self.metrics.to_dict(), "rejections": plain([vars(r) for r in self.rejections]),
            "log_path": str(self.log_path),
            **({} if self.execution is None else {"execution": self.execution.to_dict()}),
            **({} if self.drift is None else {"reference": self.drift.to_dict()}),
        }


class Session:
    """Runs a profile once. ``spent_notional``/``spent_trades`` are kept current, so what a
    failed or interrupted run used can still be settled."""

    def __init__(self, profile: Profile, strategy: Strategy, settings: SessionConfig, max_order_notional: Decimal,
                 client: ExchangeClient, executor: TestnetExchangeOrderExecutor, clock: Clock, log: RunLog,
                 mode: str, reference: ReferenceMarket | None = None) -> None:
        self.profile = profile
        #: replay, simulator or live: where the requests go, as the run log's first line says.
        self.mode = mode
        self.strategy = strategy
        self.settings = settings
        self.max_order_notional = max_order_notional
        self.client = client
        self.executor = executor
        self.clock = clock
        self.log = log
        self.rejections: list[Rejection] = []
        self._trader: Trader | None = None
        self._booked: set[str] = set()  # trade ids already in the account
        #: Placed orders as the exchange last described them, by order id.
        self._reports: dict[str, OrderReport] = {}
        self.execution = None if executor.validate_only else Execution()
        self.reference = reference
        #: The run's own candles, for the comparison with the reference market.
        self._candles: list[Candle] = []
        self.bounds = Bounds(profile.duration_minutes * 60, settings.poll_interval_seconds, clock.monotonic)

    @property
    def spent_notional(self) -> Decimal:
        return ZERO if self._trader is None else self._trader.spent_notional

    @property
    def spent_trades(self) -> int:
        return 0 if self._trader is None else self._trader.trades

    @property
    def unknown_orders(self) -> int:
        """Orders counted in ``spent_*`` whose answer was lost (see ``Trader.unknown``)."""
        return 0 if self._trader is None else len(self._trader.unknown)

    def run(self) -> SessionResult:
        p, interval = self.profile, TIMEFRAMES[self.profile.timeframe] * 60
        started = self.client.server_time()
        end = started + p.duration_minutes * 60
        instrument = self.client.instrument(p.symbol)
        trader = self._trader = Trader(p, self.strategy, self.settings, instrument, self.max_order_notional,
                                       simulate_fills=self.executor.validate_only)
        self.log.write("run_started", started, profile=p.name, strategy=p.strategy, symbol=p.symbol,
                       timeframe=p.timeframe, duration_minutes=p.duration_minutes, max_notional=p.max_notional,
                       max_trades=p.max_trades, validate_only=self.executor.validate_only, mode=self.mode)
        page = self.client.candles(p.symbol, interval // 60, newest=self.settings.warmup_candles)
        warmup = page.candles
        for candle in warmup:
            trader.warm(candle)
        last_time = warmup[-1].time if warmup else 0
        since, now, stop = page.last, started, None
        planned = p.duration_minutes * 60 // interval
        while stop is None:
            self.clock.sleep(self.settings.poll_interval_seconds)
            now = self.client.server_time()
            self.bounds.poll(now)
            page = self.client.candles(p.symbol, interval // 60, since=since)
            since = page.last
            for candle in page.candles:
                if candle.time <= last_time or candle.time + interval > end:
                    continue  # seen already, or closes after the session's end
                last_time = candle.time
                self._candles.append(candle)
                stop = self._on_candle(trader, candle, last=candle.time + 2 * interval > end)
                self.log.write("candle", candle.time, close=candle.close, done=trader.candles, planned=planned,
                               trades=trader.trades,
                               pnl=BOOKS.subtract(trader.paper.equity, self.settings.start_balance))
                if stop:
                    break
            if stop is None and now >= end:
                stop = DURATION_ELAPSED
        if self.execution is not None:  # orders still open at the end, as last seen
            for order_id in trader.placed:
                if order_id in self._reports:
                    self.execution.settled(self._reports[order_id])
            self.execution.dust = trader.paper.dust
        metrics = trader.metrics(self.executor.tally)
        found = None
        if self.reference is not None and self._candles:
            rows, problem = read(self.reference, instrument.venue_symbol, p.timeframe, self._candles[0].time,
                                 self._candles[-1].time)
            found = drift(self._candles, rows, self.reference.url, self.reference.threshold_bps, problem)
        result = SessionResult(
            profile=p.name, strategy=p.strategy, symbol=p.symbol, currency=instrument.quote,
            timeframe=p.timeframe, validate_only=self.executor.validate_only, started_at=started, ended_at=now,
            candles=trader.candles, stop_reason=stop, spent_notional=trader.spent_notional,
            spent_trades=trader.trades, metrics=metrics, rejections=tuple(self.rejections), log_path=self.log.path,
            execution=self.execution, drift=found)
        self.log.write("run_finished", now, stop_reason=stop, spent_notional=result.spent_notional,
                       spent_trades=trader.trades, metrics=metrics.to_dict())
        return result

    def _on_candle(self, trader: Trader, candle: Candle, last: bool) -> str | None:
        """A stop reason when the run's own caps end it."""
        fills = trader.paper.fills
        logged = len(fills)
        self._book_exchange_fills(trader)
        step = trader.on_candle(candle, last)
        if isinstance(step, str):
            self.log.write("limit_reached", candle.time, reason=step)
        elif step is not None:
            paper = trader.paper
            state = RiskState(exposure=BOOKS.multiply(paper.position, candle.close), daily_loss=paper.daily_loss)
            outcome: Outcome = self.executor.submit(step, state)
            if outcome.accepted:
                trader.accepted(step, outcome.txids)
                if not trader.simulate_fills:
                    self._book_exchange_fills(trader)
                    if step.at_close:
                        trader.paper.mark(candle.close, candle.time)
            elif outcome.status == "unknown":
                trader.possibly_placed(step)
            else:
                self.rejections.append(Rejection(step.time, step.side, outcome.by or "?", outcome.reason or ""))
        for fill in fills[logged:]:
            self.log.write("fill", fill.time, side=fill.side, volume=fill.volume, price=fill.price,
                           notional=fill.notional, fee=fill.fee, realized_pnl=fill.realized_pnl, trade=fill.trade)
        return step if isinstance(step, str) else None

    def _book_exchange_fills(self, trader: Trader) -> None:
        """Live orders: ask the exchange what became of the placed orders, book their new
        fills in the order they happened, and forget the orders it has closed."""
        if not trader.placed:
            return
        orders = self.client.orders(self.profile.symbol, trader.placed)
        self._reports.update(orders)
        new = [fill for report in orders.values() for fill in report.fills if fill.trade_id not in self._booked]
        for fill in sorted(new, key=lambda f: (f.time, f.trade_id)):
            booked = booking(fill, trader.instrument)
            trader.paper.record(fill.side, booked.volume, fill.price, booked.notional, booked.fee, int(fill.time),
                                trade=fill.trade_id)
            self._booked.add(fill.trade_id)
            if self.execution is not None and fill.order_id in trader.placed:
                self.execution.fill(fill, trader.placed[fill.order_id].price, booked)
        for order_id, report in orders.items():
            if report.final:
                if self.execution is not None:
                    self.execution.settled(report)
                del trader.placed[order_id]
