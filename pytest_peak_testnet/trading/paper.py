"""The paper account: the session's own books, because validate-only orders never fill.

Each validated order is filled here at the reference price the caller passes (the next
candle's open after the signal), moved against the trader by ``slippage_bps`` and charged
``fee_rate`` on its notional. Long-only spot: a buy adds to the position, a sell reduces it.
Buy fees go into the position's cost, so realized PnL is net of every fee of the trade and
``final_equity == start_balance + realized_pnl + unrealized_pnl`` holds at every mark.

Exactness: every amount is a ``Decimal`` and the books are kept in ``exact.BOOKS``, which
raises rather than rounds. Only ratios divide (a buy's size before it is cut to the pair's
lot, drawdown, win rate, profit factor, averages); they use ``exact.RATIOS`` and are never
fed back into the books.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any, Literal

from ..desk.config import SessionConfig
from .exact import BOOKS, INFINITY, RATIOS, ZERO, plain, total

Side = Literal["buy", "sell"]
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill. ``price`` includes slippage; ``notional`` is what it cost or paid before the
    fee (``volume * price`` when simulated, the exchange's ``cost`` for a real fill);
    ``realized_pnl`` is what a sell realized after both trades' fees (zero for a buy);
    ``trade`` is the exchange's trade id of a real fill."""

    side: Side
    volume: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal
    time: int
    realized_pnl: Decimal
    trade: str | None = None


@dataclass(frozen=True, slots=True)
class Trip:
    """A round trip: from flat to flat. Prices are volume-weighted fill prices; ``pnl`` is
    net of the fees of every fill in it."""

    entry_time: int
    exit_time: int
    volume: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal


