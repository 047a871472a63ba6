"""One simulated Binance spot account: balances, orders and their trades.

A taker order walks the book (``matching.sweep``): on a book of limited depth a market
order fills what the levels hold and its remainder expires (``EXPIRED``, with exactly what
filled booked), a crossing limit order fills what it can and rests (``PARTIALLY_FILLED``).
A resting limit order fills at its price, as maker, when a later minute's low (buy) or
high (sell) reaches it; resting orders are settled at each signed request, so the outcome
depends only on the clock. Self-trade prevention is Binance's default ``EXPIRE_MAKER``: an
own resting order the taker would trade against is expired (``EXPIRED_IN_MATCH``).

Commission is Binance's standard 0.1 %, charged in the asset the trade pays out: the base
asset on a buy, the quote asset on a sell.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..market import MINUTE, Market
from ..matching import sweep
from .symbols import SimSymbol
from .wire import INSUFFICIENT_BALANCE, UNKNOWN_ORDER, Refusal, amount

COMMISSION = Decimal("0.001")
#: Binance's commission precision (8 decimals): a fee is rounded to it.
EIGHT = Decimal("0.00000001")
DEFAULT_BALANCES: Mapping[str, str] = {"USDT": "10000", "BTC": "0.5", "ETH": "5", "BNB": "0"}
OPEN = frozenset({"NEW", "PARTIALLY_FILLED"})


@dataclass(frozen=True)
class Trade:
    trade_id: int
    order_id: int
    symbol: SimSymbol
    side: str
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    maker: bool

    def fill(self) -> dict[str, Any]:
        """The FULL place answer's ``fills`` entry."""
        return {"price": amount(self.price), "qty": amount(self.quantity), "commission": amount(self.commission),
                "commissionAsset": self.commission_asset, "tradeId": self.trade_id}

    def entry(self) -> dict[str, Any]:
        """The ``/api/v3/myTrades`` entry."""
        return {"symbol": self.symbol.pair_id, "id": self.trade_id, "orderId": self.order_id, "orderListId": -1,
                "price": amount(self.price), "qty": amount(self.quantity),
                "quoteQty": amount(self.price * self.quantity), "commission": amount(self.commission),
                "commissionAsset": self.commission_asset, "time": self.time_ms, "isBuyer": self.side == "BUY",
                "isMaker": self.maker, "isBestMatch": True}


@dataclass
class Order:
    order_id: int
    client_id: str
    symbol: SimSymbol
    side: str  # BUY, SELL
    kind: str  # MARKET, LIMIT
    quantity: Decimal
    price: Decimal  # the limit; 0 for a market order
    time_ms: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    update_ms: int = 0
    trades: list[Trade] = field(default_factory=list)

    def held(self) -> tuple[str, Decimal]:
        """What a resting order keeps out of the free balance."""
        left = self.quantity - self.executed
        if self.side == "BUY":
            return self.symbol.quote, left * self.price
        return self.symbol.base, left

    def entry(self) -> dict[str, Any]:
        """The shape of ``GET /api/v3/order`` and ``/api/v3/openOrders``."""
        return {"symbol": self.symbol.pair_id, "orderId": self.order_id, "orderListId": -1,
                "clientOrderId": self.client_id, "price": amount(self.price), "origQty": amount(self.quantity),
                "executedQty": amount(self.executed), "cummulativeQuoteQty": amount(self.quote),
                "status": self.status, "timeInForce": "GTC", "type": self.kind, "side": self.side,
                "stopPrice": amount(0), "icebergQty": amount(0), "time": self.time_ms,
                "updateTime": self.update_ms or self.time_ms, "isWorking": True, "workingTime": self.time_ms,
                "origQuoteOrderQty": amount(0), "selfTradePreventionMode": "EXPIRE_MAKER"}

    def placed(self) -> dict[str, Any]:
        """The FULL answer of ``POST /api/v3/order``."""
        return {"symbol": self.symbol.pair_id, "orderId": self.order_id, "orderListId": -1,
                "clientOrderId": self.client_id, "transactTime": self.time_ms, "price": amount(self.price),
                "origQty": amount(self.quantity), "executedQty": amount(self.executed),
                "origQuoteOrderQty": amount(0), "cummulativeQuoteQty": amount(self.quote), "status": self.status,
                "timeInForce": "GTC", "type": self.kind, "side": self.side, "workingTime": self.time_ms,
                "selfTradePreventionMode": "EXPIRE_MAKER", "fills": [trade.fill() for trade in self.trades]}

    def canceled(self, client_id: str) -> dict[str, Any]:
        """The answer of ``DELETE /api/v3/order``."""
        return {"symbol": self.symbol.pair_id, "origClientOrderId": self.client_id, "orderId": self.order_id,
                "orderListId": -1, "clientOrderId": client_id, "transactTime": self.update_ms,
                "price": amount(self.price), "origQty": amount(self.quantity), "executedQty": amount(self.executed),
                "origQuoteOrderQty": amount(0), "cummulativeQuoteQty": amount(self.quote), "status": self.status,
                "timeInForce": "GTC", "type": self.kind, "side": self.side, "selfTradePreventionMode": "EXPIRE_MAKER"}


