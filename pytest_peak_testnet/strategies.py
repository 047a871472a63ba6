"""Strategies: small classes that turn closed candles into buy and sell signals.

A session may replay a day of 1m candles and a backtest millions, so each strategy keeps
running state and updates it in O(1) per candle (rolling sums, Wilder smoothing, ring
buffers) instead of recomputing its window. Signals are intents for a long-only spot
account: "buy" enters a long, "sell" exits it; the session ignores a buy while long and a
sell while flat, so a strategy need not know the position.
"""

from __future__ import annotations

import abc
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import InputError, ProfileError
from .market import Candle
from .paper import Side
from .schema import build, closest, positive

#: What a strategy asks for: the side of the order the session should send.
Signal = Side


@dataclass(frozen=True)
class NoParams:
    """The parameters of a strategy that declares none: any key given is unknown."""


class Strategy(abc.ABC):
    """A signal source. ``Params`` is a frozen dataclass whose fields, with schema's range
    helpers and defaults, are the parameters a profile's ``params`` may set; an optional
    ``problems()`` method yields ``(key, problem)`` for checks across fields."""

    __slots__ = ("params",)

    name: ClassVar[str]
    Params: ClassVar[type[Any]] = NoParams

    def __init__(self, params: Any) -> None:
        self.params = params

    @abc.abstractmethod
    def on_candle(self, candle: Candle) -> Signal | None:
        """Called once per closed candle, in time order."""


def make_strategy(name: str, params: Mapping[str, Any], where_prefix: str,
                  registry: Mapping[str, type[Strategy]]) -> Strategy:
    """The strategy ``name`` from ``registry`` with ``params`` checked against its ``Params``.

    ``where_prefix`` is the text errors put before ``strategy`` or ``params.<key>``, so they
    name the profile's definition: ``"profiles/a.yaml: "`` for a YAML profile,
    ``"config.toml: testnet_profiles.a."`` for a table in the config.
    """
    cls = registry.get(name)
    if cls is None:
        known = ", ".join(sorted(registry)) or "none"
        raise ProfileError(f"{where_prefix}strategy",
                           f"unknown strategy {name!r}{closest(name, registry)} (strategies: {known})")

    def where(key: str) -> str:
        return f"{where_prefix}params.{key}"

    try:
        built = build(cls.Params, params, where)
    except InputError as exc:
        raise ProfileError(exc.where, exc.message) from None
    for key, problem in getattr(built, "problems", tuple)():
        raise ProfileError(where(key), problem)
    return cls(built)


class MaCrossover(Strategy):
    """Buy when the fast SMA of close crosses above the slow one, sell when it crosses below.

    The first reading after warm-up only sets which side the fast average is on: a cross
    needs a before. An equal reading keeps the previous side, so touching is not crossing.
    """

    __slots__ = ("_fast", "_slow", "_buf", "_count", "_fast_sum", "_slow_sum", "_side")
    name = "ma_crossover"

    @dataclass(frozen=True)
    class Params:
        fast: int = positive(20)
        slow: int = positive(50)

        def problems(self) -> Iterator[tuple[str, str]]:
            if self.fast >= self.slow:
                yield "fast", f"expected less than slow ({self.slow}), found {self.fast}"

    def __init__(self, params: MaCrossover.Params) -> None:
        super().__init__(params)
        self._fast = params.fast
        self._slow = params.slow
        # One ring buffer of the last ``slow`` closes serves both windows.
        self._buf = [0.0] * params.slow
        self._count = 0
        self._fast_sum = 0.0
        self._slow_sum = 0.0
        self._side = 0

    def on_candle(self, candle: Candle) -> Signal | None:
        close = candle.close
        buf, fast, slow, count = self._buf, self._fast, self._slow, self._count
        slot = count % slow
        fast_sum = self._fast_sum + close
        slow_sum = self._slow_sum + close
        if count >= fast:
            fast_sum -= buf[slot - fast]  # negative index wraps the ring
        if count >= slow:
            slow_sum -= buf[slot]
        buf[slot] = close
        self._count = count + 1
        self._fast_sum = fast_sum
        self._slow_sum = slow_sum
        if count + 1 < slow:
            return None
        # fast_sum/fast vs slow_sum/slow, without dividing.
        diff = fast_sum * slow - slow_sum * fast
        side = 1 if diff > 0 else -1 if diff < 0 else 0
        previous = self._side
        if side == 0 or side == previous:
            return None
        self._side = side
        if previous == 0:
            return None
        return "buy" if side > 0 else "sell"


