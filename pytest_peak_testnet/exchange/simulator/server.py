"""An exchange's HTTP server on 127.0.0.1, for tests and for recording sessions offline:
Kraken's wire format (``venue="kraken"``, the default) or Binance's (``venue="binance"``,
see ``binance.exchange`` for its paths), over one venue-neutral market, clock and faults.

Kraken's paths: ``GET|POST /0/public/{Time,AssetPairs,Ticker,OHLC}`` and
``POST /0/private/{AddOrder,QueryOrders,OpenOrders,CancelOrder,Balance,QueryTrades,TradesHistory,
ClosedOrders,TradeBalance}``, with Kraken's envelopes and error strings. Private calls must be signed with the simulator's credentials,
by default ``DEFAULT_API_KEY`` / ``DEFAULT_API_SECRET`` (Kraken's published example secret;
neither is a real credential).

Control endpoints, outside Kraken's namespace, so a session in another process can drive
the simulator (answers are plain JSON, errors are HTTP 400 with ``{"error": "..."}``):

- ``GET /_sim/hello`` -> ``{"simulator": "pytest-peak-testnet simulator", "version": "..."}``: the
  handshake by which a session knows it talks to this simulator (``handshake``)
- ``GET /_sim/clock`` -> ``{"now": <float>, "unixtime": <int>, "speed": <float>}``
- ``POST /_sim/advance`` form ``seconds=<float>`` -> the clock, as above, after the step
- ``POST /_sim/faults`` form ``kind=`` one of ``http_error`` (``status``, default 503),
  ``delay`` (``seconds``), ``malformed``, ``kraken_error`` (``error``, e.g.
  ``EService:Unavailable``), ``binance_error`` (``code``, ``msg``, ``status`` (default 400),
  ``retry_after``), ``rate_limit``, ``drop`` (handle, then close the connection
  unanswered), ``clear``; each also takes ``times`` (default 1) and ``method`` (a Kraken
  method such as ``AddOrder``, or ``advance`` for the clock; default every Kraken request)
  -> ``{"pending": <faults left>}``. At Binance a fault's ``method`` is ``VERB /api/v3/path``
  (``POST /api/v3/order``) or the path alone, for any verb.

Response headers are deterministic too (``Date`` from the simulated clock, a fixed
``Server``), so recorded cassettes do not differ between runs.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ...desk.config import BinanceConfig, ExchangeConfig
from ..binance import ed25519_keys
from ..binance.signing import HmacKeys, redact
from ..handshake import ADVANCE_PATH, HELLO_PATH, hello
from ..kraken.credentials import Credentials
from .binance.exchange import DEFAULT_WEIGHT_LIMIT, BinanceExchange
from .clock import DEFAULT_START_TIME, SimClock
from .faults import CLOCK, Faults
from .kraken.exchange import Exchange

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "peak-testnet-simulator-key"
DEFAULT_API_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
#: Binance's published example secret (its REST docs' signing example): no real credential.
BINANCE_API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
#: The Binance simulator's Ed25519 key (``key_type = "ed25519"``): RFC 8032's first test key
#: (section 7.1, TEST 1), published, so no real credential either.
BINANCE_ED25519_API_KEY = "peak-testnet-simulator-ed25519-key"
BINANCE_ED25519_PRIVATE_KEY = ("-----BEGIN PRIVATE KEY-----\n"
                               "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                               "-----END PRIVATE KEY-----\n")
VENUES = ("kraken", "binance")
Headers = tuple[tuple[str, str], ...]
JSON = "application/json; charset=utf-8"
#: The status ``answer`` gives a request whose connection is closed unanswered (a ``drop`` fault).
DROPPED = 0
#: How often the server checks for stop(): stop() may wait this long, so keep it short.
POLL_SECONDS = 0.02


class Simulator:
    """``with Simulator(seed=1) as sim: sim.url``. The clock stands still unless advanced
    (``sim.clock.advance(60)``) or ``speed`` is set; ``sim.faults`` switches faults on."""

    exchange: Any  # Exchange (Kraken) or BinanceExchange

    def __init__(self, *, venue: str = "kraken", seed: int = 0, start_time: float = DEFAULT_START_TIME,
                 speed: float = 0.0, port: int = 0, api_key: str = DEFAULT_API_KEY, api_secret: str | None = None,
                 balances: dict[str, Any] | None = None, tier: str | None = None, history: Sequence[Any] = (),
                 book_depth: Any = None, book_levels: int = 5, weight_limit: int = DEFAULT_WEIGHT_LIMIT) -> None:
        """``history``: ``kraken.csvhistory.History`` objects, each replacing its pair's random walk
        (Kraken only). Binance only: ``book_depth`` (base asset per price level; None: each
        symbol's own thin book), ``book_levels`` (levels per side), ``weight_limit``
        (request weight per simulated minute before 429s)."""
        if venue not in VENUES:
            raise ValueError(f"venue must be one of {', '.join(VENUES)}, found {venue!r}")
        self.venue = venue
        self.clock = SimClock(start_time, speed)
        self.faults = Faults(venue)
        if venue == "kraken":
            self.exchange = Exchange(seed=seed, clock=self.clock, api_key=api_key,
                                     api_secret=api_secret or DEFAULT_API_SECRET, balances=balances, tier=tier,
                                     history=history)
        else:
            if tier is not None or history:
                raise ValueError("tier and history are Kraken's; the Binance simulator has a weight limit "
                                 "and its own random walk")
            self.exchange = BinanceExchange(seed=seed, clock=self.clock, api_key=api_key,
                                            api_secret=api_secret or BINANCE_API_SECRET,
                                            ed25519_api_key=BINANCE_ED25519_API_KEY,
                                            ed25519_private_key=BINANCE_ED25519_PRIVATE_KEY, balances=balances,
                                            book_depth=book_depth, book_levels=book_levels,
                                            weight_limit=weight_limit)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        return f"Simulator(venue={self.venue!r}, url={self.url if self._server else None!r}, now={self.clock.now()})"

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() or use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Simulator:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,),
                                        name=f"{self.venue}-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a delay fault
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def config(self, base: Any = None, **changes: Any) -> Any:
        """``base`` (default: the venue's defaults, ``ExchangeConfig`` or ``BinanceConfig``)
        pointed at this simulator."""
        default = ExchangeConfig() if self.venue == "kraken" else BinanceConfig()
        return dataclasses.replace(base or default, base_url=self.url, **changes)

    def credentials(self, config: Any = None) -> Any:
        """This simulator's keys (Kraken's ``Credentials``, Binance's ``HmacKeys`` or, for a
        block with ``key_type = "ed25519"``, ``Ed25519Keys``), as if read from the variables
        ``config`` names."""
        if self.venue == "kraken":
            config = config or ExchangeConfig()
            return Credentials(self.exchange.api_key, self.exchange.api_secret, key_var=config.api_key_env_var,
                               secret_var=config.api_secret_env_var)
        config = config or BinanceConfig()
        if config.key_type == "ed25519":
            return ed25519_keys()(self.exchange.ed25519_api_key, self.exchange.ed25519_private_key,
                                  key_var=config.api_key_env_var, secret_var=config.secret_env_var)
        return HmacKeys(self.exchange.api_key, self.exchange.api_secret, key_var=config.api_key_env_var,
                        secret_var=config.api_secret_env_var)

    # -- request handling, called from the server's handler threads ---------------------------

    def answer(self, verb: str, target: str, body: bytes, headers: Any) -> tuple[int, str, bytes, float, Headers]:
        """``(status, content type, body, delay, headers)`` for one request; status
        ``DROPPED``: close the connection without answering."""
        url = urlsplit(target)
        if self.venue == "binance" and not url.path.startswith("/_sim/"):
            return self._binance(verb, url.path, url.query, body, headers)
        form = dict(parse_qsl(body.decode("utf-8", "replace") if verb == "POST" else url.query,
                              keep_blank_values=True))
        parts = url.path.split("/")
        if url.path.startswith("/_sim/"):
            fault = self.faults.take(CLOCK) if (verb, url.path) == ("POST", ADVANCE_PATH) else None
            if fault is not None and fault.body is not None:
                return fault.status, fault.content_type, fault.body, fault.delay, fault.headers
            answer = self._control(verb, url.path, form)
        elif len(parts) != 4 or parts[1] != "0":
            return 404, JSON, b'{"error":["EGeneral:Unknown method"]}', 0.0, ()
        else:
            fault = self.faults.take(parts[3])
            if fault is not None and fault.body is not None:
                return fault.status, fault.content_type, fault.body, fault.delay, fault.headers
            answer = 200, JSON, self.exchange.handle(parts[2], parts[3], form, body, headers)
        if fault is not None and fault.drop:
            return DROPPED, "", b"", fault.delay, ()
        return (*answer, fault.delay if fault else 0.0, ())

    def _binance(self, verb: str, path: str, query: str, body: bytes, headers: Any) -> tuple[
            int, str, bytes, float, Headers]:
        fault = self.faults.take(f"{verb} {path}", path)
        if fault is not None and fault.body is not None:
            return fault.status, fault.content_type, fault.body, fault.delay, fault.headers
        status, payload, extra = self.exchange.handle(verb, path, query, body.decode("utf-8", "replace"), headers)
        if fault is not None and fault.drop:
            return DROPPED, "", b"", fault.delay, ()
        return status, JSON, payload, fault.delay if fault else 0.0, extra

    def _control(self, verb: str, path: str, form: dict[str, str]) -> tuple[int, str, bytes]:
        try:
            if (verb, path) == ("GET", HELLO_PATH):
                return 200, JSON, json.dumps(hello()).encode()
            if (verb, path) == ("POST", ADVANCE_PATH):
                self.clock.advance(float(form["seconds"]))
            elif (verb, path) == ("POST", "/_sim/faults"):
                self.faults.from_form(form)
                return 200, JSON, json.dumps({"pending": self.faults.pending}).encode()
            elif (verb, path) != ("GET", "/_sim/clock"):
                return 404, JSON, json.dumps({"error": f"no control endpoint {verb} {path}"}).encode()
        except (KeyError, ValueError) as exc:
            return 400, JSON, json.dumps({"error": f"{path}: {type(exc).__name__}: {exc}"}).encode()
        now = self.clock.now()
        return 200, JSON, json.dumps({"now": now, "unixtime": int(now), "speed": self.clock.speed}).encode()

    def wait(self, seconds: float) -> None:
        """Sleep for a delay fault, cut short when the simulator stops."""
        self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], simulator: Simulator) -> None:
        self.simulator = simulator
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this, 40 ms stalls

    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def do_DELETE(self) -> None:
        self._respond()

    def _respond(self) -> None:
        sim = self.server.simulator
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, content_type, payload, delay, extra = sim.answer(self.command, self.path, body, self.headers)
        if delay:
            sim.wait(delay)
        if status == DROPPED:
            self.close_connection = True
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout) before the answer came
            self.close_connection = True

    def version_string(self) -> str:
        return f"{self.server.simulator.venue}-simulator"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.formatdate(self.server.simulator.clock.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", self.address_string(), redact(format % args))
