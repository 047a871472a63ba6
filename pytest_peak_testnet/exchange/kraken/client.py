"""Kraken spot REST client for validate-only sessions (Kraken's only "testnet").

Kraken has no spot sandbox: ``validate=true`` on AddOrder checks an order without placing
it, and that flag is sent whenever ``config.validate_only`` is on. The same client talks to
the real API and to ``pytest_peak_testnet.simulator``, so it is written from Kraken's
documentation (see the project's kraken-api notes), not from the simulator's output.

Retry rule
----------
A request is retried, at most ``max_retries`` times with exponential backoff (1, 2, 4 ...
seconds, capped at 16, slept through the injected ``sleep``), after a *transient* failure:
a connection error, a timeout, HTTP 5xx or 429, a body that is not JSON, or one of Kraken's
``EService:Unavailable``, ``EService:Busy``, ``EAPI:Rate limit exceeded``, ``EGeneral:Too
many requests`` (the per-IP limit on public calls). Everything else is raised at once, typed
(see ``kraken_errors``).

A real (non-validate) AddOrder is resent only when the failure proves Kraken did not take
the order: the connection was refused or never established (nothing was sent), or Kraken
itself answered with one of the error strings above (an error envelope means the
order was rejected). After a read timeout, a dropped connection, a 5xx or a garbled body
the order may already be on the book, and a blind resend could place it twice; the client
then raises at once, saying so, and the caller decides with ``open_orders()`` /
``query_orders()`` (pass ``userref`` to find it). A validate-only AddOrder places nothing
and is retried like a read. So are the account's records (QueryOrders, QueryTrades,
TradesHistory, ClosedOrders, TradeBalance), which change nothing. CancelOrder is retried
like a read: cancelling twice cannot trade, it can only answer ``OrderNotFound`` the
second time.

Each attempt gets a fresh nonce and signature, waits for the client-side rate limit
(``rate_limit_ms`` between any two requests) and sends signed requests one at a time, so
they reach Kraken in nonce order even when threads share the client.

Transport
---------
Requests go through a ``Transport``: anything with requests' ``get``/``post`` calls whose
answers have ``status_code``, ``content`` and ``json()``. A ``requests.Session`` is one, and
the default (built on the environment's proxy and CA settings) wherever a request can
leave the process; a replay passes ``replay.ReplaySession``, which answers from the
cassette, so a replayed session never imports requests (25-95 ms of a replay's startup).
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
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from ... import __version__
from ...desk.config import TIMEFRAMES, ExchangeConfig
from ...errors import ConfigError
from ..errors import (
    BadRequest,
    BadResponse,
    BadSymbol,
    BaseError,
    ExchangeError,
    ExchangeNotAvailable,
    InvalidOrder,
    MissingCredentials,
    OrderStatusUnknown,
    RateLimitExceeded,
)
from ..protocol import CandlePage
from ..redacted import Redacted
from ..transport import Reply, Transient, Transport, environment_session, failures_sorted
from .credentials import Credentials
from .errors import unwrap
from .wire import (
    OrderResult,
    OrderType,
    PairInfo,
    Side,
    Ticker,
    integer,
    parse_asset_pairs,
    parse_balance,
    parse_ohlc,
    parse_ticker,
    parsed,
    prepare_order,
    sign,
)

if TYPE_CHECKING:
    from .orders import OrderInfo, OrderPrice, TradeBalance, TradeInfo

__all__ = ["CandlePage", "KrakenTestnetClient", "OrderInfo", "OrderPrice", "OrderResult", "PairInfo", "Ticker",
           "TradeBalance", "TradeInfo", "sign"]

#: Loaded with the first call that needs them (``__getattr__``): a replay never does.
ACCOUNT_TYPES = frozenset({"OrderInfo", "OrderPrice", "TradeBalance", "TradeInfo"})

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name in ACCOUNT_TYPES:
        from . import orders as kraken_orders

        return getattr(kraken_orders, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

USER_AGENT = f"pytest-peak-testnet/{__version__}"
#: Kraken answers that prove the request was refused and that waiting may cure.
RETRYABLE_ERRORS = frozenset({"EService:Unavailable", "EService:Busy", "EAPI:Rate limit exceeded",
                              "EGeneral:Too many requests"})
BACKOFF_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 16.0
#: Kraken accepts at most this many txids in one QueryOrders call.
QUERY_ORDERS_BATCH = 50
#: ... and at most this many in one QueryTrades call.
QUERY_TRADES_BATCH = 20

T = TypeVar("T")
#: A history bound as Kraken takes it: a unix time, or the txid of an order or trade.
Bound = float | str | None


def optional_params(**params: Any) -> dict[str, Any]:
    """Kraken's optional arguments: left out when None or False, ``true`` when True."""
    return {name: "true" if value is True else value for name, value in params.items()
            if value is not None and value is not False}


