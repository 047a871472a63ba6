"""One simulated account: balances, orders and trades that stay consistent with each other.

Market orders fill at once at the book (buy at the ask, sell at the bid) with the taker fee:
the core's ``matching.sweep`` on a book deep enough for any order. A limit order that
crosses the book fills at once the same way; otherwise it rests, holding
its funds, and fills at its limit price (maker fee) when a later minute's low (buy) or high
(sell) reaches it. Resting orders are checked lazily, at each private request, so the
outcome depends only on the clock, never on when the server happened to look. Every fill is
booked as one trade, whose cost and fee are exactly what the balances moved by.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..market import MINUTE, Market
from ..matching import sweep
from .pairs import ASSET_DECIMALS, MAKER_FEE, PAIRS, TAKER_FEE, SimPair, describe
from .wire import Reject

DEFAULT_BALANCES: Mapping[str, str] = {"ZEUR": "10000", "XXBT": "0.5", "XETH": "5"}
#: Characters of Kraken's txids (``OUF4EM-FRGI2-MQMWZD``).
TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: The position id Kraken's documented spot trades carry: a spot fill opens no margin position.
SPOT_POSTXID = "TKH2SE-M7IF5-CFI7LT"
#: Every simulated pair is quoted in euros, so every asset has a price in them.
VALUATION_ASSET = "ZEUR"


def new_txid(rng: random.Random, prefix: str) -> str:
    """Kraken's id shape, 6-5-6 characters: ``O`` (order) or ``T`` (trade) and 16 drawn ones."""
    chars = "".join(rng.choice(TXID_ALPHABET) for _ in range(16))
    return f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:]}"


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
    trades: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return describe(self.pair, self.side, self.ordertype, self.volume, self.price)

    def held(self) -> tuple[str, Decimal]:
        """What an open order keeps out of the free balance: its quote (with fee) or base."""
        if self.side == "buy":
            return self.pair.quote, self.volume * self.price * (1 + TAKER_FEE)
        return self.pair.base, self.volume

    def entry(self, trades: bool = False) -> dict[str, Any]:
        """The QueryOrders/OpenOrders/ClosedOrders shape; ``trades`` lists the fills' ids, as
        Kraken does when asked and there are any."""
        average = self.cost / self.vol_exec if self.vol_exec else Decimal(0)
        entry: dict[str, Any] = {
            "refid": None, "userref": self.userref, "status": self.status, "opentm": self.opentm, "starttm": 0,
            "expiretm": 0,
            "descr": {"pair": self.pair.altname, "type": self.side, "ordertype": self.ordertype,
                      "price": self.pair.price(self.price), "price2": "0", "leverage": "none",
                      "order": self.describe(), "close": ""},
            "vol": f"{self.volume:.8f}", "vol_exec": f"{self.vol_exec:.8f}", "cost": self.pair.money(self.cost),
            "fee": self.pair.money(self.fee), "price": self.pair.price(average),
            "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": "fciq",
        }
        if self.closetm is not None:
            entry.update(closetm=self.closetm, reason=None)
        if trades and self.trades:
            entry["trades"] = list(self.trades)
        return entry


@dataclass(frozen=True)
class Trade:
    """One fill of one order."""

    txid: str
    order: Order
    time: float
    price: Decimal
    volume: Decimal
    cost: Decimal
    fee: Decimal
    maker: bool
    trade_id: int

    def entry(self) -> dict[str, Any]:
        """The QueryTrades/TradesHistory shape."""
        pair = self.order.pair
        return {
            "ordertxid": self.order.txid, "postxid": SPOT_POSTXID, "pair": pair.pair_id, "time": self.time,
            "type": self.order.side, "ordertype": self.order.ordertype, "price": pair.price(self.price),
            "cost": pair.money(self.cost), "fee": pair.money(self.fee), "vol": f"{self.volume:.8f}",
            "margin": pair.money(Decimal(0)), "misc": "", "trade_id": self.trade_id, "maker": self.maker,
        }


