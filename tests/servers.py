"""Servers for tests that need one outside the test process: a simulator in a subprocess
(so a run can lose it), and a plain HTTP forwarder that is not the simulator."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

SIMULATOR = """
import sys, threading
from pytest_peak_testnet.simulator import Simulator
with Simulator(api_key=sys.argv[1], api_secret=sys.argv[2]) as sim:
    print(sim.url, flush=True)
    threading.Event().wait()
"""


@contextmanager
def simulator_process(api_key: str, api_secret: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``(url, process)`` of a simulator signing with these keys, stopped on exit."""
    process = subprocess.Popen([sys.executable, "-c", SIMULATOR, api_key, api_secret],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url, process
    finally:
        process.kill()
        process.wait(timeout=10)


class _Forward(BaseHTTPRequestHandler):
    server: _ForwardServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/_sim/"):  # a server that says yes to anything, but is no simulator
            status, payload = 200, b"{}"
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = requests.request(self.command, self.server.target + self.path, data=body, headers=headers,
                                      timeout=10)
            status, payload = answer.status_code, answer.content
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _ForwardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(("127.0.0.1", 0), _Forward)


@contextmanager
def plain_server(target: str) -> Iterator[str]:
    """A loopback server that forwards Kraken's paths to ``target`` and answers anything else
    with HTTP 200 ``{}``: an exchange, as far as the plugin can tell (a proxy, a mock)."""
    with _serving(_ForwardServer(target)) as url:
        yield url


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """``server``'s URL while it serves on a thread; stopped and closed on exit."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _JSON(BaseHTTPRequestHandler):
    server: _JSONServer

    def do_GET(self) -> None:
        body, headers = self.server.answer(self.path)
        self.send_response(200)
        for name, value in {"Content-Type": "application/json", **headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _JSONServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Callable[[str], tuple[bytes, dict[str, str]]]) -> None:
        self.answer = answer
        super().__init__(("127.0.0.1", 0), _JSON)


@contextmanager
def json_server(answer: Callable[[str], tuple[bytes, dict[str, str]]]) -> Iterator[str]:
    """A loopback server answering each GET with ``answer(path)``: a JSON body and extra headers."""
    with _serving(_JSONServer(answer)) as url:
        yield url
