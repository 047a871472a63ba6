"""What became of each run, kept beside its log for the dashboard and the monitor.

A run's log ends with ``run_finished`` whether its expectations held or not: the verdict
(expectations, baseline) is judged after the session, from the run's record. The watcher
writes it beside the log when the record arrives, in the process that writes the reports
(under xdist, the controller), so a dashboard row says "failed expectations" rather than
"finished". A run the limits blocked has no log: it gets a folder of its own with one
``run_blocked`` event, so it is listed like any other run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from .runlog import RunLog

VERDICT_FILE = "verdict.json"
#: A baseline status that fails the run.
BASELINE_FAILURES = ("differs", "missing", "broken")


def verdict(record: Mapping[str, Any]) -> str:
    """passed, failed expectations, baseline differs (or missing, broken), blocked, or the
    item's outcome when the run ended otherwise (failed: an error; interrupted)."""
    decision = record.get("decision") or {}
    judged = record.get("verdict") or {}
    status = (judged.get("baseline") or {}).get("status")
    if not decision.get("allowed", True):
        return "blocked, as expected" if judged.get("checks") and not judged.get("failed") else "blocked"
    if judged.get("failed"):
        return "failed expectations"
    if status in BASELINE_FAILURES:
        return f"baseline {status}"
    return str(record["outcome"])


def keep(record: Mapping[str, Any], runs_dir: Path) -> Path | None:
    """Write the run's verdict beside its log; returns the file, or None for a run that
    left nothing to list (a dry run, a run skipped or broken before it started)."""
    if record.get("mode") == "dry-run":
        return None
    if record.get("log_path"):
        folder = Path(record["log_path"]).parent
    elif not (record.get("decision") or {}).get("allowed", True):
        log = RunLog(runs_dir, record["profile"], uuid.uuid4().hex[:8])
        log.write("run_blocked", profile=record["profile"], symbol=record["symbol"], timeframe=record["timeframe"],
                  mode=record["mode"], reason="; ".join(f"{r['code']} ({r['detail']})"
                                                        for r in record["decision"]["reasons"]))
        log.close()
        folder = log.dir
    else:
        return None
    failed = [c["name"] for c in (record.get("verdict") or {}).get("checks", []) if not c["held"]]
    path = folder / VERDICT_FILE
    atomic_write(path, json.dumps({"verdict": verdict(record), "mode": record.get("mode"),
                                   "outcome": record["outcome"], "failed": failed}))
    return path


def read(folder: Path) -> dict[str, Any] | None:
    """The kept verdict, or None where none was written (a run still going, or one run
    outside pytest) or it cannot be read."""
    try:
        kept = json.loads((folder / VERDICT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) else None
