"""``peak-testnet serve``: the budget dashboard over HTTP, read fresh from disk on each request.

Nothing is cached and nothing is written: every request reads the ledger and the run logs
as they are now, so a page that refreshes shows runs appear, their events and equity
arrive, and today's budget fill up while pytest writes. Only GET and HEAD are answered:
the server cannot change anything. It binds to 127.0.0.1 unless told otherwise, since the
ledger and the run logs are the desk's own business.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..desk.config import DeskConfig
from ..desk.ledgers import open_ledger
from . import dashboard

#: Seconds between the served page's refreshes.
REFRESH_SECONDS = 2.0


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


def server(config: DeskConfig, host: str = "127.0.0.1", port: int = 8000,
           refresh: float = REFRESH_SECONDS) -> ThreadingHTTPServer:
    """Bound and ready; ``serve_forever`` starts answering. Port 0 picks a free one."""
    httpd = ThreadingHTTPServer((host, port), handler(config, refresh))
    httpd.daemon_threads = True
    return httpd


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
