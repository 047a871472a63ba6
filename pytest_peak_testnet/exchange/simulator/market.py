"""A deterministic price path per pair, whatever the venue (the core of the simulator).

Every number is a pure function of (seed, pair, time), so the same seed and the same clock
steps give byte-identical answers. The path has two levels: one log-price anchor per UTC
day (a random walk from 2024-01-01), and a Brownian bridge of one-minute bars between one
day's anchor and the next. Any day can thus be generated on its own, without generating
the days between. Longer candles aggregate the minute bars, as an exchange's do, so a
1h candle's high is the highest of its minutes.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

MINUTE = 60
DAY = 86_400
#: 2024-01-01, where each pair's walk starts at its ``start_price``.
ORIGIN_DAY = 19_723
#: Bounds on cached days and aggregated candles: enough for any OHLC window, small in memory.
CACHED_DAYS = 8
CACHED_CANDLES = 8_192

K = TypeVar("K")
V = TypeVar("V")
#: ``(time, open, high, low, close, vwap, volume, count)``: one candle.
Bar = tuple[int, float, float, float, float, float, float, int]


class Priced(Protocol):
    """What the price path needs of a market, whatever the venue calls it: Kraken's pairs
    (``pairs.SimPair``) and Binance's symbols (``binance.symbols.SimSymbol``)."""

    @property
    def pair_id(self) -> str: ...

    @property
    def pair_decimals(self) -> int: ...

    @property
    def tick_size(self) -> Decimal | None: ...

    @property
    def start_price(self) -> float: ...

    @property
    def daily_volatility(self) -> float: ...

    @property
    def minute_volume(self) -> float: ...

    def price(self, value: Decimal | float) -> str: ...


def aggregate(bars: Sequence[Bar], start: int) -> Bar:
    volume = sum(bar[6] for bar in bars)
    vwap = sum(bar[5] * bar[6] for bar in bars) / volume if volume else bars[-1][4]
    return (start, bars[0][1], max(bar[2] for bar in bars), min(bar[3] for bar in bars), bars[-1][4], vwap,
            volume, sum(bar[7] for bar in bars))


def partial(bar: Bar, now: float) -> Bar:
    """The part of a minute bar up to ``now``: the price moves linearly from open to close."""
    fraction = (now - bar[0]) / MINUTE
    price = bar[1] + (bar[4] - bar[1]) * fraction
    return (bar[0], bar[1], max(bar[1], price), min(bar[1], price), price, (bar[1] + price) / 2,
            bar[6] * fraction, int(bar[7] * fraction))


def _remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    if len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


class PricePath:
    """One pair's minute bars, generated a day at a time and cached."""

    def __init__(self, seed: int, pair: Priced) -> None:
        self.pair = pair
        self._key = f"{seed}:{pair.pair_id}"
        self._sigma = pair.daily_volatility / math.sqrt(DAY // MINUTE)
        self._anchors = {ORIGIN_DAY: math.log(pair.start_price)}
        self._days: dict[int, list[Bar]] = {}
        self._candles: dict[tuple[int, int], Bar] = {}
        self._lock = threading.Lock()

    def _anchor(self, day: int) -> float:
        """The log price at 00:00 UTC of ``day``: walk from the nearest known day."""
        step = 1 if day > ORIGIN_DAY else -1
        known = day
        while known not in self._anchors:
            known -= step
        while known != day:
            move = random.Random(f"{self._key}:day:{min(known, known + step)}").gauss(0.0, self.pair.daily_volatility)
            self._anchors[known + step] = self._anchors[known] + step * move
            known += step
        return self._anchors[day]

    def _day(self, day: int) -> list[Bar]:
        if day in self._days:
            return self._days[day]
        rng = random.Random(f"{self._key}:minutes:{day}")
        start, end = self._anchor(day), self._anchor(day + 1)
        count = DAY // MINUTE
        walk = list(itertools.accumulate(rng.gauss(0.0, self._sigma) for _ in range(count)))
        drift = (end - start - walk[-1]) / count
        prices = [math.exp(start)] + [math.exp(start + w + drift * (k + 1)) for k, w in enumerate(walk)]
        bars = []
        for k in range(count):
            open_, close = prices[k], prices[k + 1]
            wick, activity = rng.random(), 0.2 + 1.6 * rng.random()
            high = max(open_, close) * (1 + self._sigma * wick)
            low = min(open_, close) * (1 - self._sigma * (1 - wick))
            bars.append((day * DAY + k * MINUTE, open_, high, low, close, (high + low + close) / 3,
                         self.pair.minute_volume * activity, 1 + int(10 * activity)))
        return _remember(self._days, day, bars, CACHED_DAYS)

    def _minutes(self, start: int, end: int) -> list[Bar]:
        """Minute bars with ``start <= time < end`` (both whole minutes)."""
        bars: list[Bar] = []
        for day in range(start // DAY, (end - 1) // DAY + 1):
            first = max(start, day * DAY)
            last = min(end, (day + 1) * DAY)
            bars += self._day(day)[(first - day * DAY) // MINUTE:(last - day * DAY) // MINUTE]
        return bars

    def closed(self, start: int, seconds: int) -> Bar:
        """The finished candle ``[start, start + seconds)``."""
        with self._lock:
            key = (start, seconds)
            if key not in self._candles:
                _remember(self._candles, key, aggregate(self._minutes(start, start + seconds), start), CACHED_CANDLES)
            return self._candles[key]

    def window(self, start: float, now: float) -> Bar:
        """From ``start`` (rounded down to the minute) up to ``now``, the minute under way included."""
        with self._lock:
            first, current = int(start) // MINUTE * MINUTE, int(now) // MINUTE * MINUTE
            bars = [*self._minutes(first, current), partial(self._minutes(current, current + MINUTE)[0], now)]
            return aggregate(bars, first)


class Market:
    """The price path of every pair, on one seed, and the touch of its book; a pair with
    recorded history (``kraken.csvhistory.History``) follows that instead of its random
    walk. Each venue's front-end writes its own ticker and candles from it."""

    def __init__(self, seed: int, pairs: Sequence[Priced], history: Sequence[Any] = ()) -> None:
        self._paths: dict[str, Any] = {pair.pair_id: PricePath(seed, pair) for pair in pairs}
        self._paths.update({recorded.pair.pair_id: recorded for recorded in history})

    def path(self, pair: Priced) -> PricePath:
        return self._paths[pair.pair_id]  # type: ignore[no-any-return]

    def last(self, pair: Priced, now: float) -> Decimal:
        return Decimal(pair.price(self.path(pair).window(now, now)[4]))

    def book(self, pair: Priced, now: float) -> tuple[Decimal, Decimal]:
        """``(bid, ask)`` on the tick grid around the last price, about one basis point apart."""
        last = self.last(pair, now)
        tick = pair.tick_size or Decimal(1).scaleb(-pair.pair_decimals)
        half = max(tick, (last * Decimal("0.00005") / tick).to_integral_value() * tick)
        return last - half, last + half
