"""A reference market: public, key-less klines (Binance's format, which Binance's own
production API serves) to compare a test environment's prices with.

A test environment's books are its own: the Spot Testnet's prices can sit far from the
live market. The report says how far, and only a run's own read is needed: one GET after
the run, for the candles it traded on, through the run's transport (so a replay answers
it from the cassette and no test reaches the internet). It carries no key and no
signature, and orders never go there: the environment guard is about orders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..trading.market import Candle
from .errors import BadResponse, BaseError, NetworkError
from .klines import KLINES_LIMIT, candle


def parse_klines(rows: Any) -> list[Candle]:
    """Binance's kline rows, read as the Binance client reads them (``klines.candle``)."""
    try:
        return [candle(row) for row in rows]
    except (KeyError, IndexError, TypeError, ValueError, InvalidOperation) as exc:
        raise BadResponse(f"reference klines: unexpected shape ({type(exc).__name__} {exc})") from None


class ReferenceMarket:
    """``candles(symbol, timeframe, start, end)`` from ``url`` over ``transport`` (anything
    with requests' ``get``; None: a session built for the URL when first needed)."""

    def __init__(self, url: str, transport: Any, timeout: float, threshold_bps: Decimal,
                 session: Callable[[str], Any] | None = None) -> None:
        self.url = url
        #: A run whose closes drift further than this from the reference is flagged.
        self.threshold_bps = threshold_bps
        self._transport = transport
        self._timeout = timeout
        self._session = session

    def candles(self, symbol: str, timeframe: str, start: int, end: int) -> list[Candle]:
        """Candles opening from ``start`` to ``end`` (unix seconds), at most ``KLINES_LIMIT``."""
        if self._transport is None:
            from .transport import environment_session

            self._transport = (self._session or environment_session)(self.url)
        params = {"symbol": symbol, "interval": timeframe, "startTime": start * 1000, "endTime": end * 1000,
                  "limit": KLINES_LIMIT}
        try:
            answer = self._transport.get(self.url, params=params, headers={}, timeout=self._timeout)
        except OSError as exc:
            raise NetworkError(f"reference klines: {type(exc).__name__}") from None
        if answer.status_code != 200:
            raise BadResponse(f"reference klines: HTTP {answer.status_code}")
        try:
            rows = answer.json()
        except ValueError:
            raise BadResponse("reference klines: body is not JSON") from None
        return parse_klines(rows)


def read(reference: ReferenceMarket, symbol: str, timeframe: str, start: int,
         end: int) -> tuple[list[Candle], str | None]:
    """The candles, or none and why: a reference that cannot be read never fails the run."""
    try:
        return reference.candles(symbol, timeframe, start, end), None
    except BaseError as exc:
        return [], str(exc)
