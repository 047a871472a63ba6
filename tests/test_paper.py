from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
import yaml

from pytest_peak_testnet.desk.config import SessionConfig
from pytest_peak_testnet.trading.paper import RATIOS, Fill, OrderTally, PaperAccount

DAY = 86_400


@pytest.fixture
def account() -> PaperAccount:
    # 10 bps slippage, 0.1 % fee: round numbers to check by hand; lots of 0.0001.
    return PaperAccount(SessionConfig(start_balance=D(10_000), position_fraction=D("0.1"), fee_rate=D("0.001"),
                                      slippage_bps=D(10)), D("0.0001"))


def fill(account: PaperAccount, side: str, volume: str | int, price: str | int, time: int = 0) -> Fill:
    result = account.fill(side, D(volume), D(price), time)  # type: ignore[arg-type]
    assert result is not None
    return result


def test_sizes_a_fraction_of_equity_on_the_lot_grid(account: PaperAccount) -> None:
    assert account.size(D(100)) == 10  # 10 % of 10,000 at 100
    fill(account, "buy", 10, 100)
    # Equity at 200: 8,997.999 cash + 10 * 200; 10 % of it is 5.4989995 at 200, cut to the lot.
    assert account.size(D(200)) == D("5.4989")


def test_buy_pays_slippage_and_fee(account: PaperAccount) -> None:
    bought = fill(account, "buy", 10, 100, time=60)
    assert (bought.price, bought.notional, bought.fee) == (D("100.1"), D("1001.0"), D("1.001"))
    assert (bought.time, bought.realized_pnl) == (60, 0)
    assert account.cash == D("8997.999")
    assert account.position == 10


def test_round_trip_realizes_net_pnl_exactly(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)
    sold = fill(account, "sell", 10, 110)
    # Sell at 110 less 10 bps = 109.89; proceeds 1098.9 less fee 1.0989, cost 1002.001.
    assert (sold.price, sold.fee, sold.realized_pnl) == (D("109.89"), D("1.0989"), D("95.8001"))
    assert account.position == 0
    metrics = account.metrics(OrderTally())
    assert (metrics.trades, metrics.round_trips) == (2, 1)
    assert (metrics.notional, metrics.fees) == (D("2099.9"), D("2.0999"))
    assert metrics.realized_pnl == metrics.pnl == metrics.trips[0].pnl == D("95.8001")
    assert (metrics.trips[0].entry_price, metrics.trips[0].exit_price) == (D("100.1"), D("109.89"))
    assert (metrics.win_rate, metrics.profit_factor) == (1, D("Infinity"))
    assert metrics.final_equity == D("10095.8001")


def test_win_rate_and_profit_factor_count_closed_round_trips_only(account: PaperAccount) -> None:
    empty = account.metrics(OrderTally())
    assert (empty.win_rate, empty.profit_factor, empty.average_trade) == (None, None, None)
    fill(account, "buy", 10, 100)
    fill(account, "sell", 10, 110)  # wins 95.8001
    fill(account, "buy", 10, 100)
    fill(account, "sell", 10, 100)  # loses the fees and slippage
    fill(account, "buy", 10, 100)
    fill(account, "sell", 5, 130)  # still open: not a round trip yet
    metrics = account.metrics(OrderTally())
    assert metrics.round_trips == 2
    loss = metrics.trips[1].pnl
    assert loss == D("999.0") - D("0.999") - D("1002.001")
    assert metrics.win_rate == D("0.5")
    assert metrics.profit_factor == D("95.8001") / -loss
    assert metrics.average_trade == (D("95.8001") + loss) / 2


def test_partial_sells_close_the_round_trip_when_flat(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)
    first = fill(account, "sell", 4, 110)
    second = fill(account, "sell", 6, 90)
    assert (first.realized_pnl, second.realized_pnl) == (D("38.32004"), D("-62.28006"))
    [trip] = account.metrics(OrderTally()).trips
    assert (trip.volume, trip.pnl) == (10, D("-23.96002"))


