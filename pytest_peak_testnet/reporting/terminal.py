"""Text for people: the profile list, the budget, the one-line summary after a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..desk.config import SymbolPolicy
from ..desk.profiles import Profile
from ..desk.project import Desk
from ..desk.symbolcaps import symbol_rows
from ..desk.usage import DayUsage
from ..errors import display
from .formatting import money, num


def profile_list(desk: Desk) -> Iterable[str]:
    profiles = sorted(desk.profiles.values(), key=lambda p: p.name)
    yield f"testnet profiles ({len(profiles)}) from {display(desk.profiles_dir, desk.root)}/ and {display(desk.config.path, desk.root)}:"
    for p in profiles:
        yield ""
        yield f"{p.name}"
        yield from (f"  {k:<13} {v}" for k, v in _profile_rows(p, desk))


def _profile_rows(p: Profile, desk: Desk) -> Iterable[tuple[str, object]]:
    yield "strategy", p.strategy
    if p.params:
        yield "params", ", ".join(f"{k}={v}" for k, v in p.params.items())
    yield "symbol", p.symbol
    yield "exchange", p.exchange or desk.config.default_exchange
    yield "timeframe", p.timeframe
    yield "duration", f"{p.duration_minutes} min"
    yield "max notional", f"{p.max_notional:.2f}"
    yield "max trades", p.max_trades
    yield "at the end", "close the position" if p.close_at_end else "report an open position"
    yield "markers", ", ".join(("testnet", *p.markers))
    if p.description:
        yield "description", p.description
    yield "source", p.where(desk.root)


def budget(desk: Desk) -> Iterable[str]:
    usage = desk.ledger.read()
    left_notional, left_trades = desk.limits.remaining(usage)
    daily, run = desk.config.daily_limits, desk.config.run_limits
    yield f"testnet budget for {usage.day.isoformat()} (UTC), ledger {where(desk.ledger.where(usage.day), desk.root)}"
    yield f"  used       notional {usage.notional_spent:>12.2f}   trades {usage.trades_spent:>5}   runs {usage.runs}" + (
        f" (+{usage.unspent_runs} replay/simulator runs, not counted)" if usage.unspent_runs else "")
    if usage.notional_reserved or usage.trades_reserved:
        yield f"  reserved   notional {usage.notional_reserved:>12.2f}   trades {usage.trades_reserved:>5}   (runs in progress)"
    for gone in usage.abandoned:
        yield f"  abandoned  notional {gone.planned_notional:>12.2f}   trades {gone.planned_trades:>5}   " \
              f"run {gone.run_id} ({gone.profile}, started {gone.started_at}) released, {gone.outcome}"
    for kept, entry in desk.ledger.journal.pending():
        yield f"  pending    notional {entry.notional:>12.2f}   trades {entry.trades:>5}   run {entry.run_id} " \
              f"settled, not yet in the ledger (kept in {where(str(kept), desk.root)}: {entry.why})"
    yield f"  remaining  notional {left_notional:>12.2f}   trades {left_trades:>5}"
    yield f"  limits     notional/day {daily.max_notional_per_day:.2f}, trades/day {daily.max_trades_per_day}; " \
          f"per run {run.max_notional_per_run:.2f} notional, {run.max_trades_per_run} trades, {run.max_duration_minutes} min"
    yield f"  symbols    {', '.join(desk.config.symbols.allowed)}"
    yield from symbol_lines(usage, desk.config.symbols)
    for venue, (notional, trades, runs) in usage.used_on().items():
        yield f"  {venue:<10} notional {notional:.2f}   trades {trades}   runs {runs}   on this exchange"


def symbol_lines(usage: DayUsage, policy: SymbolPolicy) -> Iterable[str]:
    """Per symbol: used today against its own caps, when it has any."""
    for row in symbol_rows(usage, policy):
        if row["notional_cap"] is None and row["trades_cap"] is None:
            continue
        notional = (f"{row['notional_used']:.2f}/{row['notional_cap']:.2f} ({row['notional_left']:.2f} left)"
                    if row["notional_cap"] is not None else f"{row['notional_used']:.2f} (no cap)")
        trades = (f"{row['trades_used']}/{row['trades_cap']} ({row['trades_left']} left)"
                  if row["trades_cap"] is not None else f"{row['trades_used']} (no cap)")
        yield f"  {row['symbol']:<10} notional {notional}   trades {trades}   per day"


def session_line(run: Mapping[str, Any]) -> str:
    """One line per session from its run record (``ProfileRun.record``)."""
    if run["result"] is None:  # interrupted: what it spent is what was settled
        why = run["error"].removeprefix("KeyboardInterrupt: ")
        return (f"{run['profile']}: interrupted ({why}) after {run['spent_trades']} accepted orders, notional "
                f"{Decimal(run['spent_notional']):.2f}; settled to the ledger")
    result, metrics = run["result"], run["result"]["metrics"]
    currency = result["currency"]
    trips = metrics["round_trips"]
    open_volume = Decimal(metrics["open_volume"])
    trades = result["spent_trades"]
    unknown = run.get("unknown_orders") or 0
    lost = f" ({unknown} unknown: answer lost, counted as placed)" if unknown else ""
    return (f"{run['profile']}: {result['stop_reason']}, {trades} trade{'s' if trades != 1 else ''}{lost}, "
            f"{trips} round trip{'s' if trips != 1 else ''}{', position open' if open_volume else ''}, "
            f"notional {money(result['spent_notional'], currency)}, PnL {money(metrics['pnl'], currency, sign=True)}"
            f"{fills_text(result.get('execution'), result['symbol'].split('/')[0])}")


def fills_text(execution: Mapping[str, Any] | None, base: str) -> str:
    """What the exchange made of the placed orders; nothing for simulated fills. Dust (a
    base-asset remainder below one lot step) is named, since the run counts as flat with it."""
    if execution is None:
        return ""
    dust = Decimal(execution.get("dust") or 0)
    return (f"; orders {execution['orders_filled']} filled, {execution['orders_partially_filled']} partly, "
            f"{execution['orders_expired']} expired, slippage at most {num(execution['max_slippage_bps'], 1, True)} bps"
            f"{f', dust {dust} {base}' if dust else ''}")


def summary_line(desk: Desk) -> str:
    usage = desk.ledger.read()
    left_notional, left_trades = desk.limits.remaining(usage)
    daily = desk.config.daily_limits
    return (f"testnet budget {usage.day.isoformat()}: notional {usage.notional_used:.2f}/{daily.max_notional_per_day:.2f}, "
            f"trades {usage.trades_used}/{daily.max_trades_per_day}, {usage.runs} runs"
            f"{f' (+{usage.unspent_runs} replay/simulator runs, not counted)' if usage.unspent_runs else ''}; "
            f"{left_notional:.2f} notional and {left_trades} trades left")


def where(place: str, root: Path) -> str:
    """A ledger file relative to the rootdir; a database's address as it is."""
    return place if "://" in place else display(Path(place), root)
