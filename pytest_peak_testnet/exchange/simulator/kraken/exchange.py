"""Kraken's REST methods over the simulated market and account: a request in, a body out.

Requests are handled one at a time: Kraken's per-key state (last nonce, rate counter,
balances, orders) then changes atomically, and answers never depend on thread timing.
Private calls are checked as Kraken checks them: key, nonce syntax, signature, nonce order,
rate counter, then the method's own rules.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from email.message import Message
from typing import Any

from ...kraken.wire import sign
from ..clock import SimClock
from .account import Account, Order, entries
from .history import page
from .marketdata import KrakenMarket
from .pairs import PAIRS, SimPair, describe, find_pair, find_pairs
from .wire import Reject, failure, success

#: Kraken's private-call counter per verification tier: (maximum, decay per second).
TIERS: Mapping[str, tuple[float, float]] = {"starter": (15.0, 0.33), "intermediate": (20.0, 0.5), "pro": (20.0, 1.0)}
#: Trade history calls cost Kraken's counter 2 instead of 1.
HISTORY_CALLS = frozenset({"QueryTrades", "TradesHistory"})
#: Kraken takes at most this many txids in one QueryTrades call.
QUERY_TRADES_MAX = 20
#: TradeBalance's ``asset`` when none is given, at Kraken; the simulator lists no USD, so it is unknown here.
DEFAULT_TRADE_BALANCE_ASSET = "ZUSD"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Form = Mapping[str, str]


def rfc1123(now: float) -> str:
    """Kraken's ``Time.rfc1123`` (``Sat, 10 Apr 21 20:47:40 +0000``), independent of locale."""
    moment = datetime.fromtimestamp(int(now), timezone.utc)
    return f"{_WEEKDAYS[moment.weekday()]}, {moment:%d} {_MONTHS[moment.month - 1]} {moment:%y %H:%M:%S} +0000"


class RateCounter:
    """Kraken's per-key counter: +1 per private call (+2 for trade history), draining at
    ``decay`` per simulated second."""

    def __init__(self, maximum: float, decay: float) -> None:
        self.maximum = maximum
        self.decay = decay
        self.level = 0.0
        self._at: float | None = None

    def hit(self, now: float, cost: int = 1) -> None:
        if self._at is not None:
            self.level = max(0.0, self.level - (now - self._at) * self.decay)
        self._at = now
        if self.level + cost > self.maximum:
            raise Reject("EAPI:Rate limit exceeded")
        self.level += cost


def _amount(form: Form, name: str, decimals: int, too_precise: str) -> Decimal:
    try:
        value = Decimal(form.get(name, ""))
    except InvalidOperation:
        raise Reject(f"EGeneral:Invalid arguments:{name}") from None
    if not value.is_finite() or value <= 0:
        raise Reject(f"EGeneral:Invalid arguments:{name}")
    if value != value.quantize(Decimal(1).scaleb(-decimals)):
        raise Reject(too_precise)
    return value


def _userref(form: Form) -> int:
    try:
        return int(form.get("userref") or 0)
    except ValueError:
        raise Reject("EGeneral:Invalid arguments:userref") from None


def _with_userref(form: Form, orders: Iterable[Order]) -> list[Order]:
    """The orders placed with the form's ``userref``, or all of them when it names none."""
    wanted = _userref(form) if form.get("userref") else None
    return [order for order in orders if wanted is None or order.userref == wanted]


def _flag(form: Form, name: str) -> bool:
    """Kraken's boolean arguments: ``true`` (or ``1``) switches them on."""
    return form.get(name) in ("true", "1")


def _txids(form: Form) -> list[str]:
    txids = [txid for txid in form.get("txid", "").split(",") if txid]
    if not txids:
        raise Reject("EGeneral:Invalid arguments:txid")
    return txids


