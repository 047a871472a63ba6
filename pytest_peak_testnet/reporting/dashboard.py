"""The budget dashboard: one HTML page of the ledger's last days against the limits, and
of the runs with their PnL.

The static page is a file: everything (styles, charts as SVG) is inside it, so it opens
from disk, from a CI artifact or an e-mail attachment, with no network at all.
``peak-testnet serve`` serves the same page, refreshed while runs write (``serve.py``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..atomic import atomic_write
from ..desk.config import AlertsConfig, DailyLimits, DeskConfig, SymbolPolicy
from ..desk.symbolcaps import symbol_rows
from ..desk.usage import DayUsage, Ledger
from .charts import svg_bars, svg_line
from .monitor import run_dirs
from .rendering import render
from .runview import summaries

FILENAME = "dashboard.html"
#: Every kept run, one line each, beside the dashboard (which shows the newest in detail).
RUNS_FILENAME = "runs.html"
TEMPLATE = "dashboard.html.j2"
BODY_TEMPLATE = "dashboard_body.html.j2"
RUNS_TEMPLATE = "runs.html.j2"
#: Runs the dashboard lists when the config does not say (``dashboard_runs``).
SHOWN_RUNS = 25
#: Bars: what the budget counts, and the replay/simulator activity it does not.
COUNTED, UNCOUNTED = "#2e86de", "#b8c4d0"


def day_row(usage: DayUsage) -> dict[str, Any]:
    unspent = [r for r in usage.run_log if not r.spends]
    return {
        "day": usage.day.isoformat(),
        "notional_used": float(usage.notional_used), "trades_used": usage.trades_used, "runs": usage.runs,
        "unspent_runs": usage.unspent_runs,
        "unspent_notional": float(sum((r.actual_notional or Decimal(0) for r in unspent), Decimal(0))),
        "unspent_trades": sum(r.actual_trades or 0 for r in unspent),
    }


def of_desk(config: DeskConfig, ledger: Ledger) -> dict[str, Any]:
    """The dashboard's data as the desk's config sets it up."""
    o = config.orchestration
    return build(ledger, config.daily_limits, runs_dir=o.runs_base_dir, rules=config.alerts, symbols=config.symbols,
                 shown=o.dashboard_runs)


def build(ledger: Ledger, daily: DailyLimits, today: date | None = None, runs_dir: Path | None = None,
          rules: AlertsConfig | None = None, symbols: SymbolPolicy | None = None,
          shown: int = SHOWN_RUNS) -> dict[str, Any]:
    """Every day of the retention window, newest last; ``rows`` collapses each stretch of
    days without a run into one line. ``run_logs`` are the newest ``shown`` runs under
    ``runs_dir``, of ``runs_total``."""
    today = today or ledger.today()
    kept = {usage.day: usage for usage in ledger.history()}
    window = [today - timedelta(days=n) for n in range(ledger.retention_days - 1, -1, -1)]
    days = [day_row(kept.get(day) or DayUsage(day)) for day in window]
    runs = [{"day": usage.day.isoformat(), **{k: (float(v) if isinstance(v, Decimal) else v)
                                              for k, v in vars(run).items()}}
            for usage in kept.values() if usage.day in window for run in usage.run_log]
    return {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "today": days[-1],
            "days": days, "rows": collapse(days), "runs": sorted(runs, key=lambda r: r["started_at"], reverse=True),
            "run_logs": [] if runs_dir is None else summaries(runs_dir, rules or AlertsConfig(), shown),
            "runs_total": 0 if runs_dir is None else len(run_dirs(runs_dir)) if runs_dir.is_dir() else 0,
            "limits": {"notional": float(daily.max_notional_per_day), "trades": daily.max_trades_per_day},
            "symbols": symbol_rows(kept.get(today) or DayUsage(today), symbols or SymbolPolicy()),
            "retention_days": ledger.retention_days}


def active(day: dict[str, Any]) -> bool:
    return bool(day["runs"] or day["unspent_runs"])


def collapse(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first; a run of empty days becomes ``{"gap": n, "first": ..., "last": ...}``.
    Today is always its own row."""
    rows: list[dict[str, Any]] = []
    for day in reversed(days):
        if active(day) or day is days[-1]:
            rows.append(day)
        elif rows and "gap" in rows[-1]:
            rows[-1].update(gap=rows[-1]["gap"] + 1, first=day["day"])
        else:
            rows.append({"gap": 1, "first": day["day"], "last": day["day"]})
    return rows


