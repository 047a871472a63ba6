"""Print the project's figures beside the references' as Markdown, for the closing note of
issue 11: ``cd tests && ../.venv/bin/python -m reference.table [case id ...]`` (default: the
``ma_crossover_small`` replay and the 2,000-candle walk; ids as in ``cases.CASES``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal

from . import cases, engine

DEFAULT = ("ma_crossover_small", "walk-ma_crossover")


def _money(value: Decimal | float) -> str:
    return f"{float(value):,.6f}"


def _ratio(value: Decimal | float | None) -> str:
    return "–" if value is None else f"{float(value):.9f}"


def table(case: cases.Case) -> str:
    metrics, reference = cases.project(case), cases.reference(case)
    start = case.settings.start_balance
    quantstats = engine.quantstats_drawdown(start, metrics.equity_curve)
    same = [(t.entry_time, t.exit_time) for t in metrics.trips] == [(t.entry_time, t.exit_time) for t in reference.trips]
    trip_pnl = " ".join(f"{float(t.pnl):.4f}" for t in metrics.trips)
    reference_pnl = " ".join(f"{t.pnl:.4f}" for t in reference.trips)
    rows = [
        ("round trips", str(metrics.round_trips), str(len(reference.trips)), ""),
        ("entry/exit candles", "", "identical" if same else "DIFFERENT", ""),
        ("PnL per trip", trip_pnl, reference_pnl, ""),
        ("PnL", _money(metrics.pnl), _money(reference.final_equity - float(start)), ""),
        ("final equity", _money(metrics.final_equity), _money(reference.final_equity), ""),
        ("win rate", _ratio(metrics.win_rate), _ratio(reference.win_rate), ""),
        ("max drawdown", _ratio(metrics.max_drawdown_pct), _ratio(reference.max_drawdown_pct), _ratio(quantstats)),
        ("profit factor", _ratio(metrics.profit_factor), _ratio(reference.profit_factor), ""),
    ]
    lines = [f"### {case.id}: {case.strategy} {dict(case.params)}, {len(case.candles())} candles, "
             f"close_at_end={case.close_at_end}", "",
             "| figure | project | backtesting.py | quantstats |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    pairs = [(metrics.final_equity, reference.final_equity), (metrics.max_drawdown_pct, reference.max_drawdown_pct),
             (metrics.max_drawdown_pct, quantstats)] + [(t.pnl, r.pnl) for t, r in zip(metrics.trips, reference.trips, strict=False)]
    worst = max((abs(float(mine) - theirs) / abs(theirs) for mine, theirs in pairs if theirs), default=0.0)
    lines += ["", f"Largest relative difference, project against a reference: {worst:.1e}."]
    return "\n".join(lines)


def main(ids: Sequence[str]) -> None:
    by_id = {case.id: case for case in cases.CASES}
    print("\n\n".join(table(by_id[name]) for name in ids or DEFAULT))


if __name__ == "__main__":
    main(sys.argv[1:])
