"""Reports and run folders are pruned like the ledger's days: a desk's ``reports/`` and
``test_runs/`` keep the newest ``keep_reports`` sessions and ``keep_runs`` runs.

Every session writes a report in each format and a folder per run; an hour of work left a
desk with 127 report files and 53 run folders. Counts, not days: a busy day and a quiet
month keep the same number to look back on. ``latest.*``, the dashboard and anything not
named as the plugin names its files are never touched, and neither is a run still going.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from .monitor import END_EVENTS, events_path, parse, run_dirs

#: ``testnet-report-<stamp>-<id>.<suffix>``, as ``report.write`` names them.
DATED_REPORT = re.compile(r"^(testnet-report-\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8})\.(md|html|json)$")
#: A log that has not ended and was written to within this many seconds is a run going on
#: (a live run writes a line per candle); one quiet for longer was cut short, and may go.
GOING_SECONDS = 3600


def prune_reports(reports_dir: Path, keep: int) -> list[Path]:
    """Delete the dated reports of all but the newest ``keep`` sessions; returns what went.
    A session's files share a stem, and stems sort by the time the session started."""
    if not reports_dir.is_dir():
        return []
    sessions: dict[str, list[Path]] = {}
    for path in reports_dir.iterdir():
        match = DATED_REPORT.match(path.name)
        if match:
            sessions.setdefault(match.group(1), []).append(path)
    gone = [path for stem in sorted(sessions)[:-keep] for path in sessions[stem]]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def prune_runs(runs_dir: Path, keep: int, now: float | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` run folders (oldest first), except runs still going."""
    if not runs_dir.is_dir():
        return []
    now = time.time() if now is None else now
    gone = [run for run in run_dirs(runs_dir)[:-keep] if not _going(run, now)]
    for run in gone:
        shutil.rmtree(run, ignore_errors=True)
    return gone


def _going(run: Path, now: float) -> bool:
    log = events_path(run)
    try:
        if now - log.stat().st_mtime > GOING_SECONDS:
            return False
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 4096))
            last = handle.read().decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1]
    except OSError:
        return False
    return parse(last)["event"] not in END_EVENTS
