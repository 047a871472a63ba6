"""Which server a run talks to is asked, not guessed from its address; and a session ends
whatever that server's clock does."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from servers import plain_server

from conftest import edit, ledger_runs, run_events, write_profile
from pytest_peak_testnet import __version__
from pytest_peak_testnet.exchange.handshake import is_exchange_host, simulator_version
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator
from pytest_peak_testnet.trading.bounds import Bounds, SessionBoundExceeded


def test_only_the_simulator_answers_the_handshake(kraken_simulator: Simulator) -> None:
    assert simulator_version(kraken_simulator.url) == __version__
    with plain_server(kraken_simulator.url) as other:
        assert simulator_version(other) is None  # loopback, HTTP 200 to everything: still not the simulator
    assert simulator_version("http://127.0.0.1:9") is None


@pytest.mark.parametrize(("url", "exchange"), [
    ("https://api.kraken.com", True), ("https://futures.kraken.com/derivatives", True),
    ("https://API.Kraken.com./", True), ("https://testnet.binance.vision/api", True), ("https://api.binance.com", True),
    ("https://kraken.com.example.org", False), ("https://notkraken.com", False), ("http://127.0.0.1:8765", False),
    ("http://localhost:8765", False),
])
def test_a_real_exchange_is_known_by_its_host(url: str, exchange: bool) -> None:
    assert is_exchange_host(url) is exchange


class _Seen(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(f"GET {self.path}")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_live_recording_checks_its_keys_before_it_sends_anything(project: pytest.Pytester,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Not even the simulator's handshake goes out before the keys are known to be there."""
    monkeypatch.delenv("KRAKEN_TESTNET_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_TESTNET_API_SECRET", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Seen)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = project.runpytest("--testnet-profile", "quick_smoke", "--testnet-record-mode=all",
                                   "--testnet-base-url", f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["CredentialsError: KRAKEN_TESTNET_API_KEY and KRAKEN_TESTNET_API_SECRET: "
                                 "not set; private Kraken calls need both"])
    assert _Seen.seen == []


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)


def _ledger_modes(project: pytest.Pytester) -> list[str]:
    return [run["mode"] for run in ledger_runs(project.path)]


def test_a_simulator_at_any_url_is_recognised_by_its_handshake(project: pytest.Pytester, keys: None,
                                                               kraken_simulator: Simulator) -> None:
    write_profile(project, "simmed", duration_minutes=10, params={"fast": 2, "slow": 4})
    result = project.runpytest("--testnet-profile", "simmed", "--testnet-record-mode=all",
                               "--testnet-base-url", kraken_simulator.url)
    result.assert_outcomes(passed=1)
    assert _ledger_modes(project) == ["simulator"]


def test_another_loopback_server_is_an_exchange_and_a_still_clock_ends_the_run(
        project: pytest.Pytester, keys: None, kraken_simulator: Simulator) -> None:
    config = project.path / "config" / "config.toml"
    edit(config, "poll_interval_seconds = 60.0", "poll_interval_seconds = 0.5")
    write_profile(project, "proxied", duration_minutes=10, params={"fast": 2, "slow": 4})
    with plain_server(kraken_simulator.url) as url:
        started = time.monotonic()
        result = project.runpytest("--testnet-profile", "proxied", "--testnet-record-mode=all",
                                   "--testnet-base-url", url)
        took = time.monotonic() - started
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["SessionBoundExceeded: the exchange's clock did not move: server time stayed at "
                                 "1704067200 for * polls and * s of waiting; run ended"])
    assert "Traceback" not in result.stdout.str()
    assert 2.5 <= took < 30  # the live run waited on the wall clock, and not for ever
    assert _ledger_modes(project) == ["live"]  # it reserved and settled: it spends
    assert kraken_simulator.clock.now() == 1704067200  # nobody moved the server's clock
    [failed] = run_events(project, "run_failed")
    assert failed["error"].startswith("SessionBoundExceeded: the exchange's clock did not move")


class _Time:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_crawling_clock_ends_after_the_planned_polls_and_slack() -> None:
    waited = _Time()
    bounds = Bounds(60 * 60, 60, waited, wall=_Time())
    with pytest.raises(SessionBoundExceeded, match=r"^71 polls, more than the 70 a 60-minute session can need; "):
        for poll in range(1000):
            waited.now += 60
            bounds.poll(1_700_000_000 + poll)  # one second of server time per minute waited


def test_wall_clock_time_is_bounded_by_duration_and_grace() -> None:
    wall = _Time()
    bounds = Bounds(30 * 60, 60, _Time(), wall=wall)
    wall.now = 40 * 60 - 1
    bounds.poll(1)
    wall.now = 40 * 60 + 1
    with pytest.raises(SessionBoundExceeded, match=r"^40\.0 min of wall-clock time, past the planned 30 min plus "
                                                   r"10 min of grace; run ended$"):
        bounds.poll(2)


def test_short_polls_may_see_whole_second_server_time_stand_still() -> None:
    """Kraken's time is in whole seconds: four half-second polls may read the same second
    (more than ``STALL_POLLS``), and that is no stall; the same clock standing still for
    ``STALL_SECONDS`` of waiting is one."""
    waited = _Time()
    bounds = Bounds(60, 0.5, waited, wall=_Time())
    for poll in range(8):  # 4 s of waiting on a clock that ticks every 2 s: no stall
        waited.now += 0.5
        bounds.poll(100 + poll // 4)
    assert bounds.polls == 8
    stalled_at = None
    for poll in range(8, 30):  # then it stops at 102
        waited.now += 0.5
        try:
            bounds.poll(102)
        except SessionBoundExceeded as exc:
            stalled_at = poll, str(exc)
            break
    assert stalled_at == (18, "the exchange's clock did not move: server time stayed at 102 for 10 polls and 5 s "
                              "of waiting; run ended")