class RsiStrategy(Strategy):
    """Buy when RSI falls into the oversold zone, sell when it rises into the overbought one.

    Wilder's RSI: the first ``period`` changes seed the average gain and loss as plain means,
    later ones are smoothed with weight ``1/period``. A flat market (no gain, no loss) reads
    50. One signal per visit to a zone; the first reading may already be in one.
    """

    __slots__ = ("_period", "_oversold", "_overbought", "_prev", "_seen",
                 "_avg_gain", "_avg_loss", "_zone")
    name = "rsi_strategy"

    @dataclass(frozen=True)
    class Params:
        period: int = positive(14)
        oversold: float = positive(30.0)
        overbought: float = positive(70.0)

        def problems(self) -> Iterator[tuple[str, str]]:
            if self.overbought >= 100:
                yield "overbought", f"expected less than 100, found {self.overbought}"
            if self.oversold >= self.overbought:
                yield "oversold", f"expected less than overbought ({self.overbought}), found {self.oversold}"

    def __init__(self, params: RsiStrategy.Params) -> None:
        super().__init__(params)
        self._period = params.period
        self._oversold = params.oversold
        self._overbought = params.overbought
        self._prev: float | None = None
        self._seen = 0  # changes seen, counted only until the seed is complete
        self._avg_gain = 0.0
        self._avg_loss = 0.0
        self._zone = 0

    @property
    def value(self) -> float | None:
        """The current RSI, or None during warm-up."""
        return _rsi(self._avg_gain, self._avg_loss) if self._seen >= self._period else None

    def on_candle(self, candle: Candle) -> Signal | None:
        close = candle.close
        prev = self._prev
        self._prev = close
        if prev is None:
            return None
        change = close - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        period = self._period
        if self._seen < period:
            self._seen += 1
            self._avg_gain += gain / period
            self._avg_loss += loss / period
            if self._seen < period:
                return None
        else:
            self._avg_gain += (gain - self._avg_gain) / period
            self._avg_loss += (loss - self._avg_loss) / period
        rsi = _rsi(self._avg_gain, self._avg_loss)
        zone = -1 if rsi < self._oversold else 1 if rsi > self._overbought else 0
        if zone == self._zone:
            return None
        self._zone = zone
        return None if zone == 0 else "buy" if zone < 0 else "sell"


def _rsi(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0:
        return 50.0 if avg_gain == 0 else 100.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


class Momentum(Strategy):
    """Buy when the return over ``lookback`` candles rises above ``threshold``, sell when it
    falls below ``-threshold``; one signal per visit to either side. The default lookback is
    an hour of 1m candles, hence the name."""

    __slots__ = ("_lookback", "_threshold", "_closes", "_zone")
    name = "momentum_1h"

    @dataclass(frozen=True)
    class Params:
        lookback: int = positive(60)
        #: A fraction: 0.005 is 0.5 %.
        threshold: float = positive(0.005)

    def __init__(self, params: Momentum.Params) -> None:
        super().__init__(params)
        self._lookback = params.lookback
        self._threshold = params.threshold
        self._closes: deque[float] = deque(maxlen=params.lookback + 1)
        self._zone = 0

    def on_candle(self, candle: Candle) -> Signal | None:
        closes = self._closes
        closes.append(candle.close)
        if len(closes) <= self._lookback:
            return None
        change = closes[-1] / closes[0] - 1.0
        threshold = self._threshold
        zone = 1 if change > threshold else -1 if change < -threshold else 0
        if zone == self._zone:
            return None
        self._zone = zone
        return None if zone == 0 else "buy" if zone > 0 else "sell"


BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {cls.name: cls for cls in (MaCrossover, RsiStrategy, Momentum)}
