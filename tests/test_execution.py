"""The exchange's truth: its fills are booked as it states them (commission in the quote,
the base or a third asset; partial fills and expired remainders), and how real they were
is measured and can be bounded by ``expect:``."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from servers import json_server

from conftest import edit, write_profile
from pytest_peak_testnet.desk.config import SessionConfig
from pytest_peak_testnet.exchange.protocol import Fill, Instrument, OrderReport
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator
from pytest_peak_testnet.trading.execution import Execution, booking, slippage_bps
from pytest_peak_testnet.trading.paper import PaperAccount

BTC_USDT = Instrument("BTC/USDT", "BTCUSDT", "BTC", "USDT", lot_step=Decimal("0.00001"),
                      tick_size=Decimal("0.01"), min_quantity=Decimal("0.00001"))
D = Decimal


def fill(side: str, quantity: str, price: str, quote: str, commission: str, asset: str,
         trade: str = "1") -> Fill:
    return Fill(trade, "order-1", side, D(price), D(quantity), D(quote), D(commission), asset, D(1700000000))  # type: ignore[arg-type]


@pytest.mark.parametrize(("made", "volume", "notional", "fee", "other"), [
    # quote: the commission is the fee
    (fill("buy", "0.01", "40000", "400", "0.4", "USDT"), "0.01", "400", "0.4", None),
    # base, on a buy: the account holds what it received, bought at the fill's price
    (fill("buy", "0.01", "40000", "400", "0.00001", "BTC"), "0.00999", "399.6", "0.4", None),
    # base, on a sell: the account gave the commission on top
    (fill("sell", "0.01", "40000", "400", "0.00001", "BTC"), "0.01001", "400.4", "0.4", None),
    # a third asset: nothing in the quote's fees; kept apart
    (fill("buy", "0.01", "40000", "400", "0.0005", "BNB"), "0.01", "400", "0", ("BNB", "0.0005")),
])
def test_each_commission_asset_is_booked_so_the_account_holds_what_the_venue_says(
        made: Fill, volume: str, notional: str, fee: str, other: tuple[str, str] | None) -> None:
    booked = booking(made, BTC_USDT)
    assert (booked.volume, booked.notional, booked.fee) == (D(volume), D(notional), D(fee))
    assert booked.other_commission == (None if other is None else (other[0], D(other[1])))
    if made.side == "buy":  # cash moves by exactly the venue's quote amount, plus a quote commission
        account = PaperAccount(SessionConfig(start_balance=D(10000)), BTC_USDT.lot_step)
        account.record("buy", booked.volume, made.price, booked.notional, booked.fee, 0)
        paid = D("400") + (made.commission if made.commission_asset == "USDT" else 0)
        assert (account.cash, account.position) == (D(10000) - paid, booked.volume)


def test_slippage_is_signed_so_that_worse_is_positive() -> None:
    assert slippage_bps("buy", D(100), D("100.5")) == D(50)
    assert slippage_bps("sell", D(100), D("100.5")) == D(-50)
    assert slippage_bps("sell", D(100), D("99")) == D(100)


def test_partial_fills_and_expired_remainders_are_counted_and_booked_as_filled() -> None:
    """A market order on a thin book: 0.004 of 0.01 filled, the rest expired."""
    execution = Execution()
    partial = fill("buy", "0.004", "40100", "160.4", "0.1604", "USDT")
    booked = booking(partial, BTC_USDT)
    execution.fill(partial, D(40000), booked)
    report = OrderReport("order-1", "c1", "BTC/USDT", "buy", "market", "expired", D("0.01"), D("0.004"),
                         D("160.4"), None, D(1700000000), (partial,))
    execution.settled(report)
    execution.settled(OrderReport("order-2", "c2", "BTC/USDT", "sell", "market", "filled", D("0.004"),
                                  D("0.004"), D("160"), None, D(1700000060)))
    assert booked.volume == D("0.004")  # exactly what filled
    assert execution.figures() == {"orders_filled": 1, "orders_partially_filled": 1, "orders_expired": 1,
                                   "max_slippage_bps": D(25), "mean_slippage_bps": D(25), "dust": D(0)}


LIVE = """
expect:
  orders_filled: {min: 1}
  orders_expired: 0
  orders_partially_filled: 0
  max_slippage_bps: {max: 1000}
