"""Kraken's wire format on the client side: signing, market data and pairs, order
formatting and AddOrder's answer (orders, fills and balances are in ``kraken_orders``).

The parsers follow Kraken's documentation, not any one server's output: prices and volumes
arrive as strings, some integers as strings too (``"last": "1706796000"``, ``"userref":
"0"``), older AssetPairs captures lack ``ordermin``, ``costmin``, ``tick_size`` and
``status``. A result of the wrong shape becomes ``BadResponse`` at ``parsed``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from ...trading.market import Candle
from ..errors import BadResponse, InvalidOrder
from ..protocol import CandlePage

#: Kraken's names for currencies everyone else spells differently (``XBT/EUR`` is BTC/EUR).
COMMON_CURRENCY = {"XBT": "BTC", "XDG": "DOGE"}

T = TypeVar("T")
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]


def sign(uri_path: str, nonce: int | str, body: str, secret: str) -> str:
    """``API-Sign`` exactly as Kraken documents it: base64(HMAC-SHA512(path + SHA256(nonce +
    body), base64-decoded secret)). ``body`` is the urlencoded POST data, nonce included."""
    digest = hashlib.sha256(f"{nonce}{body}".encode()).digest()
    mac = hmac.new(base64.b64decode(secret, validate=True), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


@dataclass(frozen=True)
class PairInfo:
    """One AssetPairs entry: what the client needs to name a pair and to shape an order."""

    pair_id: str
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    #: ``0`` when the capture predates the field: no client-side minimum then.
    ordermin: Decimal
    costmin: Decimal | None
    tick_size: Decimal | None
    status: str

    @property
    def symbol(self) -> str:
        """The unified name (``BTC/EUR``) the desk's configuration uses."""
        return "/".join(COMMON_CURRENCY.get(part, part) for part in self.wsname.split("/"))


@dataclass(frozen=True)
class Ticker:
    """A pair's Ticker entry: best ask and bid, last trade, and the 24 h figures."""

    pair_id: str
    ask: Decimal
    bid: Decimal
    last: Decimal
    open: Decimal  # today's opening price
    low_24h: Decimal
    high_24h: Decimal
    volume_24h: Decimal
    vwap_24h: Decimal
    trades_24h: int


@dataclass(frozen=True)
class OrderResult:
    """AddOrder's answer; with ``validate=true`` Kraken checks the order and places nothing."""

    description: str
    txids: tuple[str, ...]
    #: True when the order was only validated (``validate=true``): nothing was placed.
    validated: bool
    warnings: tuple[str, ...]
    #: The reference the order was sent with: how it is found again when this answer is lost.
    userref: int | None = None


def integer(value: Any) -> int:
    """Kraken sends some integers as strings (``"last": "1706796000"``); accept both."""
    return int(Decimal(str(value)))


def dec(value: Any) -> Decimal:
    """An amount as Kraken wrote it: ``str()`` first, since a number that arrived as a JSON
    float would otherwise carry binary noise into the books."""
    return Decimal(str(value))


def optional_dec(entry: Mapping[str, Any], key: str) -> Decimal | None:
    """``entry[key]`` as an amount; None when Kraken left it out or sent it empty."""
    return dec(entry[key]) if entry.get(key) not in (None, "") else None


def optional_int(entry: Mapping[str, Any], key: str) -> int | None:
    return None if entry.get(key) is None else integer(entry[key])


def parse_asset_pairs(result: Mapping[str, Any]) -> dict[str, PairInfo]:
    return {
        pair_id: PairInfo(
            pair_id=pair_id, altname=entry["altname"], wsname=entry["wsname"], base=entry["base"],
            quote=entry["quote"], pair_decimals=integer(entry["pair_decimals"]),
            lot_decimals=integer(entry["lot_decimals"]), cost_decimals=integer(entry.get("cost_decimals", 0)),
            ordermin=optional_dec(entry, "ordermin") or Decimal(0), costmin=optional_dec(entry, "costmin"),
            tick_size=optional_dec(entry, "tick_size"), status=entry.get("status", "online"),
        )
        for pair_id, entry in result.items()
    }


