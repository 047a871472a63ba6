"""Each run writes its events as JSON lines under ``runs_base_dir``, one folder per run.

One line per event, flushed as it happens, so ``peak-testnet monitor --tail`` can follow a
run while it is going and anyone can read it afterwards. Times are the exchange's (what
the session acted on) plus the wall time at which the line was written.
"""

from __future__ import annotations

import json
import time as clock
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ..atomic import named
from ..trading.exact import json_default

EVENTS_FILE = "events.jsonl"
#: ``json.dumps(record, default=json_default)`` without building an encoder per line.
_encode = json.JSONEncoder(default=json_default).encode


#: Told of each event after its line is written (the terminal's progress): reporting
#: subscribes to what a run does, the run does not call reporting.
Listener = Callable[[Mapping[str, Any]], None]


class RunLog:
    def __init__(self, runs_dir: Path, profile: str, run_id: str, listener: Listener | None = None) -> None:
        self._listener = listener
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.dir = runs_dir / f"{stamp}-{profile}-{run_id}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / EVENTS_FILE
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._second = -1
        self._second_text = ""

    def write(self, event: str, time: float | None = None, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"event": event, "time": time, "at": self._now(), **fields}
        try:
            self._file.write(_encode(record) + "\n")
            self._file.flush()
        except OSError as exc:
            raise named(exc, self.path) from None
        if self._listener is not None:
            self._listener(record)

    def _now(self) -> str:
        """The wall time as ``isoformat(timespec="milliseconds")`` writes it in UTC; the date
        and time of day are formatted once per second (a session logs two events per
        order, and formatting a datetime cost more than encoding the event)."""
        now = clock.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((now - second) * 1000):03d}+00:00"

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:  # what a full disk kept in the buffer
                raise named(exc, self.path) from None
