"""Profiles: YAML files and TOML tables, their errors, overrides, --testnet-list."""

from __future__ import annotations

import time

import pytest
from test_bad_inputs import alias_bomb

from conftest import error_lines, write_profile


def test_list_shows_every_profile_and_runs_nothing(project: pytest.Pytester) -> None:
    result = project.runpytest("--testnet-list")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "testnet profiles (5) from profiles/ and config/config.toml:",
        "btc_momentum", "  strategy      momentum_1h", "  symbol        BTC/EUR", "  exchange      kraken_testnet",
        "  timeframe     5m",
        "  duration      120 min", "  max notional  1000.00", "  max trades    30",
        "  at the end    report an open position", "  markers       testnet",
        "  description   BTC/EUR momentum on 5-minute candles", "  source        profiles/btc_momentum.yaml",
        "quick_smoke", "*", "  at the end    close the position", "  markers       testnet, testnet_smoke",
    ])
    assert "passed" not in result.stdout.str()


def test_toml_profiles_are_listed_with_their_table(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.toml_only]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n')
    result = project.runpytest("--testnet-list")
    result.stdout.fnmatch_lines(["toml_only", "*source        config/config.toml: testnet_profiles.toml_only"])


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\nmax_notional: -5\n",
         "profiles/bad.yaml:4: max_notional: expected a number > 0, found -5"),
        ("strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\nmax_notional: \"500\"\n",
         "profiles/bad.yaml:4: max_notional: expected a number > 0, found '500'"),
        ("strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\nmax_trade: 5\n",
         "profiles/bad.yaml:4: max_trade: unknown key; did you mean max_trades?"),
        ("strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 2m\n",
         "profiles/bad.yaml:3: timeframe: expected one of '1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '15d', found '2m'"),
        ("symbol: BTC/EUR\ntimeframe: 1m\n", "profiles/bad.yaml:1: strategy: missing, expected a non-empty string"),
        ("strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\nmarkers: [smoke test]\n",
         "profiles/bad.yaml: markers: expected marker names (identifiers), found 'smoke test'"),
        ("strategy: ma_crossover\nsymbol: [BTC/EUR\n", "profiles/bad.yaml:3: invalid YAML: "),
        ("- just\n- a list\n", "profiles/bad.yaml:1: expected a mapping of profile fields, found list"),
    ],
)
def test_bad_profile_is_one_line_naming_file_and_line(project: pytest.Pytester, yaml_text: str, message: str) -> None:
    (project.path / "profiles" / "bad.yaml").write_text(yaml_text)
    result = project.runpytest("--testnet-list")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = error_lines(result)
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {message}"), result.errlines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_same_name_twice_names_both_places(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.quick_smoke]\nstrategy = "ma_crossover"\nsymbol = "BTC/EUR"\ntimeframe = "1m"\n')
    result = project.runpytest()
    assert error_lines(result) == [
        "ERROR: config/config.toml: testnet_profiles.quick_smoke: profile 'quick_smoke' is also defined in "
        "profiles/quick_smoke.yaml"]


def test_bad_toml_profile_names_the_table_key(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.t]\nstrategy = "ma_crossover"\nsymbol = "BTC/EUR"\ntimeframe = "1m"\nmax_trades = 0\n')
    result = project.runpytest()
    assert error_lines(result) == [
        "ERROR: config/config.toml: testnet_profiles.t.max_trades: expected a whole number >= 2 (a round trip is "
        "2 trades: a buy and the sell that closes it), found 0"]


def test_overrides_change_the_plan_the_limits_see(project: pytest.Pytester) -> None:
    result = project.runpytest("--testnet-profile", "ma_crossover_small", "--testnet-dry-run", "-rs",
                               "--testnet-override", "duration=300", "--testnet-override", "max_notional=300")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*ma_crossover_small: blocked: RUN_DURATION_EXCEEDS_MAX (300 min > 240 min)"])
    assert "RUN_NOTIONAL" not in result.stdout.str()  # 300 is within the run limit of 1000


def test_overrides_shrink_a_blocked_plan_until_allowed(project: pytest.Pytester) -> None:
    write_profile(project, "big", max_notional=1800.0)
    project.runpytest("--testnet-profile", "big", "--testnet-dry-run").assert_outcomes(skipped=1)
    result = project.runpytest("--testnet-profile", "big", "--testnet-dry-run", "--testnet-override", "max_notional=300")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["big: allowed"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("duration=-1", "--testnet-override duration_minutes: expected a whole number > 0, found -1"),
        ("max_notionl=5", "--testnet-override max_notionl: unknown profile field; did you mean max_notional?"),
        ("nosuch=3", "--testnet-override nosuch: unknown profile field; expected one of strategy, symbol, timeframe, "
                     "duration_minutes, max_notional, max_trades, "),
        ("max_notional", "--testnet-override: expected KEY=VALUE, found 'max_notional'"),
        ("timeframe=7m", "--testnet-override timeframe: expected one of"),
    ],
)
def test_bad_override_is_a_usage_error(project: pytest.Pytester, override: str, message: str) -> None:
    result = project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run", "--testnet-override", override)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result)[0].startswith(f"ERROR: {message}")


def test_a_billion_laughs_is_refused_at_once(project: pytest.Pytester) -> None:
    """Nine levels of nine aliases, about 500 bytes: expanded, 387 million strings (the
    issue measured 115 s and 6.2 GB before a truncated error)."""
    (project.path / "profiles" / "bomb.yaml").write_text(alias_bomb(9))
    started = time.monotonic()
    result = project.runpytest("--testnet-list")
    assert time.monotonic() - started < 10
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == ["ERROR: profiles/bomb.yaml:6: invalid YAML: aliases are not allowed (found *a0)"]
