"""The runs compared with the references: a series, a strategy and the run's settings.

``project`` runs a case through ``session.backtest``, ``reference`` through ``engine.run``;
both read the same profile, config and pair, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pytest_peak_testnet.desk.config import SessionConfig, load_config
from pytest_peak_testnet.desk.profiles import Profile, load_yaml_profile
from pytest_peak_testnet.exchange.kraken.adapter import instrument
from pytest_peak_testnet.exchange.kraken.wire import PairInfo
from pytest_peak_testnet.exchange.simulator.kraken.pairs import PAIRS
from pytest_peak_testnet.trading.market import Candle
from pytest_peak_testnet.trading.paper import Metrics
from pytest_peak_testnet.trading.session import backtest
from pytest_peak_testnet.trading.strategies import BUILTIN_STRATEGIES, make_strategy

from . import engine, series

ROOT = Path(__file__).resolve().parents[2]
BTC, ETH = PAIRS["XXBTZEUR"], PAIRS["XETHZEUR"]
#: RSI's zones nearer the middle than the defaults: on minute candles 30/70 are rare.
RSI = {"period": 14, "oversold": 40, "overbought": 60}
#: So that a run's caps never end it and the order cap is the risk limit's 1,000 EUR,
#: which binds about as often as a tenth of equity does.
OPEN_LIMITS = {"max_notional": Decimal("100000000"), "max_trades": 10_000}
MAX_ORDER_NOTIONAL = Decimal("1000")
#: A buy's notional and its closing sell's, which may be 5 % dearer: the sizing rule's share.
ROUND_TRIP = Decimal("2.05")


@dataclass(frozen=True)
class Case:
    id: str
    candles: Callable[[], list[Candle]]
    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    pair: PairInfo = BTC
    close_at_end: bool = True
    settings: SessionConfig = SessionConfig()
    limits: Mapping[str, Any] = field(default_factory=lambda: OPEN_LIMITS)

    @property
    def profile(self) -> Profile:
        return Profile(name=self.id, source=Path(f"{self.id}.yaml"), strategy=self.strategy, symbol=self.pair.symbol,
                       timeframe="1m", close_at_end=self.close_at_end, params=self.params, **self.limits)


@cache
def walk() -> list[Candle]:
    return series.random_walk()


@cache
def btc() -> list[Candle]:
    return series.simulated(BTC.pair_id, 1440)


@cache
def eth() -> list[Candle]:
    return series.simulated(ETH.pair_id, 1440)


def small_profile() -> Profile:
    return load_yaml_profile(ROOT / "profiles" / "ma_crossover_small.yaml", ROOT)


def shipped_settings() -> SessionConfig:
    """The shipped test config's session settings: what the cassette was recorded with."""
    return load_config(ROOT / "config" / "config.test.toml", ROOT).session


@cache
def small() -> list[Candle]:
    return series.replayed(ROOT / "cassettes" / "ma_crossover_small.json", small_profile(),
                           shipped_settings().warmup_candles)


def _small_case() -> Case:
    profile = small_profile()
    return Case("ma_crossover_small", small, profile.strategy, profile.params, close_at_end=profile.close_at_end,
                settings=shipped_settings(),
                limits={"max_notional": profile.max_notional, "max_trades": profile.max_trades})


SERIES: dict[str, Callable[[], list[Candle]]] = {
    "walk": walk, "btc": btc, "eth": eth, "gap": series.gap_down, "flat": series.flat}
PAIR_OF = {"eth": ETH}
STRATEGIES: dict[str, Mapping[str, Any]] = {"ma_crossover": {}, "rsi_strategy": RSI, "momentum_1h": {}}

CASES = [_small_case()] + [
    Case(f"{name}-{strategy}", make, strategy, params, pair=PAIR_OF.get(name, BTC),
         close_at_end=strategy != "rsi_strategy")
    for name, make in SERIES.items() for strategy, params in STRATEGIES.items()]


def project(case: Case) -> Metrics:
    strategy = make_strategy(case.strategy, case.params, "ref: ", BUILTIN_STRATEGIES)
    return backtest(case.candles(), case.profile, strategy, case.settings, instrument(case.pair), MAX_ORDER_NOTIONAL)


def reference(case: Case) -> engine.Run:
    settings, profile, pair = case.settings, case.profile, case.pair
    trips = profile.max_trades // 2
    rules = engine.Rules(
        warmup=settings.warmup_candles, start_balance=settings.start_balance,
        position_fraction=settings.position_fraction, fee_rate=settings.fee_rate,
        slippage=settings.slippage_bps / 10_000, lot=Decimal(1).scaleb(-pair.lot_decimals),
        ordermin=pair.ordermin, costmin=pair.costmin or Decimal(0),
        order_cap=min(MAX_ORDER_NOTIONAL, profile.max_notional / (trips * ROUND_TRIP)),
        close_at_end=profile.close_at_end)
    return engine.run(case.candles(), case.strategy, case.params, rules)
