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
from decimal import Context, Decimal
from typing import Any, ClassVar

from ..desk.schema import build, closest, positive
from ..errors import InputError, ProfileError
from .market import Candle
from .paper import Side

#: What a strategy asks for: the side of the order the session should send.
Signal = Side

ZERO = Decimal(0)
HUNDRED = Decimal(100)
#: Wilder's averages: rationals with ever-growing denominators, kept to 50 digits.
AVERAGES = Context(prec=50)
#: Products of a price or an average with a threshold: wide enough to be exact.
COMPARE = Context(prec=120)


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
    Both windows are running sums of the exact closes, compared cross-multiplied
    (``fast_sum * slow`` against ``slow_sum * fast``): decimal additions and multiplications
    of prices on the exchange's grid are exact in the default 28-digit context (a price of up
    to 12 significant digits times a window of up to 10,000 candles), there is no division,
    so a tie stays a tie however long the run.
    """

    __slots__ = ("_count", "_factors", "_fast", "_fast_ring", "_fast_side", "_side", "_slow", "_slow_ring",
                 "_slow_side")
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
        # Each close enters the fast sum as close * slow and the slow sum as close * fast, so
        # the two sums compare directly (fast_sum / fast vs slow_sum / slow, cross-multiplied);
        # one ring of the last ``slow`` closes for each serves both windows. The factors are
        # Decimals: a Decimal times an int converts the int on every candle.
        self._factors = (Decimal(params.slow), Decimal(params.fast))
        self._fast_ring = [ZERO] * params.slow
        self._slow_ring = [ZERO] * params.slow
        self._count = 0
        self._fast_side = ZERO
        self._slow_side = ZERO
        self._side = 0

    @property
    def averages(self) -> tuple[Decimal, Decimal] | None:
        """The fast and slow SMA of close, or None until ``slow`` closes were seen."""
        if self._count < self._slow:
            return None
        scale = self._fast * self._slow
        return self._fast_side / scale, self._slow_side / scale

    def on_candle(self, candle: Candle) -> Signal | None:
        close = candle.close
        fast, slow, count = self._fast, self._slow, self._count
        slot = count % slow
        by_slow, by_fast = self._factors
        as_fast, as_slow = close * by_slow, close * by_fast
        fast_side = self._fast_side + as_fast
        slow_side = self._slow_side + as_slow
        if count >= fast:
            fast_side -= self._fast_ring[slot - fast]  # negative index wraps the ring
        if count >= slow:
            slow_side -= self._slow_ring[slot]
        self._fast_ring[slot] = as_fast
        self._slow_ring[slot] = as_slow
        self._count = count + 1
        self._fast_side = fast_side
        self._slow_side = slow_side
        if count + 1 < slow:
            return None
        side = 1 if fast_side > slow_side else -1 if fast_side < slow_side else 0
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

    Exactness: changes are exact (differences of exact closes) and the seed is compared
    through its exact sums. Wilder's smoothing divides by ``period`` at every step, so its
    averages are rationals whose denominators grow without bound; they are kept in
    ``AVERAGES`` (50 significant digits, 34 more than a float). The zones are then decided
    without dividing (``100 * gain < oversold * (gain + loss)``) in a context wide enough to
    hold those products exactly, so the only rounding is at the 50th digit of the averages.
    """

    __slots__ = (
        "_avg_gain",
        "_avg_loss",
        "_overbought",
        "_oversold",
        "_period",
        "_prev",
        "_seen",
        "_zone",
    )
    name = "rsi_strategy"

    @dataclass(frozen=True)
    class Params:
        period: int = positive(14)
        oversold: Decimal = positive(Decimal(30))
        overbought: Decimal = positive(Decimal(70))

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
        self._prev: Decimal | None = None
        self._seen = 0  # changes seen, counted only until the seed is complete
        #: Sums of gains and losses during the seed, Wilder's averages after it.
        self._avg_gain = ZERO
        self._avg_loss = ZERO
        self._zone = 0

    @property
    def value(self) -> Decimal | None:
        """The current RSI, or None during warm-up."""
        if self._seen < self._period:
            return None
        total = COMPARE.add(self._avg_gain, self._avg_loss)
        return Decimal(50) if not total else AVERAGES.divide(COMPARE.multiply(HUNDRED, self._avg_gain), total)

    def on_candle(self, candle: Candle) -> Signal | None:
        close = candle.close
        prev = self._prev
        self._prev = close
        if prev is None:
            return None
        change = close - prev
        gain = change if change > 0 else ZERO
        loss = -change if change < 0 else ZERO
        period = self._period
        if self._seen < period:
            self._seen += 1
            self._avg_gain += gain
            self._avg_loss += loss
            if self._seen < period:
                return None
            self._avg_gain = AVERAGES.divide(self._avg_gain, period)
            self._avg_loss = AVERAGES.divide(self._avg_loss, period)
        else:
            self._avg_gain = AVERAGES.add(self._avg_gain, AVERAGES.divide(gain - self._avg_gain, period))
            self._avg_loss = AVERAGES.add(self._avg_loss, AVERAGES.divide(loss - self._avg_loss, period))
        zone = self._zone_of(self._avg_gain, self._avg_loss)
        if zone == self._zone:
            return None
        self._zone = zone
        return None if zone == 0 else "buy" if zone < 0 else "sell"

    def _zone_of(self, gain: Decimal, loss: Decimal) -> int:
        """-1 oversold, 1 overbought, 0 between; RSI = 100 * gain / (gain + loss), 50 when flat."""
        total = COMPARE.add(gain, loss)
        if not total:
            return 0 if self._oversold <= 50 <= self._overbought else -1 if 50 < self._oversold else 1
        scaled = COMPARE.multiply(HUNDRED, gain)
        if scaled < COMPARE.multiply(self._oversold, total):
            return -1
        return 1 if scaled > COMPARE.multiply(self._overbought, total) else 0


class Momentum(Strategy):
    """Buy when the return over ``lookback`` candles rises above ``threshold``, sell when it
    falls below ``-threshold``; one signal per visit to either side. The default lookback is
    an hour of 1m candles, hence the name. The return is compared without dividing
    (``close > first * (1 + threshold)``), in exact decimals."""

    __slots__ = ("_closes", "_down", "_lookback", "_up", "_zone")
    name = "momentum_1h"

    @dataclass(frozen=True)
    class Params:
        lookback: int = positive(60)
        #: A fraction: 0.005 is 0.5 %.
        threshold: Decimal = positive(Decimal("0.005"))

    def __init__(self, params: Momentum.Params) -> None:
        super().__init__(params)
        self._lookback = params.lookback
        self._up = 1 + params.threshold
        self._down = 1 - params.threshold
        self._closes: deque[Decimal] = deque(maxlen=params.lookback + 1)
        self._zone = 0

    def on_candle(self, candle: Candle) -> Signal | None:
        closes = self._closes
        closes.append(candle.close)
        if len(closes) <= self._lookback:
            return None
        first, last = closes[0], closes[-1]
        zone = 1 if last > COMPARE.multiply(first, self._up) else -1 if last < COMPARE.multiply(first, self._down) else 0
        if zone == self._zone:
            return None
        self._zone = zone
        return None if zone == 0 else "buy" if zone > 0 else "sell"


BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {cls.name: cls for cls in (MaCrossover, RsiStrategy, Momentum)}
