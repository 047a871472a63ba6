"""No key or secret anywhere a failing run writes, however it fails and however verbose
pytest is asked to be: stdout, stderr, junit XML, reports, run logs, cassettes, ledger."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import requests
from servers import simulator_process

from conftest import write_profile
from pytest_peak_testnet.cassettes import find_secrets

KEY = "DISTINCTIVE-key-9QzX7w"
SECRET = base64.b64encode(b"DISTINCTIVE-secret-d81f2a6c0e7b44f5").decode()
WRONG_SECRET = base64.b64encode(b"DISTINCTIVE-wrong-secret-5b7e").decode()
VERBOSE = ("-vv", "--showlocals", "--tb=long", "-rA", "--junitxml=junit.xml", "--testnet-report", "-p", "no:xdist")

STRATEGIES = """
import os, signal
from pytest_peak_testnet.strategies import Strategy

class Boom(Strategy):
    name = "boom"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen > 52:
            raise RuntimeError("the user's strategy broke")
        return None

class KillTheExchange(Strategy):
    name = "kill_the_exchange"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == 53:
            os.kill(int(os.environ["PEAK_SIM_PID"]), signal.SIGKILL)
            return "buy"
        return None

def pytest_peak_testnet_strategies():
    return [Boom, KillTheExchange]
"""

#: kind -> (key, secret, strategy, fault to switch on, expected line)
KINDS = {
    "strategy_raises": (KEY, SECRET, "boom", None, "*RuntimeError: the user's strategy broke*"),
    "simulator_dies": (KEY, SECRET, "kill_the_exchange", None,
                       "ClockError: the simulator at * did not advance its clock (ConnectionError)"),
    "non_latin1_key": (f"{KEY}\u2019", SECRET, "ma_crossover", None,
                       "*CredentialsError: KRAKEN_TESTNET_API_KEY: contains a non-ASCII character at position 23*"),
    "secret_not_base64": (KEY, f"{SECRET}!", "ma_crossover", None,
                          "*CredentialsError: KRAKEN_TESTNET_API_SECRET: is not valid base64*"),
    "wrong_secret": (KEY, WRONG_SECRET, "ma_crossover", None, "*AuthenticationError*EAPI:Invalid signature*"),
    "exchange_down": (KEY, SECRET, "ma_crossover", {"kind": "http_error", "status": "500", "times": "100"},
                      "*ExchangeNotAvailable*HTTP 500*"),
}


def _everything_written(root: Path) -> dict[str, str]:
    inputs = {root / "conftest.py", *root.glob("profiles/*"), *root.glob("config/*")}
    return {str(path.relative_to(root)): path.read_text("utf-8", "replace")
            for path in root.rglob("*") if path.is_file() and path not in inputs}


@pytest.mark.parametrize("kind", KINDS)
def test_no_failure_shows_the_credentials(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                          kind: str) -> None:
    key, secret, strategy, fault, expected = KINDS[kind]
    project.makeconftest(STRATEGIES)
    write_profile(project, "leaky", strategy=strategy, duration_minutes=20, params={} if strategy != "ma_crossover"
                  else {"fast": 2, "slow": 4})
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", key)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", secret)
    with simulator_process(KEY, SECRET) as (url, process):
        monkeypatch.setenv("PEAK_SIM_PID", str(process.pid))
        if fault:
            requests.post(f"{url}/_sim/faults", data=fault, timeout=5).raise_for_status()
        result = project.runpytest_subprocess("--testnet-profile", "leaky", "--testnet-record-mode=all",
                                              "--testnet-base-url", url, *VERBOSE, timeout=120)
    assert result.ret != 0
    result.stdout.fnmatch_lines([expected])
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str(), **_everything_written(project.path)}
    assert "junit.xml" in texts and (kind in ("non_latin1_key", "secret_not_base64") or
                                     any(name.startswith("test_runs/") for name in texts))
    for needle in (key, secret, KEY, SECRET, WRONG_SECRET, SECRET[:16], KEY[:14]):
        assert [name for name, text in texts.items() if needle in text] == [], needle


INTERRUPT_IN_ADDORDER = """
import os, signal, threading
from pytest_peak_testnet.strategies import Strategy