@dataclass(slots=True)
class OrderTally:
    """Order counts for the metrics. The executor keeps them: only it knows what was sent
    to the exchange and what came back, while the account only sees fills.
    ``requested == denied + sent`` and ``sent == accepted + rejected``."""

    denied: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class Metrics:
    """A snapshot of a run for reports, money in the quote currency, exact.

    ``trades`` counts fills (one per accepted order); ``notional`` is the filled notional
    (volume times fill price) with ``fees`` apart. ``max_drawdown_pct`` is a fraction of the
    peak of the equity marked at each candle's close (0.05 is 5 %). ``win_rate`` and
    ``average_trade`` are None before a round trip has closed; a trip that made nothing
    after fees is not a win. ``profit_factor`` is gross profit over gross loss of the
    closed trips (see ``profit_factor``)."""

    orders_denied: int
    orders_sent: int
    orders_accepted: int
    orders_rejected: int
    trades: int
    round_trips: int
    trips: tuple[Trip, ...]
    notional: Decimal
    fees: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    pnl: Decimal
    open_volume: Decimal
    final_equity: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: Decimal
    win_rate: Decimal | None
    profit_factor: Decimal | None
    average_trade: Decimal | None
    exposure_pct: Decimal | None
    equity_curve: tuple[tuple[int, Decimal], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: exact decimal strings, lists."""
        data: dict[str, Any] = plain(dataclasses.asdict(self))
        return data


class PaperAccount:
    """Cash, one long position and the run's figures.

    A buy that cash cannot pay for in full (slippage and fee included) is cut to what it
    can pay, on the pair's lot grid, because the fill price is only known after sizing; a
    buy with no cash left or a sell with no position fills nothing and returns None. A sell
    never exceeds the position, and a sell of the whole position leaves exactly zero.
    """

    __slots__ = (
        "_cash",
        "_cost",
        "_curve",
        "_day",
        "_day_start_equity",
        "_exposed",
        "_fee_rate",
        "_fees",
        "_fraction",
        "_lot",
        "_max_drawdown",
        "_max_drawdown_pct",
        "_notional",
        "_peak",
        "_position",
        "_price",
        "_realized",
        "_slippage",
        "_trip",
        "_trips",
        "fills",
    )

    def __init__(self, config: SessionConfig, lot: Decimal) -> None:
        self._fraction = config.position_fraction
        self._fee_rate = config.fee_rate
        self._slippage = BOOKS.divide(config.slippage_bps, 10_000)
        self._lot = lot
        self._cash = config.start_balance
        self._position = ZERO
        self._cost = ZERO  # of the open position, buy fees included
        self._price: Decimal | None = None  # the last reference price seen
        self._realized = ZERO
        self._fees = ZERO
        self._notional = ZERO
        #: Every fill, oldest first.
        self.fills: list[Fill] = []
        self._trip: list[Fill] = []
        self._trips: list[Trip] = []
        self._curve: list[tuple[int, Decimal]] = []
        self._peak = config.start_balance
        self._max_drawdown = ZERO
        self._max_drawdown_pct = ZERO
        self._day: int | None = None
        self._day_start_equity = config.start_balance
        self._exposed = 0

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def position(self) -> Decimal:
        return self._position

    @property
    def open_volume(self) -> Decimal:
        """The position a sell can close: cut down to the lot grid. What is left below one
        lot step is ``dust``: a commission taken in the base asset (Binance charges a buy's
        in what it bought) leaves a position a hair below what was bought, and no exchange
        takes an order for less than a step."""
        return self.lots(self._position)

    @property
    def dust(self) -> Decimal:
        return BOOKS.subtract(self._position, self.open_volume)

    @property
    def notional(self) -> Decimal:
        """The filled notional so far, fees not included."""
        return self._notional

    @property
    def equity(self) -> Decimal:
        """Cash plus the position at the last price seen (by ``mark`` or ``fill``)."""
        return BOOKS.add(self._cash, BOOKS.multiply(self._position, self._price or ZERO))

    @property
    def unrealized_pnl(self) -> Decimal:
        """The open position at the last price, less what it cost with its buy fees."""
        if not self._position:
            return ZERO
        return BOOKS.subtract(BOOKS.multiply(self._position, self._price or ZERO), self._cost)

    @property
    def daily_loss(self) -> Decimal:
        """How far equity is below where the current UTC day began (0 when above): the
        live risk limits cap it. The first day begins at the start balance."""
        return max(ZERO, BOOKS.subtract(self._day_start_equity, self.equity))

    def size(self, price: Decimal) -> Decimal:
        """The volume of a buy at ``price`` on the lot grid: ``position_fraction`` of equity,
        and no more than cash pays for."""
        equity = BOOKS.add(self._cash, BOOKS.multiply(self._position, price))
        wanted = RATIOS.divide(BOOKS.multiply(self._fraction, equity), price)
        return min(self.lots(wanted), self._affordable(self.slipped("buy", price)))

    def lots(self, volume: Decimal) -> Decimal:
        """``volume`` cut down to the pair's lot grid (never up: never more than asked). The
        step need not be a power of ten (Binance's ``stepSize`` may be 0.05)."""
        steps = RATIOS.divide(volume, self._lot).to_integral_value(rounding=ROUND_DOWN)
        return RATIOS.multiply(steps, self._lot).quantize(self._lot, context=RATIOS)

    def slipped(self, side: Side, price: Decimal) -> Decimal:
        """The price a market order fills at when the market offers ``price``."""
        return BOOKS.multiply(price, BOOKS.add(1, self._slippage) if side == "buy" else BOOKS.subtract(1, self._slippage))

    def fill(self, side: Side, volume: Decimal, price: Decimal, time: int) -> Fill | None:
        """Simulate a market order's fill with the market at ``price``."""
        if volume <= 0 or price <= 0:
            raise ValueError(f"fill needs a positive volume and price, got {volume} at {price}")
        self._price = price
        fill_price = self.slipped(side, price)
        volume = min(volume, self._affordable(fill_price) if side == "buy" else self._position)
        if volume <= 0:
            return None
        notional = BOOKS.multiply(volume, fill_price)
        return self.record(side, volume, fill_price, notional, BOOKS.multiply(notional, self._fee_rate), time)

    def record(self, side: Side, volume: Decimal, price: Decimal, notional: Decimal, fee: Decimal, time: int,
               trade: str | None = None) -> Fill:
        """Book a fill whose price, notional and fee are known: simulated here, or the
        exchange's own (its ``cost`` is the notional; it may differ from volume * price in
        the last cent)."""
        with localcontext(BOOKS):
            realized = ZERO
            if side == "buy":
                self._cash -= notional + fee
                self._position += volume
                self._cost += notional + fee
            else:
                released = self._cost if volume == self._position else RATIOS.divide(self._cost * volume, self._position)
                realized = notional - fee - released
                self._cash += notional - fee
                self._position -= volume
                self._cost -= released
                self._realized += realized
            self._fees += fee
            self._notional += notional
        fill = Fill(side, volume, price, notional, fee, time, realized, trade)
        self.fills.append(fill)
        self._trip.append(fill)
        if not self.open_volume:  # flat, but for dust, which keeps its share of the cost
            self._trips.append(_trip(self._trip))
            self._trip = []
        if not self._position:
            self._cost = ZERO
        return fill

    def mark(self, price: Decimal, time: int) -> None:
        """Value the account at ``price``: a point on the equity curve, and the drawdown. A
        second mark at the same time (after a fill at that candle's close) replaces it."""
        self._price = price
        equity = self.equity
        day = time // SECONDS_PER_DAY
        if self._day is not None and day != self._day:
            self._day_start_equity = self._curve[-1][1]
        self._day = day
        if self._curve and self._curve[-1][0] == time:
            self._curve[-1] = (time, equity)  # marked again after a fill at this close
        else:
            self._curve.append((time, equity))
            if self.open_volume:
                self._exposed += 1
        if equity > self._peak:
            self._peak = equity
        drawdown = BOOKS.subtract(self._peak, equity)
        if drawdown > self._max_drawdown:
            # Only a deeper drawdown can be a larger share: the peak never falls.
            self._max_drawdown = drawdown
            share = RATIOS.divide(drawdown, self._peak)
            if share > self._max_drawdown_pct:
                self._max_drawdown_pct = share

    def metrics(self, orders: OrderTally) -> Metrics:
        trips = self._trips
        pnls = [trip.pnl for trip in trips]
        realized, unrealized = self._realized, self.unrealized_pnl
        marks = len(self._curve)
        return Metrics(
            orders_denied=orders.denied,
            orders_sent=orders.sent,
            orders_accepted=orders.accepted,
            orders_rejected=orders.rejected,
            trades=len(self.fills),
            round_trips=len(trips),
            trips=tuple(trips),
            notional=self._notional,
            fees=self._fees,
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            pnl=BOOKS.add(realized, unrealized),
            open_volume=self.open_volume,
            final_equity=self.equity,
            max_drawdown=self._max_drawdown,
            max_drawdown_pct=self._max_drawdown_pct,
            win_rate=RATIOS.divide(sum(1 for pnl in pnls if pnl > 0), len(pnls)) if pnls else None,
            profit_factor=profit_factor(pnls),
            average_trade=RATIOS.divide(total(pnls), len(pnls)) if pnls else None,
            exposure_pct=RATIOS.divide(self._exposed, marks) if marks else None,
            equity_curve=tuple(self._curve),
        )

    def _affordable(self, fill_price: Decimal) -> Decimal:
        """The most volume, on the lot grid, that cash pays for at ``fill_price`` with the fee."""
        if self._cash <= 0:
            return ZERO
        return self.lots(RATIOS.divide(self._cash, BOOKS.multiply(fill_price, BOOKS.add(1, self._fee_rate))))


def profit_factor(pnls: Iterable[Decimal]) -> Decimal | None:
    """Gross profit over gross loss of closed trips: 0 when nothing was won, ``Infinity``
    (shown as ∞) when something was won and nothing lost, None (shown as –) when there is
    no trip or every trip made exactly nothing."""
    pnls = list(pnls)
    if not pnls:
        return None
    profit = total(pnl for pnl in pnls if pnl > 0)
    loss = -total(pnl for pnl in pnls if pnl < 0)
    if not loss:
        return INFINITY if profit else None
    return RATIOS.divide(profit, loss)


def _trip(fills: list[Fill]) -> Trip:
    """The round trip that ``fills`` (first buy to the sell that left no lot) make. The exit
    price is over the volume sold: dust may stay behind."""
    buys = [f for f in fills if f.side == "buy"]
    sells = [f for f in fills if f.side == "sell"]
    volume = total(f.volume for f in buys)
    return Trip(
        entry_time=buys[0].time, exit_time=sells[-1].time, volume=volume,
        entry_price=RATIOS.divide(total(f.notional for f in buys), volume),
        exit_price=RATIOS.divide(total(f.notional for f in sells), total(f.volume for f in sells)),
        fees=total(f.fee for f in fills),
        pnl=total(f.realized_pnl for f in sells),
    )
