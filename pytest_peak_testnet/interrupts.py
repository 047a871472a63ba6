"""SIGTERM ends a desk's run the way Ctrl-C does, and a settle finishes whatever comes.

CI cancellations and ``timeout`` send SIGTERM, whose default ends the process on the spot:
no teardown, no settle, no report. While the plugin is active, SIGTERM raises
``KeyboardInterrupt`` instead, so the run settles and the session reports as after Ctrl-C.

A settle must not be cut short by either signal (the run's spend would be lost between
the exchange and the ledger): during one, both are held and raised again once it is done.
Standard library only: the plugin module installs the handler in every desk's session.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

HELD = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")


def sigterm_as_interrupt() -> Callable[[], None]:
    """Install the handler; returns what puts the previous one back (nothing to do
    outside the main thread, where Python lets no handler be set)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)
    return restore


@contextmanager
def held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done, then take effect as they would
    have. A blocking wait in the block (a lock, a socket) goes on: Python retries a call a
    handler interrupted when the handler returns (PEP 475)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def note(signum: int, frame: Any) -> None:
        came.append(signum)

    previous = {int(signum): signal.signal(signum, note) for signum in HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(came):
            signal.raise_signal(signum)
