"""Kraken's Ticker and OHLC answers, written from the venue-neutral price path."""

from __future__ import annotations

from typing import Any

from ..market import DAY, MINUTE, Bar, Market
from .pairs import SimPair
from .wire import Reject

#: Kraken's OHLC intervals in minutes that divide a UTC day (10080 and 21600 are not simulated).
INTERVALS = (1, 5, 15, 30, 60, 240, 1440)
#: Kraken returns at most this many OHLC rows, the open candle included.
OHLC_ROWS = 720


class KrakenMarket(Market):
    """The market as Kraken's public endpoints show it."""

    def ticker(self, pair: SimPair, now: float) -> dict[str, Any]:
        path, price = self.path(pair), pair.price
        today, day = path.window(now // DAY * DAY, now), path.window(now - DAY, now)
        bid, ask = self.book(pair, now)
        return {
            "a": [price(ask), "1", "1.000"], "b": [price(bid), "1", "1.000"],
            "c": [price(day[4]), "0.01000000"],
            "v": [f"{today[6]:.8f}", f"{day[6]:.8f}"], "p": [price(today[5]), price(day[5])],
            "t": [today[7], day[7]], "l": [price(today[3]), price(day[3])], "h": [price(today[2]), price(day[2])],
            "o": price(today[1]),
        }

    def ohlc(self, pair: SimPair, interval: int, since: int | None, now: float) -> dict[str, Any]:
        """Rows after ``since`` within the newest 720, the open candle always last; ``last``
        is the newest closed candle's time, the ``since`` for the next poll."""
        if interval not in INTERVALS:
            raise Reject("EGeneral:Invalid arguments:interval")
        span = interval * MINUTE
        current = int(now) // span * span
        first = current - (OHLC_ROWS - 1) * span
        if since is not None:
            first = max(first, (since // span + 1) * span)
        path = self.path(pair)
        rows = [row for row in (path.closed(start, span) for start in range(first, current, span)) if row is not None]
        rows.append(path.window(current, now))
        return {pair.pair_id: [self._row(pair, row) for row in rows], "last": current - span}

    @staticmethod
    def _row(pair: SimPair, bar: Bar) -> list[Any]:
        time_, open_, high, low, close, vwap, volume, count = bar
        return [time_, *(pair.price(value) for value in (open_, high, low, close, vwap)), f"{volume:.8f}", count]
