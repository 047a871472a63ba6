"""The fixed candle series the references are run on, exact as the client parses them.

Every series is a pure function of its arguments, so a failure names a series that can be
made again. Prices are on the pair's grid, as Kraken sends them: the project's arithmetic is
exact there, and the references are not (they work in binary floats).
"""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal
from pathlib import Path

from pytest_peak_testnet.desk.config import TIMEFRAMES
from pytest_peak_testnet.desk.profiles import Profile
from pytest_peak_testnet.exchange.kraken.wire import parse_ohlc
from pytest_peak_testnet.exchange.simulator import DEFAULT_START_TIME
from pytest_peak_testnet.exchange.simulator.kraken.marketdata import OHLC_ROWS, KrakenMarket
from pytest_peak_testnet.exchange.simulator.kraken.pairs import PAIRS
from pytest_peak_testnet.trading.market import Candle

TICK = Decimal("0.1")
MINUTE = 60
START = int(DEFAULT_START_TIME)


def _candle(time: int, open_: Decimal, close: Decimal, tick: Decimal) -> Candle:
    """A bar whose wicks reach one tick past its body (they only matter to a chart)."""
    return Candle(time, open_, max(open_, close) + tick, min(open_, close) - tick, close,
                  ((open_ + close) / 2).quantize(tick), Decimal(1), 10)


def random_walk(count: int = 2000, seed: int = 11, start: str = "60000.0", volatility: float = 0.001) -> list[Candle]:
    """A 1m geometric random walk on Kraken's 0.1 EUR grid. Each open is the previous close
    moved by a fraction of a tick's worth of noise, so a fill at the next open is not the
    signal's close."""
    rng = random.Random(seed)
    close, rows = Decimal(start), []
    for index in range(count):
        open_ = (close * Decimal(math.exp(rng.gauss(0, volatility / 5)))).quantize(TICK)
        close = (open_ * Decimal(math.exp(rng.gauss(0, volatility)))).quantize(TICK)
        rows.append(_candle(START + MINUTE * index, open_, close, TICK))
    return rows


def gap_down(count: int = 600, gap_at: int = 400, gap: str = "0.8") -> list[Candle]:
    """The random walk with every candle from ``gap_at`` on moved down to ``gap`` times its
    price: one open far below the close before it, as after bad news over a halt."""
    factor = Decimal(gap)
    rows = random_walk(count, seed=5)
    moved = [Candle(c.time, *((price * factor).quantize(TICK) for price in (c.open, c.high, c.low, c.close, c.vwap)),
                    c.volume, c.count) for c in rows[gap_at:]]
    return rows[:gap_at] + moved


def flat(count: int = 400, price: str = "60000.0") -> list[Candle]:
    """Every price the same: every moving average ties, RSI reads its flat 50, no momentum."""
    level = Decimal(price)
    return [Candle(START + MINUTE * index, level, level, level, level, level, Decimal(1), 10) for index in range(count)]


def simulated(pair_id: str, count: int, seed: int = 0) -> list[Candle]:
    """``count`` closed 1m candles of the simulator's pair from its start, as its OHLC
    endpoint sends them, paged with ``since`` like a client."""
    market, pair = KrakenMarket(seed, list(PAIRS.values())), PAIRS[pair_id]
    rows: list[Candle] = []
    since: int | None = None
    while len(rows) < count:
        now = START + MINUTE * min(len(rows) + OHLC_ROWS - 1, count)
        page = parse_ohlc(market.ohlc(pair, 1, since, now), pair.pair_id)
        rows += page.candles
        since = page.last
    return rows[:count]


def replayed(cassette: Path, profile: Profile, warmup: int) -> list[Candle]:
    """The candles a session replayed from ``cassette`` saw, warm-up first: the first OHLC
    page's newest closed candles, then each later page's new candles that close within
    the profile's duration, counted from the first server time."""
    interactions = json.loads(cassette.read_text())["interactions"]
    bodies = [(item["request"]["uri"], json.loads(item["response"]["body"]["string"])["result"])
              for item in interactions if "/public/" in item["request"]["uri"]]
    started = next(result["unixtime"] for uri, result in bodies if uri.endswith("/Time"))
    interval = TIMEFRAMES[profile.timeframe] * MINUTE
    end = started + profile.duration_minutes * 60
    pages = [parse_ohlc(result, next(key for key in result if key != "last"))
             for uri, result in bodies if "/OHLC" in uri]
    rows = pages[0].candles[-warmup:]
    for page in pages[1:]:
        rows += [c for c in page.candles if c.time > rows[-1].time and c.time + interval <= end]
    return rows
