"""A profile's expect: what its run must show, each kind holding and failing, in every mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import edit, error_lines, run_events, write_profile

OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")
#: quick_smoke's plan on its cassette, without its expectations and baseline: 2 trades,
#: 1 round trip, PnL -0.234827732933376, DURATION_ELAPSED.
SMOKE = {"duration_minutes": 15, "max_notional": 200.0, "max_trades": 5, "close_at_end": True,
         "params": {"fast": 3, "slow": 8}, "cassette": "quick_smoke.json", "baseline": False}


def run(project: pytest.Pytester, expect: dict[str, Any], *args: str, **fields: Any) -> pytest.RunResult:
    write_profile(project, "judged", **{**SMOKE, **fields, "expect": expect})
    return project.runpytest("--testnet-profile", "judged", *OFFLINE, *args)


@pytest.mark.parametrize(("expect", "broken"), [
    ({"trades": 2}, None),
    ({"trades": 4}, "expect.trades: 2 ≠ 4"),
    ({"round_trips": {"min": 1, "max": 1}, "orders_accepted": {"min": 1}}, None),
    ({"orders_accepted": {"max": 1}}, "expect.orders_accepted.max: 2 > 1"),
    ({"pnl": {"min": -1, "max": 0}}, None),
    ({"pnl": {"min": 0.00}}, "expect.pnl.min: -0.23 < 0.0"),
    ({"fees": {"max": 0.2537}}, "expect.fees.max: 0.253706486981376 > 0.2537"),  # rounding would hide it
    ({"risk_denials": 0, "orders_rejected": 0}, None),
    ({"risk_denials": {"min": 1}}, "expect.risk_denials.min: 0 < 1"),
    ({"max_drawdown_pct": {"max": 0.00001}}, "expect.max_drawdown_pct.max: 0.00002 > 0.00001"),
    ({"win_rate": {"min": 0.5}}, "expect.win_rate.min: 0.00 < 0.5"),
    ({"final_equity": "9999.765172267066624", "open_volume": 0}, None),
    ({"stop_reason": "DURATION_ELAPSED"}, None),
    ({"stop_reason": ["RUN_MAX_TRADES_REACHED", "RUN_MAX_NOTIONAL_REACHED"]},
     "expect.stop_reason: DURATION_ELAPSED is not one of RUN_MAX_TRADES_REACHED, RUN_MAX_NOTIONAL_REACHED"),
    ({"alerts": {"risk_denial": 0, "limit_reached": 0}}, None),
    ({"alerts": {"limit_reached": {"min": 1}}}, "expect.alerts.limit_reached.min: 0 < 1"),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else "passes" if v is None else "fails")
def test_each_kind_of_expectation_holds_or_fails(replay_project: pytest.Pytester, expect: dict[str, Any],
                                                 broken: str | None) -> None:
    result = run(replay_project, expect)
    if broken is None:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["judged (replay): 1 of * expectations failed (*)", f"  {broken}"])
    assert "Traceback" not in result.stdout.str()


def test_a_run_that_trades_nothing_fails_the_profile_that_expects_trades(replay_project: pytest.Pytester) -> None:
    """The issue's example: with the exposure limit lowered, every order is denied; such a
    run used to pass."""
    config = replay_project.path / "config" / "config.toml"
    edit(config, "max_total_exposure_notional = 5000.0", "max_total_exposure_notional = 10.0")
    result = run(replay_project, {"orders_accepted": {"min": 1}, "alerts": {"risk_denial": 0}})
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["judged (replay): 2 of 2 expectations failed (expect.orders_accepted.min, "
                                 "expect.alerts.risk_denial)",
                                 "  expect.orders_accepted.min: 0 < 1", "  expect.alerts.risk_denial: 1 ≠ 0"])


def test_the_failure_block_goes_into_junitxml_and_the_report(replay_project: pytest.Pytester) -> None:
    result = run(replay_project, {"pnl": {"min": 0}, "trades": 2}, "--junitxml=out.xml", "--testnet-report")
    result.assert_outcomes(failed=1)
    xml = (replay_project.path / "out.xml").read_text()
    assert 'message="judged (replay): 1 of 2 expectations failed (expect.pnl.min)' in xml
    assert "expect.pnl.min: -0.23 &lt; 0" in xml
    [profile] = json.loads((replay_project.path / "reports" / "latest.json").read_text())["profiles"]
    assert [(c["name"], c["held"]) for c in profile["verdict"]["checks"]] == [
        ("expect.pnl.min", False), ("expect.trades", True)]
    markdown = (replay_project.path / "reports" / "latest.md").read_text()
    assert "- **Expectations:** 1 held, 1 failed" in markdown
    assert "  - **failed**: `expect.pnl.min: -0.23 < 0`" in markdown
    result.stdout.fnmatch_lines(["testnet expectations: 1 held, 1 failed"])


def test_a_profile_that_expects_to_be_blocked_passes_when_the_limits_refuse_it(project: pytest.Pytester) -> None:
    write_profile(project, "oversized", max_notional=1800.0, expect={"blocked": ["RUN_NOTIONAL_EXCEEDS_MAX"]})
    result = project.runpytest("--testnet-profile", "oversized", *OFFLINE)
    result.assert_outcomes(passed=1)
    assert run_events(project, "run_started") == []


def test_blocked_for_another_reason_fails(project: pytest.Pytester) -> None:
    write_profile(project, "oversized", max_notional=1800.0, expect={"blocked": ["SYMBOL_NOT_ALLOWED"]})
    result = project.runpytest("--testnet-profile", "oversized", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  expect.blocked: blocked by RUN_NOTIONAL_EXCEEDS_MAX, not by SYMBOL_NOT_ALLOWED"])


def test_a_profile_expected_blocked_that_is_allowed_fails_without_trading(replay_project: pytest.Pytester) -> None:
    result = run(replay_project, {"blocked": True})
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  expect.blocked: allowed, expected blocked"])
    assert run_events(replay_project, "run_started") == []


def test_blocked_false_fails_a_blocked_run_instead_of_skipping_it(project: pytest.Pytester) -> None:
    write_profile(project, "oversized", max_notional=1800.0, expect={"blocked": False})
    result = project.runpytest("--testnet-profile", "oversized", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  expect.blocked: blocked by RUN_NOTIONAL_EXCEEDS_MAX, expected allowed"])


def test_a_dry_run_checks_only_blocked(project: pytest.Pytester) -> None:
    write_profile(project, "judged", **{**SMOKE, "expect": {"trades": 99, "pnl": {"min": 1000}}})
    project.runpytest("--testnet-profile", "judged", "--testnet-dry-run").assert_outcomes(passed=1)
    write_profile(project, "judged", **{**SMOKE, "expect": {"blocked": True}})
    failed = project.runpytest("--testnet-profile", "judged", "--testnet-dry-run")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["judged (dry-run): 1 of 1 expectations failed (expect.blocked)"])


@pytest.mark.parametrize(("expect_yaml", "message"), [
    ("  pnll: {min: 0}\n", "profiles/bad.yaml:6: expect.pnll: unknown figure; did you mean pnl?"),
    ("  trades: 2\n  pnl: {mni: 0}\n", "profiles/bad.yaml:7: expect.pnl.mni: unknown bound, expected min or max; did you mean min?"),
    ("  trades: {min: 2.5}\n", "profiles/bad.yaml:6: expect.trades.min: expected a whole number, found 2.5"),
    ("  pnl: {min: 1, max: -1}\n", "profiles/bad.yaml:6: expect.pnl: min 1 is above max -1"),
    ("  stop_reason: ELAPSED\n", "profiles/bad.yaml:6: expect.stop_reason: unknown code 'ELAPSED'; did you mean "
                                 "DURATION_ELAPSED?"),
    ("  alerts: {risk_denials: 0}\n", "profiles/bad.yaml:6: expect.alerts.risk_denials: unknown alert kind; did you mean "
                                      "risk_denial?"),
    ("  blocked: [RUN_NOTIONAL]\n", "profiles/bad.yaml:6: expect.blocked[0]: unknown code 'RUN_NOTIONAL'"),
])
def test_a_bad_expectation_is_one_line_with_file_line_and_closest_name(project: pytest.Pytester, expect_yaml: str,
                                                                       message: str) -> None:
    (project.path / "profiles" / "bad.yaml").write_text(
        "strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\ndescription: x\nexpect:\n" + expect_yaml)
    result = project.runpytest("--testnet-list")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = error_lines(result)
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {message}"), result.errlines


def test_toml_expectations_are_checked_like_yaml(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.scalp]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "1m"\n'
                '\n[testnet_profiles.scalp.expect]\norders_acepted = { min = 1 }\n')
    result = project.runpytest("--testnet-list")
    assert error_lines(result) == ["ERROR: config/config.toml: testnet_profiles.scalp.expect.orders_acepted: "
                                   "unknown figure; did you mean orders_accepted?"]


def test_a_held_bound_reads_its_figure_as_a_failed_one_does(replay_project: pytest.Pytester) -> None:
    """A held line showed the exact figure (``0.253706486981376 ≤ 1``, a Binance slippage
    with 28 digits) where a failed one rounds it to the bound's places."""
    run(replay_project, {"fees": {"max": 1}, "pnl": {"min": -1, "max": 0}}, "--testnet-report").assert_outcomes(passed=1)
    report = (replay_project.path / "reports" / "latest.md").read_text(encoding="utf-8")
    assert "held: `expect.fees: 0.25 ≤ 1`" in report
    assert "held: `expect.pnl: -1 ≤ -0.23 ≤ 0`" in report
    assert "0.253706486981376" not in report
