"""The project's rules, modelled in backtesting.py with TA-Lib's indicators.

Nothing here calls the project's strategies or books. The reference strategy computes its
signals from TA-Lib on the float closes, sizes its buys from backtesting.py's equity, and
backtesting.py fills, charges and marks. How each rule of ``session.py`` is expressed:

- Fills at the next candle's open: ``trade_on_close=False`` market orders.
- Whole units: ``FractionalBacktest`` with ``fractional_unit`` = the pair's lot (a satoshi for
  BTC/EUR) scales prices down and sizes up, so a size is a whole number of lots.
- Slippage and fees. backtesting.py moves only the entry by ``spread`` and closes a trade at
  the unadjusted open (``_Broker._reduce_trade``/``_close_trade``), charging
  ``commission * size * price`` at the entry's adjusted price and at the exit's price. The
  project fills a buy at ``open*(1+s)`` and a sell at ``open*(1-s)``, each charged ``f`` on
  its filled notional. A sell then yields ``v*open*(1-s)*(1-f)`` and a buy costs
  ``v*open*(1+s)*(1+f)``; backtesting.py gives ``v*open*(1-c)`` and ``v*open*(1+spread)*(1+c)``.
  So ``c = s + f - s*f`` and ``spread = (1+s)*(1+f)/(1+c) - 1`` make cash, equity and every
  trade's PnL the same (the entry and exit *prices* and the fee split differ: not compared).
- Close at end: ``finalize_trades`` would close at the last candle's *open* (it re-runs the
  last bar's order processing with ``trade_on_close=False``). The project closes at the last
  close, so one bar is appended after the last, all four prices that close: a close order
  placed on the last candle fills at its open. Its mark, the equity the sale leaves, is
  the last candle's mark *after* the close, as the project marks a candle again after a
  fill at its close; the drawdown sees both marks in either.
- Warm-up: signals are computed over every candle, trading starts at the warm-up index; the
  last candle sends no order but the close at end.
- Ties: a float cannot hold a tie of two averages, so readings within ``TIE`` (relative)
  are equal. On the 0.1 grid two different averages of windows up to 1,000 candles differ by
  at least 1e-4 / 60,000 relative, far above ``TIE`` and far below float noise of TA-Lib's
  running sums.
- Not modelled: the run's trade and notional caps (the cases keep clear of them) and a buy
  cut to what cash pays when the next open jumps (a tenth of equity never needs it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

import numpy as np
import pandas as pd
import talib
from backtesting import Strategy
from backtesting.lib import FractionalBacktest

from pytest_peak_testnet.trading.market import Candle

#: Readings closer than this (relative) are a tie; see the module docstring.
TIE = 1e-10


@dataclass(frozen=True)
class Rules:
    """The run's settings, as the reference reads them from the profile and the config."""

    warmup: int
    start_balance: Decimal
    position_fraction: Decimal
    fee_rate: Decimal
    slippage: Decimal  # a fraction: 5 bps is 0.0005
    lot: Decimal
    ordermin: Decimal
    costmin: Decimal
    order_cap: Decimal
    close_at_end: bool


@dataclass(frozen=True)
class Trip:
    entry_time: int
    exit_time: int
    pnl: float


@dataclass(frozen=True)
class Run:
    """What the reference run reports, in floats."""

    trips: tuple[Trip, ...]
    final_equity: float
    win_rate: float | None
    profit_factor: float | None
    max_drawdown_pct: float
    #: Equity marked at each candle's close, from the first traded candle to the last; with
    #: a close at end the last is the appended bar's, after the sale.
    equity: tuple[float, ...]


def _side(difference: float, scale: float) -> int:
    return 0 if abs(difference) <= TIE * abs(scale) else 1 if difference > 0 else -1


