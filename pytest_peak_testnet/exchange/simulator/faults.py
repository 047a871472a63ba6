"""Faults a test switches on to see the client cope, whatever the venue: each answers the
next N matching requests.

``http_error``, ``malformed``, ``kraken_error`` and ``answer`` answer *instead of* the exchange, which
then never sees the request (a gateway refused it, or Kraken rejected it). ``delay`` lets
the exchange handle the request and holds back the answer: past the client's timeout that
is the dangerous case where an order was placed but the caller never heard of it. So is
``drop``: the exchange handles the request, then the connection closes without an answer.

A fault whose ``method`` is ``advance`` applies to the clock (``POST /_sim/advance``)
instead; faults for every method leave the clock alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .kraken.wire import failure

#: What a gateway sends instead of Kraken's JSON.
GATEWAY_PAGE = b"<html><body><h1>%d</h1>The server is temporarily unable to service your request.</body></html>"
#: A body cut off mid-way, as a dropped proxy connection leaves it.
TRUNCATED = b'{"error":[],"result":{"unixtime":17'
#: The ``method`` of a fault on the clock (``POST /_sim/advance``).
CLOCK = "advance"


@dataclass
class Fault:
    #: Kraken method it applies to (``AddOrder``), or None for every Kraken request.
    method: str | None
    times: int
    status: int = 200
    #: Sent instead of the exchange's answer; None lets the exchange answer.
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0
    #: Close the connection instead of answering (after the exchange handled the request).
    drop: bool = False
    #: Headers sent with ``body`` (Binance's ``Retry-After`` on a 429 or 418).
    headers: tuple[tuple[str, str], ...] = ()


class Faults:
    """Pending faults, applied first come, first served. Thread-safe: the server's handler
    threads take them while a test adds more. ``venue`` decides what a rate limit looks
    like: Kraken's ``EAPI:Rate limit exceeded``, or Binance's HTTP 429 ``-1003`` with
    ``Retry-After``."""

    def __init__(self, venue: str = "kraken") -> None:
        self.venue = venue
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError(f"times must be >= 1, found {fault.times}")
        with self._lock:
            self._pending.append(fault)

    def http_error(self, status: int = 503, *, times: int = 1, method: str | None = None) -> None:
        self.add(Fault(method, times, status, GATEWAY_PAGE % status, "text/html"))

    def delay(self, seconds: float, *, times: int = 1, method: str | None = None) -> None:
        self.add(Fault(method, times, delay=seconds))

    def malformed(self, *, times: int = 1, method: str | None = None) -> None:
        self.add(Fault(method, times, body=TRUNCATED))

    def kraken_error(self, error: str, *, times: int = 1, method: str | None = None) -> None:
        """Answer with Kraken's error string, e.g. ``EService:Unavailable`` for the next AddOrder."""
        self.add(Fault(method, times, body=failure(error)))

    def answer(self, status: int, body: bytes, *, headers: tuple[tuple[str, str], ...] = (), times: int = 1,
               method: str | None = None) -> None:
        """Answer with ``body`` (JSON) and ``status`` instead of the exchange: a venue's own
        error, e.g. Binance's ``{"code":-1003,...}`` on a 429 with ``Retry-After``."""
        self.add(Fault(method, times, status, body, headers=headers))

    def binance_error(self, code: int, msg: str, status: int = 400, *, retry_after: int | None = None,
                      times: int = 1, method: str | None = None) -> None:
        """Answer with Binance's error body, e.g. ``(-1003, "Too many requests queued.", 429,
        retry_after=7)`` or a 418 ban, instead of the exchange."""
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        self.answer(status, json.dumps({"code": code, "msg": msg}, separators=(",", ":")).encode(), headers=headers,
                    times=times, method=method)

    def drop(self, *, times: int = 1, method: str | None = None) -> None:
        """Let the exchange handle the request, then close the connection unanswered."""
        self.add(Fault(method, times, drop=True))

    def rate_limit(self, *, times: int = 1, method: str | None = None) -> None:
        if self.venue == "binance":
            self.binance_error(-1003, "Too many requests queued.", 429, retry_after=1, times=times, method=method)
        else:
            self.kraken_error("EAPI:Rate limit exceeded", times=times, method=method)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(fault.times for fault in self._pending)

    def take(self, method: str, *aliases: str) -> Fault | None:
        """The fault for this request, if any, counting it as used. A request has a name
        (Kraken's method, ``POST /api/v3/order`` at Binance) and maybe other names a fault
        may use (the path alone, for any verb)."""
        with self._lock:
            for fault in self._pending:
                if fault.method in (method, *aliases) or (fault.method is None and method != CLOCK):
                    fault.times -= 1
                    if not fault.times:
                        self._pending.remove(fault)
                    return fault
        return None

    def from_form(self, form: Mapping[str, str]) -> None:
        """``POST /_sim/faults``: ``kind`` names a method above; ``times``, ``method``,
        ``status``, ``seconds`` and ``error`` are its arguments."""
        kind = form.get("kind", "")
        if kind == "clear":
            self.clear()
            return
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of clear, {', '.join(_KINDS)}")
        _KINDS[kind](self, form, int(form.get("times", 1)), form.get("method") or None)


_KINDS: dict[str, Callable[[Faults, Mapping[str, str], int, str | None], None]] = {
    "drop": lambda f, form, n, m: f.drop(times=n, method=m),
    "http_error": lambda f, form, n, m: f.http_error(int(form.get("status", 503)), times=n, method=m),
    "delay": lambda f, form, n, m: f.delay(float(form["seconds"]), times=n, method=m),
    "malformed": lambda f, form, n, m: f.malformed(times=n, method=m),
    "kraken_error": lambda f, form, n, m: f.kraken_error(form["error"], times=n, method=m),
    "binance_error": lambda f, form, n, m: f.binance_error(
        int(form["code"]), form["msg"], int(form.get("status", 400)),
        retry_after=int(form["retry_after"]) if form.get("retry_after") else None, times=n, method=m),
    "rate_limit": lambda f, form, n, m: f.rate_limit(times=n, method=m),
}