def page(data: dict[str, Any], live: float | None = None) -> str:
    """The whole page; ``live`` (seconds) adds the script that refreshes it from the server."""
    return render(TEMPLATE, autoescape=True, live=live, **context(data))


def body(data: dict[str, Any], live: float) -> str:
    """What the served page swaps in at each refresh."""
    return render(BODY_TEMPLATE, autoescape=True, live=live, **context(data))


def runs_page(runs_dir: Path, rules: AlertsConfig | None = None) -> str:
    """Every kept run, one line each: where the dashboard's "older runs" link goes."""
    runs = summaries(runs_dir, rules or AlertsConfig(), None) if runs_dir.is_dir() else []
    return render(RUNS_TEMPLATE, autoescape=True, runs=runs,
                  generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def context(data: dict[str, Any]) -> dict[str, Any]:
    """Counted usage is charted against the limits; replays and simulator runs, which
    spend nothing, get a chart of their own with no limit line, so they never read as spend."""
    shown = [d for d in data["days"] if active(d) or d is data["days"][-1]]
    labels = [d["day"][5:] for d in shown]
    x_label = "day (UTC); days without runs left out"
    charts = {
        "notional": svg_bars("Notional per day, counted against the budget", labels, [
            ("counted", COUNTED, [d["notional_used"] for d in shown])],
            limit=data["limits"]["notional"], y_label="notional (quote currency)", x_label=x_label),
        "trades": svg_bars("Trades per day, counted against the budget", labels, [
            ("counted", COUNTED, [float(d["trades_used"]) for d in shown])],
            limit=float(data["limits"]["trades"]), y_label="trades", x_label=x_label),
        "uncounted": svg_bars("Replay and simulator notional per day, not counted", labels, [
            ("replay/simulator, not counted", UNCOUNTED, [d["unspent_notional"] for d in shown])],
            y_label="notional (quote currency)", x_label=x_label),
    }
    equity = {r["name"]: Markup(svg_line(
        f"{r['profile']}: {r['equity_kind']}", r["equity"], y_label=f"{r['equity_kind']} ({r['currency']})",
        x_label=(f"time (UTC), {r['timeframe']} candles" if r["equity_kind"] == "equity" else "time (UTC) of each fill")
        if r["times"] else "fill", x_ends=("1", str(len(r["equity"]))), times=r["times"]))
        for r in data["run_logs"] if r["equity"]}
    return {"data": data, "charts": {k: Markup(v) for k, v in charts.items()}, "equity": equity,
            "colours": {"counted": COUNTED, "uncounted": UNCOUNTED}}


def write(path: Path, ledger: Ledger, daily: DailyLimits, runs_dir: Path | None = None,
          rules: AlertsConfig | None = None, symbols: SymbolPolicy | None = None, shown: int = SHOWN_RUNS) -> None:
    """The dashboard, and beside it the list of every kept run it links to."""
    write_pages([path], page(build(ledger, daily, runs_dir=runs_dir, rules=rules, symbols=symbols, shown=shown)),
                runs_dir, rules)


def write_pages(targets: list[Path], dashboard: str, runs_dir: Path | None, rules: AlertsConfig | None) -> None:
    """One dashboard, built once, written to each place asked for, with ``runs.html`` beside it."""
    runs = None if runs_dir is None else runs_page(runs_dir, rules)
    for target in targets:
        atomic_write(target, dashboard)
        if runs is not None:
            atomic_write(target.parent / RUNS_FILENAME, runs)
