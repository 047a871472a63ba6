"""Binance's spot REST paths over the simulated market and account: a request in, an answer out.

Paths (``/api/v3/...``): ``GET time``, ``exchangeInfo``, ``klines``, ``ticker/bookTicker``,
``ticker/price``, ``avgPrice``; signed: ``POST order``, ``POST order/test``, ``GET order``,
``DELETE order``, ``GET openOrders``, ``GET myTrades``, ``GET account``.

Requests are handled one at a time, as Kraken's are. A signed request is checked as Binance
documents it: ``X-MBX-APIKEY`` (``-2014``/``-2015``), ``timestamp`` within ``recvWindow``
of the simulated clock and less than 1 s ahead of it (``-1021``), and ``signature`` over the
query string followed by the body, without the signature itself (``-1022``): HMAC-SHA256 for
the HMAC key, Ed25519 for the Ed25519 key, verified with the public key derived from the
simulator's private key (``cryptography`` is imported at the first such request). Every
answer carries ``X-MBX-USED-WEIGHT-1M``, the request weight used in the simulated minute;
a request past ``weight_limit`` gets HTTP 429 ``-1003`` with ``Retry-After`` (seconds to
the next minute), and is not counted.
"""

from __future__ import annotations

import functools
import hmac
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ...binance.signing import sign
from ..clock import SimClock
from ..market import MINUTE, Market
from .account import Account, Order
from .symbols import SYMBOLS, SimSymbol, find_symbol
from .wire import UNKNOWN_ORDER, Refusal, amount, encode, error_body, missing

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: Binance's ``interval`` -> minutes.
INTERVALS: Mapping[str, int] = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360, "8h": 480,
    "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080,
}
KLINES_DEFAULT, KLINES_MAX = 500, 1000
DEFAULT_WEIGHT_LIMIT = 6000
SIGNATURE = re.compile(r"(?:^|&)signature=[^&]*")
Form = Mapping[str, str]
Answer = tuple[int, bytes, tuple[tuple[str, str], ...]]
Handler = Callable[[Form, float], Any]


def _decimal(form: Form, name: str) -> Decimal:
    try:
        value = Decimal(form[name])
    except KeyError:
        raise missing(name) from None
    except InvalidOperation:
        raise Refusal(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})"
                             r"(\.[0-9]{1,20})?$'.") from None
    if not value.is_finite() or value <= 0:
        raise missing(name)
    return value


