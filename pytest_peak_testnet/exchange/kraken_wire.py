"""Kraken's wire format on the client side: signing, the parsed result types, order formatting.

The parsers follow Kraken's documentation, not any one server's output: prices and volumes
arrive as strings, some integers as strings too (``"last": "1706796000"``, ``"userref":
"0"``), older AssetPairs captures lack ``ordermin``, ``costmin``, ``tick_size`` and
``status``. A result of the wrong shape becomes ``BadResponse`` at ``parsed``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Literal, TypeVar, cast

from ..trading.market import Candle
from .kraken_errors import BadResponse, InvalidOrder

#: Kraken's names for currencies everyone else spells differently (``XBT/EUR`` is BTC/EUR).
COMMON_CURRENCY = {"XBT": "BTC", "XDG": "DOGE"}

T = TypeVar("T")
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
#: How a relative price is applied: ``+``/``-`` to the last trade, ``#`` in the direction the side implies.
Offset = Literal["+", "-", "#"]
#: Every shape of ``descr.price`` Kraken documents: ``27500.0``, ``+1.0000%``, ``-50.0``, ``#10.0``.
_ORDER_PRICE = re.compile(r"(?P<offset>[+#-]?)(?P<value>[0-9]+(?:\.[0-9]+)?)(?P<percent>%?)")
#: TradeBalance fields Kraken leaves out when they do not apply (``ml`` without margin positions).
TRADE_BALANCE_OPTIONAL = ("m", "uv", "n", "c", "v", "e", "mf", "ml")


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
class OHLCPage:
    """Closed candles oldest first, the still-open one apart, and ``last`` for the next ``since``."""

    candles: list[Candle]
    current: Candle | None
    last: int


@dataclass(frozen=True)
class OrderResult:
    description: str
    txids: tuple[str, ...]
    #: True when the order was only validated (``validate=true``): nothing was placed.
    validated: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class OrderPrice:
    """``descr.price`` (or ``price2``): trailing stops and offset orders carry a distance, not
    a price, so reading ``+1.0000%`` as 1.0 would misstate the order. ``offset`` is None for an
    absolute price (0 for market orders); ``percent`` says ``value`` is in percent."""

    value: Decimal
    offset: Offset | None = None
    percent: bool = False


@dataclass(frozen=True)
class OrderInfo:
    txid: str
    status: str  # pending, open, closed, canceled, expired
    pair: str
    side: str
    ordertype: str
    price: OrderPrice
    price2: OrderPrice  # the secondary price (a stop-limit's limit), 0 when unused
    volume: Decimal
    volume_executed: Decimal
    cost: Decimal
    fee: Decimal
    average_price: Decimal
    userref: int | None
    opentm: float
    closetm: float | None
    description: str
    #: The stop price and the limit price a triggered order got; None when the answer leaves them out.
    stopprice: Decimal | None
    limitprice: Decimal | None
    reason: str | None  # why Kraken closed or canceled the order, when it says
    #: Ids of the order's fills; only filled in when the order was queried with ``trades=True``.
    trades: tuple[str, ...]


@dataclass(frozen=True)
class TradeInfo:
    """One fill as Kraken booked it (QueryTrades, TradesHistory): the exchange's own price,
    cost and fee, which in live-order mode replace the paper account's estimates."""

    txid: str
    ordertxid: str
    postxid: str
    pair: str
    time: float
    side: str  # buy, sell
    ordertype: str
    price: Decimal
    cost: Decimal
    fee: Decimal
    volume: Decimal
    margin: Decimal
    misc: str
    maker: bool | None  # None in answers that predate the field
    trade_id: int | None


@dataclass(frozen=True)
class TradeBalance:
    """TradeBalance in ``asset``: ``eb`` every currency valued in it, ``tb`` the collateral
    currencies, ``e`` equity (``tb + n``), ``mf`` free margin, ``m``/``n``/``c``/``v`` margin
    positions' margin, unrealized P/L, cost and value, ``uv`` unfilled orders' value, ``ml``
    margin level. Fields Kraken leaves out are None."""

    asset: str
    eb: Decimal
    tb: Decimal
    m: Decimal | None
    uv: Decimal | None
    n: Decimal | None
    c: Decimal | None
    v: Decimal | None
    e: Decimal | None
    mf: Decimal | None
    ml: Decimal | None


def integer(value: Any) -> int:
    """Kraken sends some integers as strings (``"last": "1706796000"``); accept both."""
    return int(Decimal(str(value)))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _optional_dec(entry: Mapping[str, Any], key: str) -> Decimal | None:
    return _dec(entry[key]) if entry.get(key) not in (None, "") else None


def _optional_int(entry: Mapping[str, Any], key: str) -> int | None:
    return None if entry.get(key) is None else integer(entry[key])


