"""What a user sees when a profile fails or is skipped: their own code, their own file."""

from __future__ import annotations

import pytest

from conftest import write_profile

BROKEN_STRATEGY = """
    from pytest_peak_testnet.strategies import Strategy

    class Broken(Strategy):
        name = "broken"

        def on_candle(self, candle):
            return 1 / 0

    def pytest_peak_testnet_strategies():
        return [Broken]
"""


def test_an_error_in_a_user_strategy_shows_the_users_frames(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest(BROKEN_STRATEGY)
    write_profile(replay_project, "broken", strategy="broken", duration_minutes=15, cassette="quick_smoke.json")
    result = replay_project.runpytest("--testnet-profile", "broken")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    failure = out[out.index("= FAILURES ="):out.index("short test summary")]
    result.stdout.fnmatch_lines([">       return 1 / 0", "E       ZeroDivisionError: *", "conftest.py:7: ZeroDivisionError"])
    for machinery in ("_pytest", "pluggy", "pytest_peak_testnet"):
        assert machinery not in failure
    assert len(failure.splitlines()) < 20


def test_fulltrace_still_shows_everything(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest(BROKEN_STRATEGY)
    write_profile(replay_project, "broken", strategy="broken", duration_minutes=15, cassette="quick_smoke.json")
    result = replay_project.runpytest("--testnet-profile", "broken", "--fulltrace")
    result.assert_outcomes(failed=1)
    assert "pytest_peak_testnet/trading/session.py" in result.stdout.str()


def test_a_blocked_skip_points_at_the_yaml_profile(project: pytest.Pytester) -> None:
    write_profile(project, "big", max_notional=1800.0)
    result = project.runpytest("--testnet-profile", "big", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1] profiles/big.yaml:1: testnet limits: blocked: RUN_NOTIONAL_EXCEEDS_MAX*"])


def test_a_blocked_skip_points_at_the_toml_table(project: pytest.Pytester) -> None:
    config = project.path / "config" / "config.toml"
    lines = len(config.read_text().splitlines())
    with config.open("a") as f:
        f.write('\n[testnet_profiles.big_toml]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n'
                'max_notional = 1800.0\n')
    result = project.runpytest("config/config.toml", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED [[]1] config/config.toml:{lines + 2}: testnet limits: blocked: *"])