def _only_entry(result: Mapping[str, Any], pair_id: str) -> Any:
    """Kraken keys market data by pair id, but by the name asked for on some pairs; a
    one-pair request has exactly one entry besides ``last``."""
    if pair_id in result:
        return result[pair_id]
    (entry,) = (value for key, value in result.items() if key != "last")
    return entry


def parse_ticker(result: Mapping[str, Any], pair_id: str) -> Ticker:
    e = _only_entry(result, pair_id)
    return Ticker(
        pair_id=pair_id, ask=dec(e["a"][0]), bid=dec(e["b"][0]), last=dec(e["c"][0]), open=dec(e["o"]),
        low_24h=dec(e["l"][1]), high_24h=dec(e["h"][1]), volume_24h=dec(e["v"][1]),
        vwap_24h=dec(e["p"][1]), trades_24h=integer(e["t"][1]),
    )


def _candle(row: list[Any]) -> Candle:
    time_, open_, high, low, close, vwap, volume, count = row
    return Candle(time=integer(time_), open=dec(open_), high=dec(high), low=dec(low), close=dec(close),
                  vwap=dec(vwap), volume=dec(volume), count=integer(count))


def parse_ohlc(result: Mapping[str, Any], pair_id: str, newest: int | None = None) -> CandlePage:
    """``newest``: read only that many of the newest closed candles (and the open one); a
    session warms up on 200 of the 720 Kraken sends, and each read candle is eight numbers."""
    rows = _only_entry(result, pair_id)
    candles = [_candle(row) for row in (rows if newest is None else rows[-newest - 1:])]
    return CandlePage(candles=candles[:-1], current=candles[-1] if candles else None, last=integer(result["last"]))


def parse_balance(result: Mapping[str, Any]) -> dict[str, Decimal]:
    return {asset: dec(amount) for asset, amount in result.items()}


def parsed(parse: Callable[..., T], *args: Any) -> T:
    """A result that does not have Kraken's documented shape is a ``BadResponse``."""
    try:
        return parse(*args)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise BadResponse(f"unexpected result shape for {parse.__name__}: {type(exc).__name__} {exc}") from exc


def _positive(name: str, value: Decimal | float | str) -> Decimal:
    try:
        number = Decimal(str(value))  # str() first: Decimal(0.1) would carry float noise
    except InvalidOperation:
        raise InvalidOrder(f"{name} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise InvalidOrder(f"{name} must be a positive number, found {value!r}")
    return number


def prepare_order(pair: PairInfo, ordertype: OrderType, volume: Decimal | float | str,
                  price: Decimal | float | str | None) -> tuple[str, str | None]:
    """``(volume, price)`` formatted as Kraken wants them, or ``InvalidOrder`` before sending.

    The volume is truncated to ``lot_decimals`` (never more than asked for); a price is a
    decision, so one off the ``pair_decimals``/``tick_size`` grid is refused, not moved.
    ``costmin`` needs a price: a limit order has one; for a market order ``price`` is an
    optional reference price used only for that check and never sent. Without it the
    exchange judges the cost.
    """
    lot = Decimal(1).scaleb(-pair.lot_decimals)
    size = _positive("volume", volume).quantize(lot, rounding=ROUND_DOWN)
    if size < pair.ordermin or size == 0:
        raise InvalidOrder(f"{pair.symbol}: volume {volume} is below ordermin {pair.ordermin}")
    if price is None:
        if ordertype == "limit":
            raise InvalidOrder(f"{pair.symbol}: a limit order needs a price")
        return f"{size:f}", None
    tick = Decimal(1).scaleb(-pair.pair_decimals)
    limit = _positive("price", price)
    if limit != limit.quantize(tick):
        raise InvalidOrder(f"{pair.symbol}: price {limit} has more than {pair.pair_decimals} decimals")
    if pair.tick_size and limit % pair.tick_size:
        raise InvalidOrder(f"{pair.symbol}: price {limit} is not a multiple of tick size {pair.tick_size}")
    if pair.costmin is not None and size * limit < pair.costmin:
        raise InvalidOrder(f"{pair.symbol}: cost {size * limit} is below costmin {pair.costmin}")
    return f"{size:f}", f"{limit.quantize(tick):f}" if ordertype == "limit" else None