class Exchange:
    def __init__(self, *, seed: int, clock: SimClock, api_key: str, api_secret: str,
                 balances: Mapping[str, Decimal | str | float] | None = None, tier: str | None = None,
                 history: Sequence[Any] = ()) -> None:
        self.clock = clock
        self.market = KrakenMarket(seed, list(PAIRS.values()), history)
        self.account = Account(seed, self.market, balances)
        self.api_key = api_key
        self.api_secret = api_secret
        self.counter = RateCounter(*TIERS[tier]) if tier else None
        #: Every nonce accepted, in order of acceptance.
        self.accepted_nonces: list[int] = []
        self._lock = threading.Lock()
        self._public: dict[str, Callable[[Form, float], Any]] = {
            "Time": self._time, "AssetPairs": self._asset_pairs, "Ticker": self._ticker, "OHLC": self._ohlc,
        }
        self._private: dict[str, Callable[[Form, float], Any]] = {
            "AddOrder": self._add_order, "QueryOrders": self._query_orders, "OpenOrders": self._open_orders,
            "CancelOrder": self._cancel_order, "Balance": self._balance, "QueryTrades": self._query_trades,
            "TradesHistory": self._trades_history, "ClosedOrders": self._closed_orders,
            "TradeBalance": self._trade_balance,
        }

    def __repr__(self) -> str:
        return f"Exchange(api_key={self.api_key!r}, orders={len(self.account.orders)})"

    def handle(self, access: str, method: str, form: Form, body: bytes, headers: Message) -> bytes:
        """The body Kraken would send for ``/0/<access>/<method>``."""
        with self._lock:
            now = self.clock.now()
            try:
                if access == "public" and method in self._public:
                    return success(self._public[method](form, now))
                if access == "private" and method in self._private:
                    self._authenticate(method, form, body, headers, now)
                    self.account.settle(now)
                    return success(self._private[method](form, now))
                raise Reject("EGeneral:Unknown method")
            except Reject as reject:
                return failure(reject.error)

    def _authenticate(self, method: str, form: Form, body: bytes, headers: Message, now: float) -> None:
        path = f"/0/private/{method}"
        if headers.get("API-Key") != self.api_key:
            raise Reject("EAPI:Invalid key")
        nonce = form.get("nonce", "")
        if not nonce.isdigit():
            raise Reject("EAPI:Invalid nonce")
        expected = sign(path, nonce, body.decode("utf-8", "replace"), self.api_secret)
        if not hmac.compare_digest(expected.encode(), headers.get("API-Sign", "").encode()):
            raise Reject("EAPI:Invalid signature")
        if self.accepted_nonces and int(nonce) <= self.accepted_nonces[-1]:
            raise Reject("EAPI:Invalid nonce")
        self.accepted_nonces.append(int(nonce))
        if self.counter is not None:
            self.counter.hit(now, 2 if method in HISTORY_CALLS else 1)

    def _time(self, form: Form, now: float) -> dict[str, Any]:
        return {"unixtime": int(now), "rfc1123": rfc1123(now)}

    def _asset_pairs(self, form: Form, now: float) -> dict[str, Any]:
        return {pair.pair_id: pair.asset_pair() for pair in find_pairs(form.get("pair"))}

    def _ticker(self, form: Form, now: float) -> dict[str, Any]:
        return {pair.pair_id: self.market.ticker(pair, now) for pair in find_pairs(form.get("pair"))}

    def _ohlc(self, form: Form, now: float) -> dict[str, Any]:
        pair = find_pair(form.get("pair"))
        try:
            interval = int(form.get("interval") or 1)
            since = int(form["since"]) if form.get("since") else None
        except ValueError:
            raise Reject("EGeneral:Invalid arguments") from None
        return self.market.ohlc(pair, interval, since, now)

    def _add_order(self, form: Form, now: float) -> dict[str, Any]:
        pair = find_pair(form.get("pair"))
        side, ordertype = form.get("type"), form.get("ordertype")
        if side not in ("buy", "sell"):
            raise Reject("EGeneral:Invalid arguments:type")
        if ordertype not in ("market", "limit"):
            raise Reject("EGeneral:Invalid arguments:ordertype")
        volume = _amount(form, "volume", pair.lot_decimals, "EGeneral:Invalid arguments:volume")
        price = self._order_price(pair, side, ordertype, form, now)
        userref = _userref(form)
        self.account.check(pair, side, volume, price)
        if _flag(form, "validate"):
            return {"descr": {"order": describe(pair, side, ordertype, volume, price)}}
        limit = price if ordertype == "limit" else Decimal(0)
        order = self.account.place(pair, side, ordertype, volume, limit, userref, now)
        return {"descr": {"order": order.describe()}, "txid": [order.txid]}

    def _order_price(self, pair: SimPair, side: str, ordertype: str, form: Form, now: float) -> Decimal:
        """A limit order's own price; for a market order the touch it would fill at."""
        if ordertype == "market":
            bid, ask = self.market.book(pair, now)
            return ask if side == "buy" else bid
        price = _amount(form, "price", pair.pair_decimals, f"EOrder:Invalid price:{pair.altname} price can only "
                        f"be specified up to {pair.pair_decimals} decimals.")
        if pair.tick_size and price % pair.tick_size:
            raise Reject("EOrder:Tick size check failed")
        return price

    def _query_orders(self, form: Form, now: float) -> dict[str, Any]:
        txids = _txids(form)
        if any(txid not in self.account.orders for txid in txids):
            raise Reject("EOrder:Unknown order")
        return entries((self.account.orders[txid] for txid in txids), _flag(form, "trades"))

    def _open_orders(self, form: Form, now: float) -> dict[str, Any]:
        return {"open": entries(_with_userref(form, self.account.open_orders()), _flag(form, "trades"))}

    def _closed_orders(self, form: Form, now: float) -> dict[str, Any]:
        closed = _with_userref(form, self.account.closed_orders())
        txids, count = page([(order.txid, order.closetm) for order in closed if order.closetm is not None], form)
        return {"closed": entries((self.account.orders[txid] for txid in txids), _flag(form, "trades")),
                "count": count}

    def _query_trades(self, form: Form, now: float) -> dict[str, Any]:
        txids = _txids(form)
        if len(txids) > QUERY_TRADES_MAX or any(txid not in self.account.trades for txid in txids):
            raise Reject("EGeneral:Invalid arguments:txid")
        return {txid: self.account.trades[txid].entry() for txid in txids}

    def _trades_history(self, form: Form, now: float) -> dict[str, Any]:
        trades = self.account.trades
        txids, count = page([(trade.txid, trade.time) for trade in trades.values()], form)
        return {"trades": {txid: trades[txid].entry() for txid in txids}, "count": count}

    def _cancel_order(self, form: Form, now: float) -> dict[str, Any]:
        self.account.cancel(form.get("txid", ""), now)
        return {"count": 1}

    def _balance(self, form: Form, now: float) -> dict[str, str]:
        return self.account.balance()

    def _trade_balance(self, form: Form, now: float) -> dict[str, str]:
        return self.account.trade_balance(form.get("asset") or DEFAULT_TRADE_BALANCE_ASSET, now)
