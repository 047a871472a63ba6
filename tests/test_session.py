"""Whole sessions through pytest: replay offline, record from the simulator, caps, guards."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import edit, error_lines, ledger_runs, run_events, write_profile
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

#: Nothing listens on the discard port: a request that escaped a replay would fail loudly.
OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")


def test_replay_runs_a_profile_offline(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("--testnet-profile", "ma_crossover_small", *OFFLINE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ma_crossover_small: DURATION_ELAPSED, 4 trades, 2 round trips, notional * EUR, PnL * EUR"])
    [finished] = run_events(replay_project, "run_finished")
    assert finished["metrics"]["orders_accepted"] == finished["spent_trades"] == 4
    assert finished["time"] - run_events(replay_project, "run_started")[0]["time"] >= 60 * 60


@pytest.mark.parametrize("profile", ["ma_crossover_small", "btc_momentum", "eth_swing", "quick_smoke"])
def test_every_buy_is_closed_by_a_sell_of_exactly_its_volume(replay_project: pytest.Pytester, profile: str) -> None:
    replay_project.runpytest("--testnet-profile", profile, *OFFLINE).assert_outcomes(passed=1)
    fills = run_events(replay_project, "fill")
    [finished] = run_events(replay_project, "run_finished")
    metrics = finished["metrics"]
    assert [f["side"] for f in fills] == ["buy", "sell"] * (len(fills) // 2) + ["buy"] * (len(fills) % 2)
    for buy, sell in zip(fills[::2], fills[1::2], strict=False):  # an open last buy has no sell
        assert Decimal(sell["volume"]) == Decimal(buy["volume"])
    assert metrics["round_trips"] == len(fills) // 2 == len(metrics["trips"])
    assert Decimal(metrics["open_volume"]) == (Decimal(fills[-1]["volume"]) if len(fills) % 2 else 0)
    # Notional is the filled notional, the same in the run's cap, the ledger's record and the metrics.
    filled = sum(Decimal(f["volume"]) * Decimal(f["price"]) for f in fills)
    assert Decimal(finished["spent_notional"]) == Decimal(metrics["notional"]) == filled
    assert finished["spent_trades"] == metrics["trades"] == len(fills)


def test_replays_are_deterministic(replay_project: pytest.Pytester) -> None:
    for _ in range(2):
        replay_project.runpytest("--testnet-profile", "ma_crossover_small", *OFFLINE).assert_outcomes(passed=1)
    first, second = run_events(replay_project, "run_finished")
    assert first["metrics"] == second["metrics"]
    assert first["metrics"]["trades"] > 0


def test_smoke_marker_replays_only_smoke_profiles(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("-m", "testnet_smoke", "profiles", *OFFLINE, "-v")
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines(["profiles/btc_usdt_binance.yaml::btc_usdt_binance PASSED*",
                                 "profiles/quick_smoke.yaml::quick_smoke PASSED*"])


def test_replays_spend_no_budget_but_are_still_checked(replay_project: pytest.Pytester) -> None:
    replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE).assert_outcomes(passed=1)
    budget = replay_project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([
        "  used       notional         0.00   trades     0   runs 0 (+1 replay/simulator runs, not counted)"])
    # A replay is still subject to the limits: past the run limit it does not start.
    blocked = replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", "duration=500", "-rs")
    blocked.assert_outcomes(skipped=1)
    blocked.stdout.fnmatch_lines(["*RUN_DURATION_EXCEEDS_MAX (500 min > 240 min)*"])


def test_missing_cassette_names_it_and_the_record_command(project: pytest.Pytester) -> None:
    result = project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "CassetteError: cassette */cassettes/quick_smoke.json not found; record it with: "
        "pytest --testnet-profile quick_smoke --testnet-record-mode=rewrite --testnet-simulator"])
    assert "Traceback" not in result.stdout.str()


def test_unmatched_request_names_cassette_request_and_command(replay_project: pytest.Pytester) -> None:
    # Other strategy parameters trade differently: the cassette has no answer for that order.
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", "params.fast=2",
                                      "--testnet-override", "params.slow=4", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "CassetteError: cassette */cassettes/quick_smoke.json has no recorded answer for "
        "POST /0/private/AddOrder (pair XXBTZEUR); record it again with: "
        "pytest --testnet-profile quick_smoke --testnet-record-mode=rewrite --testnet-simulator"])


def test_record_from_the_simulator_then_replay_the_same_session(project: pytest.Pytester) -> None:
    write_profile(project, "fresh", duration_minutes=45, max_notional=300.0, max_trades=6, params={"fast": 3, "slow": 7})
    recorded = project.runpytest("--testnet-profile", "fresh", "--testnet-record-mode=all", "--testnet-simulator")
    recorded.assert_outcomes(passed=1)
    cassette = project.path / "cassettes" / "fresh.json"
    assert cassette.exists()
    replayed = project.runpytest("--testnet-profile", "fresh", *OFFLINE)
    replayed.assert_outcomes(passed=1)
    at_recording, at_replay = run_events(project, "run_finished")
    assert at_recording["metrics"] == at_replay["metrics"]
    assert at_recording["metrics"]["orders_sent"] > 0
    bodies = [json.loads(i["response"]["body"]["string"]) for i in json.loads(cassette.read_text())["interactions"]]
    assert all(body == {"error": [], "result": body["result"]} for body in bodies)  # Kraken's own envelope


def test_record_mode_once_records_a_missing_cassette_then_replays_it(project: pytest.Pytester) -> None:
    write_profile(project, "onced", duration_minutes=30, params={"fast": 3, "slow": 7})
    once = ("--testnet-profile", "onced", "--testnet-record-mode=once", "--testnet-simulator")
    project.runpytest(*once).assert_outcomes(passed=1)
    cassette = project.path / "cassettes" / "onced.json"
    recorded = cassette.read_bytes()
    project.runpytest(*once).assert_outcomes(passed=1)
    assert cassette.read_bytes() == recorded  # the second run played it back, wrote nothing
    assert [run["mode"] for run in ledger_runs(project.path)] == ["simulator", "replay"]


def test_new_episodes_plays_what_the_cassette_holds_and_records_the_rest(project: pytest.Pytester) -> None:
    write_profile(project, "grows", duration_minutes=20, params={"fast": 3, "slow": 7})
    record = ("--testnet-profile", "grows", "--testnet-simulator")
    project.runpytest(*record, "--testnet-record-mode=all").assert_outcomes(passed=1)
    cassette = project.path / "cassettes" / "grows.json"
    short = len(json.loads(cassette.read_text())["interactions"])
    longer = ("--testnet-override", "duration_minutes=40")
    project.runpytest(*record, *longer, "--testnet-record-mode=new_episodes").assert_outcomes(passed=1)
    grown = len(json.loads(cassette.read_text())["interactions"])
    assert grown > short
    project.runpytest("--testnet-profile", "grows", *longer, *OFFLINE).assert_outcomes(passed=1)
    at_full_recording, at_replay = run_events(project, "run_finished")[1:]
    assert at_full_recording["metrics"] == at_replay["metrics"]


def test_run_caps_stop_the_session_with_the_reason(project: pytest.Pytester) -> None:
    write_profile(project, "capped", duration_minutes=120, max_notional=400.0, max_trades=2, params={"fast": 2, "slow": 5})
    result = project.runpytest("--testnet-profile", "capped", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["capped: RUN_MAX_TRADES_REACHED (2 of 2 trades used; a buy needs 2 left), 2 trades, "
                                 "1 round trip, *"])
    [finished] = run_events(project, "run_finished")
    assert finished["spent_trades"] == 2 and Decimal(finished["metrics"]["open_volume"]) == 0


def test_a_buy_the_run_notional_makes_too_small_ends_the_run_and_says_why(project: pytest.Pytester) -> None:
    """3 EUR over 2 round trips is 0.73 EUR a buy, below BTC/EUR's minimum order: before,
    the run bought nothing and ended DURATION_ELAPSED without a word."""
    write_profile(project, "starved", duration_minutes=120, max_notional=3.0, params={"fast": 2, "slow": 5})
    result = project.runpytest("--testnet-profile", "starved", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["starved: RUN_MAX_NOTIONAL_REACHED (a buy within 3.00 for 2 round trips, 0.0000* BTC,"
                                 " is below the pair's minimum order), 0 trades, *"])
    [reached] = run_events(project, "limit_reached")
    assert str(reached["reason"]).startswith("RUN_MAX_NOTIONAL_REACHED")


def test_risk_limits_deny_orders_before_they_are_sent(replay_project: pytest.Pytester) -> None:
    edit(replay_project.path / "config" / "config.toml", "max_total_exposure_notional = 5000.0",
         "max_total_exposure_notional = 10.0")
    # quick_smoke's own expectations and baseline say it trades; this copy expects nothing.
    write_profile(replay_project, "smoke_copy", duration_minutes=15, max_notional=200.0, max_trades=5,
                  close_at_end=True, params={"fast": 3, "slow": 8}, cassette="quick_smoke.json", baseline=False)
    result = replay_project.runpytest("--testnet-profile", "smoke_copy", *OFFLINE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["smoke_copy: DURATION_ELAPSED, 0 trades, 0 round trips, notional 0.00 EUR, *"])
    [outcome] = run_events(replay_project, "order_outcome")
    assert outcome["status"] == "denied" and outcome["by"] == "risk"
    assert outcome["reason"].startswith("EXPOSURE_EXCEEDS_MAX (")
    [finished] = run_events(replay_project, "run_finished")
    metrics = finished["metrics"]
    assert (metrics["orders_denied"], metrics["orders_sent"], metrics["orders_rejected"]) == (1, 0, 0)


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_executor_refuses_to_exist_outside_testnet(replay_project: pytest.Pytester, mode: str) -> None:
    path = replay_project.path / "config" / "config.toml"
    edit(path, 'mode = "testnet"', f'mode = "{mode}"')
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", *OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"EnvironmentNotTestnetError: the testnet order executor runs only with [environment] mode = \"testnet\", "
        f"found '{mode}'; nothing was sent"])


def test_bad_strategy_params_are_a_one_line_usage_error(replay_project: pytest.Pytester) -> None:
    write_profile(replay_project, "typo", params={"fats": 3})
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == ["ERROR: profiles/typo.yaml: params.fats: unknown key; did you mean fast?"]


def test_unknown_strategy_lists_the_known_ones(replay_project: pytest.Pytester) -> None:
    write_profile(replay_project, "typo", strategy="ma_crosover")
    result = replay_project.runpytest("--testnet-dry-run", "profiles")
    assert error_lines(result) == ["ERROR: profiles/typo.yaml: strategy: unknown strategy 'ma_crosover'; "
                                   "did you mean ma_crossover? (strategies: ma_crossover, momentum_1h, rsi_strategy)"]


def test_custom_strategy_from_a_conftest_hook(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest("""
        from pytest_peak_testnet.strategies import Strategy

        class EveryOtherMinute(Strategy):
            # in and out on alternate candles: keeps the executor busy
            name = "every_other_minute"

            def on_candle(self, candle):
                return "buy" if candle.time // 60 % 2 else "sell"

        def pytest_peak_testnet_strategies():
            return [EveryOtherMinute]
    """)
    write_profile(replay_project, "mine", strategy="every_other_minute", duration_minutes=10, max_trades=3)
    result = replay_project.runpytest("--testnet-profile", "mine", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(passed=1)
    # A third trade would be a buy with no trade left for its sell: the run ends flat.
    result.stdout.fnmatch_lines(["mine: RUN_MAX_TRADES_REACHED (2 of 3 trades used; a buy needs 2 left), 2 trades, "
                                 "1 round trip, *"])


def test_custom_strategy_from_an_installed_entry_point(replay_project: pytest.Pytester) -> None:
    """An installed package's strategy is found by name; one that takes a shipped
    strategy's name does not replace it (the shipped profile still matches its baseline)."""
    site = replay_project.mkdir("site")
    (site / "edge_strats.py").write_text("""
from pytest_peak_testnet.strategies import Strategy

class Edge(Strategy):
    name = "edge"

    def on_candle(self, candle):
        return "buy" if candle.time // 60 % 2 else "sell"

class Impostor(Edge):
    name = "ma_crossover"
""")
    dist = site / "edge_strats-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: edge-strats\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest_peak_testnet.strategies]\nedge = edge_strats:Edge\nimpostor = edge_strats:Impostor\n")
    replay_project.syspathinsert(site)
    write_profile(replay_project, "mine", strategy="edge", duration_minutes=10, max_trades=3)
    replayed = replay_project.runpytest("--testnet-profile", "ma_crossover_small", *OFFLINE)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*baselines: 1 matched"])
    recorded = replay_project.runpytest("--testnet-profile", "mine", "--testnet-record-mode=all",
                                        "--testnet-simulator")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["mine: RUN_MAX_TRADES_REACHED *, 2 trades, 1 round trip, *"])


