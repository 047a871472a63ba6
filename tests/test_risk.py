from __future__ import annotations

import pytest

from pytest_peak_testnet.desk.config import RiskLimitsConfig
from pytest_peak_testnet.trading.risk import LiveRiskLimits, RiskDecision, RiskOrder, RiskState

CONFIG = RiskLimitsConfig(max_order_notional=1000.0, max_total_exposure_notional=5000.0,
                          max_orders_per_minute=3, max_daily_loss_abs=500.0)
CALM = RiskState(exposure=0.0, daily_loss=0.0)


def check(limits: LiveRiskLimits, notional: float = 100.0, time: float = 0.0, side: str = "buy",
          state: RiskState = CALM) -> RiskDecision:
    return limits.check(RiskOrder(side, notional, time), state)  # type: ignore[arg-type]


@pytest.fixture
def limits() -> LiveRiskLimits:
    return LiveRiskLimits(CONFIG)


def test_order_notional(limits: LiveRiskLimits) -> None:
    assert check(limits, 1000.0).allowed
    denied = check(limits, 1200.0)
    assert not denied.allowed
    assert str(denied) == "ORDER_NOTIONAL_EXCEEDS_MAX (1200.00 > 1000.00)"
    assert [(d.code, d.value, d.limit) for d in denied.denials] == [("ORDER_NOTIONAL_EXCEEDS_MAX", 1200.0, 1000.0)]


def test_exposure_after_a_buy(limits: LiveRiskLimits) -> None:
    assert check(limits, 1000.0, state=RiskState(exposure=4000.0, daily_loss=0.0)).allowed
    denied = check(limits, 1000.0, state=RiskState(exposure=4200.0, daily_loss=0.0))
    assert str(denied) == "EXPOSURE_EXCEEDS_MAX (5200.00 > 5000.00)"


def test_sells_close_risk_and_are_never_denied_for_size_exposure_or_loss(limits: LiveRiskLimits) -> None:
    assert check(limits, 1200.0, side="sell", state=RiskState(exposure=9000.0, daily_loss=900.0)).allowed


def test_daily_loss(limits: LiveRiskLimits) -> None:
    assert check(limits, state=RiskState(exposure=0.0, daily_loss=500.0)).allowed
    denied = check(limits, state=RiskState(exposure=0.0, daily_loss=520.0))
    assert str(denied) == "DAILY_LOSS_EXCEEDED (520.00 > 500.00)"


def test_order_rate_in_a_sliding_minute(limits: LiveRiskLimits) -> None:
    assert all(check(limits, time=t).allowed for t in (0, 10, 20))
    assert str(check(limits, time=59.5)) == "ORDER_RATE_EXCEEDED (3 orders in 60s >= 3)"
    assert check(limits, time=60).allowed  # the order at 0 has left the window
    assert not check(limits, time=61).allowed


def test_denied_orders_do_not_use_up_the_rate(limits: LiveRiskLimits) -> None:
    for t in range(5):
        assert not check(limits, 5000.0, time=t).allowed  # too big: never sent
    assert all(check(limits, time=t).allowed for t in (5, 6, 7))
    assert not check(limits, time=8).allowed


def test_every_failing_reason_is_reported(limits: LiveRiskLimits) -> None:
    for t in (0, 1, 2):
        check(limits, time=t)
    denied = check(limits, 1200.0, time=3, state=RiskState(exposure=4000.0, daily_loss=520.0))
    assert [d.code for d in denied.denials] == [
        "ORDER_NOTIONAL_EXCEEDS_MAX", "EXPOSURE_EXCEEDS_MAX", "DAILY_LOSS_EXCEEDED", "ORDER_RATE_EXCEEDED"]
    assert str(denied) == ("ORDER_NOTIONAL_EXCEEDS_MAX (1200.00 > 1000.00); EXPOSURE_EXCEEDS_MAX (5200.00 > 5000.00); "
                           "DAILY_LOSS_EXCEEDED (520.00 > 500.00); ORDER_RATE_EXCEEDED (3 orders in 60s >= 3)")


def test_disabled_limits_allow_everything() -> None:
    limits = LiveRiskLimits(RiskLimitsConfig(enabled=False, max_orders_per_minute=1))
    state = RiskState(exposure=1e9, daily_loss=1e9)
    decisions = [check(limits, 1e9, time=0, state=state) for _ in range(5)]
    assert all(d.allowed and not d.denials for d in decisions)
    assert str(decisions[0]) == "ALLOWED"