class Account:
    """``depth``/``levels``: the book each side shows (``matching.sweep``); ``depth`` None
    is each symbol's own (``SimSymbol.book_depth``)."""

    def __init__(self, market: Market, balances: Mapping[str, Decimal | str | float] | None = None,
                 depth: Decimal | None = None, levels: int = 5) -> None:
        self.market = market
        self.balances = {asset: Decimal(str(value)) for asset, value in (balances or DEFAULT_BALANCES).items()}
        self.depth = depth
        self.levels = levels
        self.orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self._next_order = 1
        self._next_trade = 1

    def depth_of(self, symbol: SimSymbol) -> Decimal:
        return self.depth if self.depth is not None else symbol.book_depth

    def open_orders(self) -> Iterator[Order]:
        return (order for order in self.orders.values() if order.status in OPEN)

    def free(self, asset: str) -> Decimal:
        held = sum((amount_ for held_asset, amount_ in map(Order.held, self.open_orders()) if held_asset == asset),
                   Decimal(0))
        return self.balances.get(asset, Decimal(0)) - held

    def locked(self, asset: str) -> Decimal:
        return self.balances.get(asset, Decimal(0)) - self.free(asset)

    def find(self, symbol: SimSymbol, order_id: str | None, client_id: str | None) -> Order:
        for order in self.orders.values():
            if order.symbol == symbol and (str(order.order_id) == order_id if order_id else order.client_id == client_id):
                return order
        raise Refusal(-2013, "Order does not exist.")

    def book(self, symbol: SimSymbol, now: float) -> tuple[Decimal, Decimal]:
        return self.market.book(symbol, now)

    def place(self, symbol: SimSymbol, side: str, kind: str, quantity: Decimal, limit: Decimal, client_id: str,
              now: float) -> Order:
        """Refused for funds before anything trades: a buy needs what its fills cost and what
        its resting rest holds, a sell its whole quantity."""
        now_ms = int(now * 1000)
        bid, ask = self.book(symbol, now)
        touch = ask if side == "BUY" else bid
        fills = sweep(side.lower(), touch, symbol.tick_size, quantity, self.depth_of(symbol), self.levels,
                      limit if kind == "LIMIT" else None)
        filled = sum((taken for _, taken in fills), Decimal(0))
        if side == "BUY":
            rests = (quantity - filled) * limit if kind == "LIMIT" else Decimal(0)
            needed, asset = sum((price * taken for price, taken in fills), rests), symbol.quote
        else:
            needed, asset = quantity, symbol.base
        if needed > self.free(asset):
            raise Refusal(-2010, INSUFFICIENT_BALANCE)
        order = Order(self._next_order, client_id, symbol, side, kind, quantity, limit, now_ms)
        self._next_order += 1
        if fills:
            self._expire_own_makers(symbol, side, limit if kind == "LIMIT" else fills[-1][0], now_ms)
        self.orders[order.order_id] = order
        for price, taken in fills:
            self._fill(order, price, taken, False, now_ms)
        if order.executed == quantity:
            order.status = "FILLED"
        elif kind == "MARKET":
            order.status = "EXPIRED"  # the book ran out: what did not fill expires
        elif order.executed:
            order.status = "PARTIALLY_FILLED"
        order.update_ms = now_ms
        return order

    def _expire_own_makers(self, symbol: SimSymbol, side: str, worst: Decimal, now_ms: int) -> None:
        """Self-trade prevention (EXPIRE_MAKER): own resting orders the taker would meet,
        priced up to its limit (a market order: its last fill)."""
        for maker in list(self.open_orders()):
            if maker.symbol == symbol and maker.side != side and \
                    (maker.price <= worst if side == "BUY" else maker.price >= worst):
                maker.status, maker.update_ms = "EXPIRED_IN_MATCH", now_ms

    def settle(self, now: float) -> None:
        """Fill resting limit orders that the minutes since they were placed have reached."""
        for order in list(self.open_orders()):
            start = math.ceil(order.time_ms / 1000 / MINUTE) * MINUTE
            if start >= now:
                continue
            bar = self.market.path(order.symbol).window(start, now)
            if (bar[3] <= order.price) if order.side == "BUY" else (bar[2] >= order.price):
                self._fill(order, order.price, order.quantity - order.executed, True, int(now * 1000))
                order.status, order.update_ms = "FILLED", int(now * 1000)

    def cancel(self, order: Order, now: float) -> None:
        if order.status not in OPEN:
            raise Refusal(-2011, UNKNOWN_ORDER)
        order.status, order.update_ms = "CANCELED", int(now * 1000)

    def _fill(self, order: Order, price: Decimal, quantity: Decimal, maker: bool, now_ms: int) -> None:
        symbol = order.symbol
        cost = price * quantity
        if order.side == "BUY":
            commission, asset = (quantity * COMMISSION).quantize(EIGHT), symbol.base
            self._credit(symbol.base, quantity - commission)
            self._credit(symbol.quote, -cost)
        else:
            commission, asset = (cost * COMMISSION).quantize(EIGHT), symbol.quote
            self._credit(symbol.base, -quantity)
            self._credit(symbol.quote, cost - commission)
        trade = Trade(self._next_trade, order.order_id, symbol, order.side, price, quantity, commission, asset,
                      now_ms, maker)
        self._next_trade += 1
        self.trades.append(trade)
        order.trades.append(trade)
        order.executed += quantity
        order.quote += cost

    def _credit(self, asset: str, value: Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + value

    def account(self, now: float) -> dict[str, Any]:
        """``/api/v3/account``."""
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": amount(COMMISSION), "taker": amount(COMMISSION), "buyer": amount(0),
                                "seller": amount(0)},
            "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": int(now * 1000),
            "accountType": "SPOT",
            "balances": [{"asset": asset, "free": amount(self.free(asset)), "locked": amount(self.locked(asset))}
                         for asset in self.balances],
            "permissions": ["SPOT"], "uid": 1,
        }
