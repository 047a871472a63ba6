"""One simulated account: balances and orders that stay consistent with each other.

Market orders fill at once at the book (buy at the ask, sell at the bid) with the taker fee.
A limit order that crosses the book fills at once the same way; otherwise it rests, holding
its funds, and fills at its limit price (maker fee) when a later minute's low (buy) or high
(sell) reaches it. Resting orders are checked lazily, at each private request, so the
outcome depends only on the clock, never on when the server happened to look.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .market import MINUTE, Market
from .pairs import ASSET_DECIMALS, MAKER_FEE, TAKER_FEE, SimPair, describe
from .wire import Reject

DEFAULT_BALANCES: Mapping[str, str] = {"ZEUR": "10000", "XXBT": "0.5", "XETH": "5"}
#: Characters of Kraken's txids (``OUF4EM-FRGI2-MQMWZD``).
TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass
class Order:
    txid: str
    pair: SimPair
    side: str
    ordertype: str
    volume: Decimal
    price: Decimal  # the limit; 0 for market orders
    userref: int
    opentm: float
    status: str = "open"
    vol_exec: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    closetm: float | None = None

    def describe(self) -> str:
        return describe(self.pair, self.side, self.ordertype, self.volume, self.price)

    def held(self) -> tuple[str, Decimal]:
        """What an open order keeps out of the free balance: its quote (with fee) or base."""
        if self.side == "buy":
            return self.pair.quote, self.volume * self.price * (1 + TAKER_FEE)
        return self.pair.base, self.volume

    def entry(self) -> dict[str, Any]:
        """The QueryOrders/OpenOrders shape."""
        cost = f"{self.cost:.{self.pair.cost_decimals}f}"
        average = self.cost / self.vol_exec if self.vol_exec else Decimal(0)
        entry: dict[str, Any] = {
            "refid": None, "userref": self.userref, "status": self.status, "opentm": self.opentm, "starttm": 0,
            "expiretm": 0,
            "descr": {"pair": self.pair.altname, "type": self.side, "ordertype": self.ordertype,
                      "price": self.pair.price(self.price), "price2": "0", "leverage": "none",
                      "order": self.describe(), "close": ""},
            "vol": f"{self.volume:.8f}", "vol_exec": f"{self.vol_exec:.8f}", "cost": cost,
            "fee": f"{self.fee:.{self.pair.cost_decimals}f}", "price": self.pair.price(average),
            "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": "fciq",
        }
        if self.closetm is not None:
            entry.update(closetm=self.closetm, reason=None)
        return entry


class Account:
    def __init__(self, seed: int, market: Market, balances: Mapping[str, Decimal | str | float] | None = None) -> None:
        self.market = market
        self.balances = {asset: Decimal(str(amount)) for asset, amount in (balances or DEFAULT_BALANCES).items()}
        self.orders: dict[str, Order] = {}
        self._txid_rng = random.Random(f"{seed}:txids")

    def _txid(self) -> str:
        chars = "".join(self._txid_rng.choice(TXID_ALPHABET) for _ in range(16))
        return f"O{chars[:5]}-{chars[5:10]}-{chars[10:]}"

    def open_orders(self) -> Iterator[Order]:
        return (order for order in self.orders.values() if order.status == "open")

    def free(self, asset: str) -> Decimal:
        held = sum((amount for held_asset, amount in map(Order.held, self.open_orders()) if held_asset == asset),
                   Decimal(0))
        return self.balances.get(asset, Decimal(0)) - held

    def check(self, pair: SimPair, side: str, volume: Decimal, price: Decimal) -> None:
        """Kraken's order rules, in its order: minimum volume, minimum cost, funds."""
        if volume < pair.ordermin:
            raise Reject("EOrder:Order minimum not met")
        if pair.costmin is not None and volume * price < pair.costmin:
            raise Reject("EOrder:Cost minimum not met")
        needed = volume * price * (1 + TAKER_FEE) if side == "buy" else volume
        if needed > self.free(pair.quote if side == "buy" else pair.base):
            raise Reject("EOrder:Insufficient funds")

    def place(self, pair: SimPair, side: str, ordertype: str, volume: Decimal, limit: Decimal, userref: int,
              now: float) -> Order:
        order = Order(self._txid(), pair, side, ordertype, volume, limit, userref, now)
        self.orders[order.txid] = order
        bid, ask = self.market.book(pair, now)
        touch = ask if side == "buy" else bid
        if ordertype == "market" or (touch <= limit if side == "buy" else touch >= limit):
            self._fill(order, touch, TAKER_FEE, now)
        return order

    def settle(self, now: float) -> None:
        """Fill resting limit orders that the minutes since they were placed have reached."""
        for order in list(self.open_orders()):
            start = math.ceil(order.opentm / MINUTE) * MINUTE
            if start >= now:
                continue
            bar = self.market.path(order.pair).window(start, now)
            if (bar[3] <= order.price) if order.side == "buy" else (bar[2] >= order.price):
                self._fill(order, order.price, MAKER_FEE, now)

    def cancel(self, txid: str, now: float) -> None:
        order = self.orders.get(txid)
        if order is None or order.status != "open":
            raise Reject("EOrder:Unknown order")
        order.status, order.closetm = "canceled", now

    def _fill(self, order: Order, price: Decimal, fee_rate: Decimal, now: float) -> None:
        pair = order.pair
        cents = Decimal(1).scaleb(-ASSET_DECIMALS.get(pair.quote, pair.cost_decimals))  # what the balance shows
        cost = (order.volume * price).quantize(cents)
        fee = (cost * fee_rate).quantize(cents)
        sign = 1 if order.side == "buy" else -1
        self._credit(pair.base, sign * order.volume)
        self._credit(pair.quote, -sign * cost - fee)
        order.vol_exec, order.cost, order.fee = order.volume, cost, fee
        order.status, order.closetm = "closed", now

    def _credit(self, asset: str, amount: Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + amount

    def balance(self) -> dict[str, str]:
        return {asset: f"{amount:.{ASSET_DECIMALS.get(asset, 10)}f}" for asset, amount in self.balances.items()}



def entries(orders: Iterable[Order]) -> dict[str, Any]:
    """Orders keyed by txid, as QueryOrders and OpenOrders list them."""
    return {order.txid: order.entry() for order in orders}
