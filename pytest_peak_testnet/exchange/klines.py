"""Binance's kline rows and the JSON numbers they are written in, read exactly.

Two readers need them: the Binance client, and the reference market (``reference``), which
reads Binance's public production klines whatever venue the run trades on; so they live
here, outside the venue package, and a Kraken replay imports no Binance module.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..trading.market import Candle

#: Binance answers at most this many klines per call.
KLINES_LIMIT = 1000


def dec(value: Any) -> Decimal:
    """An amount as Binance wrote it; ``str()`` first so a JSON float keeps its digits."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found {value!r}")
    return Decimal(str(value))


def integer(value: Any) -> int:
    """An id or a time, sent as a JSON integer or as a string of one."""
    number = dec(value)
    if number != number.to_integral_value():
        raise ValueError(f"expected a whole number, found {value!r}")
    return int(number)


def candle(row: Sequence[Any]) -> Candle:
    """One kline: ``[openTime, open, high, low, close, volume, closeTime, quoteVolume,
    trades, ...]``. Binance has no VWAP: it is quote volume over volume, the close when
    nothing traded."""
    volume, quote_volume = dec(row[5]), dec(row[7])
    close = dec(row[4])
    return Candle(time=integer(row[0]) // 1000, open=dec(row[1]), high=dec(row[2]), low=dec(row[3]), close=close,
                  vwap=quote_volume / volume if volume else close, volume=volume, count=integer(row[8]))
