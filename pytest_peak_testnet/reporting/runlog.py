"""Each run writes its events as JSON lines under ``runs_base_dir``, one folder per run.

One line per event, flushed as it happens, so ``peak-testnet monitor --tail`` can follow a
run while it is going and anyone can read it afterwards. Times are the exchange's (what
the session acted on) plus the wall time at which the line was written.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ..trading.exact import json_default

EVENTS_FILE = "events.jsonl"


class RunLog:
    def __init__(self, runs_dir: Path, profile: str, run_id: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.dir = runs_dir / f"{stamp}-{profile}-{run_id}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / EVENTS_FILE
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, event: str, time: float | None = None, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"event": event, "time": time, "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                  **fields}
        self._file.write(json.dumps(record, default=json_default) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
