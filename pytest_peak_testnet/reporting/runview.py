"""One line of figures per run, read from its run log: what the dashboard lists.

The ledger says what a run reserved and spent; only the run log knows its PnL and its
equity, and it knows them while the run is still going. A run in progress shows the PnL
its fills have realized so far and an equity point per fill; once it has finished, the
run's own figures and its full equity curve (one point per candle) replace them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from ..desk.config import AlertsConfig
from .monitor import END_EVENTS, alerts, describe, events_path, read_events, run_dirs


def summary(run: Path, rules: AlertsConfig, last_events: int = 30) -> dict[str, Any]:
    events = read_events(events_path(run))
    start = next((e for e in events if e["event"] == "run_started"), {})
    ended = bool(events) and events[-1]["event"] in END_EVENTS
    end: dict[str, Any] = events[-1] if ended else {}
    fills = [e for e in events if e["event"] == "fill"]
    realized = [Decimal(0)]
    for fill in fills:
        realized.append(realized[-1] + Decimal(str(fill["realized_pnl"])))
    metrics = end.get("metrics") or {}
    finished = ended and end["event"] == "run_finished"
    balance = Decimal(str(metrics["equity_curve"][0][1])) if metrics.get("equity_curve") else None
    return {
        "name": run.name,
        "profile": start.get("profile", run.name.split("-")[1] if "-" in run.name else run.name),
        "symbol": start.get("symbol"), "timeframe": start.get("timeframe"),
        "currency": str(start.get("symbol") or "/?").split("/")[-1],
        "started_at": str(start.get("at", events[0]["at"] if events else ""))[:19].replace("T", " "),
        "state": "finished" if finished else ("failed" if ended else "running"),
        "stop_reason": end.get("stop_reason") if finished else end.get("error"),
        "trades": end["spent_trades"] if finished else len(fills),
        "notional": float(end["spent_notional"]) if finished else float(sum(
            (Decimal(str(f["notional"])) for f in fills), Decimal(0))),
        "pnl": float(metrics["pnl"]) if finished else float(realized[-1]),
        "equity": ([float(point[1]) for point in metrics["equity_curve"]] if finished and balance is not None
                   else [float(v) for v in realized]),
        "equity_kind": "equity" if finished and balance is not None else "realized PnL so far",
        "events": len(events),
        "alerts": len(alerts(events, rules)),
        "recent": [describe(e) for e in events[-last_events:]],
    }


def summaries(runs_dir: Path, rules: AlertsConfig, limit: int = 50) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, newest first."""
    return [summary(run, rules) for run in reversed(run_dirs(runs_dir)[-limit:])] if runs_dir.is_dir() else []
