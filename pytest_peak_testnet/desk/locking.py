"""One writer at a time across processes: an exclusive lock on a lock file beside the ledger.

The operating system's own lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows): a
waiter blocks in the kernel and wakes as soon as the holder lets go, with no polling
interval to tune, and a holder that dies releases the lock with its file descriptor, so a
killed run never leaves the ledger locked.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - the suite runs on POSIX
    import msvcrt

    def _lock(fd: int, timeout: float | None = None) -> bool:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
                return True
            except OSError:
                if timeout is not None:
                    return False
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int, timeout: float | None = None) -> bool:
        """Blocks in the kernel; with a ``timeout``, tries every 20 ms until it runs out."""
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class LockTimeout(Exception):
    """The lock was held by another process for longer than the caller would wait."""


@contextmanager
def exclusive(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock on ``path`` (created if missing, never removed: removing it would let
    a waiter lock an unlinked file while a newcomer locks a new one) for the block. With a
    ``timeout``, ``LockTimeout`` once it has passed without the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _lock(fd, timeout):
            raise LockTimeout(f"{path} was held by another process for more than {timeout:g} s")
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
