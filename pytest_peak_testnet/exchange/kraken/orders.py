"""The account side of Kraken's wire format: orders, fills and the trade balance, as
QueryOrders, OpenOrders, ClosedOrders, QueryTrades, TradesHistory and TradeBalance answer.

Only live orders (``validate_only = false``) and an order whose AddOrder answer was lost
need these, so the client loads this module with the first such call: a replay never does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from ..errors import BadResponse
from .wire import dec, integer, optional_dec, optional_int

#: How a relative price is applied: ``+``/``-`` to the last trade, ``#`` in the direction the side implies.
Offset = Literal["+", "-", "#"]
#: Every shape of ``descr.price`` Kraken documents: ``27500.0``, ``+1.0000%``, ``-50.0``, ``#10.0``.
_ORDER_PRICE = re.compile(r"(?P<offset>[+#-]?)(?P<value>[0-9]+(?:\.[0-9]+)?)(?P<percent>%?)")
#: TradeBalance fields Kraken leaves out when they do not apply (``ml`` without margin positions).
TRADE_BALANCE_OPTIONAL = ("m", "uv", "n", "c", "v", "e", "mf", "ml")


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
    """One order as QueryOrders, OpenOrders or ClosedOrders describe it."""

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
            volume=dec(e["vol"]), volume_executed=dec(e["vol_exec"]),
            cost=dec(e["cost"]), fee=dec(e["fee"]), average_price=dec(e["price"]),
            userref=optional_int(e, "userref"), opentm=float(e["opentm"]),
            closetm=float(e["closetm"]) if e.get("closetm") else None, description=descr.get("order", ""),
            stopprice=optional_dec(e, "stopprice"), limitprice=optional_dec(e, "limitprice"),
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
            side=e["type"], ordertype=e["ordertype"], price=dec(e["price"]), cost=dec(e["cost"]),
            fee=dec(e["fee"]), volume=dec(e["vol"]), margin=dec(e["margin"]), misc=e["misc"],
            maker=e.get("maker"), trade_id=optional_int(e, "trade_id"),
        )
    return {txid: info(txid, entry) for txid, entry in result.items()}


def parse_trades_history(result: Mapping[str, Any]) -> tuple[dict[str, TradeInfo], int]:
    """TradesHistory: one page of trades and how many match in all (``count``)."""
    return parse_trades(result["trades"]), integer(result["count"])


def parse_trade_balance(result: Mapping[str, Any], asset: str) -> TradeBalance:
    optional = {key: optional_dec(result, key) for key in TRADE_BALANCE_OPTIONAL}
    return TradeBalance(asset=asset, eb=dec(result["eb"]), tb=dec(result["tb"]), **optional)
