"""The simulator's own clock, so a one-hour session can run in seconds and replay exactly.

By default the clock stands still until the caller advances it (``speed=0``): every answer
then depends only on the seed and the steps taken, which is what makes recorded cassettes
reproducible. With ``speed > 0`` it also runs at that multiple of wall time, for interactive
use; answers then depend on when requests arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: 2024-01-01T00:00:00Z: a fixed start, so default runs agree across machines and days.
DEFAULT_START_TIME = 1_704_067_200.0


class SimClock:
    def __init__(self, start_time: float = DEFAULT_START_TIME, speed: float = 0.0,
                 wall: Callable[[], float] = time.monotonic) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, found {speed}")
        self.speed = speed
        self._wall = wall
        self._lock = threading.Lock()
        self._base = float(start_time)
        self._wall_base = wall()

    def now(self) -> float:
        """Simulated unix time in seconds."""
        with self._lock:
            return self._base + (self._wall() - self._wall_base) * self.speed

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back: Kraken's time does not rewind) and return it."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, found {seconds} seconds")
        with self._lock:
            self._base += seconds
        return self.now()