class KrakenTestnetClient:
    """Kraken spot REST over one ``Transport`` (a ``requests.Session`` unless given).
    Private calls sign with ``credentials`` (built once from the environment, see
    ``credentials``); without them only public calls work. No key, secret or signature appears in any repr, message or log line."""

    def __init__(self, config: ExchangeConfig, *, credentials: Credentials | None = None,
                 session: Transport | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        for key, problem in config.problems():
            raise ConfigError(f"exchange.kraken_testnet.{key}", problem)
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self._keys = credentials
        self._session: Transport = session if session is not None else environment_session(self.base_url)
        self._sleep = sleep
        self._monotonic = monotonic
        self._pace_lock = threading.Lock()
        self._next_slot = float("-inf")
        self._nonce_lock = threading.Lock()
        self._last_nonce = 0
        self._send_lock = threading.Lock()
        self._pairs_lock = threading.Lock()
        self._pairs: dict[str, PairInfo] | None = None
        self._names: dict[str, str] = {}
        #: Order references, unique within this client, from a random start so that runs
        #: sharing an account rarely share one.
        self._userrefs = itertools.count(secrets.randbelow(2**30) + 1)

    def __repr__(self) -> str:
        return f"KrakenTestnetClient(base_url={self.base_url!r}, validate_only={self.config.validate_only})"

    # -- public endpoints ------------------------------------------------------------------

    def server_time(self) -> int:
        result, _ = self._call("Time")
        return parsed(lambda r: integer(r["unixtime"]), result)

    def asset_pairs(self) -> dict[str, PairInfo]:
        """All pairs keyed by pair id, fetched once per client."""
        with self._pairs_lock:
            if self._pairs is None:
                result, _ = self._call("AssetPairs")
                pairs: dict[str, PairInfo] = parsed(parse_asset_pairs, result)
                self._names = {name.upper(): pid for pid, p in pairs.items()
                               for name in (pid, p.altname, p.wsname, p.symbol)}
                self._pairs = pairs
            return dict(self._pairs)

    def pair_info(self, symbol: str) -> PairInfo:
        """``BTC/EUR``, ``XBT/EUR``, ``XBTEUR`` and ``XXBTZEUR`` all name the same pair."""
        pairs = self.asset_pairs()
        pair_id = self._names.get(symbol.upper())
        if pair_id is None:
            close = difflib.get_close_matches(symbol.upper(), sorted({p.symbol for p in pairs.values()}), n=3)
            raise BadSymbol(f"unknown symbol {symbol!r}; closest: {', '.join(close) or 'none'}")
        return pairs[pair_id]

    def ticker(self, symbol: str) -> Ticker:
        pair = self.pair_info(symbol)
        result, _ = self._call("Ticker", {"pair": pair.pair_id})
        return parsed(parse_ticker, result, pair.pair_id)

    def ohlc(self, symbol: str, interval_minutes: int, since: int | None = None, *,
             newest: int | None = None) -> CandlePage:
        """Closed candles after ``since`` (Kraken sends up to 720); ``newest`` keeps only that
        many of the newest."""
        if interval_minutes not in TIMEFRAMES.values():
            raise BadRequest(f"interval {interval_minutes} is not one of Kraken's {sorted(TIMEFRAMES.values())}")
        pair = self.pair_info(symbol)
        params: dict[str, Any] = {"pair": pair.pair_id, "interval": interval_minutes}
        if since is not None:
            params["since"] = since
        result, _ = self._call("OHLC", params)
        return parsed(parse_ohlc, result, pair.pair_id, newest)

    # -- private endpoints -----------------------------------------------------------------

    def add_order(self, symbol: str, side: Side, ordertype: OrderType, volume: Decimal | float | str,
                  price: Decimal | float | str | None = None, userref: int | None = None) -> OrderResult:
        """Place (or, with ``validate_only``, only validate) a market or limit order; see
        ``prepare_order`` for the checks made before anything is sent."""
        if side not in ("buy", "sell") or ordertype not in ("market", "limit"):
            raise InvalidOrder(f"expected side buy|sell and ordertype market|limit, found {side!r} {ordertype!r}")
        if userref is not None and not -2**31 <= userref < 2**31:
            raise InvalidOrder(f"userref {userref} does not fit Kraken's int32")
        pair = self.pair_info(symbol)
        size, limit = prepare_order(pair, ordertype, volume, price)
        params = {"pair": pair.pair_id, "type": side, "ordertype": ordertype, "volume": size}
        if limit is not None:
            params["price"] = limit
        if userref is None:
            userref = next(self._userrefs)
        params["userref"] = str(userref)
        validate = self.config.validate_only
        if validate:
            params["validate"] = "true"
        result, warnings = self._call("AddOrder", params, private=True, resend_safe=validate, order_ref=userref)
        return parsed(lambda r: OrderResult(description=r["descr"]["order"], txids=tuple(r.get("txid", ())),
                                             validated=validate, warnings=warnings, userref=userref), result)

    def query_orders(self, txids: Iterable[str], trades: bool = False) -> dict[str, OrderInfo]:
        """Orders by txid; ``trades`` also lists each order's fills in ``OrderInfo.trades``."""
        from .orders import parse_orders

        return self._batched("QueryOrders", txids, QUERY_ORDERS_BATCH, parse_orders, optional_params(trades=trades))

    def query_trades(self, txids: Iterable[str]) -> dict[str, TradeInfo]:
        """Fills by trade id, e.g. the ids ``query_orders(..., trades=True)`` lists."""
        from .orders import parse_trades

        return self._batched("QueryTrades", txids, QUERY_TRADES_BATCH, parse_trades, {})

    def trades_history(self, start: Bound = None, end: Bound = None,
                       ofs: int | None = None) -> tuple[dict[str, TradeInfo], int]:
        """One page (Kraken's 50, newest first) of fills after ``start`` up to ``end``
        inclusive, from offset ``ofs``, and how many match in all."""
        from .orders import parse_trades_history

        result, _ = self._call("TradesHistory", optional_params(start=start, end=end, ofs=ofs), private=True)
        return parsed(parse_trades_history, result)

    def closed_orders(self, start: Bound = None, end: Bound = None, userref: int | None = None,
                      ofs: int | None = None, trades: bool = False) -> tuple[dict[str, OrderInfo], int]:
        """One page (Kraken's 50, newest first) of closed and canceled orders, optionally only
        those placed with ``userref``, and how many match in all."""
        from .orders import parse_closed_orders

        params = optional_params(start=start, end=end, userref=userref, ofs=ofs, trades=trades)
        result, _ = self._call("ClosedOrders", params, private=True)
        return parsed(parse_closed_orders, result)

    def open_orders(self) -> dict[str, OrderInfo]:
        from .orders import parse_orders

        result, _ = self._call("OpenOrders", private=True)
        return parsed(lambda r: parse_orders(r["open"]), result)

    def cancel_order(self, txid: str) -> int:
        result, _ = self._call("CancelOrder", {"txid": txid}, private=True)
        return parsed(lambda r: integer(r["count"]), result)

    def balance(self) -> dict[str, Decimal]:
        result, _ = self._call("Balance", private=True)
        return parsed(parse_balance, result)

    def trade_balance(self, asset: str = "ZEUR") -> TradeBalance:
        """The account valued in ``asset`` by Kraken (whose own default, ZUSD, a EUR desk rarely wants)."""
        from .orders import parse_trade_balance

        result, _ = self._call("TradeBalance", {"asset": asset}, private=True)
        return parsed(parse_trade_balance, result, asset)

    def _batched(self, method: str, txids: Iterable[str], size: int, parse: Callable[[Any], dict[str, T]],
                 params: Mapping[str, Any]) -> dict[str, T]:
        """``method`` over ``txids`` in calls of at most ``size`` ids, the answers merged."""
        ids = list(txids)
        found: dict[str, T] = {}
        for start in range(0, len(ids), size):
            result, _ = self._call(method, {**params, "txid": ",".join(ids[start:start + size])}, private=True)
            found.update(parsed(parse, result))
        return found

    # -- transport ---------------------------------------------------------------------------

    def _call(self, method: str, params: Mapping[str, Any] | None = None, *, private: bool = False,
              resend_safe: bool = True, order_ref: int | None = None) -> tuple[Any, tuple[str, ...]]:
        """``(result, warnings)`` of one Kraken method, applying the module's retry rule.
        ``order_ref``: the call places the order with this userref; a lost answer is
        ``OrderStatusUnknown``."""
        path = f"/0/{'private' if private else 'public'}/{method}"
        for attempt in itertools.count():
            try:
                return self._attempt(path, params or {}, private)
            except Transient as transient:
                failure = transient
            # Decided outside the except: whatever happens next (a backoff on a clock that
            # fails, say) does not drag this attempt's traceback along.
            error = failure.error
            if order_ref is not None and failure.reached and (not resend_safe or attempt >= self.config.max_retries):
                raise OrderStatusUnknown(f"{error.message}; the order may have reached Kraken (userref {order_ref})"
                                         + ("" if resend_safe else ", so it was not resent"),
                                         error.errors, str(order_ref)) from None
            if attempt >= self.config.max_retries:
                raise error from None
            delay = min(BACKOFF_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)
            log.info("%s: %s; retry %d of %d in %.1f s", path, error, attempt + 1, self.config.max_retries, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - itertools.count() never ends

    def _attempt(self, path: str, params: Mapping[str, Any], private: bool) -> tuple[Any, tuple[str, ...]]:
        """One request. Transport failures are re-raised without their cause: the
        transport's frames (and a signed request's) hold the key and the signature."""
        credentials = self._credentials() if private else None
        self._pace()
        url = self.base_url + path
        timeout = self.config.timeout_seconds
        log.debug("%s %s %s", "POST" if private else "GET", path, dict(params))
        with failures_sorted(path, timeout):
            if credentials is None:
                response = self._session.get(url, params=params, headers={"User-Agent": USER_AGENT}, timeout=timeout)
            else:
                response = self._post_signed(url, path, params, credentials, timeout)
        return self._decode(path, response)

    def _post_signed(self, url: str, path: str, params: Mapping[str, Any], credentials: Credentials,
                     timeout: float) -> Reply:
        """The body and the signed headers are no local of this frame and are ``Redacted``
        in every frame below it: a traceback may print those frames' arguments."""
        with self._send_lock:  # signed requests must reach Kraken in nonce order
            return self._session.post(url, timeout=timeout, **_signed(path, self._next_nonce(), params, credentials))

    @staticmethod
    def _decode(path: str, response: Reply) -> tuple[Any, tuple[str, ...]]:
        status = response.status_code
        if status == 429:  # shed at Kraken's edge, before the engine
            raise Transient(RateLimitExceeded(f"{path}: HTTP 429"), reached=False)
        if status >= 500:  # a gateway may give up on a request the engine still handles
            raise Transient(ExchangeNotAvailable(f"{path}: HTTP {status}"), reached=True)
        if status != 200:
            raise ExchangeError(f"{path}: HTTP {status}")
        try:
            payload = response.json()
        except ValueError:
            raise Transient(BadResponse(f"{path}: body is not JSON ({len(response.content)} bytes)"),
                             reached=True) from None
        try:
            return unwrap(payload)
        except BaseError as exc:
            if RETRYABLE_ERRORS.intersection(exc.errors):
                raise Transient(exc, reached=False) from None
            raise

    def _credentials(self) -> Credentials:
        if self._keys is None:
            raise MissingCredentials(f"private Kraken calls need {self.config.api_key_env_var} and "
                                     f"{self.config.api_secret_env_var} set in the environment")
        return self._keys

    def _pace(self) -> None:
        """Reserve the next slot ``rate_limit_ms`` after the previous one, then wait for it."""
        with self._pace_lock:
            now = self._monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.config.rate_limit_ms / 1000
        if slot > now:
            self._sleep(slot - now)

    def _next_nonce(self) -> int:
        """Milliseconds since the epoch, but always above the previous nonce."""
        with self._nonce_lock:
            self._last_nonce = max(self._last_nonce + 1, time.time_ns() // 1_000_000)
            return self._last_nonce



def _signed(path: str, nonce: int, params: Mapping[str, Any], credentials: Credentials) -> dict[str, Any]:
    """``data`` and ``headers`` of a signed POST, the nonce, body, key and signature ``Redacted``."""
    body = Redacted(urlencode({"nonce": nonce, **params}))
    return {"data": body, "headers": {
        "User-Agent": USER_AGENT, "API-Key": Redacted(credentials.key),
        "API-Sign": Redacted(credentials.sign(path, nonce, body)),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}
