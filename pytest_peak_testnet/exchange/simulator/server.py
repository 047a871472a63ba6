"""A Kraken-compatible HTTP server on 127.0.0.1, for tests and for recording sessions offline.

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
  ``EService:Unavailable``), ``rate_limit``, ``drop`` (handle, then close the connection
  unanswered), ``clear``; each also takes ``times`` (default 1) and ``method`` (a Kraken
  method such as ``AddOrder``, or ``advance`` for the clock; default every Kraken request)
  -> ``{"pending": <faults left>}``

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

from ...desk.config import ExchangeConfig
from ..handshake import ADVANCE_PATH, HELLO_PATH, hello
from ..kraken.credentials import Credentials
from .clock import DEFAULT_START_TIME, SimClock
from .exchange import Exchange
from .faults import CLOCK, Faults

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "peak-testnet-simulator-key"
DEFAULT_API_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
JSON = "application/json; charset=utf-8"
#: The status ``answer`` gives a request whose connection is closed unanswered (a ``drop`` fault).
DROPPED = 0
#: How often the server checks for stop(): stop() may wait this long, so keep it short.
POLL_SECONDS = 0.02


class Simulator:
    """``with Simulator(seed=1) as sim: sim.url``. The clock stands still unless advanced
    (``sim.clock.advance(60)``) or ``speed`` is set; ``sim.faults`` switches faults on."""

    def __init__(self, *, seed: int = 0, start_time: float = DEFAULT_START_TIME, speed: float = 0.0,
                 port: int = 0, api_key: str = DEFAULT_API_KEY, api_secret: str = DEFAULT_API_SECRET,
                 balances: dict[str, Any] | None = None, tier: str | None = None,
                 history: Sequence[Any] = ()) -> None:
        """``history``: ``csvhistory.History`` objects, each replacing its pair's random walk."""
        self.clock = SimClock(start_time, speed)
        self.faults = Faults()
        self.exchange = Exchange(seed=seed, clock=self.clock, api_key=api_key, api_secret=api_secret,
                                 balances=balances, tier=tier, history=history)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        return f"Simulator(url={self.url if self._server else None!r}, now={self.clock.now()})"

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() or use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Simulator:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,),
                                        name="kraken-simulator", daemon=True)
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

    def config(self, base: ExchangeConfig | None = None, **changes: Any) -> ExchangeConfig:
        """``base`` (default: the desk's defaults) pointed at this simulator."""
        return dataclasses.replace(base or ExchangeConfig(), base_url=self.url, **changes)

    def credentials(self, config: ExchangeConfig | None = None) -> Credentials:
        """This simulator's keys, as if read from the variables ``config`` names."""
        config = config or ExchangeConfig()
        return Credentials(self.exchange.api_key, self.exchange.api_secret,
                           key_var=config.api_key_env_var, secret_var=config.api_secret_env_var)

    # -- request handling, called from the server's handler threads ---------------------------

    def answer(self, verb: str, target: str, body: bytes, headers: Any) -> tuple[int, str, bytes, float]:
        """``(status, content type, body, delay)`` for one request; status ``DROPPED``: close
        the connection without answering."""
        url = urlsplit(target)
        form = dict(parse_qsl(body.decode("utf-8", "replace") if verb == "POST" else url.query,
                              keep_blank_values=True))
        parts = url.path.split("/")
        if url.path.startswith("/_sim/"):
            fault = self.faults.take(CLOCK) if (verb, url.path) == ("POST", ADVANCE_PATH) else None
            if fault is not None and fault.body is not None:
                return fault.status, fault.content_type, fault.body, fault.delay
            answer = self._control(verb, url.path, form)
        elif len(parts) != 4 or parts[1] != "0":
            return 404, JSON, b'{"error":["EGeneral:Unknown method"]}', 0.0
        else:
            fault = self.faults.take(parts[3])
            if fault is not None and fault.body is not None:
                return fault.status, fault.content_type, fault.body, fault.delay
            answer = 200, JSON, self.exchange.handle(parts[2], parts[3], form, body, headers)
        if fault is not None and fault.drop:
            return DROPPED, "", b"", fault.delay
        return (*answer, fault.delay if fault else 0.0)

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

    def _respond(self) -> None:
        sim = self.server.simulator
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, content_type, payload, delay = sim.answer(self.command, self.path, body, self.headers)
        if delay:
            sim.wait(delay)
        if status == DROPPED:
            self.close_connection = True
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout) before the answer came
            self.close_connection = True

    def version_string(self) -> str:
        return "kraken-simulator"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.formatdate(self.server.simulator.clock.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
