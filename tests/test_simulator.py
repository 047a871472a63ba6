"""The simulator on its own: Kraken's shapes, determinism, the clock, faults, its checks, the CLI."""

from __future__ import annotations

import itertools
import re
import signal
import subprocess
import sys
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from pytest_peak_testnet.exchange import errors as ke
from pytest_peak_testnet.exchange.kraken.errors import unwrap
from pytest_peak_testnet.exchange.kraken.wire import sign
from pytest_peak_testnet.exchange.simulator import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_START_TIME,
    SimClock,
    Simulator,
)
from pytest_peak_testnet.exchange.simulator.kraken.history import page
from pytest_peak_testnet.exchange.simulator.kraken.pairs import PAIRS


def public(sim: Simulator, method: str, **params: object) -> requests.Response:
    return requests.get(f"{sim.url}/0/public/{method}", params=params, timeout=5)


def private(sim: Simulator, method: str, nonce: int, secret: str = DEFAULT_API_SECRET,
            **params: object) -> requests.Response:
    """A request signed by hand, to reach the simulator's checks the client would pre-empt."""
    path = f"/0/private/{method}"
    body = urlencode({"nonce": nonce, **params})
    headers = {"API-Key": DEFAULT_API_KEY, "API-Sign": sign(path, nonce, body, secret),
               "Content-Type": "application/x-www-form-urlencoded"}
    return requests.post(sim.url + path, data=body, headers=headers, timeout=5)


def kraken_error(response: requests.Response) -> ke.BaseError:
    with pytest.raises(ke.BaseError) as info:
        unwrap(response.json())
    return info.value


def session_bodies(sim: Simulator) -> list[bytes]:
    """A fixed sequence of public and private calls, with clock steps between them."""
    bodies = [public(sim, "Time").content, public(sim, "AssetPairs").content]
    for step in range(3):
        bodies += [public(sim, "Ticker", pair="XBTEUR").content,
                   public(sim, "OHLC", pair="XXBTZEUR", interval=5).content,
                   private(sim, "AddOrder", 2 * step + 1, pair="XXBTZEUR", type="buy", ordertype="market",
                           volume="0.01").content,
                   private(sim, "Balance", 2 * step + 2).content]
        sim.clock.advance(97.5)
    assert all(b'"error":[]' in body for body in bodies) and b'"txid"' in bodies[-2]
    return bodies


def test_same_seed_and_steps_give_byte_identical_answers() -> None:
    with Simulator(seed=5) as first, Simulator(seed=5) as second, Simulator(seed=6) as other:
        answers = session_bodies(first)
        assert answers == session_bodies(second)
        assert answers != session_bodies(other)
        assert public(first, "Time").headers["Date"] == public(second, "Time").headers["Date"]


def test_kraken_wire_format(kraken_simulator: Simulator) -> None:
    pairs = public(kraken_simulator, "AssetPairs")
    assert b'"wsname":"XBT\\/EUR"' in pairs.content  # escaped as Kraken's servers do
    btc = pairs.json()["result"]["XXBTZEUR"]
    assert btc["altname"] == "XBTEUR" and btc["base"] == "XXBT" and btc["quote"] == "ZEUR"
    assert isinstance(btc["pair_decimals"], int) and isinstance(btc["ordermin"], str)
    assert {"costmin", "tick_size", "status", "fees", "fees_maker", "cost_decimals"} <= set(btc)
    assert set(pairs.json()["result"]) == {"XXBTZEUR", "XETHZEUR", "XBTUSDT", "XETHXXBT", "SHIBEUR"}
    ticker = public(kraken_simulator, "Ticker", pair="ETHEUR").json()["result"]["XETHZEUR"]
    assert all(isinstance(x, int) for x in ticker["t"]) and isinstance(ticker["o"], str)
    assert all(isinstance(x, str) for key in "abcvplh" for x in ticker[key])
    failed = public(kraken_simulator, "Ticker", pair="DOGEEUR").json()
    assert failed == {"error": ["EQuery:Unknown asset pair"]}  # no "result" key at all
    time_ = public(kraken_simulator, "Time").json()["result"]
    assert time_ == {"unixtime": 1704067200, "rfc1123": "Mon, 01 Jan 24 00:00:00 +0000"}


