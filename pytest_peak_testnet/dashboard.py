"""The budget dashboard: one static HTML page of the ledger's last days against the limits.

It is a file, not a server: everything (styles, charts as SVG) is inside the page, so it
opens from disk, from a CI artifact or an e-mail attachment, with no network at all.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .atomic import atomic_write
from .charts import svg_bars
from .config import DailyLimits
from .rendering import render
from .usage import DayUsage, UsageLedger

FILENAME = "dashboard.html"
TEMPLATE = "dashboard.html.j2"
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


def build(ledger: UsageLedger, daily: DailyLimits, today: date | None = None) -> dict[str, Any]:
    """Every day of the retention window (a day with no runs shows as zero), newest last."""
    today = today or ledger.today()
    kept = {usage.day: usage for usage in ledger.history()}
    window = [today - timedelta(days=n) for n in range(ledger.retention_days - 1, -1, -1)]
    days = [day_row(kept.get(day) or DayUsage(day)) for day in window]
    runs = [{"day": usage.day.isoformat(), **{k: (float(v) if isinstance(v, Decimal) else v)
                                              for k, v in vars(run).items()}}
            for usage in kept.values() if usage.day in window for run in usage.run_log]
    return {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "today": days[-1],
            "days": days, "runs": sorted(runs, key=lambda r: r["started_at"], reverse=True),
            "limits": {"notional": float(daily.max_notional_per_day), "trades": daily.max_trades_per_day},
            "retention_days": ledger.retention_days}


def page(data: dict[str, Any]) -> str:
    labels = [d["day"][5:] for d in data["days"]]
    charts = {
        "notional": svg_bars("Notional per day", labels, [
            ("counted", COUNTED, [d["notional_used"] for d in data["days"]]),
            ("replay/simulator, not counted", UNCOUNTED, [d["unspent_notional"] for d in data["days"]])],
            limit=data["limits"]["notional"]),
        "trades": svg_bars("Trades per day", labels, [
            ("counted", COUNTED, [float(d["trades_used"]) for d in data["days"]]),
            ("replay/simulator, not counted", UNCOUNTED, [float(d["unspent_trades"]) for d in data["days"]])],
            limit=float(data["limits"]["trades"])),
    }
    return render(TEMPLATE, autoescape=True, data=data, charts={k: Markup(v) for k, v in charts.items()},
                  colours={"counted": COUNTED, "uncounted": UNCOUNTED})


def write(path: Path, ledger: UsageLedger, daily: DailyLimits) -> None:
    atomic_write(path, page(build(ledger, daily)))
