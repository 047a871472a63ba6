"""Progress on pytest's terminal while a run reaches a simulator or an exchange."""

from __future__ import annotations

import pytest

SIMULATOR = ("--testnet-profile", "quick_smoke", "--testnet-simulator", "--testnet-record-mode=all")
#: What a line of progress looks like.
LINE = "quick_smoke [[]{mode}[]]: {done}/15 candles, {orders} order*, PnL * EUR so far"
#: A replay slowed down to 1.5 s: the shipped ma_crossover, replaced by a hook (as the
#: README allows), that waits 0.1 s on each of its first 15 candles (the warm-up).
SLOW_STRATEGY = '''
import time
import pytest
from pytest_peak_testnet.trading.strategies import MaCrossover

class Slow(MaCrossover):
    __slots__ = ()
    calls = 0

    def on_candle(self, candle):
        Slow.calls += 1
        if Slow.calls <= 15:
            time.sleep(0.1)
        return super().on_candle(candle)

@pytest.hookimpl(optionalhook=True)
def pytest_peak_testnet_strategies():
    return [Slow]
'''


def test_a_simulator_run_shows_candles_orders_and_pnl_as_it_goes(project: pytest.Pytester) -> None:
    result = project.runpytest(*SIMULATOR)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["profiles/quick_smoke.yaml ",
                                 LINE.format(mode="simulator", done=1, orders=0),
                                 LINE.format(mode="simulator", done=15, orders=2),
                                 ".*"])


def test_quiet_under_q(project: pytest.Pytester) -> None:
    result = project.runpytest(*SIMULATOR, "-q")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if "candles," in line]


def test_a_replay_over_within_a_second_prints_no_progress(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if "candles," in line]
    result.stdout.fnmatch_lines(["profiles/quick_smoke.yaml .*"])


def test_a_replay_that_takes_longer_shows_progress_once_a_second_has_gone(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest(SLOW_STRATEGY)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    result.assert_outcomes(passed=1)
    shown = [line for line in result.outlines if "candles," in line]
    assert shown[-1].startswith("quick_smoke [replay]: 15/15 candles, 2 orders, PnL -0.23 EUR so far")
    assert 1 <= len(shown) <= 3


def test_from_another_terminal_the_monitor_shows_each_candle(replay_project: pytest.Pytester,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from pytest_peak_testnet import cli

    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    monkeypatch.chdir(replay_project.path)
    out = io.StringIO()
    assert cli.main(["monitor", "--latest"], out=out) == 0
    candles = [line for line in out.getvalue().splitlines() if "  candle " in line]
    assert len(candles) == 15
    assert candles[0].startswith("2024-01-01 00:00:00  candle        1/15 candles, close ")
    assert candles[-1].endswith(", 2 trades, PnL -0.23")
