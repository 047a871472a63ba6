"""The simulator's Binance front-end on the wire, as any HTTP client sees it: Binance's paths,
shapes, signature and timestamp checks, weight header, and determinism."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from pytest_peak_testnet.exchange.binance.signing import sign
from pytest_peak_testnet.exchange.simulator import Simulator
from pytest_peak_testnet.exchange.simulator.server import BINANCE_API_SECRET, DEFAULT_API_KEY


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(venue="binance", seed=1) as simulator:
        yield simulator


def signed(sim: Simulator, verb: str, path: str, secret: str = BINANCE_API_SECRET, timestamp: int | None = None,
           **params: Any) -> requests.Response:
    query = urlencode({**params, "timestamp": timestamp if timestamp is not None else int(sim.clock.now() * 1000)})
    query += f"&signature={sign(query, secret)}"
    return requests.request(verb, f"{sim.url}{path}?{query}", headers={"X-MBX-APIKEY": DEFAULT_API_KEY}, timeout=5)


def test_public_paths_answer_in_binances_shapes(sim: Simulator) -> None:
    assert requests.get(f"{sim.url}/api/v3/time", timeout=5).json() == {"serverTime": 1704067200000}
    info = requests.get(f"{sim.url}/api/v3/exchangeInfo", timeout=5)
    assert info.headers["X-MBX-USED-WEIGHT-1M"] == "21"
    symbols = {s["symbol"]: s for s in info.json()["symbols"]}
    assert set(symbols) == {"BTCUSDT", "ETHUSDT"}
    assert {f["filterType"] for f in symbols["BTCUSDT"]["filters"]} >= \
        {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "PERCENT_PRICE_BY_SIDE"}
    sim.clock.advance(90)
    rows = requests.get(f"{sim.url}/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 3},
                        timeout=5).json()
    assert [r[0] for r in rows] == [1704067140000, 1704067200000, 1704067260000]  # the last is under way
    assert all(isinstance(r[0], int) and isinstance(r[1], str) and r[6] == r[0] + 59999 for r in rows)
    book = requests.get(f"{sim.url}/api/v3/ticker/bookTicker", params={"symbol": "ETHUSDT"}, timeout=5).json()
    assert float(book["bidPrice"]) < float(book["askPrice"]) and book["bidPrice"].count(".") == 1
    bad = requests.get(f"{sim.url}/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "7m"}, timeout=5)
    assert (bad.status_code, bad.json()["code"]) == (400, -1120)


def test_signed_paths_check_key_timestamp_and_signature(sim: Simulator) -> None:
    assert signed(sim, "GET", "/api/v3/account").status_code == 200
    assert signed(sim, "GET", "/api/v3/account", secret="wrong").json() == \
        {"code": -1022, "msg": "Signature for this request is not valid."}
    old = signed(sim, "GET", "/api/v3/account", timestamp=int(sim.clock.now() * 1000) - 6000)
    assert (old.status_code, old.json()["code"]) == (400, -1021)
    ahead = signed(sim, "GET", "/api/v3/account", timestamp=int(sim.clock.now() * 1000) + 1000)
    assert ahead.json()["msg"] == "Timestamp for this request was 1000ms ahead of the server's time."
    unsigned = requests.get(f"{sim.url}/api/v3/account", timeout=5)
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, -2014)


def test_orders_answer_full_and_refuse_with_binances_codes(sim: Simulator) -> None:
    placed = signed(sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                    quantity="0.001", newClientOrderId="c1", newOrderRespType="FULL").json()
    assert (placed["status"], placed["clientOrderId"], placed["executedQty"]) == ("FILLED", "c1", "0.00100000")
    assert placed["fills"][0]["commissionAsset"] == "BTC" and isinstance(placed["orderId"], int)
    lot = signed(sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.0000001")
    assert lot.json() == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    gone = signed(sim, "GET", "/api/v3/order", symbol="BTCUSDT", orderId="77")
    assert gone.json() == {"code": -2013, "msg": "Order does not exist."}
    assert signed(sim, "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=str(placed["orderId"])).json() == \
        {"code": -2011, "msg": "Unknown order sent."}


def test_same_seed_and_steps_give_byte_identical_answers() -> None:
    def session() -> list[bytes]:
        with Simulator(venue="binance", seed=5, book_depth="0.001") as sim:
            bodies = [requests.get(f"{sim.url}/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "5m"},
                                   timeout=5).content]
            sim.clock.advance(600)
            bodies.append(signed(sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET",
                                 quantity="0.004", newClientOrderId="x").content)
            return bodies
    assert session() == session()


def test_command_line_serves_binance() -> None:
    process = subprocess.Popen([sys.executable, "-m", "pytest_peak_testnet.simulator", "--venue", "binance"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert requests.get(f"{url}/api/v3/time", timeout=5).json() == {"serverTime": 1704067200000}
        assert requests.get(f"{url}/_sim/hello", timeout=5).json()["simulator"] == "pytest-peak-testnet simulator"
        assert requests.post(f"{url}/_sim/advance", data={"seconds": "60"}, timeout=5).json()["unixtime"] == \
            1704067260
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
