"""Per-symbol daily caps: counted from the ledger, a named reason when broken, shown by
``--testnet-budget`` and the dashboard."""

from __future__ import annotations

import io
import re

import pytest

from conftest import edit, error_lines, write_profile
from pytest_peak_testnet import cli
from pytest_peak_testnet.desk.usage import UsageLedger

CAPS = ('allowed = ["BTC/EUR", "ETH/EUR"]\n'
        'max_notional_per_day = { "BTC/EUR" = 1100.0 }\n'
        'max_trades_per_day = { "ETH/EUR" = 3 }\n')


class Allow:
    allowed = True


def with_caps(project: pytest.Pytester, caps: str = CAPS) -> None:
    config = project.path / "config" / "config.toml"
    edit(config, 'allowed = ["BTC/EUR", "ETH/EUR", "BTC/USDT"]\n', caps)


def spend(project: pytest.Pytester, symbol: str, notional: float, trades: int) -> None:
    """A live run on ``symbol`` settled in today's ledger, as a recording would leave it."""
    ledger = UsageLedger(project.path / "test_results", 7)
    _, reservation = ledger.reserve("earlier", "profiles/earlier.yaml::earlier", "live", notional, trades,
                                    lambda usage: Allow(), symbol=symbol)
    assert reservation is not None
    ledger.settle(reservation, notional, trades, "passed")


def test_a_symbol_cap_blocks_a_run_with_its_reason(replay_project: pytest.Pytester) -> None:
    with_caps(replay_project)
    spend(replay_project, "BTC/EUR", 1000.0, 8)
    spend(replay_project, "ETH/EUR", 50.0, 2)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke,eth_swing", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([
        "SKIPPED *: testnet limits: blocked: "
        "SYMBOL_NOTIONAL_EXHAUSTED (BTC/EUR: 1000.00 used + 200.00 planned > 1100.00)",
        "SKIPPED *: testnet limits: blocked: SYMBOL_TRADES_EXHAUSTED (ETH/EUR: 2 used + 20 planned > 3)",
    ])
    # The day's totals (1050.00 of 2000.00, 10 of 60 trades) would have let both through.
    assert "DAILY_" not in result.stdout.str()


@pytest.mark.parametrize("code", ["SYMBOL_NOTIONAL_EXHAUSTED", "SYMBOL_TRADES_EXHAUSTED"])
def test_a_profile_can_expect_to_be_blocked_by_a_symbol_cap(replay_project: pytest.Pytester, code: str) -> None:
    with_caps(replay_project, 'allowed = ["BTC/EUR", "ETH/EUR"]\nmax_notional_per_day = { "BTC/EUR" = 50.0 }\n'
                              'max_trades_per_day = { "BTC/EUR" = 2 }\n')
    fields = {"max_notional": 100.0, "max_trades": 2} if "NOTIONAL" in code else {"max_notional": 10.0, "max_trades": 5}
    write_profile(replay_project, "capped", expect={"blocked": [code]}, **fields)
    result = replay_project.runpytest("--testnet-profile", "capped")
    result.assert_outcomes(passed=1)


def test_other_symbols_and_replays_do_not_count_against_a_cap(replay_project: pytest.Pytester) -> None:
    with_caps(replay_project)
    spend(replay_project, "ETH/EUR", 900.0, 1)  # ETH/EUR's spending leaves BTC/EUR's cap whole
    for _ in range(2):  # the first replay is logged in the ledger, unspent: the second is not held back by it
        replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    assert UsageLedger(replay_project.path / "test_results", 7).read().used_for("BTC/EUR")[0] == 0


def test_budget_and_dashboard_show_each_symbol_against_its_caps(project: pytest.Pytester,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with_caps(project)
    spend(project, "BTC/EUR", 412.5, 4)
    result = project.runpytest("--testnet-budget")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "  BTC/EUR    notional 412.50/1100.00 (687.50 left)   trades 4 (no cap)   per day",
        "  ETH/EUR    notional 0.00 (no cap)   trades 0/3 (3 left)   per day",
    ])
    monkeypatch.chdir(project.path)
    assert cli.main(["dashboard"], out=io.StringIO()) == 0
    html = (project.path / "reports" / "dashboard.html").read_text()
    table = html.split('<table id="symbols">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert cells == ["BTC/EUR", "412.50", "1100.00", "687.50", "4", "–", "–",
                     "ETH/EUR", "0.00", "–", "–", "0", "3", "3"]


@pytest.mark.parametrize(("caps", "message"), [
    ('allowed = ["BTC/EUR"]\nmax_trades_per_day = { "DOGE/EUR" = 3 }\n',
     "testnet_limits.symbols.max_trades_per_day.DOGE/EUR: expected a symbol in allowed (BTC/EUR), found 'DOGE/EUR'"),
    ('allowed = ["BTC/EUR"]\nmax_notional_per_day = { "BTC/EUR" = -5.0 }\n',
     "testnet_limits.symbols.max_notional_per_day.BTC/EUR: expected a number > 0, found -5.0"),
    ('allowed = ["BTC/EUR"]\nmax_trades_per_day = { "BTC/EUR" = 2.5 }\n',
     "testnet_limits.symbols.max_trades_per_day.BTC/EUR: expected a whole number > 0, found 2.5"),
])
def test_a_bad_cap_is_one_line(project: pytest.Pytester, caps: str, message: str) -> None:
    with_caps(project, caps)
    result = project.runpytest("--testnet-budget")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [f"ERROR: config/config.toml: {message}"]
