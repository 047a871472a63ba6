"""Replay baselines: a changed config fails with the difference, updating makes it pass,
missing and unused baselines, xdist writing them side by side, ``-k`` touching only what ran."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT, edit, write_profile
from pytest_peak_testnet.cassettes.baselines import Baseline, close, differences

OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")
SHIPPED = ("btc_momentum", "btc_usdt_binance", "eth_swing", "ma_crossover_small", "quick_smoke")


def baseline(project: pytest.Pytester, name: str) -> Path:
    return project.path / "cassettes" / f"{name}.baseline.yaml"


def texts(project: pytest.Pytester) -> dict[str, str]:
    return {name: baseline(project, name).read_text() for name in SHIPPED}


def add_ini(project: pytest.Pytester, line: str) -> None:
    ini = project.path / "tox.ini"
    ini.write_text(ini.read_text().rstrip("\n") + f"\n{line}\n")


def set_fee(project: pytest.Pytester, rate: str) -> None:
    config = project.path / "config" / "config.toml"
    edit(config, "fee_rate = 0.0026", f"fee_rate = {rate}")


def test_shipped_baselines_match_their_replays(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("profiles", *OFFLINE)
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["testnet expectations: * held, 0 failed; baselines: 5 matched"])


def test_a_changed_fee_rate_fails_with_the_difference_then_update_makes_it_pass(
        replay_project: pytest.Pytester) -> None:
    before = texts(replay_project)
    set_fee(replay_project, "0.0030")
    failed = replay_project.runpytest("-m", "testnet_smoke", "profiles", *OFFLINE)
    # btc_usdt_binance books Binance's own commissions, whatever the paper fee rate says
    failed.assert_outcomes(failed=1, passed=1, deselected=3)
    failed.stdout.fnmatch_lines([
        "quick_smoke (replay): baseline differs in fees, pnl, realized_pnl and 4 more",
        "  baseline cassettes/quick_smoke.baseline.yaml differs (amounts within relative tolerance 1e-9):",
        "    fees: 0.253706486981376 → 0.29273825420928",
        "    pnl: -0.234827732933376 → -0.27385950016128",
        "*",
        "  update the baseline with: pytest --testnet-profile quick_smoke --testnet-update-baselines",
    ])
    assert "trades:" not in failed.stdout.str()  # counts and orders did not change
    updated = replay_project.runpytest("-m", "testnet_smoke", "profiles", *OFFLINE, "--testnet-update-baselines")
    updated.assert_outcomes(passed=2, deselected=3)
    updated.stdout.fnmatch_lines(["testnet baselines written: cassettes/quick_smoke.baseline.yaml (changed)"])
    after = texts(replay_project)
    assert [name for name in SHIPPED if after[name] != before[name]] == ["quick_smoke"]
    assert '  fees: "0.29273825420928"' in after["quick_smoke"]
    replay_project.runpytest("-m", "testnet_smoke", "profiles", *OFFLINE).assert_outcomes(passed=2, deselected=3)


def test_a_changed_order_shows_the_first_differing_order(replay_project: pytest.Pytester) -> None:
    path = baseline(replay_project, "quick_smoke")
    edit(path, 'side: "sell", volume: "0.00125312", price: "38961.6"',
         'side: "sell", volume: "0.00125312", price: "38961.7"')
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "    first differing order, #2: baseline sell 0.00125312 @ 38961.7 at 2024-01-01T00:14:00Z (validated); "
        "this run sell 0.00125312 @ 38961.6 at 2024-01-01T00:14:00Z (validated)"])


def test_a_missing_baseline_fails_with_one_line_saying_how_to_create_it(replay_project: pytest.Pytester) -> None:
    baseline(replay_project, "quick_smoke").unlink()
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    failure = out[out.index("= FAILURES =") : out.index("testnet sessions")]
    assert [line for line in failure.splitlines()[2:] if line.strip("- ")] == [
        "baseline cassettes/quick_smoke.baseline.yaml is missing; create it with: "
        "pytest --testnet-profile quick_smoke --testnet-update-baselines"]
    replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE, "--testnet-update-baselines") \
        .stdout.fnmatch_lines(["testnet baselines written: cassettes/quick_smoke.baseline.yaml (created)"])
    replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE).assert_outcomes(passed=1)


BROKEN_BASELINES: dict[str, tuple[str | bytes | None, str]] = {
    "not YAML": ("figures: [unclosed\n", "is not valid YAML (*)"),
    "an alias": ("figures: &f {}\norders: []\nagain: *f\n", "is not valid YAML (aliases are not allowed (found *f), line 3)"),
    "orders not mappings": ("figures: {}\norders: [1, 2]\n",
                            "holds '1' as orders[[]0[]], expected a mapping of time, side, volume, price, outcome"),
    "not UTF-8": (b"figures: {}\norders: []\nprofile: \xff\n", "is not UTF-8 text (byte 32)"),
    "a directory": (None, "cannot be read (Is a directory)"),
}


@pytest.mark.parametrize("kind", BROKEN_BASELINES)
def test_a_broken_baseline_is_one_line(replay_project: pytest.Pytester, kind: str) -> None:
    content, problem = BROKEN_BASELINES[kind]
    path = baseline(replay_project, "quick_smoke")
    if content is None:
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"baseline */cassettes/quick_smoke.baseline.yaml {problem}; "
                                 "rewrite it with: pytest --testnet-profile quick_smoke --testnet-update-baselines"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_an_amount_too_large_to_compare_is_a_difference(replay_project: pytest.Pytester) -> None:
    path = baseline(replay_project, "quick_smoke")
    edit(path, "  fees: ", "  fees: 1e999999999\n  old_fees: ")
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*fees: 1e999999999 → 0.*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_tolerance_per_profile_and_in_ini(replay_project: pytest.Pytester) -> None:
    set_fee(replay_project, "0.0027")  # fees +3.8 %, PnL about +4 %, counts and orders unchanged
    profile = replay_project.path / "profiles" / "quick_smoke.yaml"
    profile.write_text(profile.read_text() + "baseline_tolerance: 0.05\n")
    replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE).assert_outcomes(passed=1)
    replay_project.runpytest("--testnet-profile", "ma_crossover_small", *OFFLINE).assert_outcomes(failed=1)
    add_ini(replay_project, "testnet_baseline_tolerance = 0.1")
    replay_project.runpytest("--testnet-profile", "ma_crossover_small", *OFFLINE).assert_outcomes(passed=1)


@pytest.mark.parametrize("tolerance", ["tight", "1e400", "-1"])  # 1e400 would match any two amounts
def test_a_bad_ini_tolerance_is_a_usage_error(replay_project: pytest.Pytester, tolerance: str) -> None:
    add_ini(replay_project, f"testnet_baseline_tolerance = {tolerance}")
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: ini testnet_baseline_tolerance: expected a number in [[]0, 1[]], "
                                 f"found '{tolerance}'"])


def test_unused_baselines_fail_a_full_run_or_warn(replay_project: pytest.Pytester) -> None:
    gone = baseline(replay_project, "renamed_away")
    gone.write_text(baseline(replay_project, "quick_smoke").read_text())
    failed = replay_project.runpytest("profiles", *OFFLINE)
    failed.assert_outcomes(passed=5)
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["testnet baselines no profile used (1): cassettes/renamed_away.baseline.yaml; "
                                 "remove them, or run with --testnet-update-baselines"])
    # Not a full run: the others could still be used by the profiles left out.
    assert replay_project.runpytest("-k", "quick_smoke", "profiles", *OFFLINE).ret == pytest.ExitCode.OK
    warned = replay_project.runpytest("profiles", *OFFLINE, "--testnet-warn-unused-baselines")
    assert warned.ret == pytest.ExitCode.OK
    warned.stdout.fnmatch_lines(["testnet baselines no profile used (1): *"])
    add_ini(replay_project, "testnet_warn_unused_baselines = true")
    assert replay_project.runpytest("profiles", *OFFLINE).ret == pytest.ExitCode.OK
    removed = replay_project.runpytest("profiles", *OFFLINE, "--testnet-update-baselines")
    removed.stdout.fnmatch_lines(["testnet baselines removed, no profile uses them: cassettes/renamed_away.baseline.yaml"])
    assert not gone.exists()


def test_update_with_k_touches_only_the_selected_profiles(replay_project: pytest.Pytester) -> None:
    set_fee(replay_project, "0.0030")
    before = {name: (baseline(replay_project, name).stat().st_mtime_ns, text)
              for name, text in texts(replay_project).items()}
    result = replay_project.runpytest("profiles", "-k", "quick_smoke or eth_swing", *OFFLINE,
                                      "--testnet-update-baselines")
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines(["testnet baselines written: cassettes/eth_swing.baseline.yaml (changed), "
                                 "cassettes/quick_smoke.baseline.yaml (changed)"])
    after = {name: (baseline(replay_project, name).stat().st_mtime_ns, text)
             for name, text in texts(replay_project).items()}
    assert [name for name in SHIPPED if after[name] != before[name]] == ["eth_swing", "quick_smoke"]


def test_xdist_workers_write_baselines_side_by_side(replay_project: pytest.Pytester) -> None:
    for name in SHIPPED:
        baseline(replay_project, name).unlink()
    result = replay_project.runpytest_subprocess("-n", "2", "profiles", *OFFLINE, "--testnet-update-baselines")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["testnet expectations: * held, 0 failed; baselines: 5 created"])
    for name in SHIPPED:
        assert baseline(replay_project, name).read_text() == (ROOT / "cassettes" / f"{name}.baseline.yaml").read_text()
    assert not list((replay_project.path / "cassettes").glob(".*.tmp"))
    again = replay_project.runpytest_subprocess("-n", "2", "profiles", *OFFLINE)
    again.assert_outcomes(passed=5)
    assert again.ret == pytest.ExitCode.OK


def test_a_simulator_recording_writes_the_baseline_its_replay_compares(project: pytest.Pytester) -> None:
    write_profile(project, "fresh", duration_minutes=30, params={"fast": 3, "slow": 7})
    recorded = project.runpytest("--testnet-profile", "fresh", "--testnet-record-mode=rewrite", "--testnet-simulator")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["testnet baselines written: cassettes/fresh.baseline.yaml (created)"])
    project.runpytest("--testnet-profile", "fresh", *OFFLINE).assert_outcomes(passed=1)
    # An override changes the profile its baseline pins: the run is not compared.
    overridden = project.runpytest("--testnet-profile", "fresh", "--testnet-override", "max_trades=4", *OFFLINE)
    overridden.assert_outcomes(passed=1)
    overridden.stdout.fnmatch_lines(["testnet expectations: 0 held, 0 failed; baselines: 1 not compared"])


def test_amounts_compare_within_a_relative_tolerance_and_everything_else_exactly() -> None:
    tolerance = Decimal("1e-9")
    assert close("100", "100.00000001", tolerance) and not close("100", "100.000001", tolerance)
    assert close("0", "0", tolerance) and not close("0", "1e-30", tolerance)
    assert close(None, None, tolerance) and not close(None, "0", tolerance)
    assert close("Infinity", "Infinity", tolerance) and not close("Infinity", "5", tolerance)
    old = Baseline("p", {"stop_reason": "DURATION_ELAPSED", "trades": 4, "pnl": "-0.12"}, [])
    new = Baseline("p", {"stop_reason": "DURATION_ELAPSED", "trades": 2, "pnl": Decimal("-0.1200000000001")}, [])
    assert differences(old, new, tolerance) == ["trades: 4 → 2"]