@pytest.mark.parametrize("interval", [1, 5, 15, 30, 60, 240, 1440])
def test_ohlc_windows(kraken_simulator: Simulator, interval: int) -> None:
    kraken_simulator.clock.advance(3 * 86400 + 4321)
    now = int(kraken_simulator.clock.now())
    span = interval * 60
    since = now - 3 * 86400 if interval == 1440 else None  # a full daily window costs 720 simulated days
    result = public(kraken_simulator, "OHLC", pair="XXBTZEUR", interval=interval,
                    **({"since": since} if since else {})).json()["result"]
    rows = result["XXBTZEUR"]
    assert len(rows) == (3 if since else 720)
    assert [row[0] for row in rows] == list(range(now // span * span - (len(rows) - 1) * span, now + 1, span))
    assert result["last"] == rows[-2][0]  # the newest closed candle; the last row is still open
    assert all(isinstance(row[0], int) and isinstance(row[7], int) and isinstance(row[4], str) for row in rows)
    assert all(float(row[3]) <= min(float(row[1]), float(row[4])) <= float(row[2]) for row in rows)


def test_longer_candles_aggregate_the_minutes_and_since_is_exclusive(kraken_simulator: Simulator) -> None:
    kraken_simulator.clock.advance(3600 + 30)
    five = public(kraken_simulator, "OHLC", pair="XBTEUR", interval=5).json()["result"]["XXBTZEUR"][-3]
    minutes = public(kraken_simulator, "OHLC", pair="XBTEUR", interval=1, since=five[0] - 60).json()["result"]
    ones = minutes["XXBTZEUR"][:5]
    assert ones[0][0] == five[0]
    assert five[1] == ones[0][1] and five[4] == ones[-1][4]
    assert float(five[2]) == max(float(row[2]) for row in ones)
    assert float(five[3]) == min(float(row[3]) for row in ones)
    assert five[7] == sum(row[7] for row in ones)
    assert public(kraken_simulator, "OHLC", pair="XBTEUR", interval=10080).json() == {
        "error": ["EGeneral:Invalid arguments:interval"]}


def test_clock_is_driven_by_python_and_by_http(kraken_simulator: Simulator) -> None:
    url = kraken_simulator.url
    assert requests.get(f"{url}/_sim/clock", timeout=5).json() == {
        "now": DEFAULT_START_TIME, "unixtime": int(DEFAULT_START_TIME), "speed": 0.0}
    kraken_simulator.clock.advance(60)
    assert requests.post(f"{url}/_sim/advance", data={"seconds": "30.5"}, timeout=5).json()["now"] == (
        DEFAULT_START_TIME + 90.5)
    assert public(kraken_simulator, "Time").json()["result"]["unixtime"] == int(DEFAULT_START_TIME) + 90
    assert requests.post(f"{url}/_sim/advance", data={"seconds": "-1"}, timeout=5).status_code == 400
    assert requests.get(f"{url}/_sim/nothing", timeout=5).status_code == 404


def test_accelerated_clock_runs_at_speed() -> None:
    wall = [100.0]
    clock = SimClock(start_time=1000.0, speed=60.0, wall=lambda: wall[0])
    wall[0] += 2.5
    assert clock.now() == 1150.0
    assert clock.advance(10) == 1160.0


def test_faults_over_http(kraken_simulator: Simulator) -> None:
    faults = f"{kraken_simulator.url}/_sim/faults"
    assert requests.post(faults, data={"kind": "http_error", "status": "502", "times": "2", "method": "Time"},
                         timeout=5).json() == {"pending": 2}
    assert public(kraken_simulator, "Ticker", pair="XBTEUR").status_code == 200  # another method: untouched
    assert [public(kraken_simulator, "Time").status_code for _ in range(3)] == [502, 502, 200]
    requests.post(faults, data={"kind": "kraken_error", "error": "EService:Busy"}, timeout=5)
    assert public(kraken_simulator, "Time").json() == {"error": ["EService:Busy"]}
    requests.post(faults, data={"kind": "malformed"}, timeout=5)
    with pytest.raises(ValueError):
        public(kraken_simulator, "Time").json()
    requests.post(faults, data={"kind": "rate_limit", "times": "5"}, timeout=5)
    assert requests.post(faults, data={"kind": "clear"}, timeout=5).json() == {"pending": 0}
    requests.post(faults, data={"kind": "delay", "seconds": "0.3"}, timeout=5)
    with pytest.raises(requests.Timeout):
        requests.get(f"{kraken_simulator.url}/0/public/Time", timeout=0.1)
    bad = requests.post(faults, data={"kind": "flood"}, timeout=5)
    assert bad.status_code == 400 and "unknown fault kind 'flood'" in bad.json()["error"]


def test_signature_and_nonce_checks(kraken_simulator: Simulator) -> None:
    assert private(kraken_simulator, "Balance", 5).json()["error"] == []
    assert kraken_error(private(kraken_simulator, "Balance", 5)).errors == ("EAPI:Invalid nonce",)
    assert kraken_error(private(kraken_simulator, "Balance", 4)).errors == ("EAPI:Invalid nonce",)
    wrong = "c2VjcmV0LW5vdC10aGUtc2ltdWxhdG9ycw=="
    assert kraken_error(private(kraken_simulator, "Balance", 6, secret=wrong)).errors == ("EAPI:Invalid signature",)
    assert kraken_simulator.exchange.accepted_nonces == [5]


@pytest.mark.parametrize(("params", "error", "cls"), [
    ({"pair": "DOGEEUR", "volume": "1"}, "EQuery:Unknown asset pair", ke.BadSymbol),
    ({"volume": "0.00001"}, "EOrder:Order minimum not met", ke.InvalidOrder),
    ({"volume": "0.0001", "ordertype": "limit", "price": "1000.0"}, "EOrder:Cost minimum not met", ke.InvalidOrder),
    ({"volume": "0.01", "ordertype": "limit", "price": "30000.15"},
     "EOrder:Invalid price:XBTEUR price can only be specified up to 1 decimals.", ke.InvalidOrder),
    ({"volume": "10"}, "EOrder:Insufficient funds", ke.InsufficientFunds),
    ({"volume": "0.123456789"}, "EGeneral:Invalid arguments:volume", ke.BadRequest),
    ({"volume": "1", "type": "short"}, "EGeneral:Invalid arguments:type", ke.BadRequest),
])
def test_order_rules_answer_krakens_errors(kraken_simulator: Simulator, params: dict[str, str],
                                           error: str, cls: type[ke.BaseError]) -> None:
    order = {"pair": "XBTEUR", "type": "buy", "ordertype": "market", "validate": "true", **params}
    failure = kraken_error(private(kraken_simulator, "AddOrder", 1, **order))
    assert type(failure) is cls and failure.errors == (error,)


def test_rate_counter_decays_with_the_simulated_clock() -> None:
    with Simulator(tier="starter") as sim:
        answers = [private(sim, "Balance", nonce).json()["error"] for nonce in range(1, 17)]
        assert answers == [[]] * 15 + [["EAPI:Rate limit exceeded"]]
        sim.clock.advance(3.1)  # 0.33 per second: one call's worth
        assert private(sim, "Balance", 20).json()["error"] == []
        assert private(sim, "Balance", 21).json()["error"] == ["EAPI:Rate limit exceeded"]


def test_resting_limit_order_fills_when_the_market_reaches_it(kraken_simulator: Simulator) -> None:
    start = kraken_simulator.clock.now()
    low = kraken_simulator.exchange.market.path(PAIRS["XXBTZEUR"]).window(start + 60, start + 3600)[3]
    limit = f"{Decimal(str(low)).quantize(Decimal('0.1')) + Decimal('0.1')}"
    placed = private(kraken_simulator, "AddOrder", 1, pair="XBTEUR", type="buy", ordertype="limit",
                     volume="0.01", price=limit).json()["result"]
    txid = placed["txid"][0]
    assert private(kraken_simulator, "OpenOrders", 2).json()["result"]["open"][txid]["status"] == "open"
    assert private(kraken_simulator, "Balance", 3).json()["result"]["XXBT"] == "0.5000000000"
    kraken_simulator.clock.advance(3600)
    order = private(kraken_simulator, "QueryOrders", 4, txid=txid).json()["result"][txid]
    assert (order["status"], order["price"], order["vol_exec"]) == ("closed", limit, "0.01000000")
    assert private(kraken_simulator, "Balance", 5).json()["result"]["XXBT"] == "0.5100000000"


class Caller:
    """Signed calls with increasing nonces, answering ``result``; one simulator, one test."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._nonces = itertools.count(1)

    def response(self, method: str, **params: Any) -> requests.Response:
        return private(self.sim, method, next(self._nonces), **params)

    def __call__(self, method: str, **params: object) -> Any:
        payload = self.response(method, **params).json()
        assert payload["error"] == [], payload
        return payload["result"]

    def order(self, side: str, volume: str, ordertype: str = "market", pair: str = "XBTEUR", **params: object) -> str:
        return str(self("AddOrder", pair=pair, type=side, ordertype=ordertype, volume=volume, **params)["txid"][0])


TRADE_ID = re.compile(r"T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}")


def test_each_fill_is_a_trade_in_krakens_shape(kraken_simulator: Simulator) -> None:
    call = Caller(kraken_simulator)
    before = call("Balance")
    txid = call.order("buy", "0.02")
    assert "trades" not in call("QueryOrders", txid=txid)[txid]
    order = call("QueryOrders", txid=txid, trades="true")[txid]
    (trade_id,) = order["trades"]
    assert TRADE_ID.fullmatch(trade_id)
    trade = call("QueryTrades", txid=trade_id)[trade_id]
    assert trade == {
        "ordertxid": txid, "postxid": "TKH2SE-M7IF5-CFI7LT", "pair": "XXBTZEUR", "time": DEFAULT_START_TIME,
        "type": "buy", "ordertype": "market", "price": order["price"], "cost": order["cost"],
        "fee": order["fee"], "vol": "0.02000000", "margin": "0.00000", "misc": "",
        "trade_id": 1, "maker": False,
    }
    assert call("QueryTrades", txid=",".join([trade_id] * 20)) == {trade_id: trade}
    assert call.response("QueryTrades", txid=",".join([trade_id] * 21)).json() == {
        "error": ["EGeneral:Invalid arguments:txid"]}  # Kraken takes at most 20
    cost, fee = Decimal(trade["cost"]), Decimal(trade["fee"])
    assert cost == (Decimal(trade["price"]) * Decimal("0.02")).quantize(Decimal("0.0001"))
    assert fee == (cost * Decimal("0.0026")).quantize(Decimal("0.0001"))
    after = call("Balance")
    assert Decimal(after["ZEUR"]) == Decimal(before["ZEUR"]) - cost - fee
    assert Decimal(after["XXBT"]) == Decimal(before["XXBT"]) + Decimal("0.02")


def test_a_resting_order_fills_as_maker_when_the_market_reaches_it(kraken_simulator: Simulator) -> None:
    call = Caller(kraken_simulator)
    start = kraken_simulator.clock.now()
    high = kraken_simulator.exchange.market.path(PAIRS["XXBTZEUR"]).window(start + 60, start + 3600)[2]
    limit = f"{Decimal(str(high)).quantize(Decimal('0.1')) - Decimal('0.1')}"
    txid = call.order("sell", "0.01", "limit", price=limit)
    assert call("TradesHistory") == {"trades": {}, "count": 0}
    kraken_simulator.clock.advance(3600)
    (trade,) = call("TradesHistory")["trades"].values()
    assert (trade["ordertxid"], trade["maker"], trade["price"], trade["time"]) == (txid, True, limit, start + 3600)
    assert Decimal(trade["fee"]) == (Decimal(trade["cost"]) * Decimal("0.0016")).quantize(Decimal("0.0001"))


def test_trades_history_and_closed_orders_list_newest_first_within_bounds(kraken_simulator: Simulator) -> None:
    call = Caller(kraken_simulator)
    first = call.order("buy", "0.01", userref=7)
    kraken_simulator.clock.advance(60)
    second, third = call.order("buy", "0.01"), call.order("sell", "0.01", userref=7)  # one instant, two trades
    resting, open_ = (call.order("buy", "0.01", "limit", price="1000.0", userref=7) for _ in range(2))
    kraken_simulator.clock.advance(60)
    call("CancelOrder", txid=resting)
    history = call("TradesHistory")
    trades = history["trades"]
    assert history["count"] == 3 and [t["ordertxid"] for t in trades.values()] == [third, second, first]
    newest, middle, _ = trades

    def ordertxids(**bounds: object) -> list[str]:
        return [t["ordertxid"] for t in call("TradesHistory", **bounds)["trades"].values()]

    assert ordertxids(start=DEFAULT_START_TIME) == [third, second]  # start is exclusive
    assert ordertxids(end=DEFAULT_START_TIME) == [first]  # end is inclusive
    assert ordertxids(start=middle) == [third] and ordertxids(end=middle) == [second, first]  # txids, same instant
    assert ordertxids(ofs=1) == [second, first] and call("TradesHistory", ofs=1)["count"] == 3
    closed = call("ClosedOrders", userref=7, trades="true")
    assert closed["count"] == 3 and list(closed["closed"]) == [resting, third, first]
    assert closed["closed"][resting]["status"] == "canceled"
    assert closed["closed"][third]["trades"] == [newest]
    assert "trades" not in closed["closed"][resting]
    assert call("ClosedOrders", userref=8) == {"closed": {}, "count": 0}
    assert call("ClosedOrders")["count"] == 4 and open_ not in call("ClosedOrders")["closed"]


def test_history_pages_hold_fifty() -> None:
    entries = [(f"T{i}", float(i // 10)) for i in range(120)]
    assert page(entries, {}) == ([f"T{i}" for i in range(119, 69, -1)], 120)
    assert page(entries, {"ofs": "100"}) == ([f"T{i}" for i in range(19, -1, -1)], 120)
    assert page(entries, {"start": "5", "end": "T64"}) == ([f"T{i}" for i in range(64, 59, -1)], 5)


def test_trade_balance_values_the_account_at_the_simulators_prices(kraken_simulator: Simulator) -> None:
    call = Caller(kraken_simulator)
    call.order("sell", "0.1")
    call.order("buy", "1", "limit", "ETHEUR", price="1000.00")
    balance = {asset: Decimal(amount) for asset, amount in call("Balance").items()}
    ticker = public(kraken_simulator, "Ticker").json()["result"]
    btc, eth = (Decimal(ticker[pair]["c"][0]) for pair in ("XXBTZEUR", "XETHZEUR"))  # the last trade price
    euros = balance["ZEUR"] + balance["XXBT"] * btc + balance["XETH"] * eth
    total = f"{euros.quantize(Decimal('0.0001'))}"
    assert call("TradeBalance", asset="ZEUR") == {"eb": total, "tb": total, "m": "0.0000", "uv": "1000.0000",
                                                  "n": "0.0000", "c": "0.0000", "v": "0.0000", "e": total,
                                                  "mf": total}
    in_btc = call("TradeBalance", asset="XXBT")
    assert in_btc["eb"] == f"{(euros / btc).quantize(Decimal('1E-10'))}"
    assert in_btc["uv"] == f"{(1000 / btc).quantize(Decimal('1E-10'))}"


@pytest.mark.parametrize(("method", "params", "error"), [
    ("QueryTrades", {}, "EGeneral:Invalid arguments:txid"),
    ("QueryTrades", {"txid": "THVRQM-33VKH-UCI7BS"}, "EGeneral:Invalid arguments:txid"),
    ("TradesHistory", {"start": "yesterday"}, "EGeneral:Invalid arguments:start"),
    ("TradesHistory", {"end": "TUNKNO-WNTRA-DEIDXX"}, "EGeneral:Invalid arguments:end"),
    ("TradesHistory", {"ofs": "-1"}, "EGeneral:Invalid arguments:ofs"),
    ("ClosedOrders", {"ofs": "first"}, "EGeneral:Invalid arguments:ofs"),
    ("ClosedOrders", {"userref": "seven"}, "EGeneral:Invalid arguments:userref"),
    ("QueryOrders", {"txid": "OUF4EM-FRGI2-MQMWZD", "trades": "true"}, "EOrder:Unknown order"),
    ("TradeBalance", {"asset": "XXDG"}, "EQuery:Unknown asset"),
    ("TradeBalance", {}, "EQuery:Unknown asset"),  # Kraken's default is ZUSD, which the simulator does not list
])
def test_history_arguments_answer_krakens_errors(kraken_simulator: Simulator, method: str,
                                                 params: dict[str, str], error: str) -> None:
    assert Caller(kraken_simulator).response(method, **params).json() == {"error": [error]}


def test_trade_history_calls_cost_the_rate_counter_two() -> None:
    with Simulator(tier="starter") as sim:
        call = Caller(sim)
        answers = [call.response("TradesHistory").json()["error"] for _ in range(8)]
        assert answers == [[]] * 7 + [["EAPI:Rate limit exceeded"]]  # 7 x 2 = 14 of 15
        assert call.response("ClosedOrders").json()["error"] == []  # costs 1: 15 of 15


def test_command_line_prints_its_url_and_serves_until_interrupted() -> None:
    process = subprocess.Popen([sys.executable, "-m", "pytest_peak_testnet.simulator", "--seed", "3"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/0/public/Time", timeout=5).json()["result"]["unixtime"] == 1704067200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_fixture_yields_a_running_simulator(kraken_simulator: Simulator) -> None:
    assert public(kraken_simulator, "Time").status_code == 200
    keys = kraken_simulator.credentials()
    assert (keys.key, keys.key_var, keys.secret_var) == (DEFAULT_API_KEY, "KRAKEN_TESTNET_API_KEY",
                                                         "KRAKEN_TESTNET_API_SECRET")
    assert DEFAULT_API_SECRET not in repr(keys) and DEFAULT_API_KEY not in str(keys)


@pytest.mark.parametrize("kraken_simulator", [{"seed": 9, "start_time": 1_706_796_000}], indirect=True)
def test_fixture_takes_options_by_indirect_parametrization(kraken_simulator: Simulator) -> None:
    assert public(kraken_simulator, "Time").json()["result"]["unixtime"] == 1_706_796_000