def _integer(form: Form, name: str, default: int | None = None) -> int | None:
    if not form.get(name):
        return default
    try:
        return int(form[name])
    except ValueError:
        raise Refusal(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.") \
            from None


class BinanceExchange:
    def __init__(self, *, seed: int, clock: SimClock, api_key: str, api_secret: str, ed25519_api_key: str,
                 ed25519_private_key: str, balances: Mapping[str, Decimal | str | float] | None = None, book_depth: Decimal | str | None = None,
                 book_levels: int = 5, weight_limit: int = DEFAULT_WEIGHT_LIMIT) -> None:
        self.clock = clock
        self.market = Market(seed, list(SYMBOLS.values()))
        depth = None if book_depth is None else Decimal(str(book_depth))
        self.account = Account(self.market, balances, depth, book_levels)
        self.api_key = api_key
        self.api_secret = api_secret
        #: An Ed25519 API key and its private key (PEM), as Binance's key generator writes it.
        self.ed25519_api_key = ed25519_api_key
        self.ed25519_private_key = ed25519_private_key
        self.weight_limit = weight_limit
        self._weight = (0, 0)  # (minute, weight used in it)
        self._lock = threading.Lock()
        #: (verb, path) -> (weight, signed, handler)
        self._routes: dict[tuple[str, str], tuple[int, bool, Handler]] = {
            ("GET", "/api/v3/time"): (1, False, self._time),
            ("GET", "/api/v3/exchangeInfo"): (20, False, self._exchange_info),
            ("GET", "/api/v3/klines"): (2, False, self._klines),
            ("GET", "/api/v3/ticker/bookTicker"): (2, False, self._book_ticker),
            ("GET", "/api/v3/ticker/price"): (2, False, self._price),
            ("GET", "/api/v3/avgPrice"): (2, False, self._avg_price),
            ("POST", "/api/v3/order"): (1, True, self._new_order),
            ("POST", "/api/v3/order/test"): (1, True, self._test_order),
            ("GET", "/api/v3/order"): (4, True, self._query_order),
            ("DELETE", "/api/v3/order"): (1, True, self._cancel_order),
            ("GET", "/api/v3/openOrders"): (6, True, self._open_orders),
            ("GET", "/api/v3/myTrades"): (20, True, self._my_trades),
            ("GET", "/api/v3/account"): (20, True, self._account),
        }

    def __repr__(self) -> str:
        return f"BinanceExchange(api_key={self.api_key!r}, orders={len(self.account.orders)})"

    def handle(self, verb: str, path: str, query: str, body: str, headers: Message) -> Answer:
        """Binance's answer to ``verb path?query`` with form ``body``."""
        with self._lock:
            now = self.clock.now()
            route = self._routes.get((verb, path))
            if route is None:
                return 404, error_body(-1000, "An unknown error occurred while processing the request."), ()
            weight, signed, handler = route
            minute = int(now // MINUTE)
            used = self._weight[1] if self._weight[0] == minute else 0
            if used + weight > self.weight_limit:
                wait = str(max(1, int((minute + 1) * MINUTE - now)))
                msg = (f"Too much request weight used; current limit is {self.weight_limit} request weight per 1 "
                       "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.")
                return 429, error_body(-1003, msg), (("Retry-After", wait), ("X-MBX-USED-WEIGHT-1M", str(used)))
            self._weight = (minute, used + weight)
            counted = (("X-MBX-USED-WEIGHT-1M", str(used + weight)),)
            form = {**dict(parse_qsl(body, keep_blank_values=True)), **dict(parse_qsl(query, keep_blank_values=True))}
            try:
                if signed:
                    self._authenticate(query, body, form, headers, now)
                    self.account.settle(now)
                return 200, encode(handler(form, now)), counted
            except Refusal as refusal:
                return refusal.status, error_body(refusal.code, refusal.msg), counted

    def _authenticate(self, query: str, body: str, form: Form, headers: Message, now: float) -> None:
        key = headers.get("X-MBX-APIKEY")
        if not key:
            raise Refusal(-2014, "API-key format invalid.", 401)
        if key not in (self.api_key, self.ed25519_api_key):
            raise Refusal(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        timestamp = _integer(form, "timestamp")
        if timestamp is None:
            raise missing("timestamp")
        window = _integer(form, "recvWindow", 5000)
        assert window is not None
        if window > 60000:
            raise Refusal(-1131, "recvWindow must be less than 60000")
        now_ms = int(now * 1000)
        if timestamp >= now_ms + 1000:
            raise Refusal(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now_ms - timestamp > window:
            raise Refusal(-1021, "Timestamp for this request is outside of the recvWindow.")
        signature = form.get("signature")
        if not signature:
            raise missing("signature")
        payload = SIGNATURE.sub("", query).lstrip("&") + SIGNATURE.sub("", body).lstrip("&")
        if not self._verifies(key, payload, signature):
            raise Refusal(-1022, "Signature for this request is not valid.")

    def _verifies(self, key: str, payload: str, signature: str) -> bool:
        """Binance's check for the key's type: HMAC's hex in any case, Ed25519's base64 exactly."""
        if key == self.api_key:
            return hmac.compare_digest(sign(payload, self.api_secret), signature.lower())
        from ...binance.ed25519 import verifies

        return verifies(self._ed25519_public_key, payload, signature)

    @functools.cached_property
    def _ed25519_public_key(self) -> Ed25519PublicKey:
        from ...binance.ed25519 import private_key

        return private_key(self.ed25519_private_key, "the simulator's Ed25519 key").public_key()

    # -- market data ---------------------------------------------------------------------------

    def _time(self, form: Form, now: float) -> dict[str, Any]:
        return {"serverTime": int(now * 1000)}

    def _exchange_info(self, form: Form, now: float) -> dict[str, Any]:
        listed = [find_symbol(form["symbol"])] if form.get("symbol") else list(SYMBOLS.values())
        return {
            "timezone": "UTC", "serverTime": int(now * 1000),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [], "symbols": [symbol.entry() for symbol in listed],
        }

    def _klines(self, form: Form, now: float) -> list[list[Any]]:
        """Klines oldest first; the one under way last when the answer reaches the present."""
        symbol = find_symbol(form.get("symbol"))
        if form.get("interval") not in INTERVALS:
            raise Refusal(-1120, "Invalid interval.")
        span = INTERVALS[form["interval"]] * MINUTE
        limit = _integer(form, "limit", KLINES_DEFAULT)
        assert limit is not None
        if not 1 <= limit <= KLINES_MAX:
            raise Refusal(-1130, "Data sent for parameter 'limit' is not valid.")
        current = int(now) // span * span
        start, end = _integer(form, "startTime"), _integer(form, "endTime")
        last = min(current, (end // 1000) // span * span) if end is not None else current
        if start is not None:
            first = -(-start // (span * 1000)) * span  # the first candle opening at or after startTime
            opens = list(range(first, last + 1, span))[:limit]
        else:
            opens = list(range(last - (limit - 1) * span, last + 1, span))
        path = self.market.path(symbol)
        rows = []
        for opened in opens:
            bar = path.window(opened, now) if opened == current else path.closed(opened, span)
            rows.append(self._kline(symbol, bar, span))
        return rows

    @staticmethod
    def _kline(symbol: SimSymbol, bar: Sequence[Any], span: int) -> list[Any]:
        opened, open_, high, low, close, vwap, volume, count = bar
        prices = [amount(Decimal(symbol.price(value))) for value in (open_, high, low, close)]
        base = Decimal(f"{volume:.8f}")
        quote = (base * Decimal(symbol.price(vwap))).quantize(Decimal("0.00000001"))
        return [opened * 1000, *prices, amount(base), (opened + span) * 1000 - 1, amount(quote), count,
                amount((base / 2).quantize(Decimal("0.00000001"))),
                amount((quote / 2).quantize(Decimal("0.00000001"))), "0"]

    def _book_ticker(self, form: Form, now: float) -> dict[str, Any]:
        symbol = find_symbol(form.get("symbol"))
        bid, ask = self.market.book(symbol, now)
        depth = amount(self.account.depth_of(symbol))
        return {"symbol": symbol.pair_id, "bidPrice": amount(bid), "bidQty": depth, "askPrice": amount(ask),
                "askQty": depth}

    def _price(self, form: Form, now: float) -> dict[str, Any]:
        symbol = find_symbol(form.get("symbol"))
        return {"symbol": symbol.pair_id, "price": amount(self.market.last(symbol, now))}

    def _average(self, symbol: SimSymbol, now: float) -> Decimal:
        """The five-minute average price ``PERCENT_PRICE_BY_SIDE`` and ``NOTIONAL`` judge by."""
        return Decimal(symbol.price(self.market.path(symbol).window(now - 5 * MINUTE, now)[5]))

    def _avg_price(self, form: Form, now: float) -> dict[str, Any]:
        symbol = find_symbol(form.get("symbol"))
        return {"mins": 5, "price": amount(self._average(symbol, now)), "closeTime": int(now * 1000)}

    # -- orders ----------------------------------------------------------------------------------

    def _checked(self, form: Form, now: float) -> tuple[SimSymbol, str, str, Decimal, Decimal | None]:
        symbol = find_symbol(form.get("symbol"))
        side, kind = form.get("side"), form.get("type")
        if side not in ("BUY", "SELL"):
            raise Refusal(-1117, "Invalid side.")
        if kind not in ("MARKET", "LIMIT"):
            raise Refusal(-1116, "Invalid orderType.")
        quantity = _decimal(form, "quantity")
        price = None
        if kind == "LIMIT":
            price = _decimal(form, "price")
            if not form.get("timeInForce"):
                raise missing("timeInForce")
        symbol.check(side, kind, quantity, price, self._average(symbol, now))
        return symbol, side, kind, quantity, price

    def _test_order(self, form: Form, now: float) -> dict[str, Any]:
        self._checked(form, now)
        return {}

    def _new_order(self, form: Form, now: float) -> dict[str, Any]:
        symbol, side, kind, quantity, price = self._checked(form, now)
        client_id = form.get("newClientOrderId") or f"sim{len(self.account.orders) + 1}"
        if any(order.client_id == client_id for order in self.account.open_orders()):
            raise Refusal(-2010, "Duplicate order sent.")
        order = self.account.place(symbol, side, kind, quantity, price or Decimal(0), client_id, now)
        return order.placed()

    def _order(self, form: Form) -> Order:
        symbol = find_symbol(form.get("symbol"))
        if not form.get("orderId") and not form.get("origClientOrderId"):
            raise Refusal(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        return self.account.find(symbol, form.get("orderId"), form.get("origClientOrderId"))

    def _query_order(self, form: Form, now: float) -> dict[str, Any]:
        return self._order(form).entry()

    def _cancel_order(self, form: Form, now: float) -> dict[str, Any]:
        try:
            order = self._order(form)
        except Refusal as refusal:
            raise Refusal(-2011, UNKNOWN_ORDER) if refusal.code == -2013 else refusal from None
        self.account.cancel(order, now)
        return order.canceled(form.get("newClientOrderId") or f"cancel{order.order_id}")

    def _open_orders(self, form: Form, now: float) -> list[dict[str, Any]]:
        symbol = find_symbol(form["symbol"]) if form.get("symbol") else None
        return [order.entry() for order in self.account.open_orders() if symbol is None or order.symbol == symbol]

    def _my_trades(self, form: Form, now: float) -> list[dict[str, Any]]:
        symbol = find_symbol(form.get("symbol"))
        order_id = form.get("orderId")
        return [trade.entry() for trade in self.account.trades
                if trade.symbol == symbol and (not order_id or str(trade.order_id) == order_id)]

    def _account(self, form: Form, now: float) -> dict[str, Any]:
        return self.account.account(now)
