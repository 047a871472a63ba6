"""Bad config values stop pytest with one line: the file, the dotted key, expected, found."""

from __future__ import annotations

import pytest

from conftest import error_lines

BASE = """
[testnet_limits.run]
max_notional_per_run = 1000.0
max_trades_per_run = 50
max_duration_minutes = 240
"""


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[testnet_limits.daily]\nmax_trade_per_day = 10\n",
         "config/config.toml: testnet_limits.daily.max_trade_per_day: unknown key; did you mean max_trades_per_day?"),
        ("[testnet_limits.daly]\nmax_trades_per_day = 10\n",
         "config/config.toml: testnet_limits.daly: unknown section; did you mean testnet_limits.daily?"),
        ("[testnet_limits.daily]\nmax_notional_per_day = -5.0\n",
         "config/config.toml: testnet_limits.daily.max_notional_per_day: expected a number > 0, found -5.0"),
        ("[testnet_limits.daily]\nmax_notional_per_day = 0\n",
         "config/config.toml: testnet_limits.daily.max_notional_per_day: expected a number > 0, found 0"),
        ("[testnet_limits.daily]\nmax_notional_per_day = nan\n",
         "config/config.toml: testnet_limits.daily.max_notional_per_day: expected a number > 0, found nan"),
        ("[testnet_limits.daily]\nmax_trades_per_day = \"200\"\n",
         "config/config.toml: testnet_limits.daily.max_trades_per_day: expected a whole number > 0, found '200'"),
        ("[testnet_limits.daily]\nmax_trades_per_day = 2.5\n",
         "config/config.toml: testnet_limits.daily.max_trades_per_day: expected a whole number > 0, found 2.5"),
        ("[testnet_limits.daily]\nmax_trades_per_day = true\n",
         "config/config.toml: testnet_limits.daily.max_trades_per_day: expected a whole number > 0, found true"),
        ("[environment]\nmode = \"prod\"\n[testnet_session]\n",
         "config/config.toml: environment.mode: expected one of 'paper', 'testnet', 'live', found 'prod'"),
        ("[testnet_limits.symbols]\nallowed = \"BTC/EUR\"\n",
         "config/config.toml: testnet_limits.symbols.allowed: expected a list of strings, found 'BTC/EUR'"),
        ("[testnet_limits.symbols]\nallowed = []\n",
         "config/config.toml: testnet_limits.symbols.allowed: expected at least one symbol, found an empty list"),
        ("[testnet_session]\nposition_fraction = 1.5\n",
         "config/config.toml: testnet_session.position_fraction: expected a number in (0, 1], found 1.5"),
        ("[exchange.kraken_testnet]\nvalidate_only = false\n",
         "config/config.toml: exchange.kraken_testnet.validate_only: false places real orders; set allow_live_orders = true as well to confirm"),
        ("[exchange.kraken_tstnet]\nenabled = true\n[testnet_session]\n",
         "config/config.toml: exchange.kraken_tstnet: unknown section; did you mean exchange.kraken_testnet? "
         "(a block other than kraken_testnet is used when [testnet_session] default_exchange or a profile's "
         "exchange: names it)"),
        ("[testnet_limits.run]\nmax_notional_per_run = 1000.0\n[testnet_limits.run.extra]\nx = 1\n",
         "config/config.toml: testnet_limits.run.extra: unknown key"),
        ("[testnet_session\npoll_interval_seconds = 1\n",
         "config/config.toml: invalid TOML: "),
    ],
    ids=lambda v: v.splitlines()[0][:40] if "\n" in v else None,
)
def test_bad_config_value_is_one_line_usage_error(pytester: pytest.Pytester, toml: str, message: str) -> None:
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "config.toml").write_text(toml)
    result = pytester.runpytest("--testnet-list")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = error_lines(result)
    assert len(errors) == 1, result.errlines
    assert errors[0].startswith(f"ERROR: {message}")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_missing_chosen_config_is_named(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--testnet-config", "nowhere.toml", "--testnet-budget")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [
        "ERROR: nowhere.toml: config file not found (set --testnet-config or ini testnet_config)"]


def test_config_chosen_by_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntestnet_config = desk/limits.toml\n")
    (pytester.path / "desk").mkdir()
    (pytester.path / "desk" / "limits.toml").write_text("[testnet_limits.daily]\nmax_trades_per_day = 7\n")
    result = pytester.runpytest("--testnet-budget")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*remaining  notional *5000.00   trades     7"])


def test_without_config_the_plugin_stays_out_of_the_way(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "testnet budget" not in result.stdout.str()


def _money_keys() -> list[tuple[str, str]]:
    """Every amount or rate in the config: (dotted table, key)."""
    import dataclasses
    from decimal import Decimal
    from typing import get_type_hints

    from pytest_peak_testnet.desk.config import SECTIONS
    return [(table, f.name) for table, (_, cls) in SECTIONS.items() for f in dataclasses.fields(cls)
            if get_type_hints(cls)[f.name] is Decimal]


@pytest.mark.parametrize(("table", "key"), _money_keys())
def test_a_quoted_amount_is_refused_for_every_money_key(pytester: pytest.Pytester, table: str, key: str) -> None:
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "config.toml").write_text(f'[{table}]\n{key} = "5000"\n')
    result = pytester.runpytest("--testnet-list")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    [error] = error_lines(result)
    assert error.startswith(f"ERROR: config/config.toml: {table}.{key}: expected a number")
    assert error.endswith(", found '5000'")
