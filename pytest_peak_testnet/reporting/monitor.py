"""Reading run logs: find runs, read or follow their events, say which ones are alerts.

A run log is written a line at a time while the run goes, so a reader only ever trusts
complete lines: a line without its newline yet is kept back until the rest arrives.
The report and ``peak-testnet monitor`` share the alert rules below, so both flag the same
events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..desk.config import AlertsConfig
from .formatting import num, pct
from .runlog import EVENTS_FILE

Event = Mapping[str, Any]
#: The last line of a run's log: after one of these nothing more is written.
END_EVENTS = ("run_finished", "run_failed", "run_blocked")


@dataclass(frozen=True)
class Alert:
    """Something in a run log a person should look at: a denial, a rejection, a limit, a failure, a drawdown."""

    kind: str
    #: When it happened, as the run log says (exchange time, else wall time).
    when: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"ALERT {self.kind} at {self.when}: {self.message}"


def run_dirs(runs_dir: Path) -> list[Path]:
    """Every run folder under ``runs_dir``, oldest first (names start with a UTC stamp;
    runs started in the same second are ordered by when their folder appeared)."""
    found = [p.parent for p in runs_dir.glob(f"*/{EVENTS_FILE}")]
    return sorted(found, key=lambda d: (d.name.split("-", 1)[0], d.stat().st_mtime_ns, d.name))


def events_path(run: Path) -> Path:
    """A run folder or its events file, as a user may name either."""
    return run / EVENTS_FILE if run.is_dir() else run


def parse(line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return {"event": "unreadable", "time": None, "text": line[:200]}
    return event if isinstance(event, dict) and "event" in event else {"event": "unreadable", "time": None,
                                                                        "text": line[:200]}


def read_events(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a log, as it is now."""
    text = path.read_text(encoding="utf-8")
    return [parse(line) for line in text.split("\n")[:-1] if line.strip()]


def follow(path: Path, *, poll_seconds: float = 0.2, max_seconds: float | None = None,
           sleep: Callable[[float], None] = time.sleep,
           monotonic: Callable[[], float] = time.monotonic) -> Iterator[dict[str, Any]]:
    """Yield events as their lines complete, until the run's last event or, when given,
    ``max_seconds`` without it (so a follower of a crashed run does not wait forever)."""
    deadline = None if max_seconds is None else monotonic() + max_seconds
    pending = ""
    with path.open(encoding="utf-8") as handle:
        while True:
            chunk = handle.read()
            if chunk:
                *lines, pending = (pending + chunk).split("\n")
                for line in filter(str.strip, lines):
                    event = parse(line)
                    yield event
                    if event["event"] in END_EVENTS:
                        return
            elif deadline is not None and monotonic() >= deadline:
                return
            else:
                sleep(poll_seconds)


def when(event: Event) -> str:
    """The exchange time the run acted on, else the wall time the line was written."""
    stamp = event.get("time")
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return str(event.get("at", "?"))[:19].replace("T", " ")


def alert_for(event: Event, rules: AlertsConfig) -> Alert | None:
    kind, message = _alert(event, rules)
    return None if kind is None else Alert(kind, when(event), message)


def _alert(event: Event, rules: AlertsConfig) -> tuple[str | None, str]:
    name, status = event.get("event"), event.get("status")
    if name == "order_outcome" and status == "denied" and rules.risk_denial:
        return "risk_denial", f"{event.get('side')} order denied by risk: {event.get('reason')}"
    if name == "order_outcome" and status == "rejected" and rules.exchange_rejection:
        return "exchange_rejection", f"{event.get('side')} order rejected by the exchange: {event.get('reason')}"
    if name == "limit_reached" and rules.limit_reached:
        return "limit_reached", str(event.get("reason"))
    if name == "run_failed" and rules.run_failed:
        return "run_failed", str(event.get("error"))
    drawdown = (event.get("metrics") or {}).get("max_drawdown_pct") if name == "run_finished" else None
    if drawdown is not None and Decimal(str(drawdown)) > Decimal(str(rules.max_drawdown_pct)):
        return "drawdown", f"max drawdown {pct(drawdown)} is beyond the {pct(rules.max_drawdown_pct)} threshold"
    return None, ""


def alerts(events: Iterable[Event], rules: AlertsConfig) -> list[Alert]:
    return [a for a in (alert_for(e, rules) for e in events) if a is not None]


def describe(event: Event) -> str:
    """One line a person reads while the run goes."""
    e, name = event, event.get("event")
    if name == "run_started":
        text = (f"{e['profile']}: {e['strategy']} on {e['symbol']} {e['timeframe']} for {e['duration_minutes']} min, "
                f"at most {num(e['max_notional'])} notional / {e['max_trades']} trades"
                + (" (validate-only)" if e.get("validate_only") else ""))
    elif name == "order_request":
        text = f"{e['side']} {e['volume']} @ {num(e['price'])} ({num(e['notional'])} notional)"
    elif name == "order_outcome":
        text = f"{e['side']} {e['status']}" + (f" by {e['by']}: {e['reason']}" if e.get("by") else "")
    elif name == "fill":
        text = (f"{e['side']} {e['volume']} filled @ {num(e['price'])}, fee {num(e['fee'], 4)}, "
                f"PnL {num(e['realized_pnl'], sign=True)}")
    elif name == "candle":
        text = (f"{e['done']}/{e['planned']} candles, close {num(e['close'])}, "
                f"{e['trades']} trade{'s' if e['trades'] != 1 else ''}, "
                f"PnL {num(e['pnl'], sign=True)}")
    elif name == "run_finished":
        m = e.get("metrics") or {}
        text = (f"{e['stop_reason']}: {e['spent_trades']} trades, notional {num(e['spent_notional'])}, "
                f"PnL {num(m.get('pnl', 0), sign=True)}, max drawdown {pct(m.get('max_drawdown_pct', 0), 3)}")
    else:
        text = str(e.get("reason") or e.get("error") or e.get("text") or "")
    return f"{when(event)}  {name:<13} {text}"
