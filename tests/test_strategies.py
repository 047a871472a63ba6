from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any, ClassVar

import pytest

from pytest_peak_testnet.desk.schema import positive
from pytest_peak_testnet.errors import ProfileError
from pytest_peak_testnet.trading.market import Candle
from pytest_peak_testnet.trading.strategies import BUILTIN_STRATEGIES, Signal, Strategy, make_strategy

WHERE = "profiles/a.yaml: "


def strategy(name: str, **params: Any) -> Strategy:
    return make_strategy(name, params, WHERE, BUILTIN_STRATEGIES)


def candle(index: int, close: float | Decimal) -> Candle:
    price = Decimal(str(close))
    return Candle(time=index * 60, open=price, high=price, low=price, close=price, vwap=price, volume=Decimal(1),
                  count=1)


def signals(strat: Strategy, closes: Sequence[float | Decimal]) -> dict[int, Signal]:
    """Candle index -> signal, feeding ``closes`` in order."""
    found = {}
    for index, close in enumerate(closes):
        signal = strat.on_candle(candle(index, close))
        if signal is not None:
            found[index] = signal
    return found


def profile_error(name: str, params: Mapping[str, Any], registry: Mapping[str, type[Strategy]] = BUILTIN_STRATEGIES) -> str:
    with pytest.raises(ProfileError) as info:
        make_strategy(name, params, WHERE, registry)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_builtins_are_registered_by_name() -> None:
    assert sorted(BUILTIN_STRATEGIES) == ["ma_crossover", "momentum_1h", "rsi_strategy"]


class TestMaCrossover:
    def test_buys_and_sells_on_the_crossing_candles(self) -> None:
        # index:  0   1   2   3  4  5   6   7   8   9  10
        closes = [10, 10, 10, 9, 8, 9, 11, 12, 11, 9, 8]
        # SMA2 vs SMA3 from index 2: equal, below (sets the side), below, below,
        # above at 6 (10 > 9.33), above, above, below at 9 (10 < 10.67), below.
        assert signals(strategy("ma_crossover", fast=2, slow=3), closes) == {6: "buy", 9: "sell"}

    def test_first_reading_sets_the_side_without_a_signal(self) -> None:
        assert signals(strategy("ma_crossover", fast=2, slow=3), [1, 2, 3, 4, 5, 6]) == {}

    def test_touching_is_not_crossing(self) -> None:
        # SMA2 vs SMA3: below at 2 and 3, equal at 4, above at 5 (the cross),
        # equal at 7 (8 = 8), above again at 8: no second buy.
        closes = [6, 6, 5, 4, 6, 8, 7, 9, 10]
        assert signals(strategy("ma_crossover", fast=2, slow=3), closes) == {5: "buy"}

    def test_matches_a_full_recomputation_on_a_long_series(self) -> None:
        closes = [100 + (i * 37 % 23) - (i * 11 % 17) for i in range(2000)]
        fast, slow = 4, 9
        expected, side = {}, 0
        for i in range(slow - 1, len(closes)):
            diff = sum(closes[i - fast + 1:i + 1]) / fast - sum(closes[i - slow + 1:i + 1]) / slow
            now = (diff > 0) - (diff < 0)
            if now and now != side:
                if side:
                    expected[i] = "buy" if now > 0 else "sell"
                side = now
        assert expected
        assert signals(strategy("ma_crossover", fast=fast, slow=slow), closes) == expected

    @pytest.mark.parametrize("seed", range(20))
    def test_a_tie_on_the_price_grid_stays_a_tie_over_a_long_run(self, seed: int) -> None:
        """A random walk on Kraken's 0.1 grid, then flat, against an exact (Fraction)
        recomputation of both windows at every candle. Running float sums disagree with it
        on every one of these seeds; the exact sums never do."""
        rng, units = random.Random(seed), [600_001]
        for _ in range(1_099):
            units.append(units[-1] + rng.choice((-3, -2, -1, 0, 1, 2, 3)) if len(units) < 1_000 else units[-1])
        fast, slow = 5, 20
        expected, side = {}, 0
        for i in range(slow - 1, len(units)):
            diff = Fraction(sum(units[i - fast + 1:i + 1]), 10 * fast) - Fraction(sum(units[i - slow + 1:i + 1]), 10 * slow)
            now = (diff > 0) - (diff < 0)
            if now and now != side:
                if side:
                    expected[i] = "buy" if now > 0 else "sell"
                side = now
        closes = [Decimal(u).scaleb(-1) for u in units]
        assert signals(strategy("ma_crossover", fast=fast, slow=slow), closes) == expected

    def test_averages_are_exact(self) -> None:
        """Windows of 4 and 8 closes on Kraken's 0.1 grid have finite decimal averages, so an
        exact running sum gives exactly the Fraction of the window, candle after candle; float
        sums, or any rounding on the way, drift off it within a few candles."""
        rng, closes = random.Random(3), [Decimal("38907.6")]
        for _ in range(499):
            closes.append(closes[-1] + Decimal(rng.randint(-30, 30)).scaleb(-1))
        ma = strategy("ma_crossover", fast=4, slow=8)
        for index, close in enumerate(closes):
            ma.on_candle(candle(index, close))
            if index >= 7:
                fast, slow = ma.averages  # type: ignore[attr-defined]
                assert (Fraction(fast), Fraction(slow)) == (sum(map(Fraction, closes[index - 3:index + 1])) / 4,
                                                            sum(map(Fraction, closes[index - 7:index + 1])) / 8), index

    def test_defaults(self) -> None:
        params = strategy("ma_crossover").params
        assert (params.fast, params.slow) == (20, 50)

    @pytest.mark.parametrize("params", [{"fast": 3, "slow": 3}, {"fast": 5, "slow": 3}, {"fast": 60}])
    def test_fast_must_be_below_slow(self, params: dict[str, int]) -> None:
        slow = params.get("slow", 50)
        assert profile_error("ma_crossover", params) == (
            f"profiles/a.yaml: params.fast: expected less than slow ({slow}), found {params['fast']}"
        )


