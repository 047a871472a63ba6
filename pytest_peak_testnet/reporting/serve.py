"""``peak-testnet serve``: the budget dashboard over HTTP, read fresh from disk on each request.

Nothing is cached and nothing is written: every request reads the ledger and the run logs
as they are now, so a page that refreshes shows runs appear, their events and equity
arrive, and today's budget fill up while pytest writes. Only GET and HEAD are answered:
the server cannot change anything. It binds to 127.0.0.1 unless told otherwise, since the
ledger and the run logs are the desk's own business.

Browsers keep idle connections open, and a page left open somewhere keeps refreshing: at
most ``MAX_CONNECTIONS`` are served at once (one more is answered 503 at once), a
connection silent for ``IDLE_SECONDS`` is closed, and a client that goes away is not an
error.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..desk.config import DeskConfig
from ..desk.ledgers import open_ledger
from . import dashboard

#: Seconds between the served page's refreshes.
REFRESH_SECONDS = 2.0
#: Connections served at once, and how long one may stay silent.
MAX_CONNECTIONS = 32
IDLE_SECONDS = 10.0
#: The answer to a connection beyond ``MAX_CONNECTIONS``.
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
        b"Content-Length: 5\r\n\r\nbusy\n")


def routes(config: DeskConfig, refresh: float) -> dict[str, tuple[str, Callable[[], str]]]:
    """Path -> (content type, what renders it). The ledger is opened once (one database
    connection for the server's life) and read afresh on every request."""
    ledger = open_ledger(config.orchestration)

    def snapshot() -> dict[str, Any]:
        return dashboard.of_desk(config, ledger)

    return {
        "/": ("text/html; charset=utf-8", lambda: dashboard.page(snapshot(), live=refresh)),
        "/body": ("text/html; charset=utf-8", lambda: dashboard.body(snapshot(), refresh)),
        f"/{dashboard.RUNS_FILENAME}": ("text/html; charset=utf-8",
                                        lambda: dashboard.runs_page(config.orchestration.runs_base_dir, config.alerts)),
        "/api/state": ("application/json", lambda: json.dumps(snapshot())),
    }


def handler(config: DeskConfig, refresh: float = REFRESH_SECONDS) -> type[BaseHTTPRequestHandler]:
    table = routes(config, refresh)

    class Handler(BaseHTTPRequestHandler):
        server_version = "peak-testnet"
        timeout = IDLE_SECONDS

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            route = table.get(self.path.split("?", 1)[0])
            if route is None:
                self.send_error(HTTPStatus.NOT_FOUND, "not found: the dashboard is at /")
                return
            kind, render = route
            try:
                payload = render().encode("utf-8")
            except Exception as exc:  # a ledger being rewritten, a template error: say so, keep serving
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}".splitlines()[0])
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a page refreshing every two seconds would fill the terminal."""

    return Handler


class DashboardServer(ThreadingHTTPServer):
    """A thread per connection, at most ``MAX_CONNECTIONS`` of them (see the module)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler_class: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler_class)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):  # full: say so at once rather than queue behind idle ones
            try:
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
            return  # the client closed or went quiet: nothing went wrong here
        super().handle_error(request, client_address)


def server(config: DeskConfig, host: str = "127.0.0.1", port: int = 8000,
           refresh: float = REFRESH_SECONDS) -> ThreadingHTTPServer:
    """Bound and ready; ``serve_forever`` starts answering. Port 0 picks a free one."""
    return DashboardServer((host, port), handler(config, refresh))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