class Account:
    def __init__(self, seed: int, market: Market, balances: Mapping[str, Decimal | str | float] | None = None) -> None:
        self.market = market
        self.balances = {asset: Decimal(str(amount)) for asset, amount in (balances or DEFAULT_BALANCES).items()}
        self.orders: dict[str, Order] = {}
        #: Every fill, oldest first.
        self.trades: dict[str, Trade] = {}
        self._txid_rng = random.Random(f"{seed}:txids")
        self._trade_rng = random.Random(f"{seed}:trades")  # apart, so order ids stay what they were

    def open_orders(self) -> Iterator[Order]:
        return (order for order in self.orders.values() if order.status == "open")

    def closed_orders(self) -> Iterator[Order]:
        """Filled and canceled orders, as ClosedOrders lists them."""
        return (order for order in self.orders.values() if order.status != "open")

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
        order = Order(new_txid(self._txid_rng, "O"), pair, side, ordertype, volume, limit, userref, now)
        self.orders[order.txid] = order
        bid, ask = self.market.book(pair, now)
        touch = ask if side == "buy" else bid
        # Kraken's simulated book is deep: a taker fills whole at the touch, or rests.
        if sweep(side, touch, pair.tick_size or Decimal(0), volume, None, 1, limit if ordertype == "limit" else None):
            self._fill(order, touch, False, now)
        return order

    def settle(self, now: float) -> None:
        """Fill resting limit orders that the minutes since they were placed have reached."""
        for order in list(self.open_orders()):
            start = math.ceil(order.opentm / MINUTE) * MINUTE
            if start >= now:
                continue
            bar = self.market.path(order.pair).window(start, now)
            if (bar[3] <= order.price) if order.side == "buy" else (bar[2] >= order.price):
                self._fill(order, order.price, True, now)

    def cancel(self, txid: str, now: float) -> None:
        order = self.orders.get(txid)
        if order is None or order.status != "open":
            raise Reject("EOrder:Unknown order")
        order.status, order.closetm = "canceled", now

    def _fill(self, order: Order, price: Decimal, maker: bool, now: float) -> None:
        pair = order.pair
        cents = Decimal(1).scaleb(-ASSET_DECIMALS.get(pair.quote, pair.cost_decimals))  # what the balance shows
        cost = (order.volume * price).quantize(cents)
        fee = (cost * (MAKER_FEE if maker else TAKER_FEE)).quantize(cents)
        sign = 1 if order.side == "buy" else -1
        self._credit(pair.base, sign * order.volume)
        self._credit(pair.quote, -sign * cost - fee)
        trade = Trade(new_txid(self._trade_rng, "T"), order, now, price, order.volume, cost, fee, maker,
                      len(self.trades) + 1)
        self.trades[trade.txid] = trade
        order.trades.append(trade.txid)
        order.vol_exec, order.cost, order.fee = order.volume, cost, fee
        order.status, order.closetm = "closed", now

    def _credit(self, asset: str, amount: Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + amount

    def balance(self) -> dict[str, str]:
        return {asset: _amount(asset, amount) for asset, amount in self.balances.items()}

    def trade_balance(self, asset: str, now: float) -> dict[str, str]:
        """TradeBalance in ``asset`` at the simulator's last prices. A spot account has no
        margin positions: no margin, P/L, cost or value in them, so equity is the balance
        and Kraken leaves out the margin level."""
        unit = self._value(asset, Decimal(1), now)
        equity = sum((self._value(held, amount, now) for held, amount in self.balances.items()), Decimal(0)) / unit
        unfilled = sum((order.volume * order.price for order in self.open_orders()), Decimal(0)) / unit
        zero = _amount(asset, Decimal(0))
        total = _amount(asset, equity)
        return {"eb": total, "tb": total, "m": zero, "uv": _amount(asset, unfilled), "n": zero, "c": zero,
                "v": zero, "e": total, "mf": total}

    def _value(self, asset: str, amount: Decimal, now: float) -> Decimal:
        """``amount`` of ``asset`` in euros, at the last price of its euro pair."""
        if asset == VALUATION_ASSET:
            return amount
        for pair in PAIRS.values():
            if (pair.base, pair.quote) == (asset, VALUATION_ASSET):
                return amount * self.market.last(pair, now)
        raise Reject("EQuery:Unknown asset")


def _amount(asset: str, amount: Decimal) -> str:
    """An amount of ``asset`` with the decimals Kraken shows its balance with."""
    return f"{amount:.{ASSET_DECIMALS.get(asset, 10)}f}"


def entries(orders: Iterable[Order], trades: bool = False) -> dict[str, Any]:
    """Orders keyed by txid, as QueryOrders, OpenOrders and ClosedOrders list them."""
    return {order.txid: order.entry(trades) for order in orders}
