"""Every fault the simulator can inject, on an order, on a read and on the clock: the run
ends, in one line when it fails, and an order whose answer was lost is counted as placed
unless the exchange shows it was."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from servers import plain_server

from conftest import edit, ledger_runs, run_events, write_profile
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Faults, Simulator

BUY_ONCE = """
from pytest_peak_testnet.strategies import Strategy

class BuyOnce(Strategy):
    # 50 warm-up candles, then one buy on the first candle of the run
    name = "buy_once"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        return "buy" if self.seen == 51 else None

def pytest_peak_testnet_strategies():
    return [BuyOnce]
"""

#: fault -> how to switch it on for the next request of ``method``
FAULTS: dict[str, Callable[[Faults, str], None]] = {
    "http_error": lambda f, m: f.http_error(500, method=m),
    "delay": lambda f, m: f.delay(2.5, method=m),  # past the test config's 2 s timeout
    "malformed": lambda f, m: f.malformed(method=m),
    "kraken_error": lambda f, m: f.kraken_error("EService:Unavailable", method=m),
    "rate_limit": lambda f, m: f.rate_limit(method=m),
    "drop": lambda f, m: f.drop(method=m),
}
#: What becomes of the run's one order when AddOrder meets the fault: Kraken's own refusals
#: are retried; a lost answer is looked up by userref (found when the exchange handled the
#: request), else counted as placed all the same.
ORDER_STATUS = {"http_error": "unknown", "delay": "placed", "malformed": "unknown", "kraken_error": "placed",
                "rate_limit": "placed", "drop": "placed"}
CLOCK_PROBLEM = {"http_error": "HTTP 500", "delay": "ReadTimeout", "malformed": "JSONDecodeError",
                 "kraken_error": "KeyError", "rate_limit": "KeyError", "drop": "ConnectionError"}


@pytest.fixture
def live_orders(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    config = project.path / "config" / "config.toml"
    edit(config, "validate_only = true\nallow_live_orders = false", "validate_only = false\nallow_live_orders = true")
    project.makeconftest(BUY_ONCE)
    write_profile(project, "faulty", strategy="buy_once", duration_minutes=10, params={})
    return project


def _ledger_run(project: pytest.Pytester) -> dict[str, object]:
    [run] = ledger_runs(project.path)
    return run


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("target", ["AddOrder", "OHLC", "advance"])
def test_every_fault_on_an_order_a_read_and_the_clock(live_orders: pytest.Pytester, kraken_simulator: Simulator,
                                                      target: str, fault: str) -> None:
    FAULTS[fault](kraken_simulator.faults, target)
    result = live_orders.runpytest("--testnet-profile", "faulty", "--testnet-record-mode=all",
                                   "--testnet-base-url", kraken_simulator.url, "--testnet-report")
    assert "Traceback" not in result.stdout.str()
    run = _ledger_run(live_orders)
    if target == "advance":  # the clock cannot be moved: the run cannot go on
        result.assert_outcomes(failed=1)
        [line] = [line for line in result.stdout.lines if line.startswith("ClockError: ")]
        assert line == (f"ClockError: the simulator at {kraken_simulator.url}/_sim/advance did not advance its "
                        f"clock ({CLOCK_PROBLEM[fault]})")
        assert (run["outcome"], run["actual_trades"]) == ("failed", 0)
        return
    result.assert_outcomes(passed=1)
    [outcome] = run_events(live_orders, "order_outcome")
    status = ORDER_STATUS[fault] if target == "AddOrder" else "placed"
    assert outcome["status"] == status
    assert run["actual_trades"] == 1 and Decimal(str(run["actual_notional"])) > 0  # spent, known or not
    if status == "unknown":
        assert outcome["reason"].endswith("no open or closed order has client order id "
                                          f"{outcome['reason'].split('userref ')[1].split(')')[0]}; counted as placed")
        result.stdout.fnmatch_lines(["faulty: DURATION_ELAPSED, 1 trade (1 unknown: answer lost, counted as placed)*"])
        report = (live_orders.path / "reports" / "latest.md").read_text()
        assert "1 unknown (answer lost; counted as placed)" in report
    if target == "AddOrder" and fault in ("delay", "drop"):
        [found] = run_events(live_orders, "order_reconciled")
        assert found["txids"] == outcome["txids"] and len(found["txids"]) == 1


@pytest.mark.parametrize("kraken_simulator", [{"speed": 600.0}], indirect=True)
def test_a_lost_order_answer_is_spent_in_the_ledger_of_a_live_run(live_orders: pytest.Pytester,
                                                                  kraken_simulator: Simulator) -> None:
    config = live_orders.path / "config" / "config.toml"
    edit(config, "poll_interval_seconds = 60.0", "poll_interval_seconds = 0.2")
    kraken_simulator.faults.http_error(502, method="AddOrder")  # answered by a gateway: never placed, never known
    with plain_server(kraken_simulator.url) as url:  # not the simulator, as far as the plugin knows: it spends
        result = live_orders.runpytest("--testnet-profile", "faulty", "--testnet-record-mode=all",
                                       "--testnet-base-url", url)
    result.assert_outcomes(passed=1)
    run = _ledger_run(live_orders)
    assert (run["mode"], run["status"], run["actual_trades"]) == ("live", "settled", 1)
    assert Decimal(str(run["actual_notional"])) > 0
    assert not kraken_simulator.exchange.account.orders  # nothing was placed; the budget is spent all the same
    budget = live_orders.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines(["  used       notional * trades     1   runs 1"])


def test_a_public_call_told_too_many_requests_is_waited_out(live_orders: pytest.Pytester,
                                                           kraken_simulator: Simulator) -> None:
    """Kraken's per-IP limit on public calls is load, not a refusal: the run waits and goes on."""
    kraken_simulator.faults.kraken_error("EGeneral:Too many requests", times=2, method="OHLC")
    result = live_orders.runpytest("--testnet-profile", "faulty", "--testnet-record-mode=all",
                                   "--testnet-base-url", kraken_simulator.url)
    result.assert_outcomes(passed=1)
    assert kraken_simulator.faults.pending == 0 and _ledger_run(live_orders)["actual_trades"] == 1


def test_a_locked_account_stops_the_run_in_one_line(live_orders: pytest.Pytester, kraken_simulator: Simulator) -> None:
    kraken_simulator.faults.kraken_error("ETrade:User Locked", method="AddOrder")
    result = live_orders.runpytest("--testnet-profile", "faulty", "--testnet-record-mode=all",
                                   "--testnet-base-url", kraken_simulator.url)
    result.assert_outcomes(failed=1)
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["AccountSuspended: ETrade:User Locked*"])
