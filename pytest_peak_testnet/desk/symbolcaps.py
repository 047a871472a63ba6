"""Per-symbol daily caps (``[testnet_limits.symbols] max_notional_per_day`` and
``max_trades_per_day``): what each pair has used today, and the reasons a plan breaks them.

Counted from the same ledger as the daily totals (spent plus still reserved, live runs
only), so the figures ``--testnet-budget``, the dashboard and the limit check show agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .config import SymbolPolicy
from .usage import DayUsage

NOTIONAL_EXHAUSTED, TRADES_EXHAUSTED = CODES = ("SYMBOL_NOTIONAL_EXHAUSTED", "SYMBOL_TRADES_EXHAUSTED")


def symbol_reasons(symbol: str, notional: Decimal, trades: int, usage: DayUsage,
                   policy: SymbolPolicy) -> list[tuple[str, str]]:
    """(code, detail) for each per-symbol cap the planned ``notional`` and ``trades`` break."""
    reasons = []
    used_notional, used_trades = usage.used_for(symbol)
    notional_cap, trades_cap = policy.notional_cap(symbol), policy.trades_cap(symbol)
    if notional_cap is not None and used_notional + notional > notional_cap:
        reasons.append((NOTIONAL_EXHAUSTED,
                        f"{symbol}: {used_notional:.2f} used + {notional:.2f} planned > {notional_cap:.2f}"))
    if trades_cap is not None and used_trades + trades > trades_cap:
        reasons.append((TRADES_EXHAUSTED, f"{symbol}: {used_trades} used + {trades} planned > {trades_cap}"))
    return reasons


def symbol_rows(usage: DayUsage, policy: SymbolPolicy) -> list[dict[str, Any]]:
    """One row per allowed symbol: used today, its caps (None: only the totals hold it), left."""
    rows = []
    for symbol in policy.allowed:
        notional, trades = usage.used_for(symbol)
        notional_cap, trades_cap = policy.notional_cap(symbol), policy.trades_cap(symbol)
        rows.append({
            "symbol": symbol, "notional_used": float(notional), "trades_used": trades,
            "notional_cap": None if notional_cap is None else float(notional_cap), "trades_cap": trades_cap,
            "notional_left": None if notional_cap is None else float(max(notional_cap - notional, Decimal(0))),
            "trades_left": None if trades_cap is None else max(trades_cap - trades, 0),
        })
    return rows
