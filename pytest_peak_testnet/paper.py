"""The paper account: the session's own books, because validate-only orders never fill.

Each validated order is filled here at the reference price the caller passes (the next
price after the signal), moved against the trader by ``slippage_bps`` and charged
``fee_rate`` on its notional. Long-only spot: a buy adds to the position, a sell reduces it.
Buy fees go into the position's cost, so realized PnL is net of every fee of the trade and
``final_equity == start_balance + realized_pnl + unrealized_pnl`` holds at every mark.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from .config import SessionConfig

Side = Literal["buy", "sell"]
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Fill:
    """One simulated fill. ``price`` includes slippage; ``realized_pnl`` is what a sell
    realized after both trades' fees (zero for a buy)."""

    side: Side
    volume: float
    reference_price: float
    price: float
    fee: float
    time: float
    realized_pnl: float

    @property
    def notional(self) -> float:
        return self.volume * self.price


@dataclass(slots=True)
class OrderTally:
    """Order counts for the metrics. The executor keeps them: only it knows what was sent
    to the exchange and what came back, while the account only sees fills."""

    sent: int = 0
    validated: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class Metrics:
    """A snapshot of a run for reports. Money is in the quote currency, unrounded;
    ``max_drawdown_pct`` is a fraction of the peak (0.05 is 5 %); ``win_rate`` is None until
    a round trip has closed; ``round_trips`` holds each closed round trip's net PnL, and one
    that made nothing after fees counts as a loss."""

    orders_sent: int
    orders_validated: int
    orders_rejected: int
    trades: int
    notional: float
    fees: float
    realized_pnl: float
    unrealized_pnl: float
    max_drawdown: float
    max_drawdown_pct: float
    win_rate: float | None
    round_trips: tuple[float, ...]
    equity_curve: tuple[tuple[float, float], ...]
    final_equity: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and numbers: safe for json and yaml.safe_dump alike."""
        data = dataclasses.asdict(self)
        data["round_trips"] = list(self.round_trips)
        data["equity_curve"] = [list(point) for point in self.equity_curve]
        return data


class PaperAccount:
    """Cash, one long position and the run's figures.

    A buy that cash cannot pay for in full (slippage and fee included) is reduced to what it
    can pay, because the fill price is only known after sizing; a buy with no cash left or a
    sell with no position fills nothing and returns None. A sell never exceeds the position.
    """

    __slots__ = ("_start", "_fraction", "_fee_rate", "_slippage", "_cash", "_position", "_cost",
                 "_price", "_realized", "_fees", "_notional", "_trades", "_trip_pnl", "_round_trips",
                 "_curve", "_peak", "_max_drawdown", "_max_drawdown_pct", "_day", "_day_start_equity")

    def __init__(self, config: SessionConfig) -> None:
        self._start = config.start_balance
        self._fraction = config.position_fraction
        self._fee_rate = config.fee_rate
        self._slippage = config.slippage_bps / 10_000
        self._cash = config.start_balance
        self._position = 0.0
        self._cost = 0.0  # of the open position, buy fees included
        self._price: float | None = None  # the last reference price seen
        self._realized = 0.0
        self._fees = 0.0
        self._notional = 0.0
        self._trades = 0
        self._trip_pnl = 0.0
        self._round_trips: list[float] = []
        self._curve: list[tuple[float, float]] = []
        self._peak = config.start_balance
        self._max_drawdown = 0.0
        self._max_drawdown_pct = 0.0
        self._day: float | None = None
        self._day_start_equity = config.start_balance

    @property
    def cash(self) -> float:
        return self._cash

    @property
    def position(self) -> float:
        return self._position

    @property
    def average_entry(self) -> float | None:
        """Cost per unit of the open position, buy fees included: its break-even price."""
        return self._cost / self._position if self._position else None

    @property
    def equity(self) -> float:
        """Cash plus the position at the last price seen (by ``mark`` or ``fill``)."""
        return self._cash + self._position * (self._price or 0.0)

    @property
    def unrealized_pnl(self) -> float:
        return self._position * (self._price or 0.0) - self._cost if self._position else 0.0

    @property
    def daily_loss(self) -> float:
        """How far equity is below where the current UTC day began (0 when above): the
        live risk limits cap it. The first day begins at the start balance."""
        return max(0.0, self._day_start_equity - self.equity)

    def size(self, price: float) -> float:
        """The volume of a buy at ``price``: ``position_fraction`` of equity, and no more
        than cash pays for."""
        equity = self._cash + self._position * price
        return min(self._fraction * equity / price, self._affordable(price * (1 + self._slippage)))

    def fill(self, side: Side, volume: float, price: float, time: float) -> Fill | None:
        if volume <= 0 or price <= 0:
            raise ValueError(f"fill needs a positive volume and price, got {volume} at {price}")
        self._price = price
        if side == "buy":
            fill_price = price * (1 + self._slippage)
            volume = min(volume, self._affordable(fill_price))
        else:
            fill_price = price * (1 - self._slippage)
            volume = min(volume, self._position)
        if volume <= 0:
            return None
        notional = volume * fill_price
        fee = notional * self._fee_rate
        realized = 0.0
        if side == "buy":
            self._cash -= notional + fee
            self._position += volume
            self._cost += notional + fee
        else:
            released = self._cost * volume / self._position
            realized = notional - fee - released
            self._cash += notional - fee
            self._position -= volume
            self._cost -= released
            self._realized += realized
            self._trip_pnl += realized
            if self._position == 0:
                self._round_trips.append(self._trip_pnl)
                self._trip_pnl = 0.0
                self._cost = 0.0
        self._fees += fee
        self._notional += notional
        self._trades += 1
        return Fill(side, volume, price, fill_price, fee, time, realized)

    def mark(self, price: float, time: float) -> None:
        """Value the account at ``price``: a point on the equity curve, and the drawdown."""
        self._price = price
        equity = self.equity
        day = time // SECONDS_PER_DAY
        if self._day is not None and day != self._day:
            self._day_start_equity = self._curve[-1][1]
        self._day = day
        self._curve.append((time, equity))
        if equity > self._peak:
            self._peak = equity
        drawdown = self._peak - equity
        self._max_drawdown = max(self._max_drawdown, drawdown)
        self._max_drawdown_pct = max(self._max_drawdown_pct, drawdown / self._peak)

    def metrics(self, orders: OrderTally) -> Metrics:
        trips = self._round_trips
        wins = sum(1 for pnl in trips if pnl > 0)
        return Metrics(
            orders_sent=orders.sent,
            orders_validated=orders.validated,
            orders_rejected=orders.rejected,
            trades=self._trades,
            notional=self._notional,
            fees=self._fees,
            realized_pnl=self._realized,
            unrealized_pnl=self.unrealized_pnl,
            max_drawdown=self._max_drawdown,
            max_drawdown_pct=self._max_drawdown_pct,
            win_rate=wins / len(trips) if trips else None,
            round_trips=tuple(trips),
            equity_curve=tuple(self._curve),
            final_equity=self.equity,
        )

    def _affordable(self, fill_price: float) -> float:
        return max(0.0, self._cash) / (fill_price * (1 + self._fee_rate))
