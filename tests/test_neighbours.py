"""Other plugins a desk's venv may hold: pytest-socket, pytest-randomly, xdist, strict markers."""

from __future__ import annotations

import pytest

from conftest import write_profile
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET

SOCKET_STRATEGY = """
    import socket

    from pytest_peak_testnet.strategies import Strategy

    class Online(Strategy):
        name = "online"

        def on_candle(self, candle):
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()

    def pytest_peak_testnet_strategies():
        return [Online]
"""


def test_a_replay_opens_no_socket(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("--disable-socket", "--strict-markers", "-p", "randomly", "profiles")
    result.assert_outcomes(passed=5)


def test_disable_socket_covers_profile_items(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest(SOCKET_STRATEGY)
    write_profile(replay_project, "online", strategy="online", duration_minutes=15, cassette="quick_smoke.json")
    result = replay_project.runpytest("--disable-socket", "--testnet-profile", "online")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SocketBlockedError*"])


def test_a_recording_refused_a_socket_is_one_line(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys set, the real Kraken API configured, sockets off: the run's first request is
    refused (no handshake goes to a real exchange's host before it), in one line."""
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    result = project.runpytest("--disable-socket", "--testnet-profile", "quick_smoke", "--testnet-record-mode=all")
    result.assert_outcomes(failed=1)
    failure = result.stdout.str().split("= FAILURES =")[1].split("= warnings summary =")[0].splitlines()[2:-1]
    assert len(failure) == 1 and failure[0].startswith(
        "SocketBlockedError: A test tried to use socket.getaddrinfo. (pytest-socket refused this run's connection"), failure


def test_a_simulator_recording_runs_with_only_loopback_allowed(project: pytest.Pytester) -> None:
    write_profile(project, "rec", duration_minutes=20, params={"fast": 2, "slow": 4})
    result = project.runpytest("--allow-hosts=127.0.0.1", "--testnet-profile", "rec", "--testnet-record-mode=rewrite",
                               "--testnet-simulator")
    result.assert_outcomes(passed=1)
