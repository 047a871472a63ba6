"""Progress on pytest's terminal while a run goes: candles done of those planned, orders
sent, PnL so far.

A live recording of an hour printed nothing until the session ended. The session writes
its events to the run log; this listens to them (the run log calls it after each line)
and writes a line now and then through pytest's terminal reporter. It stays quiet under
``-q``, in xdist workers (their terminal is not the user's), and in a replay that is over
within a second, which is most of them: a line per candle there would only bury the
result. From another terminal, ``peak-testnet monitor --tail`` follows the same events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from .formatting import num

#: The terminal's listener for the run logs of this session; absent when it stays quiet.
PROGRESS = pytest.StashKey["Progress"]()


@dataclass
class Progress:
    """One run at a time (a process runs its items one after another)."""

    config: pytest.Config
    #: The least time between two lines, and how long a replay goes before it gets any.
    every_seconds: float = 1.0
    monotonic: Callable[[], float] = time.monotonic
    _run: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def install(cls, config: pytest.Config) -> None:
        if config.get_verbosity() >= 0 and not hasattr(config, "workerinput"):
            config.stash[PROGRESS] = cls(config)

    def __call__(self, event: Mapping[str, Any]) -> None:
        name, run = event["event"], self._run
        if name == "run_started":
            self._run = {"profile": event["profile"], "mode": event.get("mode", "live"), "orders": 0,
                         "currency": str(event["symbol"]).split("/")[-1], "since": self.monotonic(), "shown": None}
        elif name == "order_request" and run:
            run["orders"] += 1
        elif name == "candle" and run:
            now = self.monotonic()
            last = event["done"] >= event["planned"]
            if run["mode"] == "replay" and now - run["since"] < self.every_seconds:
                return
            if run["shown"] is None or last or now - run["shown"] >= self.every_seconds:
                run["shown"] = now
                self._write(f"{run['profile']} [{run['mode']}]: {event['done']}/{event['planned']} candles, "
                            f"{run['orders']} order{'s' if run['orders'] != 1 else ''}, "
                            f"PnL {num(event['pnl'], sign=True)} {run['currency']} so far")

    def _write(self, line: str) -> None:
        """Past pytest's output capture, as its live logging writes: the capture manager's
        ``global_and_fixture_disabled`` (without a capture plugin, straight through)."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            reporter.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