def test_buy_beyond_cash_is_cut_to_what_cash_pays_on_the_lot_grid(account: PaperAccount) -> None:
    bought = fill(account, "buy", 1000, 100)
    assert bought.volume == D("99.8002")  # 10,000 / (100.1 * 1.001) = 99.80029..., cut to the lot
    assert 0 <= account.cash < D("0.0001") * D("100.2001")
    assert account.fill("buy", D(1), D(100), 0) is None


def test_sell_is_capped_at_the_position_and_leaves_exactly_zero(account: PaperAccount) -> None:
    assert account.fill("sell", D(1), D(100), 0) is None
    fill(account, "buy", "0.0007", 100)
    assert fill(account, "sell", 5, 100).volume == D("0.0007")
    assert account.position == 0 and str(account.position) in ("0", "0.0000")


def test_equity_is_start_plus_realized_plus_unrealized(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)
    fill(account, "sell", 3, 105)
    account.mark(D(120), 60)
    metrics = account.metrics(OrderTally())
    assert metrics.unrealized_pnl == 7 * 120 - D("701.4007")  # cost less the 3/10 that was sold
    assert metrics.final_equity == 10_000 + metrics.realized_pnl + metrics.unrealized_pnl
    assert metrics.final_equity == account.cash + 7 * 120
    assert metrics.open_volume == 7


def test_drawdown_from_the_peak_of_the_marks(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)  # cash 8,997.999
    for time, price in enumerate([100, 120, 90, 130, 110]):
        account.mark(D(price), time * 60)
    metrics = account.metrics(OrderTally())
    assert [equity for _, equity in metrics.equity_curve] == [
        D("9997.999"), D("10197.999"), D("9897.999"), D("10297.999"), D("10097.999")]
    assert [time for time, _ in metrics.equity_curve] == [0, 60, 120, 180, 240]
    assert metrics.max_drawdown == 300  # 120 -> 90; 130 -> 110 is only 200
    assert metrics.max_drawdown_pct == RATIOS.divide(D(300), D("10197.999"))
    assert metrics.exposure_pct == 1


def test_fees_before_the_first_mark_count_as_drawdown(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)
    account.mark(D(100), 0)
    assert account.metrics(OrderTally()).max_drawdown == D("2.001")  # slippage 1 + fee 1.001


def test_daily_loss_restarts_with_each_utc_day(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100)
    account.mark(D(50), DAY - 60)
    assert account.daily_loss == 10_000 - (D("8997.999") + 500)
    account.mark(D(40), DAY)  # a new day begins where the last one ended
    assert account.daily_loss == 100
    account.mark(D(60), DAY + 60)
    assert account.daily_loss == 0


def test_metrics_carry_the_executors_counts_and_serialise_exactly(account: PaperAccount) -> None:
    fill(account, "buy", 10, 100, time=0)
    account.mark(D(101), 60)
    metrics = account.metrics(OrderTally(denied=1, sent=3, accepted=2, rejected=1))
    assert (metrics.orders_denied, metrics.orders_sent, metrics.orders_accepted, metrics.orders_rejected) == (1, 3, 2, 1)
    data = metrics.to_dict()
    assert data["equity_curve"] == [[60, "10007.999"]]
    assert json.loads(json.dumps(data)) == data
    assert yaml.safe_load(yaml.safe_dump(data)) == data


def test_the_books_never_round(account: PaperAccount) -> None:
    # Eight decimals of volume at prices with eight decimals: every product stays exact.
    for _ in range(50):
        fill(account, "buy", "0.0123", "61234.56789012")
        fill(account, "sell", "0.0123", "61234.56789013")
    metrics = account.metrics(OrderTally())
    assert metrics.final_equity == 10_000 + sum(trip.pnl for trip in metrics.trips)
    assert account.position == 0


def test_rejects_nonsense_fills(account: PaperAccount) -> None:
    with pytest.raises(ValueError):
        account.fill("buy", D(0), D(100), 0)
    with pytest.raises(ValueError):
        account.fill("buy", D(1), D(-1), 0)
