"""One line of figures per run, read from its run log: what the dashboard lists.

The ledger says what a run reserved and spent; only the run log knows its PnL and its
equity, and it knows them while the run is still going. A run in progress shows the PnL
its fills have realized so far and an equity point per fill; once it has finished, the
run's own figures and its full equity curve (one point per candle) replace them.

A run's log never changes after its last event, so an ended run's line is kept beside the
log (``summary.json``) and read back in the sessions after: every session writes the
dashboard, and parsing fifty logs again each time cost it ~20 ms. The kept line names the
run's folder, the log's size and mtime and the alert rules it was made with; when any of
them differs it is made again. It is a shortcut, not a record: unreadable, it is made again;
unwritable (a read-only folder of runs), the line is still shown.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..desk.config import AlertsConfig
from . import outcomes
from .monitor import END_EVENTS, alerts, describe, events_path, read_events, run_dirs

KEPT_FILE = "summary.json"
#: Raised when a line gains or changes fields, so lines kept by an older version are made again.
KEPT_FORMAT = 2


def summary(run: Path, rules: AlertsConfig, last_events: int = 30) -> dict[str, Any]:
    log = events_path(run)
    stat = log.stat()
    verdict = outcomes.read(log.parent)
    made_from = {"format": KEPT_FORMAT, "run": run.name, "log": [stat.st_size, stat.st_mtime_ns], "rules": asdict(rules),
                 "last_events": last_events, "verdict": verdict}
    kept = _kept(log.parent / KEPT_FILE, made_from)
    if kept is not None:
        return kept
    line = _summary(run, read_events(log), rules, last_events, verdict)
    if line["state"] != "running":
        try:
            atomic_write(log.parent / KEPT_FILE, json.dumps({"made_from": made_from, "summary": line}))
        except OSError:
            pass  # a shortcut only: see the module's docstring
    return line


def _kept(path: Path, made_from: dict[str, Any]) -> dict[str, Any] | None:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    line = kept.get("summary") if isinstance(kept, dict) and kept.get("made_from") == made_from else None
    return line if isinstance(line, dict) else None


def _summary(run: Path, events: list[dict[str, Any]], rules: AlertsConfig, last_events: int,
             kept: dict[str, Any] | None) -> dict[str, Any]:
    """``kept``: the run's verdict (``outcomes``), once pytest has judged it."""
    start = next((e for e in events if e["event"] in ("run_started", "run_blocked")), {})
    ended = bool(events) and events[-1]["event"] in END_EVENTS
    end: dict[str, Any] = events[-1] if ended else {}
    fills = [e for e in events if e["event"] == "fill"]
    realized = [Decimal(0)]
    for fill in fills:
        realized.append(realized[-1] + Decimal(str(fill["realized_pnl"])))
    metrics = end.get("metrics") or {}
    finished = ended and end["event"] == "run_finished"
    balance = Decimal(str(metrics["equity_curve"][0][1])) if metrics.get("equity_curve") else None
    blocked = ended and end["event"] == "run_blocked"
    curve = finished and balance is not None
    times = [point[0] for point in metrics["equity_curve"]] if curve else [start.get("time")] + [
        f["time"] for f in fills]
    return {
        "name": run.name,
        "profile": start.get("profile", run.name.split("-")[1] if "-" in run.name else run.name),
        "symbol": start.get("symbol"), "timeframe": start.get("timeframe"),
        "currency": str(start.get("symbol") or "/?").split("/")[-1],
        "started_at": str(start.get("at", events[0]["at"] if events else ""))[:19].replace("T", " "),
        "state": "finished" if finished else ("failed" if ended else "running"),
        "mode": (kept or {}).get("mode") or start.get("mode") or end.get("mode") or "–",
        "verdict": (kept or {}).get("verdict") or ("running" if not ended else "blocked" if blocked else
                                                    "finished" if finished else "failed"),
        "failed_checks": (kept or {}).get("failed", []),
        "stop_reason": end.get("stop_reason") if finished else end.get("reason") if blocked else end.get("error"),
        "trades": end["spent_trades"] if finished else len(fills),
        "notional": float(end["spent_notional"]) if finished else float(sum(
            (Decimal(str(f["notional"])) for f in fills), Decimal(0))),
        "pnl": float(metrics["pnl"]) if finished else float(realized[-1]),
        "equity": ([] if blocked else [float(point[1]) for point in metrics["equity_curve"]] if curve
                   else [float(v) for v in realized]),
        "equity_kind": "equity" if curve else "realized PnL so far",
        #: Exchange times (epoch seconds) of the equity points, or None where a log lacks them.
        "times": None if blocked or not all(isinstance(t, int) for t in times) else times,
        "events": len(events),
        "alerts": len(alerts(events, rules)),
        "recent": [describe(e) for e in _recent(events)[-last_events:]],
    }


def _recent(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events worth reading on the dashboard: a candle a minute would push a live run's
    orders and fills out of view, so only the newest candle (the progress) stays."""
    last = next((e for e in reversed(events) if e["event"] == "candle"), None)
    return [e for e in events if e["event"] != "candle" or e is last]


def summaries(runs_dir: Path, rules: AlertsConfig, limit: int | None = 50) -> list[dict[str, Any]]:
    """The newest ``limit`` runs (all with None), newest first."""
    runs = run_dirs(runs_dir) if runs_dir.is_dir() else []
    return [summary(run, rules) for run in reversed(runs if limit is None else runs[-limit:])]
