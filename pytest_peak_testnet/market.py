"""Market data shared by the client (which parses it) and the strategies (which read it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC row. Prices are floats: strategies read millions of these, orders are
    formatted from Decimal at the client, where exactness matters."""

    time: int  # open time, unix seconds
    open: float
    high: float
    low: float
    close: float
    vwap: float
    volume: float
    count: int
