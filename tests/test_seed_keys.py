"""Every key of the desk's seed config does what it says: the session and exchange switches,
``default_exchange`` and the session's default symbol and timeframe."""

from __future__ import annotations

import pytest

from conftest import edit, error_lines, write_profile


def edit_config(project: pytest.Pytester, old: str, new: str) -> None:
    edit(project.path / "config" / "config.toml", old, new)


@pytest.mark.parametrize(("section", "reason"), [
    ("testnet_session", "testnet sessions are switched off"),
    ("exchange.kraken_testnet", "exchange kraken_testnet is switched off"),
])
def test_a_switched_off_section_skips_every_profile_with_the_reason(replay_project: pytest.Pytester, section: str,
                                                                     reason: str) -> None:
    edit_config(replay_project, f"[{section}]\nenabled = true", f"[{section}]\nenabled = false")
    result = replay_project.runpytest("--testnet-profile", "quick_smoke,ma_crossover_small", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] profiles/{name}.yaml:1: {reason}: [[]{section}[]] enabled = false "
                                 "in config/config.toml" for name in ("quick_smoke", "ma_crossover_small")])
    assert not (replay_project.path / "test_runs").exists()  # nothing ran, nothing was logged


def test_default_exchange_picks_the_block_the_profiles_use(replay_project: pytest.Pytester) -> None:
    """A second block switched on, the first switched off: runs go through the second."""
    edit_config(replay_project, "[exchange.kraken_testnet]\nenabled = true", "[exchange.kraken_testnet]\nenabled = false")
    edit_config(replay_project, "[testnet_session]\n", "[exchange.desk_sim]\nenabled = true\n\n[testnet_session]\n")
    edit_config(replay_project, 'default_exchange = "kraken_testnet"', 'default_exchange = "desk_sim"')
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    result.assert_outcomes(passed=1)
    edit_config(replay_project, 'default_exchange = "desk_sim"', 'default_exchange = "kraken_testnet"')
    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(skipped=1)


def test_an_unknown_default_exchange_is_a_config_error(project: pytest.Pytester) -> None:
    edit_config(project, 'default_exchange = "kraken_testnet"', 'default_exchange = "kraken_tesnet"')
    result = project.runpytest("--testnet-list")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [
        "ERROR: config/config.toml: testnet_session.default_exchange: unknown exchange 'kraken_tesnet'; "
        "did you mean kraken_testnet?; the config defines [exchange.kraken_testnet]"]


def test_session_symbol_and_timeframe_are_the_profiles_defaults(project: pytest.Pytester) -> None:
    edit_config(project, 'symbol = "BTC/EUR"\ntimeframe = "1m"', 'symbol = "ETH/EUR"\ntimeframe = "5m"')
    path = write_profile(project, "bare")
    path.write_text("\n".join(line for line in path.read_text().splitlines()
                              if not line.startswith(("symbol", "timeframe"))) + "\n")
    own = write_profile(project, "own", symbol="BTC/EUR", timeframe="1m")
    result = project.runpytest("--testnet-list")
    assert result.ret == 0
    listing = result.stdout.str()
    bare, rest = listing.split("own", 1)[0].split("bare", 1)[1], listing.split("own", 1)[1]
    assert "ETH/EUR" in bare and "5m" in bare
    assert "BTC/EUR" in rest and "1m" in rest
    assert own.exists()
