"""Market data shared by the client (which parses it) and the strategies (which read it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC row, exactly as the exchange sent it: prices and volume are ``Decimal``
    parsed from Kraken's strings, so a price on the pair's grid stays on it and sums of
    prices (moving averages) are exact."""

    time: int  # open time, unix seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    count: int
