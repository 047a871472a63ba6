"""A venue is chosen by name (``default_exchange``, a profile's ``exchange:``), and the
environment guard is absolute: a venue with test environments gets no request anywhere else."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_faults import BUY_ONCE

from conftest import edit, error_lines, ledger_runs, run_events, write_profile
from pytest_peak_testnet.desk.config import BINANCE_SPOT_TESTNET, BinanceConfig, ExchangeConfig, load_config
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

BINANCE_BLOCK = '[exchange.binance_testnet]\napi_key_env_var = "DESK_BINANCE_KEY"\n\n'


def _config(project: pytest.Pytester) -> Path:
    return project.path / "config" / "config.toml"


def test_a_binance_block_places_orders_on_its_test_environment_by_default(project: pytest.Pytester) -> None:
    edit(_config(project), "[testnet_session]\n", BINANCE_BLOCK + "[testnet_session]\n")
    config = load_config(_config(project), project.path)
    binance = config.exchanges["binance_testnet"]
    assert isinstance(binance, BinanceConfig) and isinstance(config.exchange, ExchangeConfig)
    assert (binance.base_url, binance.validate_only, binance.recv_window) == (BINANCE_SPOT_TESTNET, False, 5000)
    assert binance.api_key_env_var == "DESK_BINANCE_KEY"


def test_default_exchange_may_name_binance_without_a_block(project: pytest.Pytester) -> None:
    edit(_config(project), 'default_exchange = "kraken_testnet"', 'default_exchange = "binance_testnet"')
    assert isinstance(load_config(_config(project), project.path).exchange, BinanceConfig)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("base_url", '"https://api.binance.com"', "'api.binance.com' is binance's production API (real funds), not one of binance's test environments "
     "(demo-api.binance.com, testnet.binance.vision); orders go to a test environment only"),
    ("base_url", '"https://api3.binance.com/api"', "'api3.binance.com' is binance's production API (real funds), not one of binance's test environments "
     "(demo-api.binance.com, testnet.binance.vision); orders go to a test environment only"),
    ("recv_window", "60001", "expected at most 60000 (Binance's limit), found 60001"),
])
def test_a_production_binance_host_in_the_config_is_one_line(project: pytest.Pytester, key: str, value: str,
                                                            message: str) -> None:
    edit(_config(project), "[testnet_session]\n", f"[exchange.binance_testnet]\n{key} = {value}\n\n[testnet_session]\n")
    result = project.runpytest("--testnet-list")
    assert error_lines(result) == [f"ERROR: config/config.toml: exchange.binance_testnet.{key}: {message}"]


def test_a_profile_naming_an_unknown_exchange_is_one_line(project: pytest.Pytester) -> None:
    write_profile(project, "elsewhere", exchange="binance_tesnet")
    result = project.runpytest("--testnet-list")
    assert error_lines(result) == [
        "ERROR: profiles/elsewhere.yaml: exchange: unknown exchange 'binance_tesnet'; did you mean binance_testnet?; "
        "the config defines kraken_testnet, binance_testnet"]


@contextmanager
def _listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback port that records whatever connects to it: the proxy every request
    would have to go through."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(4096))
                except OSError:
                    seen.append(b"")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every request the run sends goes to a recording proxy (requests honours HTTPS_PROXY)."""
    with _listener() as (url, seen):
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, url)
        yield seen


@pytest.mark.parametrize("host", ["https://api.binance.com", "https://api1.binance.com", "https://binance.com"])
def test_a_production_binance_host_is_refused_before_any_request(project: pytest.Pytester, proxied: list[bytes],
                                                                host: str) -> None:
    """Whatever the config says (``--testnet-base-url`` wins over it): one line, no request
    through the proxy, nothing reserved."""
    write_profile(project, "on_binance", exchange="binance_testnet", symbol="BTC/EUR")
    result = project.runpytest("--testnet-profile", "on_binance", "--testnet-record-mode=all",
                               "--testnet-base-url", host)
    result.assert_outcomes(errors=1)
    name = host.removeprefix("https://")
    what = "" if name == "binance.com" else "binance's production API (real funds), "
    result.stdout.fnmatch_lines([f"*NotTestEnvironment: exchange.binance_testnet: '{name}' is {what}not one of binance's "
                                 "test environments (demo-api.binance.com, testnet.binance.vision); orders go to a "
                                 "test environment only; nothing was sent"])
    assert "Traceback" not in result.stdout.str()
    assert proxied == []
    assert ledger_runs(project.path) == []