def test_xdist_replays_every_shipped_profile(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest_subprocess("-n", "2", "profiles", *OFFLINE)
    result.assert_outcomes(passed=5)
    budget = replay_project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines(["*runs 0 (+5 replay/simulator runs, not counted)"])


def test_recording_against_a_running_simulator_takes_keys_from_the_environment(
        project: pytest.Pytester, kraken_simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KRAKEN_TESTNET_API_KEY", "KRAKEN_TESTNET_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    write_profile(project, "external", duration_minutes=20, params={"fast": 2, "slow": 4})
    args = ("--testnet-profile", "external", "--testnet-record-mode=all", "--testnet-base-url", kraken_simulator.url)
    missing = project.runpytest(*args)
    missing.assert_outcomes(errors=1)  # in setup: the run never starts
    missing.stdout.fnmatch_lines(["CredentialsError: KRAKEN_TESTNET_API_KEY and KRAKEN_TESTNET_API_SECRET: not set; *"])
    assert not (project.path / "test_runs").exists()
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    recorded = project.runpytest(*args)
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["external: DURATION_ELAPSED, * trade*, *"])
    assert "/0/private/AddOrder" in (project.path / "cassettes" / "external.json").read_text()


def test_live_orders_book_the_exchanges_own_fills(project: pytest.Pytester, kraken_simulator: Simulator,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """validate_only = false with allow_live_orders: the simulator places and fills the
    orders at its own book with its own fees, and the run's figures are exactly those."""
    config = project.path / "config" / "config.toml"
    edit(config, "validate_only = true\nallow_live_orders = false", "validate_only = false\nallow_live_orders = true")
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    write_profile(project, "placed", duration_minutes=45, max_notional=300.0, max_trades=6, close_at_end=True,
                  params={"fast": 3, "slow": 7})
    result = project.runpytest("--testnet-profile", "placed", "--testnet-record-mode=all",
                               "--testnet-base-url", kraken_simulator.url)
    result.assert_outcomes(passed=1)
    fills = run_events(project, "fill")
    assert fills and all(f["trade"] for f in fills)
    from pytest_peak_testnet.desk.config import ExchangeConfig
    from pytest_peak_testnet.exchange.kraken.client import KrakenTestnetClient

    client = KrakenTestnetClient(ExchangeConfig(base_url=kraken_simulator.url, validate_only=False,
                                                allow_live_orders=True, rate_limit_ms=0),
                                 credentials=kraken_simulator.credentials())
    trades, count = client.trades_history()
    assert count == len(fills)
    for fill in fills:
        trade = trades[fill["trade"]]
        assert (Decimal(fill["volume"]), Decimal(fill["price"]), Decimal(fill["notional"]), Decimal(fill["fee"])) == \
            (trade.volume, trade.price, trade.cost, trade.fee)
    [finished] = run_events(project, "run_finished")
    metrics = finished["metrics"]
    assert Decimal(metrics["fees"]) == sum(t.fee for t in trades.values())
    assert Decimal(metrics["open_volume"]) == 0  # closed at the end, by the exchange's fills
    # Cash on the exchange moved by exactly the realized PnL the run reports.
    balance = client.balance()
    assert balance["ZEUR"] - 10_000 == Decimal(metrics["realized_pnl"])


@pytest.mark.parametrize("timeframe", ["1w", "15d"])
def test_a_timeframe_the_simulator_does_not_serve_is_refused_before_the_run(project: pytest.Pytester,
                                                                           timeframe: str) -> None:
    write_profile(project, "weekly", timeframe=timeframe, params={"fast": 2, "slow": 5})
    result = project.runpytest("--testnet-profile", "weekly", "--testnet-record-mode=all", "--testnet-simulator")
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"*profiles/weekly.yaml: timeframe: the simulator serves 1m, 5m, 15m, 30m, 1h, 4h, 1d "
                                 f"candles, not {timeframe}; record this profile against Kraken"])
    assert "Traceback" not in result.stdout.str() and "BadRequest" not in result.stdout.str()
    assert not (project.path / "cassettes" / "weekly.json").exists() and not ledger_runs(project.path)
