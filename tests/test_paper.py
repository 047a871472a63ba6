from __future__ import annotations

import json

import pytest
import yaml

from pytest_peak_testnet.config import SessionConfig
from pytest_peak_testnet.paper import Fill, OrderTally, PaperAccount

DAY = 86_400


@pytest.fixture
def account() -> PaperAccount:
    # 10 bps slippage, 0.1 % fee: round numbers to check by hand.
    return PaperAccount(SessionConfig(start_balance=10_000.0, position_fraction=0.1, fee_rate=0.001,
                                      slippage_bps=10.0))


def fill(account: PaperAccount, side: str, volume: float, price: float, time: float = 0) -> Fill:
    result = account.fill(side, volume, price, time)  # type: ignore[arg-type]
    assert result is not None
    return result


def test_sizes_a_fraction_of_equity(account: PaperAccount) -> None:
    assert account.size(100.0) == pytest.approx(10.0)  # 10 % of 10,000 at 100
    fill(account, "buy", 10, 100.0)
    # Equity at 200: 8,997.999 cash + 10 * 200.
    assert account.size(200.0) == pytest.approx(0.1 * 10_997.999 / 200)


def test_buy_pays_slippage_and_fee(account: PaperAccount) -> None:
    bought = fill(account, "buy", 10, 100.0, time=60)
    assert (bought.price, bought.notional, bought.fee) == pytest.approx((100.1, 1001.0, 1.001))
    assert (bought.reference_price, bought.time, bought.realized_pnl) == (100.0, 60, 0.0)
    assert account.cash == pytest.approx(10_000 - 1001 - 1.001)
    assert account.position == 10
    assert account.average_entry == pytest.approx(100.2001)  # fee included: break-even


def test_round_trip_realizes_net_pnl(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)
    sold = fill(account, "sell", 10, 110.0)
    # Sell at 110 less 10 bps = 109.89; proceeds 1098.9 less fee 1.0989, cost 1002.001.
    assert (sold.price, sold.fee) == pytest.approx((109.89, 1.0989))
    assert sold.realized_pnl == pytest.approx(1098.9 - 1.0989 - 1002.001)
    assert account.position == 0 and account.average_entry is None
    metrics = account.metrics(OrderTally())
    assert metrics.trades == 2
    assert metrics.notional == pytest.approx(1001.0 + 1098.9)
    assert metrics.fees == pytest.approx(1.001 + 1.0989)
    assert metrics.realized_pnl == pytest.approx(95.8001)
    assert metrics.round_trips == pytest.approx((95.8001,))
    assert metrics.win_rate == 1.0
    assert metrics.final_equity == pytest.approx(10_095.8001)


def test_win_rate_counts_closed_round_trips_only(account: PaperAccount) -> None:
    assert account.metrics(OrderTally()).win_rate is None
    fill(account, "buy", 10, 100.0)
    fill(account, "sell", 10, 110.0)  # win
    fill(account, "buy", 10, 100.0)
    fill(account, "sell", 10, 100.0)  # loses the fees and slippage
    fill(account, "buy", 10, 100.0)
    fill(account, "sell", 5, 130.0)  # still open: not a round trip yet
    metrics = account.metrics(OrderTally())
    assert len(metrics.round_trips) == 2
    assert metrics.round_trips[1] < 0
    assert metrics.win_rate == 0.5


def test_partial_sells_close_the_round_trip_when_flat(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)
    first = fill(account, "sell", 4, 110.0)
    assert account.average_entry == pytest.approx(100.2001)  # a sell does not move the entry
    second = fill(account, "sell", 6, 90.0)
    assert first.realized_pnl > 0 > second.realized_pnl
    assert account.metrics(OrderTally()).round_trips == pytest.approx((first.realized_pnl + second.realized_pnl,))


def test_buy_beyond_cash_is_reduced_to_what_cash_pays(account: PaperAccount) -> None:
    bought = fill(account, "buy", 1000, 100.0)
    assert bought.volume == pytest.approx(10_000 / (100.1 * 1.001))
    assert account.cash == pytest.approx(0.0, abs=1e-9)
    assert account.fill("buy", 1, 100.0, 0) is None


def test_sell_is_capped_at_the_position(account: PaperAccount) -> None:
    assert account.fill("sell", 1, 100.0, 0) is None
    fill(account, "buy", 2, 100.0)
    assert fill(account, "sell", 5, 100.0).volume == 2
    assert account.position == 0


def test_equity_is_start_plus_realized_plus_unrealized(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)
    fill(account, "sell", 3, 105.0)
    account.mark(120.0, 60)
    metrics = account.metrics(OrderTally())
    assert metrics.unrealized_pnl == pytest.approx(7 * 120.0 - 7 * 100.2001)
    assert metrics.final_equity == pytest.approx(10_000 + metrics.realized_pnl + metrics.unrealized_pnl)
    assert metrics.final_equity == pytest.approx(account.cash + 7 * 120.0)


def test_drawdown_from_the_peak_of_the_marks(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)  # cash 8,997.999
    for time, price in enumerate([100.0, 120.0, 90.0, 130.0, 110.0]):
        account.mark(price, time * 60)
    metrics = account.metrics(OrderTally())
    assert [equity for _, equity in metrics.equity_curve] == pytest.approx(
        [9_997.999, 10_197.999, 9_897.999, 10_297.999, 10_097.999])
    assert [time for time, _ in metrics.equity_curve] == [0, 60, 120, 180, 240]
    assert metrics.max_drawdown == pytest.approx(300.0)  # 120 -> 90; 130 -> 110 is only 200
    assert metrics.max_drawdown_pct == pytest.approx(300.0 / 10_197.999)


def test_fees_before_the_first_mark_count_as_drawdown(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)
    account.mark(100.0, 0)
    assert account.metrics(OrderTally()).max_drawdown == pytest.approx(2.001)  # slippage 1 + fee 1.001


def test_daily_loss_restarts_with_each_utc_day(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0)
    account.mark(50.0, DAY - 60)
    assert account.daily_loss == pytest.approx(10_000 - (8_997.999 + 500))
    account.mark(40.0, DAY)  # a new day begins where the last one ended
    assert account.daily_loss == pytest.approx(100.0)
    account.mark(60.0, DAY + 60)
    assert account.daily_loss == 0.0


def test_metrics_carry_the_executors_counts_and_serialise(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100.0, time=0)
    account.mark(101.0, 60)
    metrics = account.metrics(OrderTally(sent=3, validated=2, rejected=1))
    assert (metrics.orders_sent, metrics.orders_validated, metrics.orders_rejected) == (3, 2, 1)
    data = metrics.to_dict()
    assert data["equity_curve"] == [[60, pytest.approx(8_997.999 + 1010)]]
    assert json.loads(json.dumps(data)) == data
    assert yaml.safe_load(yaml.safe_dump(data)) == data


def test_rejects_nonsense_fills(account: PaperAccount) -> None:
    with pytest.raises(ValueError):
        account.fill("buy", 0, 100.0, 0)
    with pytest.raises(ValueError):
        account.fill("buy", 1, -1.0, 0)