def test_the_proxy_sees_a_request_that_is_not_refused(project: pytest.Pytester, proxied: list[bytes],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the same run on Kraken (no test environment, guarded by validate_only),
    with its keys set, sends its requests to the host, and the proxy sees them."""
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    write_profile(project, "on_kraken")
    project.runpytest("--testnet-profile", "on_kraken", "--testnet-record-mode=all",
                      "--testnet-base-url", "https://api.kraken.com")
    assert any(b"api.kraken.com" in request for request in proxied)


def test_the_ledger_and_the_budget_carry_the_venue(replay_project: pytest.Pytester) -> None:
    """A day with runs on two exchange blocks: each run names its block, the budget sums per block."""
    edit(_config(replay_project), "[testnet_session]\n",
         '[exchange.kraken_second]\nbase_url = "https://api.kraken.com"\n\n[testnet_session]\n')
    profiles = replay_project.path / "profiles"
    (profiles / "second.yaml").write_text((profiles / "quick_smoke.yaml").read_text(encoding="utf-8")
                                          + "exchange: kraken_second\ncassette: quick_smoke.json\nbaseline: false\n")
    replay_project.runpytest("--testnet-profile", "quick_smoke,second").assert_outcomes(passed=2)
    result = replay_project.runpytest("--testnet-budget")
    assert sorted(run["venue"] for run in ledger_runs(replay_project.path)) == ["kraken_second", "kraken_testnet"]
    result.stdout.fnmatch_lines(["  kraken_second notional 0.00   trades 0   runs 1   on this exchange",
                                 "  kraken_testnet notional 0.00   trades 0   runs 1   on this exchange"])


def test_a_ledger_day_written_before_the_venue_is_read(tmp_path: Path) -> None:
    from pytest_peak_testnet.desk.usage import UsageLedger

    ledger = UsageLedger(tmp_path, 30)
    ledger.log_unspent("old", "t", "replay", "5", 1, "5", 1, "passed", symbol="BTC/EUR")
    path = ledger.path_for(ledger.today())
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(', "venue": null', ""), encoding="utf-8")
    assert '"venue"' not in path.read_text(encoding="utf-8")
    [run] = ledger.read().run_log
    assert (run.profile, run.venue) == ("old", None)
    assert ledger.read().used_on() == {}


def test_the_postgresql_ledger_keeps_the_venue(postgres: Any) -> None:
    """Schema version 4 adds the column; a run logged without a venue reads back as None."""
    from pytest_peak_testnet.desk.ledger_pg import SCHEMA_VERSION, PostgresLedger

    ledger = PostgresLedger(postgres.new_database(), 30)
    ledger.log_unspent("on_binance", "t", "simulator", "5", 1, "5", 1, "passed", symbol="BTC/USDT",
                       venue="binance_testnet")
    ledger.log_unspent("old", "t", "replay", "5", 1, "5", 1, "passed")
    assert [(run.profile, run.venue) for run in ledger.read().run_log] == [("on_binance", "binance_testnet"),
                                                                           ("old", None)]
    assert ledger.schema_version() == SCHEMA_VERSION == 4


def test_a_fatal_order_error_stops_the_run_and_a_failing_one_is_a_rejection(
        project: pytest.Pytester, kraken_simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """By ``treatment``: ``fatal`` (the key may not trade) ends the run with one line;
    ``fail`` (no funds for this order) is an outcome, and the session runs to its end."""
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    project.makeconftest(BUY_ONCE)
    write_profile(project, "refused", strategy="buy_once", duration_minutes=10, params={})
    args = ("--testnet-profile", "refused", "--testnet-record-mode=all", "--testnet-base-url", kraken_simulator.url)
    kraken_simulator.faults.kraken_error("EGeneral:Permission denied", method="AddOrder")
    fatal = project.runpytest(*args)
    fatal.assert_outcomes(failed=1)
    fatal.stdout.fnmatch_lines(["PermissionDenied: EGeneral:Permission denied*"])
    assert "Traceback" not in fatal.stdout.str() and run_events(project, "order_outcome") == []
    kraken_simulator.faults.kraken_error("EOrder:Insufficient funds", method="AddOrder")
    failing = project.runpytest(*args)
    failing.assert_outcomes(passed=1)
    [outcome] = run_events(project, "order_outcome")
    assert (outcome["status"], outcome["reason"]) == ("rejected", "EOrder:Insufficient funds")


def test_kraken_history_is_refused_for_another_venues_simulator(project: pytest.Pytester) -> None:
    """``--testnet-simulator-data`` is a Kraken OHLCVT CSV: a Binance profile's recording
    stops with one line naming the file, before any simulator starts."""
    csv = project.path / "XBTUSDT_1.csv"
    csv.write_text("".join(f"{1699999980 + 60 * n},100,101,99,100,1,1\n" for n in range(10)))
    write_profile(project, "on_binance", exchange="binance_testnet", symbol="BTC/USDT")
    result = project.runpytest("--testnet-profile", "on_binance", "--testnet-record-mode=all",
                               "--testnet-simulator-data", str(csv))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["InputError: XBTUSDT_1.csv: holds Kraken candles, which only the Kraken simulator "
                                 "serves; profile on_binance trades on binance's simulator (drop the simulator data "
                                 "for it)"])