def crossings(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """+1 where the fast average crosses above the slow one, -1 below. A tie keeps the
    side; the first side seen is no crossing."""
    out, side = np.zeros(len(fast), dtype=int), 0
    for index, (f, s) in enumerate(zip(fast, slow, strict=False)):
        if math.isnan(f) or math.isnan(s):
            continue
        now = _side(f - s, s)
        if now and now != side:
            out[index] = now if side else 0
            side = now
    return out


def entries(zones: Sequence[float]) -> np.ndarray:
    """The zone entered on each reading that changes it (0 elsewhere): one signal per visit."""
    out, zone = np.zeros(len(zones), dtype=int), 0
    for index, now in enumerate(zones):
        if not math.isnan(now) and now != zone:
            out[index] = zone = int(now)
    return out


def rsi_zones(close: np.ndarray, period: int, oversold: float, overbought: float) -> list[float]:
    """-1 oversold, 1 overbought, 0 between, NaN before the first reading. Before any price
    change RSI is 0/0; Wilder leaves it undefined, TA-Lib writes 0, the rule read here is 50."""
    rsi = talib.RSI(close, timeperiod=period)
    moved = np.maximum.accumulate(np.r_[False, close[1:] != close[:-1]])
    zones = []
    for value, has_moved in zip(rsi, moved, strict=False):
        reading = value if has_moved else 50.0
        zones.append(math.nan if math.isnan(value) else
                     -1 if _side(reading - oversold, 100) < 0 else 1 if _side(reading - overbought, 100) > 0 else 0)
    return zones


def signals(name: str, params: Mapping[str, Any], close: np.ndarray) -> np.ndarray:
    """+1 buy, -1 sell, 0 nothing, per candle, from TA-Lib on ``close``."""
    if name == "ma_crossover":
        return crossings(talib.SMA(close, params.get("fast", 20)), talib.SMA(close, params.get("slow", 50)))
    if name == "rsi_strategy":
        zones = rsi_zones(close, params.get("period", 14), params.get("oversold", 30), params.get("overbought", 70))
        return -entries(zones)
    if name == "momentum_1h":
        up = 1 + params.get("threshold", 0.005)
        down = 1 - params.get("threshold", 0.005)
        ratio = talib.ROCR(close, timeperiod=params.get("lookback", 60))
        return entries([math.nan if math.isnan(r) else 1 if _side(r - up, up) > 0 else -1 if _side(r - down, down) < 0
                        else 0 for r in ratio])
    raise ValueError(f"no reference for strategy {name!r}")


class ReferenceStrategy(Strategy):
    """Long only: buy on a buy signal when flat, sell everything on a sell signal."""

    name = ""
    params: Mapping[str, Any] = {}
    rules: Rules | None = None
    last = 0  # the index of the last real candle

    def init(self) -> None:
        self.wanted = signals(self.name, self.params, np.asarray(self.data.Close, dtype=float))

    def next(self) -> None:
        index, rules = len(self.data) - 1, self.rules
        assert rules is not None
        if index == self.last:
            if rules.close_at_end and self.position:
                self.position.close()
        elif rules.warmup <= index < self.last:
            signal = self.wanted[index]
            if signal < 0 and self.position:
                self.position.close()
            elif signal > 0 and not self.position:
                lots = self.lots(rules)
                if lots:
                    self.buy(size=lots)

    def lots(self, rules: Rules) -> int:
        """The buy's size in lots: a fraction of equity, at most the order cap and what cash
        pays with slippage and fee, cut down; 0 when the exchange would refuse it. Decimal
        from the floats' shortest text, so a price that came from the grid is exact again."""
        with localcontext() as context:
            context.prec = 50
            price = Decimal(repr(float(self.data.Quote[-1])))
            equity = Decimal(repr(float(self.equity)))  # flat: all of it is cash
            slipped = price * (1 + rules.slippage)
            volume = min(rules.position_fraction * equity / price, rules.order_cap / slipped,
                         equity / (slipped * (1 + rules.fee_rate)))
            lots = int((volume / rules.lot).to_integral_value(ROUND_DOWN))
            size = lots * rules.lot
            return 0 if size < rules.ordermin or size * price < rules.costmin else lots


def run(candles: Sequence[Candle], name: str, params: Mapping[str, Any], rules: Rules) -> Run:
    """backtesting.py over ``candles`` with the project's rules (module docstring)."""
    times = [c.time for c in candles]
    frame = pd.DataFrame({column: [float(getattr(c, column.lower())) for c in candles]
                          for column in ("Open", "High", "Low", "Close", "Volume")})
    if rules.close_at_end:
        frame.loc[len(frame)] = [frame["Close"].iloc[-1]] * 4 + [0.0]
    frame["Quote"] = frame["Close"]
    frame.index = pd.to_datetime([*times, times[-1] + 60][:len(frame)], unit="s")
    s, f = float(rules.slippage), float(rules.fee_rate)
    commission = s + f - s * f
    backtest = FractionalBacktest(frame, ReferenceStrategy, cash=float(rules.start_balance),
                                  spread=(1 + s) * (1 + f) / (1 + commission) - 1, commission=commission,
                                  fractional_unit=float(rules.lot), trade_on_close=False, finalize_trades=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # open trades at the end, prices above cash: both intended
        stats = backtest.run(name=name, params=params, rules=rules, last=len(candles) - 1)
    at = [*times, times[-1]]  # the appended bar stands for the last candle's close
    trades = stats["_trades"]
    trips = tuple(Trip(at[entry], at[exit_], pnl) for entry, exit_, pnl in
                  zip(trades["EntryBar"], trades["ExitBar"], trades["PnL"], strict=False))
    pnls = [trip.pnl for trip in trips]
    equity = stats["_equity_curve"]["Equity"].to_numpy()
    marks = np.delete(equity, len(candles) - 1) if rules.close_at_end else equity  # the sale's mark replaces it
    return Run(
        trips=trips,
        final_equity=float(stats["Equity Final [$]"]),
        win_rate=None if not trips else float(stats["Win Rate [%]"]) / 100,
        profit_factor=profit_factor(pnls),
        max_drawdown_pct=-float(stats["Max. Drawdown [%]"]) / 100,
        equity=tuple(float(value) for value in marks[rules.warmup:]),
    )


def profit_factor(pnls: Sequence[float]) -> float | None:
    """Gross profit over gross loss in money. backtesting.py's own "Profit Factor" sums the
    trades' percentage returns instead, another definition, so it is not used."""
    profit = sum(p for p in pnls if p > 0)
    loss = -sum(p for p in pnls if p < 0)
    if loss:
        return profit / loss
    return math.inf if profit else None


def quantstats_drawdown(start_balance: Decimal, curve: Sequence[tuple[int, Decimal]]) -> float:
    """quantstats' max drawdown (a positive fraction) of an equity curve that starts at
    ``start_balance``: its first price is its baseline, so the peak starts there."""
    import quantstats

    times = [curve[0][0] - 60] + [time for time, _ in curve]
    prices = pd.Series([float(start_balance)] + [float(value) for _, value in curve],
                       index=pd.to_datetime(times, unit="s"))
    return -float(quantstats.stats.max_drawdown(prices))