class CtrlCInAddOrder(Strategy):
    '''Buys on the first candle of the run; the simulator holds that AddOrder's answer back,
    and the user presses Ctrl-C while the request waits for it.'''
    name = "ctrl_c_in_addorder"
    def on_candle(self, candle):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == 52:
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
            return "buy"
        return None

def pytest_peak_testnet_strategies():
    return [CtrlCInAddOrder]
"""


@pytest.mark.parametrize("option", ["--fulltrace", "--tb=long", "--showlocals", "-vv"])
def test_ctrl_c_during_a_signed_request_shows_no_key_signature_or_nonce(project: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         option: str) -> None:
    project.makeconftest(INTERRUPT_IN_ADDORDER)
    write_profile(project, "leaky", strategy="ctrl_c_in_addorder", duration_minutes=20)
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", SECRET)
    with simulator_process(KEY, SECRET) as (url, _):
        requests.post(f"{url}/_sim/faults", data={"kind": "delay", "seconds": "5", "method": "AddOrder"},
                      timeout=5).raise_for_status()
        result = project.runpytest_subprocess("--testnet-profile", "leaky", "--testnet-record-mode=all",
                                              "--testnet-base-url", url, option, "-p", "no:xdist", timeout=120)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str() + result.stderr.str()
    assert "KeyboardInterrupt" in output
    if option == "--fulltrace":  # the whole stack, down to the socket waiting for AddOrder's answer
        assert "_post_signed" in output and "AddOrder" in output and "readinto" in output
    for needle in (KEY, SECRET, KEY[:14], SECRET[:16]):
        assert needle not in output
    assert find_secrets(output.replace("API-Key", "").replace("API-Sign", "")) == []  # no signature, no nonce=
    assert not re.search(r"\b1[7-9]\d{11}\b", output)  # a nonce: milliseconds since the epoch


CTRL_C_IN_A_BINANCE_ORDER = """
import os, signal, threading
from decimal import Decimal
from pytest_peak_testnet.exchange.binance import BinanceTestnetClient
from pytest_peak_testnet.exchange.simulator import Simulator

def test_order():
    with Simulator(venue="binance", api_key=os.environ["PEAK_KEY"], api_secret=os.environ["PEAK_SECRET"]) as sim:
        config = sim.config()
        client = BinanceTestnetClient(config, keys=sim.credentials(config))
        sim.faults.delay(5, method="POST /api/v3/order")
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        client.place_order("BTC/USDT", "buy", "market", Decimal("0.001"))
"""


@pytest.mark.parametrize("option", ["--fulltrace", "--showlocals"])
def test_ctrl_c_during_a_binance_order_shows_no_key_or_signature(pytester: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    """Binance signs the query: the body of a POST, the URL of a GET. The key travels in
    ``X-MBX-APIKEY``; both are ``Redacted`` like Kraken's, all the way down to the socket."""
    monkeypatch.setenv("PEAK_KEY", KEY)
    monkeypatch.setenv("PEAK_SECRET", SECRET)
    pytester.makepyfile(test_binance_order=CTRL_C_IN_A_BINANCE_ORDER)
    result = pytester.runpytest_subprocess(option, "-p", "no:randomly", "-p", "no:xdist", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str() + result.stderr.str()
    if option == "--fulltrace":  # the whole stack, down to the socket waiting for the order's answer
        assert "_attempt" in output and "readinto" in output
    for needle in (KEY, SECRET, KEY[:14], SECRET[:16]):
        assert needle not in output
    assert not re.search(r"signature=[0-9a-f]{16}", output)