"""


@pytest.fixture
def live(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    return project


def test_a_run_on_placed_orders_reports_its_fills_and_expect_bounds_them(live: pytest.Pytester) -> None:
    """On the simulator, on a second exchange block with validate_only = false (the default
    block validates only): every placed order filled, each fill's
    slippage against the close the strategy acted on is in the report and the JSON, and
    ``expect:`` bounds it."""
    edit(live.path / "config" / "config.toml", "[testnet_session]\n",
         "[exchange.kraken_placing]\nvalidate_only = false\nallow_live_orders = true\n\n[testnet_session]\n")
    path = write_profile(live, "placed", duration_minutes=45, max_notional=300.0, max_trades=6, close_at_end=True,
                         params={"fast": 3, "slow": 7}, exchange="kraken_placing")
    path.write_text(path.read_text() + LIVE)
    result = live.runpytest("--testnet-profile", "placed", "--testnet-record-mode=all", "--testnet-simulator",
                            "--testnet-report")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["placed: DURATION_ELAPSED, * PnL *; orders * filled, 0 partly, 0 expired, "
                                 "slippage at most * bps"])
    data = json.loads((live.path / "reports" / "latest.json").read_text())
    [profile] = data["profiles"]
    execution = profile["result"]["execution"]
    assert profile["exchange"] == "kraken_placing" and not data["validate_only"]
    assert execution["orders_filled"] >= 1 and execution["fills"]
    for made in execution["fills"]:
        moved = (D(made["price"]) - D(made["acted_price"])) / D(made["acted_price"]) * 10000
        assert D(made["slippage_bps"]) == pytest.approx(moved if made["side"] == "buy" else -moved)
    assert D(execution["max_slippage_bps"]) == max(D(f["slippage_bps"]) for f in execution["fills"])
    report = (live.path / "reports" / "latest.md").read_text()
    assert f"orders {execution['orders_filled']} filled, 0 partly filled, 0 expired; slippage" in report
    assert "(simulator on kraken_placing)" in report
    assert "| Orders | orders placed on the project's simulator, which fills them as the exchange would" in report
    checks = {c["name"] for c in profile["verdict"]["checks"]}
    assert {"expect.orders_filled", "expect.max_slippage_bps"} <= checks


def test_a_bound_on_fills_of_a_validate_only_run_has_no_figure(replay_project: pytest.Pytester) -> None:
    """Simulated fills have no exchange slippage: the bound fails as missing, never holds by default."""
    path = replay_project.path / "profiles" / "quick_smoke.yaml"
    path.write_text(path.read_text().replace("expect:\n", "expect:\n  max_slippage_bps: {max: 10}\n"))
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*expect.max_slippage_bps: no figure (–), expected max 10*"])


def _reference(simulator: str) -> Callable[[str], tuple[bytes, dict[str, str]]]:
    """Binance-format klines of a market 1 % above the simulator's: its own OHLC, scaled."""
    def answer(path: str) -> tuple[bytes, dict[str, str]]:
        query = dict(parse_qsl(urlsplit(path).query))
        start, end = int(query["startTime"]) // 1000, int(query["endTime"]) // 1000
        ohlc = requests.get(f"{simulator}/0/public/OHLC", timeout=5,
                            params={"pair": query["symbol"], "interval": 1, "since": start - 60}).json()
        rows = next(v for k, v in ohlc["result"].items() if k != "last")
        scaled = [[int(r[0]) * 1000, *(str(D(p) * D("1.01")) for p in r[1:5]), r[6], int(r[0]) * 1000 + 59999,
                   str(D(r[5]) * D(r[6])), r[7]] for r in rows if start <= int(r[0]) <= end]
        return json.dumps(scaled).encode(), {}
    return answer


def test_the_reference_market_shows_how_far_the_test_prices_drifted(live: pytest.Pytester,
                                                                    kraken_simulator: Simulator) -> None:
    """Closes 1 % below the reference are 99.0099 bps off: past the 50 bps threshold, the run
    is flagged; the figure is bounded by expect:, and the replay reads the reference from the
    cassette (nothing leaves the process)."""
    with json_server(_reference(kraken_simulator.url)) as base:
        url = f"{base}/api/v3/klines"
        edit(live.path / "config" / "config.toml", "rate_limit_ms = 0",
             f'rate_limit_ms = 0\nreference_klines_url = "{url}"\nmax_reference_drift_bps = 50')
        path = write_profile(live, "drifted", duration_minutes=20, params={"fast": 2, "slow": 4}, baseline=False)
        path.write_text(path.read_text() + "expect:\n  reference_drift_bps: {min: 99, max: 100}\n")
        recorded = live.runpytest("--testnet-profile", "drifted", "--testnet-record-mode=all",
                                  "--testnet-base-url", kraken_simulator.url, "--testnet-report")
        recorded.assert_outcomes(passed=1)
    reference = json.loads((live.path / "reports" / "latest.json").read_text())["profiles"][0]["result"]["reference"]
    assert reference["compared"] >= 15 and reference["missing"] == 0 and reference["flagged"]
    assert D(reference["largest_bps"]).quantize(D("0.0001")) == D("99.0099")
    report = (live.path / "reports" / "latest.md").read_text()
    assert f"closes at most 99.0 bps from `{url}`" in report and "**flagged: drift past 50 bps**" in report
    replayed = live.runpytest("--testnet-profile", "drifted", "--testnet-report")  # the server is gone
    replayed.assert_outcomes(passed=1)
    again = json.loads((live.path / "reports" / "latest.json").read_text())["profiles"][0]["result"]["reference"]
    assert again == reference
