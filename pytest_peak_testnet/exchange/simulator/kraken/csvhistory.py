"""Real market history for the simulator: a CSV in Kraken's OHLCVT export layout.

Kraken's downloadable OHLCVT files hold one candle per line and no header:
``time,open,high,low,close,volume,trades`` (unix seconds, then figures as written), one
file per pair and interval, named ``<ALTNAME>_<minutes>.csv`` (``XBTEUR_1.csv``). Loaded
here, such a file replaces the seeded random walk of its pair: OHLC, Ticker and the fills
of the simulator's account then follow the prices the market really had at those times,
and the simulator's clock starts inside the file.

A file with a gap, a row out of order or a bad figure is refused with one line naming the
file, the line and what is wrong: a simulated session on holed data would trade on
candles that never existed. So is a price finer than the pair's ``pair_decimals``: the
simulator writes prices on the pair's grid, and rounding them would serve a market that
never was (8-decimal prices of a cheap coin on a 1-decimal pair all became 0.0).
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path

from ....errors import InputError
from ..market import MINUTE, Bar, aggregate
from .marketdata import INTERVALS
from .pairs import PAIRS, SimPair, find_pair
from .wire import Reject

COLUMNS = ("time", "open", "high", "low", "close", "volume", "trades")
NAME = re.compile(r"^(?P<pair>[A-Za-z0-9]+)_(?P<minutes>\d+)$")


def stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class History:
    """One pair's candles from a file, oldest first, ``interval`` seconds apart."""

    path: Path
    pair: SimPair
    interval: int
    bars: tuple[Bar, ...]

    @property
    def first(self) -> int:
        return self.bars[0][0]

    @property
    def end(self) -> int:
        """When the last candle closes."""
        return self.bars[-1][0] + self.interval

    def covers(self) -> str:
        return f"{self.path.name} covers {stamp(self.first)} to {stamp(self.end)}"

    def _index(self, time: int) -> int:
        return (time - self.first) // self.interval

    def closed(self, start: int, seconds: int) -> Bar | None:
        """The finished candle ``[start, start + seconds)``, or None where the file does not cover all of it."""
        if seconds % self.interval or start % self.interval or start < self.first or start + seconds > self.end:
            return None
        first = self._index(start)
        return aggregate(self.bars[first:first + seconds // self.interval], start)

    def window(self, start: float, now: float) -> Bar:
        """From ``start`` (or the file's first candle) up to ``now``, the candle under way
        included, its price moving linearly from open to close as the minutes pass."""
        if not self.first <= now < self.end:
            raise Reject(f"EGeneral:Invalid arguments:no market history at {stamp(now)}; {self.covers()}")
        begin = max(int(start) // self.interval * self.interval, self.first)
        current = int(now) // self.interval * self.interval
        bar = self.bars[self._index(current)]
        fraction = (now - current) / self.interval
        price = bar[1] + (bar[4] - bar[1]) * fraction
        under_way: Bar = (current, bar[1], max(bar[1], price), min(bar[1], price), price, (bar[1] + price) / 2,
                          bar[6] * fraction, int(bar[7] * fraction))
        return aggregate([*self.bars[self._index(begin):self._index(current)], under_way], begin)


def load(path: Path, pair: str | None = None) -> History:
    """Read and check the whole file. ``pair`` (a Kraken pair id or altname) overrides
    the one in the file's name."""
    shown = str(path)
    match = NAME.match(path.stem)
    wanted = pair or (match.group("pair") if match else None)
    try:
        found = find_pair(wanted)
    except Reject:
        known = ", ".join(p.altname for p in PAIRS.values())
        raise InputError(shown, f"cannot tell the pair: name the file <PAIR>_<minutes>.csv with a pair the simulator "
                                f"lists ({known}), found {path.name!r}") from None
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(shown, f"cannot read: {exc}") from None
    bars: list[Bar] = []
    lines: list[int] = []  # each bar's line in the file, for the checks below
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        bars.append(_bar(row, f"{shown}:{number}", found))
        lines.append(number)
    if len(bars) < 2:
        raise InputError(shown, f"expected at least 2 candles, found {len(bars)}")
    interval = int(match.group("minutes")) * MINUTE if match else bars[1][0] - bars[0][0]
    if interval // MINUTE not in INTERVALS or interval % MINUTE:
        raise InputError(shown, f"expected candles of {', '.join(map(str, INTERVALS))} minutes, found {interval} s apart")
    for (before, after), line in zip(itertools.pairwise(bars), lines[1:], strict=True):
        step = after[0] - before[0]
        if step <= 0:
            raise InputError(f"{shown}:{line}", f"time {after[0]} is not after the previous candle's {before[0]}")
        if step != interval:
            raise InputError(f"{shown}:{line}", f"gap: no candle between {stamp(before[0])} and {stamp(after[0])} "
                                                f"({step // MINUTE} min apart, the file's interval is "
                                                f"{interval // MINUTE} min)")
    if bars[0][0] % interval:
        raise InputError(f"{shown}:{lines[0]}", f"time {bars[0][0]} does not start a {interval // MINUTE}-minute candle")
    return History(path, found, interval, tuple(bars))


def _bar(row: list[str], where: str, pair: SimPair) -> Bar:
    if len(row) != len(COLUMNS):
        raise InputError(where, f"expected {len(COLUMNS)} columns ({', '.join(COLUMNS)}), found {len(row)}")
    try:
        time = int(row[0])
        open_, high, low, close, volume = (Decimal(value.strip()) for value in row[1:6])
        trades = int(row[6])
    except (ValueError, InvalidOperation):
        raise InputError(where, f"expected whole-number time and trades and decimal figures, found {','.join(row)!r}") \
            from None
    if not all(v.is_finite() and v > 0 for v in (open_, high, low, close)) or volume < 0 or trades < 0:
        raise InputError(where, "expected prices > 0 and volume and trades >= 0")
    grid = Decimal(1).scaleb(-pair.pair_decimals)
    finer = next((v for v in (open_, high, low, close) if v != v.quantize(grid, rounding=ROUND_DOWN)), None)
    if finer is not None:
        raise InputError(where, f"price {finer} has more decimals than {pair.wsname}'s {pair.pair_decimals}; the "
                                "simulator serves a file's prices as written, so it cannot round them (a pair "
                                f"with finer prices: {_finer_pairs(finer)})")
    if not low <= min(open_, close) <= max(open_, close) <= high:
        raise InputError(where, f"expected low <= open, close <= high, found open {open_}, high {high}, low {low}, "
                                f"close {close}")
    vwap = (high + low + close) / 3
    return (time, float(open_), float(high), float(low), float(close), float(vwap), float(volume), trades)


def _finer_pairs(price: Decimal) -> str:
    places = -price.normalize().as_tuple().exponent  # type: ignore[operator]  # finite: checked before
    fit = [f"{p.altname} ({p.pair_decimals})" for p in PAIRS.values() if p.pair_decimals >= places]
    return ", ".join(fit) or "none"
