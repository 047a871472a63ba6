"""Testnet limits: per run, per UTC day, per symbol. They decide before a run starts.

Every failing limit is reported, not only the first: a person fixing a blocked run
should see all that is in the way at once. Codes are stable for tools; the figures in
brackets are for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import symbolcaps
from .config import DailyLimits, RunLimits, SymbolPolicy
from .symbolcaps import symbol_reasons
from .usage import DayUsage, Ledger, Reservation, RunMode, money

RUN_NOTIONAL_EXCEEDS_MAX = "RUN_NOTIONAL_EXCEEDS_MAX"
RUN_TRADES_EXCEED_MAX = "RUN_TRADES_EXCEED_MAX"
RUN_DURATION_EXCEEDS_MAX = "RUN_DURATION_EXCEEDS_MAX"
DAILY_NOTIONAL_EXHAUSTED = "DAILY_NOTIONAL_EXHAUSTED"
DAILY_TRADES_EXHAUSTED = "DAILY_TRADES_EXHAUSTED"
SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
#: Every code a decision can give; a profile's ``expect: blocked:`` names some of them.
CODES = (RUN_NOTIONAL_EXCEEDS_MAX, RUN_TRADES_EXCEED_MAX, RUN_DURATION_EXCEEDS_MAX, DAILY_NOTIONAL_EXHAUSTED,
         DAILY_TRADES_EXHAUSTED, SYMBOL_NOT_ALLOWED, *symbolcaps.CODES)


@dataclass(frozen=True)
class Plan:
    """What a run intends to use at most."""

    symbol: str
    notional: Decimal
    trades: int
    duration_minutes: int
    #: The ``[exchange.NAME]`` block, carried into the ledger.
    venue: str | None = None


@dataclass(frozen=True)
class Reason:
    """One limit a plan would break: its code (``RUN_NOTIONAL_EXCEEDS_MAX``, ...) and the figures."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code} ({self.detail})"


@dataclass(frozen=True)
class Decision:
    """The limits' answer to a plan: allowed, or blocked with every reason, not only the first."""

    plan: Plan
    reasons: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def __str__(self) -> str:
        return "allowed" if self.allowed else "blocked: " + "; ".join(map(str, self.reasons))


class LimitsController:
    """Checks plans against the limits and the day's ledger."""

    def __init__(self, run: RunLimits, daily: DailyLimits, symbols: SymbolPolicy, ledger: Ledger) -> None:
        self.run = run
        self.daily = daily
        self.symbols = symbols
        self.ledger = ledger

    def reserve_run(self, plan: Plan, profile: str, nodeid: str, mode: RunMode) -> tuple[Decision, Reservation | None]:
        """Check and reserve in one locked step, so parallel runs cannot overspend the day."""
        return self.ledger.reserve(profile, nodeid, mode, plan.notional, plan.trades,
                                   admit=lambda usage: self.evaluate(plan, usage), symbol=plan.symbol,
                                   venue=plan.venue)

    def evaluate(self, plan: Plan, usage: DayUsage) -> Decision:
        reasons = []
        max_run_notional = money(self.run.max_notional_per_run)
        if plan.notional > max_run_notional:
            reasons.append(Reason(RUN_NOTIONAL_EXCEEDS_MAX, f"{plan.notional:.2f} > {max_run_notional:.2f}"))
        if plan.trades > self.run.max_trades_per_run:
            reasons.append(Reason(RUN_TRADES_EXCEED_MAX, f"{plan.trades} > {self.run.max_trades_per_run}"))
        if plan.duration_minutes > self.run.max_duration_minutes:
            reasons.append(Reason(RUN_DURATION_EXCEEDS_MAX,
                                  f"{plan.duration_minutes} min > {self.run.max_duration_minutes} min"))
        max_day_notional = money(self.daily.max_notional_per_day)
        if usage.notional_used + plan.notional > max_day_notional:
            reasons.append(Reason(DAILY_NOTIONAL_EXHAUSTED,
                                  f"{usage.notional_used:.2f} used + {plan.notional:.2f} planned > {max_day_notional:.2f}"))
        if usage.trades_used + plan.trades > self.daily.max_trades_per_day:
            reasons.append(Reason(DAILY_TRADES_EXHAUSTED,
                                  f"{usage.trades_used} used + {plan.trades} planned > {self.daily.max_trades_per_day}"))
        if plan.symbol not in self.symbols.allowed:
            reasons.append(Reason(SYMBOL_NOT_ALLOWED, f"{plan.symbol} not in {', '.join(self.symbols.allowed)}"))
        reasons += [Reason(code, detail)
                    for code, detail in symbol_reasons(plan.symbol, plan.notional, plan.trades, usage, self.symbols)]
        return Decision(plan, tuple(reasons))

    def remaining(self, usage: DayUsage) -> tuple[Decimal, int]:
        """What is left today (never below zero)."""
        notional = max(money(self.daily.max_notional_per_day) - usage.notional_used, Decimal(0))
        return notional, max(self.daily.max_trades_per_day - usage.trades_used, 0)
