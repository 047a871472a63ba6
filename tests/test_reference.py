"""The project's indicators and backtest figures against libraries that are not its code.

TA-Lib for the moving averages and Wilder's RSI. Not ``ta``: its ``RSIIndicator`` smooths with
pandas' ``ewm(alpha=1/period, adjust=False)`` from the first change, where Wilder (and
TA-Lib, and the project) seed with the mean of the first ``period`` changes; the seed's
difference decays by ``1 - 1/period`` a candle, so at period 14 the two stay more than 1e-9
apart for about 280 candles. backtesting.py
for the trades, PnL, equity, win rate and drawdown, modelled as ``reference.engine`` says;
quantstats for the drawdown of the project's own equity curve. Equal means within 1e-9
relative: the references compute in binary floats, the project exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from decimal import Decimal

import pytest

from conftest import missing_modules, require

require("test against the reference libraries",
        missing_modules("talib", "backtesting", "quantstats", extra="reference"), module_level=True)

import numpy as np  # noqa: E402  (TA-Lib's dependency: only once the reference libraries are known to be there)
import talib  # noqa: E402
from reference import cases, engine  # noqa: E402

from pytest_peak_testnet.trading.paper import Metrics  # noqa: E402
from pytest_peak_testnet.trading.strategies import BUILTIN_STRATEGIES, make_strategy  # noqa: E402

REL = 1e-9
#: A case, the project's figures for it and the reference's.
Compared = tuple["cases.Case", Metrics, "engine.Run"]
SERIES = {**cases.SERIES, "ma_crossover_small": cases.small}


def close(value: Decimal | None, expected: float | None) -> bool:
    if value is None or expected is None:
        return value is None and expected is None
    return math.isclose(float(value), expected, rel_tol=REL)


def closes(name: str) -> np.ndarray:
    return np.array([float(c.close) for c in SERIES[name]()])


def readings(strategy_name: str, params: dict[str, int], name: str, read: str) -> list[Decimal | None]:
    strategy = make_strategy(strategy_name, params, "ref: ", BUILTIN_STRATEGIES)
    found = []
    for candle in SERIES[name]():
        strategy.on_candle(candle)
        found.append(getattr(strategy, read))
    return found


def nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if math.isnan(value) else float(value) for value in values]


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize(("fast", "slow"), [(20, 50), (5, 20)])
def test_moving_averages_match_talib_sma(name: str, fast: int, slow: int) -> None:
    found = readings("ma_crossover", {"fast": fast, "slow": slow}, name, "averages")
    fast_sma = nan_to_none(talib.SMA(closes(name), fast))
    slow_sma = nan_to_none(talib.SMA(closes(name), slow))
    assert [averages is None for averages in found] == [value is None for value in slow_sma]
    wrong = [(index, pair, (f, s)) for index, (pair, f, s) in enumerate(zip(found, fast_sma, slow_sma, strict=False))
             if pair is not None and not (close(pair[0], f) and close(pair[1], s))]
    assert not wrong


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("period", [14, 5])
def test_wilder_rsi_matches_talib_rsi(name: str, period: int) -> None:
    """Before any price change RSI is 0/0: the project reads 50, TA-Lib writes 0."""
    found = readings("rsi_strategy", {"period": period}, name, "value")
    prices = closes(name)
    expected = nan_to_none(talib.RSI(prices, period))
    moved = np.maximum.accumulate(np.r_[False, prices[1:] != prices[:-1]])
    expected = [value if value is None or has_moved else 50.0 for value, has_moved in zip(expected, moved, strict=False)]
    assert [value is None for value in found] == [value is None for value in expected]
    wrong = [(index, value, want) for index, (value, want) in enumerate(zip(found, expected, strict=False)) if not close(value, want)]
    assert not wrong


@functools.cache
def run_both(index: int) -> Compared:
    """Once per process: xdist may hand a case's four tests to different workers, and a
    module-scoped fixture would run it again each time its parameter comes back."""
    case = cases.CASES[index]
    return case, cases.project(case), cases.reference(case)


@pytest.fixture(params=range(len(cases.CASES)), ids=[case.id for case in cases.CASES])
def compared(request: pytest.FixtureRequest) -> Compared:
    return run_both(request.param)


def test_same_trades_as_backtesting_py(compared: Compared) -> None:
    case, metrics, reference = compared
    assert [(t.entry_time, t.exit_time) for t in metrics.trips] == [(t.entry_time, t.exit_time) for t in reference.trips]
    wrong = [(t.entry_time, t.pnl, r.pnl) for t, r in zip(metrics.trips, reference.trips, strict=False) if not close(t.pnl, r.pnl)]
    assert not wrong
    # The series that move must trade, or the comparison proves nothing.
    assert bool(metrics.trips) == (not case.id.startswith("flat"))


def test_same_figures_as_backtesting_py(compared: Compared) -> None:
    _case, metrics, reference = compared
    assert close(metrics.final_equity, reference.final_equity)
    assert close(metrics.win_rate, reference.win_rate)
    assert close(metrics.max_drawdown_pct, reference.max_drawdown_pct)
    if metrics.profit_factor is not None and metrics.profit_factor.is_infinite():
        assert reference.profit_factor == math.inf
    else:
        assert close(metrics.profit_factor, reference.profit_factor)


def test_same_equity_marks_as_backtesting_py(compared: Compared) -> None:
    _case, metrics, reference = compared
    """One mark per candle from the first traded one; after a close at end the last is the
    equity the sale leaves, which is the final equity."""
    marks = [value for _, value in metrics.equity_curve]
    assert len(marks) == len(reference.equity)
    wrong = [(index, value, want) for index, (value, want) in enumerate(zip(marks, reference.equity, strict=False))
             if not close(value, want)]
    assert not wrong
    assert close(marks[-1], reference.final_equity)


def test_max_drawdown_matches_quantstats(compared: Compared) -> None:
    case, metrics, _ = compared
    drawdown = engine.quantstats_drawdown(case.settings.start_balance, metrics.equity_curve)
    assert close(metrics.max_drawdown_pct, drawdown)