def reference_rsi(closes: Sequence[float], period: int) -> list[float | None]:
    """Wilder's RSI the long way: seed with plain means, then smooth each step."""
    result: list[float | None] = [None] * min(period, len(closes))
    changes = [b - a for a, b in pairwise(closes)]
    gains = [max(c, 0.0) for c in changes]
    losses = [max(-c, 0.0) for c in changes]
    for end in range(period, len(changes) + 1):
        avg_gain = sum(gains[:period]) / period
        avg_loss = sum(losses[:period]) / period
        for i in range(period, end):
            avg_gain = (avg_gain * (period - 1) + gains[i]) / period
            avg_loss = (avg_loss * (period - 1) + losses[i]) / period
        result.append(100 - 100 / (1 + avg_gain / avg_loss) if avg_loss else 100.0)
    return result


class TestRsi:
    CLOSES: ClassVar[list[float]] = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61,
              46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35,
              44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13]

    def test_value_matches_a_reference_computation(self) -> None:
        rsi = strategy("rsi_strategy", period=14)
        values = []
        for index, close in enumerate(self.CLOSES):
            rsi.on_candle(candle(index, close))
            value = rsi.value  # type: ignore[attr-defined]
            values.append(None if value is None else float(value))
        assert values == pytest.approx(reference_rsi(self.CLOSES, 14))
        assert values[13] is None and values[14] is not None

    def test_signals_when_entering_each_zone(self) -> None:
        closes = [*self.CLOSES, 47.0, 48.0, 49.0, 50.0, 51.0]
        reference = reference_rsi(closes, 14)
        found = signals(strategy("rsi_strategy", period=14, oversold=35, overbought=65), closes)
        # RSI: 70.5 at 14 (overbought), falls below 35 only at 31, back above 65 at 34.
        assert found == {14: "sell", 31: "buy", 34: "sell"}
        assert reference[30] > 35 > reference[31]  # type: ignore[operator]
        assert reference[33] < 65 < reference[34]  # type: ignore[operator]

    def test_flat_market_reads_neutral(self) -> None:
        rsi = strategy("rsi_strategy", period=3)
        assert signals(rsi, [10, 10, 10, 10, 10]) == {}
        assert rsi.value == 50.0  # type: ignore[attr-defined]

    def test_only_gains_read_100(self) -> None:
        rsi = strategy("rsi_strategy", period=3)
        assert signals(rsi, [1, 2, 3, 4]) == {3: "sell"}
        assert rsi.value == 100.0  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("params", "message"), [
        ({"oversold": 70.0}, "params.oversold: expected less than overbought (70), found 70.0"),
        ({"overbought": 100}, "params.overbought: expected less than 100, found 100"),
        ({"period": 0}, "params.period: expected a whole number > 0, found 0"),
    ])
    def test_bad_params(self, params: dict[str, float], message: str) -> None:
        assert profile_error("rsi_strategy", params) == WHERE + message


