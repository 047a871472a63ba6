"""How a session waits. Time itself always comes from the exchange (server time, candle
timestamps); the clock only decides whether waiting takes real time.

- ``WallClock``: a live run against an exchange.
- ``VirtualClock``: a replay; waiting is instant, so a 60-minute session replays in
  well under a second and never sleeps.
- ``SimulatorClock``: a recording against the project's simulator (recognised by its
  handshake, see ``handshake``); waiting advances the simulator's clock, so a 60-minute
  session records in seconds.
"""

from __future__ import annotations

import time

from .handshake import ADVANCE_PATH


class WallClock:
    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


class VirtualClock:
    def __init__(self) -> None:
        self._now = 0.0

    def sleep(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)

    def monotonic(self) -> float:
        return self._now


class ClockError(Exception):
    """The simulator could not be told to move its clock: the run cannot go on."""


class SimulatorClock(VirtualClock):
    """Waits by telling the simulator (``POST /_sim/advance``) that time has passed."""

    def __init__(self, base_url: str, timeout_seconds: float = 10.0) -> None:
        super().__init__()
        self._url = base_url.rstrip("/") + ADVANCE_PATH
        self._timeout = timeout_seconds
        import requests  # only a recording against the simulator sends anything

        self._http: requests.Session = requests.Session()
        self._http.trust_env = False  # the simulator is on loopback: no proxy

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            import requests

            try:
                answer = self._http.post(self._url, data={"seconds": repr(float(seconds))}, timeout=self._timeout)
                answer.raise_for_status()
                answer.json()["unixtime"]
            except (requests.RequestException, ValueError, LookupError, TypeError) as exc:
                problem = f"HTTP {exc.response.status_code}" if isinstance(exc, requests.HTTPError) and \
                    exc.response is not None else type(exc).__name__
                raise ClockError(f"the simulator at {self._url} did not advance its clock ({problem})") from None
        super().sleep(seconds)


Clock = WallClock | VirtualClock
