"""This desk's own strategy, registered with pytest-peak-testnet's hook."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_peak_testnet.strategies import Candle, Signal, Strategy, positive


class Breakout(Strategy):
    """Buy when a candle closes above the highest high of the `window` candles before it;
    sell when one closes below their lowest low. Prices are Decimal, exact as the exchange
    sent them; a Candle has time (unix seconds), open, high, low, close, vwap, volume, count."""

    name = "breakout"

    @dataclass(frozen=True)
    class Params:  # what a profile's params may set, checked when the profile is read
        window: int = positive(10)

    def __init__(self, params: Params) -> None:
        super().__init__(params)
        self.recent: list[Candle] = []

    def on_candle(self, candle: Candle) -> Signal | None:
        before, self.recent = self.recent, [*self.recent, candle][-self.params.window:]
        if len(before) < self.params.window:
            return None
        if candle.close > max(c.high for c in before):
            return "buy"
        if candle.close < min(c.low for c in before):
            return "sell"
        return None


@pytest.hookimpl(optionalhook=True)  # this file still loads when the plugin is off (-p no:peak_testnet)
def pytest_peak_testnet_strategies() -> list[type[Strategy]]:
    return [Breakout]