class TestMomentum:
    def test_thresholds_are_exclusive(self) -> None:
        # index:  0    1    2    3    4    5   6   7
        closes = [100, 100, 125, 150, 100, 75, 80, 56.25]
        # Return over 2 candles: +0.25 at 2 (not above), +0.5 at 3, -0.2 at 4,
        # -0.5 at 5, -0.2 at 6, -0.25 at 7 (not below).
        assert signals(strategy("momentum_1h", lookback=2, threshold=0.25), closes) == {3: "buy", 5: "sell"}

    def test_one_signal_per_visit(self) -> None:
        closes = [100, 100, 200, 400, 800, 800, 800, 1600]
        assert signals(strategy("momentum_1h", lookback=1, threshold=0.5), closes) == {2: "buy", 7: "buy"}

    def test_defaults_to_an_hour_of_minutes(self) -> None:
        params = strategy("momentum_1h").params
        assert (params.lookback, params.threshold) == (60, Decimal("0.005"))

    def test_a_return_exactly_at_the_threshold_is_not_beyond_it(self) -> None:
        # In floats 11 / 10 - 1 is 0.10000000000000009, above 0.1: a buy that is not there.
        assert signals(strategy("momentum_1h", lookback=1, threshold=0.1), [10, 11, Decimal("9.9"), Decimal("8.9")]) == {3: "sell"}


class TestParams:
    def test_unknown_key_names_the_file_and_key(self) -> None:
        assert profile_error("ma_crossover", {"fsat": 3}) == "profiles/a.yaml: params.fsat: unknown key; did you mean fast?"

    def test_wrong_type_names_the_file_and_key(self) -> None:
        assert profile_error("ma_crossover", {"slow": "30"}) == (
            "profiles/a.yaml: params.slow: expected a whole number > 0, found '30'"
        )

    def test_a_float_threshold_accepts_a_whole_number(self) -> None:
        assert strategy("momentum_1h", threshold=1).params.threshold == 1

    def test_a_decimal_param_is_the_number_written_not_its_binary_float(self) -> None:
        assert strategy("momentum_1h", threshold=0.0026).params.threshold == Decimal("0.0026")
        assert profile_error("momentum_1h", {"threshold": "0.0026"}) == (  # quoted: text, as every other key
            "profiles/a.yaml: params.threshold: expected a number > 0, found '0.0026'")

    def test_unknown_strategy_lists_the_known_ones_and_the_closest(self) -> None:
        assert profile_error("ma_crosover", {}) == (
            "profiles/a.yaml: strategy: unknown strategy 'ma_crosover'; did you mean ma_crossover? "
            "(strategies: ma_crossover, momentum_1h, rsi_strategy)"
        )

    def test_table_profiles_use_their_own_prefix(self) -> None:
        with pytest.raises(ProfileError, match=r"^desk\.toml: testnet_profiles\.a\.params\.x: unknown key$"):
            make_strategy("ma_crossover", {"x": 1}, "desk.toml: testnet_profiles.a.", BUILTIN_STRATEGIES)


class EveryOther(Strategy):
    """A plugin's strategy: buys on even candles, sells on odd ones."""

    __slots__ = ()
    name = "every_other"

    @dataclass(frozen=True)
    class Params:
        every: int = positive(1)

    def on_candle(self, candle: Candle) -> Signal | None:
        return "buy" if candle.time // 60 % 2 == 0 else "sell"


class Silent(Strategy):
    __slots__ = ()
    name = "silent"

    def on_candle(self, candle: Candle) -> Signal | None:
        return None


class TestRegistry:
    REGISTRY: ClassVar[dict[str, type[Strategy]]] = {**BUILTIN_STRATEGIES, EveryOther.name: EveryOther, Silent.name: Silent}

    def test_registered_strategies_are_built_with_their_params(self) -> None:
        strat = make_strategy("every_other", {"every": 2}, WHERE, self.REGISTRY)
        assert strat.params.every == 2
        assert signals(strat, [1, 1]) == {0: "buy", 1: "sell"}

    def test_a_strategy_without_params_rejects_any(self) -> None:
        assert profile_error("silent", {"x": 1}, self.REGISTRY) == "profiles/a.yaml: params.x: unknown key"

    def test_unknown_name_lists_registered_strategies(self) -> None:
        message = profile_error("sielnt", {}, self.REGISTRY)
        assert message.endswith("did you mean silent? (strategies: every_other, ma_crossover, momentum_1h, "
                                "rsi_strategy, silent)")
