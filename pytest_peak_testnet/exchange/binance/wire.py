"""Binance's spot answers read into the protocol's dataclasses, exactly.

Binance writes amounts as strings (``"0.00100000"``) and ids and times as JSON integers,
but recordings and proxies turn integers into strings too (``"orderId": "9780331417"``):
both parse, amounts always through ``str`` so no float ever touches a ``Decimal``. Times
are milliseconds; the protocol's are seconds, divided exactly. A body of the wrong shape
becomes ``BadResponse`` at ``parsed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ..errors import BadResponse
from ..klines import candle, dec, integer
from ..protocol import CandlePage, Fill, OrderReport, OrderStatus, OrderType, Side, Ticker

T = TypeVar("T")

#: Candle length in minutes -> Binance's ``interval``.
INTERVALS: Mapping[int, str] = {
    1: "1m", 3: "3m", 5: "5m", 15: "15m", 30: "30m", 60: "1h", 120: "2h", 240: "4h", 360: "6h", 480: "8h",
    720: "12h", 1440: "1d", 4320: "3d", 10080: "1w",
}
#: Binance's order states in the protocol's words. ``PENDING_CANCEL`` is a cancel under way:
#: the order is still live. ``EXPIRED_IN_MATCH`` is an order the matching engine expired
#: (self-trade prevention), with whatever it filled before.
STATUSES: Mapping[str, OrderStatus] = {
    "NEW": "new", "PENDING_NEW": "new", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled",
    "CANCELED": "canceled", "PENDING_CANCEL": "partially_filled", "REJECTED": "rejected", "EXPIRED": "expired",
    "EXPIRED_IN_MATCH": "expired",
}
MILLIS = Decimal(1000)


def seconds(millis: Any) -> Decimal:
    return dec(millis) / MILLIS


def status(text: str) -> OrderStatus:
    """``PENDING_CANCEL`` of an order that filled nothing yet is still ``new``; see ``order``."""
    if text not in STATUSES:
        raise ValueError(f"unknown order status {text!r}")
    return STATUSES[text]


def parsed(parse: Callable[..., T], *args: Any) -> T:
    """A body that does not have Binance's documented shape is a ``BadResponse``."""
    try:
        return parse(*args)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise BadResponse(f"unexpected body shape for {parse.__name__}: {type(exc).__name__} {exc}") from exc


def parse_server_time(body: Mapping[str, Any]) -> int:
    """``/api/v3/time``: the server's clock in milliseconds."""
    return integer(body["serverTime"])


def parse_book_ticker(body: Mapping[str, Any], last: Mapping[str, Any], symbol: str) -> Ticker:
    """``/api/v3/ticker/bookTicker`` and ``/api/v3/ticker/price`` of one symbol."""
    return Ticker(symbol=symbol, bid=dec(body["bidPrice"]), ask=dec(body["askPrice"]), last=dec(last["price"]))


def parse_klines(rows: Sequence[Sequence[Any]], reached_now: bool, since: int | None,
                 newest: int | None = None) -> CandlePage:
    """Klines oldest first. Binance ends an answer that reaches the present with the candle
    still under way (``reached_now``: the answer was not cut by ``limit``); otherwise every
    row is closed but the last is held back, since it may have been the one under way, and
    the next poll asks again from the one before it."""
    candles = [candle(row) for row in rows]
    closed, current = candles[:-1], (candles[-1] if reached_now and candles else None)
    if newest is not None:
        closed = closed[-newest:] if newest else []
    last = closed[-1].time if closed else (since if since is not None else 0)
    return CandlePage(candles=closed, current=current, last=last)


def side(text: str) -> Side:
    if text not in ("BUY", "SELL"):
        raise ValueError(f"unknown side {text!r}")
    return "buy" if text == "BUY" else "sell"


def order_type(text: str) -> OrderType:
    """Binance's ``LIMIT_MAKER`` is a limit order that only rests; the desk places only
    ``MARKET`` and ``LIMIT``, so any other type reads as limit when it has a price."""
    return "market" if text == "MARKET" else "limit"


def order_fill(entry: Mapping[str, Any], order_id: str, order_side: Side, time: Decimal) -> Fill:
    """One ``fills`` entry of a FULL order answer: no quote amount or time of its own, so the
    quote amount is price times quantity (exact) and the time the order's ``transactTime``."""
    price, quantity = dec(entry["price"]), dec(entry["qty"])
    return Fill(trade_id=str(integer(entry["tradeId"])), order_id=order_id, side=order_side, price=price,
                quantity=quantity, quote_quantity=price * quantity, commission=dec(entry["commission"]),
                commission_asset=str(entry["commissionAsset"]), time=time)


def trade(entry: Mapping[str, Any]) -> Fill:
    """One ``/api/v3/myTrades`` entry."""
    return Fill(trade_id=str(integer(entry["id"])), order_id=str(integer(entry["orderId"])),
                side="buy" if entry["isBuyer"] else "sell", price=dec(entry["price"]), quantity=dec(entry["qty"]),
                quote_quantity=dec(entry["quoteQty"]), commission=dec(entry["commission"]),
                commission_asset=str(entry["commissionAsset"]), time=seconds(entry["time"]),
                maker=bool(entry["isMaker"]))


def order(entry: Mapping[str, Any], symbol: str, fills: Sequence[Fill] = ()) -> OrderReport:
    """An order as the order endpoints (place, query, open orders, cancel) describe it.
    ``time``: when it was placed (``time``, or ``transactTime`` in a place/cancel answer)."""
    kind = order_type(str(entry["type"]))
    executed = dec(entry["executedQty"])
    state = status(str(entry["status"]))
    if entry["status"] == "PENDING_CANCEL" and not executed:
        state = "new"
    price = dec(entry["price"])
    client_id = entry.get("origClientOrderId") or entry.get("clientOrderId")
    return OrderReport(order_id=str(integer(entry["orderId"])), client_order_id=str(client_id) if client_id else None,
                       symbol=symbol, side=side(str(entry["side"])), type=kind, status=state,
                       quantity=dec(entry["origQty"]), executed_quantity=executed,
                       cumulative_quote=dec(entry["cummulativeQuoteQty"]),
                       price=price if kind == "limit" and price else None,
                       time=seconds(entry.get("time", entry.get("transactTime", 0))), fills=tuple(fills))


def placed_fills(entry: Mapping[str, Any]) -> tuple[Fill, ...]:
    """The fills a FULL place answer carries (none in an ACK or RESULT answer)."""
    order_id, order_side = str(integer(entry["orderId"])), side(str(entry["side"]))
    time = seconds(entry["transactTime"])
    return tuple(order_fill(fill, order_id, order_side, time) for fill in entry.get("fills", ()))


def parse_balances(body: Mapping[str, Any]) -> dict[str, Decimal]:
    """``/api/v3/account``: the free amount of every asset."""
    return {str(entry["asset"]): dec(entry["free"]) for entry in body["balances"]}