def parse_asset_pairs(result: Mapping[str, Any]) -> dict[str, PairInfo]:
    return {
        pair_id: PairInfo(
            pair_id=pair_id, altname=entry["altname"], wsname=entry["wsname"], base=entry["base"],
            quote=entry["quote"], pair_decimals=integer(entry["pair_decimals"]),
            lot_decimals=integer(entry["lot_decimals"]), cost_decimals=integer(entry.get("cost_decimals", 0)),
            ordermin=_optional_dec(entry, "ordermin") or Decimal(0), costmin=_optional_dec(entry, "costmin"),
            tick_size=_optional_dec(entry, "tick_size"), status=entry.get("status", "online"),
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
        pair_id=pair_id, ask=_dec(e["a"][0]), bid=_dec(e["b"][0]), last=_dec(e["c"][0]), open=_dec(e["o"]),
        low_24h=_dec(e["l"][1]), high_24h=_dec(e["h"][1]), volume_24h=_dec(e["v"][1]),
        vwap_24h=_dec(e["p"][1]), trades_24h=integer(e["t"][1]),
    )


def _candle(row: list[Any]) -> Candle:
    time_, open_, high, low, close, vwap, volume, count = row
    return Candle(time=integer(time_), open=_dec(open_), high=_dec(high), low=_dec(low), close=_dec(close),
                  vwap=_dec(vwap), volume=_dec(volume), count=integer(count))


def parse_ohlc(result: Mapping[str, Any], pair_id: str) -> OHLCPage:
    candles = [_candle(row) for row in _only_entry(result, pair_id)]
    return OHLCPage(candles=candles[:-1], current=candles[-1] if candles else None, last=integer(result["last"]))


def order_price(txid: str, descr: Mapping[str, Any], key: str) -> OrderPrice:
    """``descr.<key>`` of one order; a shape Kraken does not document is a ``BadResponse``
    naming the field and the value, since guessing would misstate what the order does."""
    text = descr.get(key, "0")
    match = _ORDER_PRICE.fullmatch(str(text))
    if match is None or (match["percent"] and not match["offset"]):
        raise BadResponse(f"order {txid}: unexpected descr.{key} {text!r}; Kraken documents a price, or an "
                          "offset after +, - or # with an optional % suffix")
    return OrderPrice(Decimal(match["value"]), cast("Offset | None", match["offset"] or None),
                      bool(match["percent"]))


def parse_orders(result: Mapping[str, Any]) -> dict[str, OrderInfo]:
    def info(txid: str, e: Mapping[str, Any]) -> OrderInfo:
        descr = e["descr"]
        return OrderInfo(
            txid=txid, status=e["status"], pair=descr["pair"], side=descr["type"], ordertype=descr["ordertype"],
            price=order_price(txid, descr, "price"), price2=order_price(txid, descr, "price2"),
            volume=_dec(e["vol"]), volume_executed=_dec(e["vol_exec"]),
            cost=_dec(e["cost"]), fee=_dec(e["fee"]), average_price=_dec(e["price"]),
            userref=_optional_int(e, "userref"), opentm=float(e["opentm"]),
            closetm=float(e["closetm"]) if e.get("closetm") else None, description=descr.get("order", ""),
            stopprice=_optional_dec(e, "stopprice"), limitprice=_optional_dec(e, "limitprice"),
            reason=e.get("reason"), trades=tuple(e.get("trades", ())),
        )
    return {txid: info(txid, entry) for txid, entry in result.items()}


def parse_closed_orders(result: Mapping[str, Any]) -> tuple[dict[str, OrderInfo], int]:
    """ClosedOrders: one page of orders and how many match in all (``count``)."""
    return parse_orders(result["closed"]), integer(result["count"])


def parse_trades(result: Mapping[str, Any]) -> dict[str, TradeInfo]:
    def info(txid: str, e: Mapping[str, Any]) -> TradeInfo:
        return TradeInfo(
            txid=txid, ordertxid=e["ordertxid"], postxid=e["postxid"], pair=e["pair"], time=float(e["time"]),
            side=e["type"], ordertype=e["ordertype"], price=_dec(e["price"]), cost=_dec(e["cost"]),
            fee=_dec(e["fee"]), volume=_dec(e["vol"]), margin=_dec(e["margin"]), misc=e["misc"],
            maker=e.get("maker"), trade_id=_optional_int(e, "trade_id"),
        )
    return {txid: info(txid, entry) for txid, entry in result.items()}


def parse_trades_history(result: Mapping[str, Any]) -> tuple[dict[str, TradeInfo], int]:
    """TradesHistory: one page of trades and how many match in all (``count``)."""
    return parse_trades(result["trades"]), integer(result["count"])


def parse_trade_balance(result: Mapping[str, Any], asset: str) -> TradeBalance:
    optional = {key: _optional_dec(result, key) for key in TRADE_BALANCE_OPTIONAL}
    return TradeBalance(asset=asset, eb=_dec(result["eb"]), tb=_dec(result["tb"]), **optional)


def parse_balance(result: Mapping[str, Any]) -> dict[str, Decimal]:
    return {asset: _dec(amount) for asset, amount in result.items()}


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

