"""Binance spot REST client for its test environments, behind the exchange protocol.

Written from Binance's spot API documentation (``rest-api.md``, ``errors.md``,
``filters.md``), not from the simulator's output; the same client talks to the Spot
Testnet, Demo Mode and ``pytest_peak_testnet.simulator --venue binance``. A production host
is refused by the constructor, before any request (``desk.config.not_a_test_environment``).

Signed requests
---------------
Every private call carries ``timestamp`` (the local clock plus the measured offset to
Binance's, in ms), ``recvWindow`` (``config.recv_window``) and ``signature`` (``signing``, or ``ed25519``),
with the key in ``X-MBX-APIKEY``. The offset is measured with ``/api/v3/time`` before the
first signed call; a ``-1021`` (timestamp outside the window) measures it again once and
sends the request again with a fresh timestamp: Binance refused it unseen.

Retry rule
----------
A request is retried, at most ``max_retries`` times, after a *transient* failure: a
connection error, a timeout, HTTP 5xx, 429 or 403, a body that is not JSON, or Binance's
``-1003``/``-1015`` (too many requests or orders), ``-1000``/``-1001``/``-1008``/``-1016``
(service trouble) and ``-1006``/``-1007`` (timeout inside Binance). The wait is Binance's
``Retry-After`` when it sent one, else 1, 2, 4 ... seconds (capped at 16), slept through
the injected ``sleep``. HTTP 418 (the IP is banned) is ``AccountSuspended``: the run stops.

A placed order (``POST /api/v3/order``) is resent only when Binance cannot have taken it:
the connection never existed, or Binance refused it before its matching engine (429,
``-1003``, ``-1015``, ``-1021``). After a read timeout, a dropped connection, a 5xx, a
garbled body or ``-1006``/``-1007`` it may be on the book: the client raises
``OrderStatusUnknown`` with the order's ``newClientOrderId`` at once and never resends it;
``find_order`` looks it up by that id. ``POST /api/v3/order/test`` (validate-only) places
nothing and is retried like a read; so is a cancel (cancelling twice cannot trade).

Pacing
------
Binance counts request weight per IP and minute and reports it in
``X-MBX-USED-WEIGHT-1M``. Once the reported weight reaches ``PACING_SHARE`` of the
minute's limit (exchangeInfo's ``REQUEST_WEIGHT`` limit, 6000 until read), the next
request waits for the next minute of Binance's clock, when the count starts again.

No key, secret or signature appears in any repr, message, log line or traceback: errors are
raised from frames that hold neither.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlencode

from ... import __version__
from ...desk.config import BinanceConfig, not_a_test_environment
from ...errors import ConfigError
from ..errors import (
    AccountSuspended,
    BadRequest,
    BadResponse,
    BadSymbol,
    BaseError,
    DDoSProtection,
    ExchangeNotAvailable,
    InvalidNonce,
    InvalidOrder,
    MissingCredentials,
    NotTestEnvironment,
    OrderNotFound,
    OrderStatusUnknown,
    RateLimitExceeded,
)
from ..klines import KLINES_LIMIT, dec, integer
from ..protocol import CandlePage, Fill, Instrument, OrderAck, OrderReport, OrderType, Side, Ticker
from ..redacted import Redacted
from ..transport import Reply, Transient, Transport, environment_session, failures_sorted
from .errors import STATUS_UNKNOWN_CODES, error_from
from .filters import SymbolRules, parse_rules, shape, symbol_entry
from .signing import Signer, redact_request_logs
from .wire import (
    INTERVALS,
    order,
    parse_balances,
    parse_book_ticker,
    parse_klines,
    parse_server_time,
    parsed,
    placed_fills,
    trade,
)

log = logging.getLogger(__name__)

USER_AGENT = f"pytest-peak-testnet/{__version__}"
BACKOFF_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 16.0
#: Binance's request-weight limit per minute until exchangeInfo says otherwise.
DEFAULT_WEIGHT_LIMIT = 6000
#: Share of the minute's weight after which the client waits for the next minute.
PACING_SHARE = Decimal("0.8")
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
#: Binance's codes refused before the matching engine for load: resending cannot trade twice.
SHED_CODES = frozenset({-1003, -1015, -1001, -1008, -1016})
Verb = Literal["GET", "POST", "DELETE"]


class BinanceTestnetClient:
    """Binance spot over one ``Transport`` (a ``requests.Session`` unless given); an
    ``ExchangeClient``. ``keys`` sign private calls; without them only public calls work."""

    def __init__(self, config: BinanceConfig, *, keys: Signer | None = None, session: Transport | None = None,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 venue: str = "binance_testnet") -> None:
        refused = not_a_test_environment(config, config.base_url)
        if refused is not None:
            raise NotTestEnvironment(f"exchange.{venue}: {refused}; nothing was sent")
        for key, problem in config.problems():
            raise ConfigError(f"exchange.{venue}.{key}", problem)
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self._venue = venue
        self._keys = keys
        self._session: Transport = session if session is not None else environment_session(self.base_url)
        redact_request_logs()
        self._sleep = sleep
        self._monotonic = monotonic
        #: The local clock is the run's monotonic clock from today's date: a replay's or a
        #: simulator recording's virtual clock moves timestamps exactly as far as it moved
        #: Binance's (the simulator's) clock, so the measured offset holds.
        self._epoch = time.time() - monotonic()
        self._lock = threading.Lock()
        #: Binance's clock minus ours, in ms; None until measured.
        self._offset_ms: int | None = None
        self._weight_limit = DEFAULT_WEIGHT_LIMIT
        self._used_weight = 0
        self._rules: dict[str, SymbolRules] = {}
        #: Client order ids unique within this client, from a random prefix so that runs
        #: sharing an account rarely share one.
        prefix = f"ppt-{secrets.token_hex(4)}"
        self._order_ids = (f"{prefix}-{n}" for n in itertools.count(1))

    def __repr__(self) -> str:
        return f"BinanceTestnetClient(base_url={self.base_url!r}, validate_only={self.config.validate_only})"

    @property
    def venue(self) -> str:
        return self._venue

    @property
    def validate_only(self) -> bool:
        return self.config.validate_only

    # -- market data -----------------------------------------------------------------------

    def server_time(self) -> int:
        return self._server_ms() // 1000

    def instrument(self, symbol: str) -> Instrument:
        return self._symbol_rules(symbol).instrument(symbol)

    def candles(self, symbol: str, interval_minutes: int, since: int | None = None, *,
                newest: int | None = None) -> CandlePage:
        """Closed klines opening after ``since``; the one under way apart (see ``parse_klines``)."""
        if interval_minutes not in INTERVALS:
            raise BadRequest(f"interval {interval_minutes} is not one of Binance's {sorted(INTERVALS)} minutes")
        rules = self._symbol_rules(symbol)
        params: dict[str, Any] = {"symbol": rules.symbol, "interval": INTERVALS[interval_minutes]}
        # Always the most klines, the newest kept as asked: the request is then the same
        # whatever the desk's warm-up, so a cassette replays under any config (as Kraken's
        # OHLC, which has no count, does); a weight of 5 once per run.
        limit = KLINES_LIMIT
        if since is not None:
            params["startTime"] = since * 1000 + 1
        params["limit"] = limit
        rows = self._call("GET", "/api/v3/klines", params)
        reached_now = since is None or len(rows) < limit
        return parsed(parse_klines, rows, reached_now, since, newest)

    def ticker(self, symbol: str) -> Ticker:
        rules = self._symbol_rules(symbol)
        book = self._call("GET", "/api/v3/ticker/bookTicker", {"symbol": rules.symbol})
        last = self._call("GET", "/api/v3/ticker/price", {"symbol": rules.symbol})
        return parsed(parse_book_ticker, book, last, symbol)

    # -- orders ------------------------------------------------------------------------------

    def place_order(self, symbol: str, side: Side, type: OrderType, quantity: Decimal,
                    price: Decimal | None = None, client_order_id: str | None = None) -> OrderAck:
        """Checks the order against the symbol's filters, then places it with
        ``newOrderRespType=FULL`` (or only tests it, validate-only)."""
        if side not in ("buy", "sell") or type not in ("market", "limit"):
            raise InvalidOrder(f"expected side buy|sell and type market|limit, found {side!r} {type!r}")
        rules = self._symbol_rules(symbol)
        if rules.status != "TRADING":
            raise InvalidOrder(f"{rules.symbol}: market is {rules.status}, not TRADING", ("-2010 Market is closed.",))
        reference = self._average_price(rules.symbol) if rules.needs_reference(type) else None
        size, limit = shape(rules, side, type, quantity, price, reference)
        client_id = client_order_id or next(self._order_ids)
        params: dict[str, Any] = {"symbol": rules.symbol, "side": side.upper(), "type": type.upper()}
        if limit is not None:
            params["timeInForce"] = "GTC"
        params["quantity"] = f"{size:f}"
        if limit is not None:
            params["price"] = f"{limit:f}"
        params["newClientOrderId"] = client_id
        params["newOrderRespType"] = "FULL"
        description = f"{side} {size:f} {rules.symbol} @ {type}" + (f" {limit:f}" if limit is not None else "")
        if self.validate_only:
            self._call("POST", "/api/v3/order/test", params, signed=True)
            return OrderAck(client_order_id=client_id, order_id=None, validated=True, status=None,
                            description=description)
        body = self._call("POST", "/api/v3/order", params, signed=True, order_ref=client_id)
        placed = parsed(order, body, symbol)
        return OrderAck(client_order_id=client_id, order_id=placed.order_id, validated=False, status=placed.status,
                        description=description, fills=parsed(placed_fills, body))

    def orders(self, symbol: str, order_ids: Iterable[str]) -> dict[str, OrderReport]:
        rules = self._symbol_rules(symbol)
        found: dict[str, OrderReport] = {}
        for order_id in order_ids:
            body = self._call("GET", "/api/v3/order", {"symbol": rules.symbol, "orderId": order_id}, signed=True)
            found[order_id] = self._with_fills(rules, symbol, body)
        return found

    def find_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """The order placed with ``newClientOrderId=client_order_id``, or None (``-2013``)."""
        rules = self._symbol_rules(symbol)
        try:
            body = self._call("GET", "/api/v3/order", {"symbol": rules.symbol, "origClientOrderId": client_order_id},
                              signed=True)
        except OrderNotFound:
            return None
        return self._with_fills(rules, symbol, body)

    def open_orders(self, symbol: str | None = None) -> dict[str, OrderReport]:
        """Open orders without their fills (an open order's fills come with ``orders``)."""
        if symbol is None:
            body = self._call("GET", "/api/v3/openOrders", {}, signed=True)
            return {report.order_id: report for report in
                    (parsed(order, entry, self._desk_symbol(str(entry["symbol"]))) for entry in body)}
        rules = self._symbol_rules(symbol)
        body = self._call("GET", "/api/v3/openOrders", {"symbol": rules.symbol}, signed=True)
        return {report.order_id: report for report in (parsed(order, entry, symbol) for entry in body)}

    def cancel_order(self, symbol: str, order_id: str) -> OrderReport | None:
        rules = self._symbol_rules(symbol)
        body = self._call("DELETE", "/api/v3/order", {"symbol": rules.symbol, "orderId": order_id}, signed=True)
        return parsed(order, body, symbol)

    def balances(self) -> dict[str, Decimal]:
        return parsed(parse_balances, self._call("GET", "/api/v3/account", {}, signed=True))

    def _with_fills(self, rules: SymbolRules, symbol: str, body: Any) -> OrderReport:
        """The order with its fills from ``myTrades`` (asked only when something filled)."""
        report = parsed(order, body, symbol)
        if not report.executed_quantity:
            return report
        trades = self._call("GET", "/api/v3/myTrades", {"symbol": rules.symbol, "orderId": report.order_id},
                            signed=True)
        fills: list[Fill] = parsed(lambda entries: [trade(entry) for entry in entries], trades)
        return parsed(order, body, symbol, fills)

    # -- symbols -----------------------------------------------------------------------------

    def _symbol_rules(self, symbol: str) -> SymbolRules:
        """``BTC/USDT`` (or ``BTCUSDT``) through exchangeInfo, read once per symbol."""
        venue_symbol = symbol.replace("/", "").upper()
        with self._lock:
            known = self._rules.get(venue_symbol)
        if known is not None:
            return known
        try:
            body = self._call("GET", "/api/v3/exchangeInfo", {"symbol": venue_symbol})
        except BadSymbol:
            raise self._unknown(symbol) from None
        rules: SymbolRules = parsed(lambda b: parse_rules(symbol_entry(b, venue_symbol)), body)
        if "/" in symbol and symbol.upper() != f"{rules.base}/{rules.quote}":
            raise BadSymbol(f"unknown symbol {symbol!r}: Binance's {venue_symbol} is {rules.base}/{rules.quote}")
        with self._lock:
            self._weight_limit = _weight_limit(body, self._weight_limit)
            self._rules[venue_symbol] = rules
        return rules

    def _unknown(self, symbol: str) -> BadSymbol:
        body = self._call("GET", "/api/v3/exchangeInfo", {})
        names = parsed(lambda b: sorted(f"{e['baseAsset']}/{e['quoteAsset']}" for e in b["symbols"]), body)
        close = difflib.get_close_matches(symbol.upper(), names, n=3)
        return BadSymbol(f"unknown symbol {symbol!r}; closest: {', '.join(close) or 'none'}", ("-1121 Invalid symbol.",))

    def _desk_symbol(self, venue_symbol: str) -> str:
        rules = self._rules.get(venue_symbol)
        return f"{rules.base}/{rules.quote}" if rules else venue_symbol

    def _average_price(self, venue_symbol: str) -> Decimal:
        body = self._call("GET", "/api/v3/avgPrice", {"symbol": venue_symbol})
        return parsed(lambda b: dec(b["price"]), body)

    # -- time ----------------------------------------------------------------------------------

    def _server_ms(self) -> int:
        """Binance's clock, and the offset to ours measured from the same answer."""
        before = self._wall()
        server = parsed(parse_server_time, self._call("GET", "/api/v3/time", {}))
        after = self._wall()
        with self._lock:
            self._offset_ms = server - round((before + after) * 500)
        return server

    def _wall(self) -> float:
        return self._epoch + self._monotonic()

    def _timestamp(self) -> int:
        if self._offset_ms is None:
            self._server_ms()
        assert self._offset_ms is not None
        return round(self._wall() * 1000) + self._offset_ms

    # -- transport ---------------------------------------------------------------------------

    def _call(self, verb: Verb, path: str, params: Mapping[str, Any], *, signed: bool = False,
              order_ref: str | None = None) -> Any:
        """The decoded body of one request under the module's retry rule. ``order_ref``: the
        call places the order with this client order id, so a lost answer is
        ``OrderStatusUnknown`` and the order is never resent."""
        resynced = False
        attempt = 0
        while True:
            try:
                return self._attempt(verb, path, params, signed)
            except Transient as transient:
                failure = transient
            except InvalidNonce as exc:
                if not signed or resynced:
                    raise exc.with_traceback(None) from None
                log.info("%s; measuring the offset to Binance's clock again", exc)
                resynced = True
                self._server_ms()
                continue
            except BaseError as exc:  # raised where the signed request is a local: not its frames
                raise exc.with_traceback(None) from None
            error = failure.error.with_traceback(None)
            if order_ref is not None and failure.reached:
                raise OrderStatusUnknown(f"{error.message}; the order may have reached Binance "
                                         f"(newClientOrderId {order_ref}), so it was not resent",
                                         error.errors, order_ref) from None
            if attempt >= self.config.max_retries:
                raise error from None
            delay = error.retry_after if error.retry_after is not None else \
                min(BACKOFF_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)
            attempt += 1
            log.info("%s; retry %d of %d in %.1f s", error, attempt, self.config.max_retries, delay)
            self._sleep(delay)

    def _attempt(self, verb: Verb, path: str, params: Mapping[str, Any], signed: bool) -> Any:
        self._pace()
        query = urlencode(params)
        headers = {"User-Agent": USER_AGENT}
        if signed:
            keys = self._credentials()
            query = urlencode({**params, "recvWindow": self.config.recv_window, "timestamp": self._timestamp()})
            # an Ed25519 signature is base64; both are Redacted: see exchange.redacted
            query = Redacted(f"{query}&{urlencode({'signature': keys.sign(query)})}")
            headers["X-MBX-APIKEY"] = Redacted(keys.key)
        log.debug("%s %s %s", verb, path, dict(params))
        url = self.base_url + path
        timeout = self.config.timeout_seconds
        with failures_sorted(path, timeout):
            if verb == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = self._session.post(url, data=query, headers=headers, timeout=timeout)
            else:
                target = f"{url}?{query}" if query else url
                if signed:
                    target = Redacted(target)
                send = self._session.get if verb == "GET" else self._session.delete
                response = send(target, params={}, headers=headers, timeout=timeout)
        return self._decode(path, response)

    def _decode(self, path: str, response: Reply) -> Any:
        self._count_weight(response)
        status = response.status_code
        retry_after = _retry_after(response)
        if status == 418:
            raise AccountSuspended(f"{path}: HTTP 418: Binance has banned this IP address after repeated 429s"
                                   + (f" for {retry_after:g} s" if retry_after is not None else ""))
        if status == 429:
            raise Transient(RateLimitExceeded(f"{path}: HTTP 429 {_error_text(response)}".rstrip(),
                                              retry_after=retry_after), reached=False)
        if status == 403:
            raise Transient(DDoSProtection(f"{path}: HTTP 403 (Binance's firewall refused the request)",
                                           retry_after=retry_after), reached=False)
        if status >= 500:  # Binance: "the execution status is UNKNOWN and could have been a success"
            raise Transient(ExchangeNotAvailable(f"{path}: HTTP {status}"), reached=True)
        try:
            body = response.json()
        except ValueError:
            raise Transient(BadResponse(f"{path}: body is not JSON ({len(response.content)} bytes)"),
                            reached=True) from None
        if status == 200:
            return body
        error = error_from(body, path)
        code = body.get("code") if isinstance(body, dict) else None
        if code in STATUS_UNKNOWN_CODES:
            raise Transient(error, reached=True)
        if code in SHED_CODES:
            raise Transient(error, reached=False)
        raise error

    def _count_weight(self, response: Reply) -> None:
        used = response.headers.get(WEIGHT_HEADER)
        if used is not None and used.isdigit():
            with self._lock:
                self._used_weight = int(used)

    def _pace(self) -> None:
        """Past ``PACING_SHARE`` of the minute's weight, wait for Binance's next minute."""
        with self._lock:
            busy = self._used_weight >= self._weight_limit * PACING_SHARE and self._offset_ms is not None
            offset = self._offset_ms or 0
        if not busy:
            return
        now_ms = round(self._wall() * 1000) + offset
        wait = (60_000 - now_ms % 60_000) / 1000
        log.info("used weight %d of %d this minute; waiting %.1f s for the next", self._used_weight,
                 self._weight_limit, wait)
        self._sleep(wait)
        with self._lock:
            self._used_weight = 0

    def _credentials(self) -> Signer:
        if self._keys is None:
            raise MissingCredentials(f"signed Binance calls need {self.config.api_key_env_var} and "
                                     f"{self.config.secret_env_var} set in the environment")
        return self._keys


def _retry_after(response: Reply) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_text(response: Reply) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return f"{body.get('code')} {body.get('msg')}" if isinstance(body, dict) and "code" in body else ""


def _weight_limit(body: Mapping[str, Any], default: int) -> int:
    """exchangeInfo's ``REQUEST_WEIGHT`` limit per one minute, when it states one."""
    for limit in body.get("rateLimits", ()):
        if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE" \
                and integer(limit.get("intervalNum", 1)) == 1:
            return integer(limit["limit"])
    return default
