"""A session ends, whatever the exchange does: bounded in wall-clock time and in polls,
and stopped when the exchange's clock does not move.

The session's end is decided on the exchange's clock (its server time passes the planned
duration). A server whose clock stands still, or crawls, would keep it polling forever;
these bounds end such a run with one line saying which bound it hit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: Wall-clock time a session may take beyond its planned duration: retries, backoff,
#: pacing and slow answers all fit in it.
GRACE_SECONDS = 600.0
#: Polls beyond the planned number (duration / poll interval) a session may make.
POLL_SLACK = 10
#: The exchange's clock "does not move" when its time stays the same over this many polls
#: and this much waiting (Kraken's time is in whole seconds: short polls may see it still).
STALL_POLLS = 3
STALL_SECONDS = 5.0


class SessionBoundExceeded(Exception):
    """The session hit one of its bounds and was ended; the message says which."""


class Bounds:
    def __init__(self, duration_seconds: float, poll_seconds: float, waited: Callable[[], float],
                 wall: Callable[[], float] = time.monotonic) -> None:
        """``waited`` is the session clock's monotonic time (virtual in a replay); ``wall``
        is real time, whatever the clock."""
        self.duration_seconds = duration_seconds
        self.max_wall_seconds = duration_seconds + GRACE_SECONDS
        self.max_polls = math.ceil(duration_seconds / poll_seconds) + POLL_SLACK
        self._waited = waited
        self._wall = wall
        self._wall_start = wall()
        self.polls = 0
        self._still: tuple[int, int, float] | None = None  # (server time, poll, waited) when it last moved

    def poll(self, server_time: int) -> None:
        """Count one poll that read ``server_time``; raise when a bound is passed."""
        self.polls += 1
        waited = self._waited()
        if self._still is None or server_time != self._still[0]:
            self._still = (server_time, self.polls, waited)
        elif self.polls - self._still[1] >= STALL_POLLS and waited - self._still[2] >= STALL_SECONDS:
            raise SessionBoundExceeded(
                f"the exchange's clock did not move: server time stayed at {server_time} for "
                f"{self.polls - self._still[1]} polls and {waited - self._still[2]:.0f} s of waiting; run ended")
        if self.polls > self.max_polls:
            raise SessionBoundExceeded(
                f"{self.polls} polls, more than the {self.max_polls} a {self.duration_seconds / 60:g}-minute session "
                f"can need; the exchange's clock moves too slowly; run ended")
        elapsed = self._wall() - self._wall_start
        if elapsed > self.max_wall_seconds:
            raise SessionBoundExceeded(
                f"{elapsed / 60:.1f} min of wall-clock time, past the planned {self.duration_seconds / 60:g} min "
                f"plus {GRACE_SECONDS / 60:g} min of grace; run ended")
