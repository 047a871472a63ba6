"""The client over real HTTP against the simulator, which verifies every signature and nonce.

Time is faked only where the client waits (backoff, pacing): ``FakeTime`` records every
sleep and advances its monotonic clock, so the tests assert on waits without waiting.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from pytest_peak_testnet.errors import ConfigError
from pytest_peak_testnet.exchange.errors import (
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    BaseError,
    DDoSProtection,
    ExchangeNotAvailable,
    InsufficientFunds,
    MissingCredentials,
    NetworkError,
    OrderNotFound,
    OrderStatusUnknown,
    RateLimitExceeded,
    RequestTimeout,
)
from pytest_peak_testnet.exchange.kraken.client import KrakenTestnetClient
from pytest_peak_testnet.exchange.kraken.credentials import Credentials, CredentialsError
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

MakeClient = Callable[..., KrakenTestnetClient]
LIVE = {"validate_only": False, "allow_live_orders": True}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(kraken_simulator: Simulator, fake_time: FakeTime) -> MakeClient:
    """A client on the simulator; ``rate_limit_ms`` 0 unless a test asks for pacing."""
    def make(session: requests.Session | None = None, credentials: Credentials | str | None = "simulator",
             **changes: Any) -> KrakenTestnetClient:
        config = kraken_simulator.config(**{"rate_limit_ms": 0, **changes})
        keys = kraken_simulator.credentials(config) if credentials == "simulator" else credentials
        assert not isinstance(keys, str)
        return KrakenTestnetClient(config, credentials=keys, session=session,
                                   sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    return make


@pytest.fixture
def client(make_client: MakeClient) -> KrakenTestnetClient:
    return make_client()


def test_public_endpoints(client: KrakenTestnetClient, kraken_simulator: Simulator) -> None:
    assert client.server_time() == int(kraken_simulator.clock.now())
    assert set(client.asset_pairs()) == {"XXBTZEUR", "XETHZEUR", "XBTUSDT", "XETHXXBT", "SHIBEUR"}
    ticker = client.ticker("ETH/EUR")
    assert ticker.bid < ticker.ask and ticker.pair_id == "XETHZEUR"
    page = client.ohlc("BTC/EUR", 1)
    assert len(page.candles) == 719 and page.current is not None
    assert page.last == page.candles[-1].time == page.current.time - 60
    newest = client.ohlc("BTC/EUR", 1, newest=3)
    assert (newest.candles, newest.current, newest.last) == (page.candles[-3:], page.current, page.last)
    kraken_simulator.clock.advance(180)
    newer = client.ohlc("BTC/EUR", 1, since=page.last)
    assert [c.time for c in newer.candles] == [page.current.time, page.current.time + 60, page.current.time + 120]


@pytest.mark.parametrize("name", ["BTC/EUR", "btc/eur", "XBT/EUR", "XBTEUR", "XXBTZEUR"])
def test_symbols_map_to_kraken_pairs(client: KrakenTestnetClient, name: str) -> None:
    info = client.pair_info(name)
    assert (info.pair_id, info.altname, info.wsname, info.symbol) == ("XXBTZEUR", "XBTEUR", "XBT/EUR", "BTC/EUR")


def test_asset_pairs_are_fetched_once_per_client(make_client: MakeClient) -> None:
    requests_seen: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: requests_seen.append(response.request.path_url))
    client = make_client(session=session)
    client.pair_info("BTC/EUR"), client.pair_info("ETH/EUR"), client.ticker("BTC/EUR")
    assert [path for path in requests_seen if "AssetPairs" in path] == ["/0/public/AssetPairs"]


def test_unknown_symbol_names_the_closest(client: KrakenTestnetClient) -> None:
    with pytest.raises(BadSymbol, match="'BTC/EUX'; closest: BTC/EUR"):
        client.pair_info("BTC/EUX")


def test_unsupported_interval_fails_before_sending(client: KrakenTestnetClient) -> None:
    with pytest.raises(BadRequest, match="interval 2"):
        client.ohlc("BTC/EUR", 2)


def test_validate_only_sends_validate_and_places_nothing(make_client: MakeClient, kraken_simulator: Simulator) -> None:
    bodies: list[Any] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: bodies.append(response.request.body))
    result = make_client(session=session).add_order("BTC/EUR", "buy", "limit", "0.01", price="30000")
    assert result.validated and result.txids == ()
    assert result.description == "buy 0.01000000 XBTEUR @ limit 30000.0"
    assert "validate=true" in bodies[-1]
    assert kraken_simulator.exchange.account.orders == {}


def test_orders_stay_consistent_across_private_endpoints(make_client: MakeClient,
                                                         kraken_simulator: Simulator) -> None:
    client = make_client(**LIVE)
    before = client.balance()
    market = client.add_order("BTC/EUR", "buy", "market", "0.01")
    limit = client.add_order("ETH/EUR", "sell", "limit", "0.5", price="9999.99", userref=42)
    assert not market.validated and len(market.txids) == len(limit.txids) == 1
    filled = client.query_orders(market.txids)[market.txids[0]]
    assert (filled.status, filled.volume_executed) == ("closed", Decimal("0.01"))
    assert client.balance()["XXBT"] == before["XXBT"] + Decimal("0.01")
    assert client.balance()["ZEUR"] == before["ZEUR"] - (filled.cost + filled.fee)
    assert list(client.open_orders()) == [limit.txids[0]]
    assert client.open_orders()[limit.txids[0]].userref == 42
    assert client.cancel_order(limit.txids[0]) == 1
    assert client.open_orders() == {}
    assert client.query_orders(limit.txids)[limit.txids[0]].status == "canceled"
    with pytest.raises(OrderNotFound):
        client.cancel_order(limit.txids[0])
    with pytest.raises(InsufficientFunds):
        client.add_order("BTC/EUR", "buy", "market", "100")
    assert len(kraken_simulator.exchange.accepted_nonces) == 13  # every private call above, signed and accepted


CENT = Decimal("0.0001")  # the simulator's EUR balance decimals, to which it books every fill


def test_exchange_fills_fees_and_balances_add_up_exactly(make_client: MakeClient,
                                                          kraken_simulator: Simulator) -> None:
    client = make_client(**LIVE)
    before, ask = client.balance(), client.ticker("BTC/EUR").ask
    buy = client.add_order("BTC/EUR", "buy", "market", "0.02", userref=11)
    kraken_simulator.clock.advance(90)
    bid = client.ticker("BTC/EUR").bid
    sell = client.add_order("BTC/EUR", "sell", "market", "0.015", userref=11)
    after = client.balance()
    orders = client.query_orders([*buy.txids, *sell.txids], trades=True)
    assert all(len(order.trades) == 1 for order in orders.values())
    assert client.query_orders(buy.txids)[buy.txids[0]].trades == ()  # listed only when asked for
    trades = client.query_trades(tid for order in orders.values() for tid in order.trades)
    bought, sold = (trades[orders[result.txids[0]].trades[0]] for result in (buy, sell))
    assert (bought.side, bought.price, bought.volume, bought.maker) == ("buy", ask, Decimal("0.02"), False)
    assert (sold.side, sold.price, sold.volume, sold.maker) == ("sell", bid, Decimal("0.015"), False)
    for trade in (bought, sold):
        order = orders[trade.ordertxid]
        assert (order.status, order.volume_executed, order.cost, order.fee) == (
            "closed", trade.volume, trade.cost, trade.fee)
        assert trade.cost == (trade.price * trade.volume).quantize(CENT)
        assert trade.fee == (trade.cost * Decimal("0.0026")).quantize(CENT)
        assert (trade.pair, trade.ordertype, trade.margin, trade.time) == ("XXBTZEUR", "market", Decimal(0), order.closetm)
    assert after["XXBT"] - before["XXBT"] == bought.volume - sold.volume
    assert after["ZEUR"] - before["ZEUR"] == sold.cost - sold.fee - bought.cost - bought.fee
    history, count = client.trades_history()
    assert count == 2 and list(history.values()) == [sold, bought]  # newest first
    assert client.trades_history(start=bought.time) == ({sold.txid: sold}, 1)
    assert client.trades_history(end=bought.txid) == ({bought.txid: bought}, 1)
    assert client.trades_history(ofs=1) == ({bought.txid: bought}, 2)
    closed, count = client.closed_orders(userref=11, trades=True)
    assert count == 2 and closed == {sell.txids[0]: orders[sell.txids[0]], buy.txids[0]: orders[buy.txids[0]]}
    assert list(closed) == [sell.txids[0], buy.txids[0]]
    assert client.closed_orders(userref=12) == ({}, 0)


def test_query_trades_asks_twenty_at_a_time(make_client: MakeClient, kraken_simulator: Simulator) -> None:
    sizes: list[int] = []

    def count_txids(response: requests.Response, **_: Any) -> None:
        if response.request.path_url == "/0/private/QueryTrades":
            sizes.append(len(parse_qs(str(response.request.body))["txid"][0].split(",")))

    session = requests.Session()
    session.hooks["response"].append(count_txids)
    client = make_client(session=session, **LIVE)
    for _ in range(21):
        client.add_order("BTC/EUR", "buy", "market", "0.0001")
    history, count = client.trades_history()
    assert count == 21 and client.query_trades(history) == history
    assert sizes == [20, 1]  # the simulator, like Kraken, refuses more than 20
    with pytest.raises(BadRequest, match="EGeneral:Invalid arguments:txid"):
        client.query_trades(["THVRQM-33VKH-UCI7BS"])


def test_trade_balance_agrees_with_balance_at_the_simulators_prices(make_client: MakeClient) -> None:
    client = make_client(**LIVE)
    client.add_order("ETH/EUR", "buy", "market", "0.5")
    client.add_order("BTC/EUR", "sell", "limit", "0.01", price="99999.9")
    balance = client.balance()
    btc, eth = client.ticker("BTC/EUR").last, client.ticker("ETH/EUR").last
    euros = balance["ZEUR"] + balance["XXBT"] * btc + balance["XETH"] * eth
    trade_balance = client.trade_balance()
    assert (trade_balance.asset, trade_balance.eb, trade_balance.uv) == ("ZEUR", euros.quantize(CENT),
                                                                        Decimal("999.999"))
    assert trade_balance.tb == trade_balance.e == trade_balance.mf == trade_balance.eb
    assert (trade_balance.m, trade_balance.n, trade_balance.ml) == (Decimal(0), Decimal(0), None)  # no margin positions
    assert client.trade_balance("XXBT").eb == (euros / btc).quantize(Decimal("1E-10"))
    with pytest.raises(BadSymbol, match="EQuery:Unknown asset"):
        client.trade_balance("ZUSD")


READS: dict[str, Callable[[KrakenTestnetClient, str], object]] = {
    "QueryOrders": lambda client, txid: client.query_orders([txid], trades=True),
    "QueryTrades": lambda client, txid: client.query_trades(client.query_orders([txid], trades=True)[txid].trades),
    "TradesHistory": lambda client, txid: client.trades_history(),
    "ClosedOrders": lambda client, txid: client.closed_orders(),
    "TradeBalance": lambda client, txid: client.trade_balance(),
}


@pytest.mark.parametrize("method", READS)
def test_history_reads_are_retried_even_after_a_fault_that_may_have_reached_kraken(
        make_client: MakeClient, fake_time: FakeTime, kraken_simulator: Simulator, method: str) -> None:
    client = make_client(**LIVE)
    (txid,) = client.add_order("BTC/EUR", "buy", "market", "0.01").txids
    kraken_simulator.faults.http_error(503, method=method)
    assert READS[method](client, txid)
    assert fake_time.sleeps == [1.0] and kraken_simulator.faults.pending == 0


def test_live_orders_need_the_second_switch(kraken_simulator: Simulator) -> None:
    with pytest.raises(ConfigError, match="allow_live_orders"):
        KrakenTestnetClient(kraken_simulator.config(validate_only=False))


def test_nonce_strictly_increases_across_eight_threads(client: KrakenTestnetClient,
                                                        kraken_simulator: Simulator) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        balances = list(pool.map(lambda _: client.balance(), range(48)))
    nonces = kraken_simulator.exchange.accepted_nonces
    assert len(balances) == len(nonces) == 48
    assert nonces == sorted(set(nonces))


def test_missing_keys_fail_only_private_calls(make_client: MakeClient) -> None:
    client = make_client(credentials=None)
    assert client.server_time() > 0
    with pytest.raises(MissingCredentials, match="KRAKEN_TESTNET_API_KEY and KRAKEN_TESTNET_API_SECRET"):
        client.balance()


@pytest.mark.parametrize(("key", "secret", "error"), [
    ("other-key", DEFAULT_API_SECRET, "EAPI:Invalid key"),
    (DEFAULT_API_KEY, "c2VjcmV0LW5vdC10aGUtc2ltdWxhdG9ycw==", "EAPI:Invalid signature"),
])
def test_the_simulator_refuses_wrong_credentials(make_client: MakeClient, key: str, secret: str, error: str) -> None:
    client = make_client(credentials=Credentials(key, secret))
    with pytest.raises(AuthenticationError) as info:
        client.balance()
    assert info.value.errors == (error,)


def test_pacing_keeps_rate_limit_ms_between_requests(make_client: MakeClient, fake_time: FakeTime) -> None:
    client = make_client(rate_limit_ms=250)
    client.server_time(), client.server_time(), client.balance()
    fake_time.now += 5  # a quiet spell: the next request needs no wait
    client.server_time()
    assert fake_time.sleeps == [0.25, 0.25]


FAULTS: dict[str, tuple[Callable[[Simulator, int], None], type[BaseError]]] = {
    "http 503": (lambda sim, n: sim.faults.http_error(503, times=n), ExchangeNotAvailable),
    "http 429": (lambda sim, n: sim.faults.http_error(429, times=n), RateLimitExceeded),
    "malformed body": (lambda sim, n: sim.faults.malformed(times=n), BadResponse),
    "rate limit": (lambda sim, n: sim.faults.rate_limit(times=n), RateLimitExceeded),
    "EService:Unavailable": (lambda sim, n: sim.faults.kraken_error("EService:Unavailable", times=n),
                             ExchangeNotAvailable),
    "EService:Busy": (lambda sim, n: sim.faults.kraken_error("EService:Busy", times=n), ExchangeNotAvailable),
    "EGeneral:Too many requests": (lambda sim, n: sim.faults.kraken_error("EGeneral:Too many requests", times=n),
                                   DDoSProtection),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_transient_failures_are_retried_with_exponential_backoff(client: KrakenTestnetClient, fake_time: FakeTime,
                                                                 kraken_simulator: Simulator, fault: str) -> None:
    FAULTS[fault][0](kraken_simulator, 2)
    assert client.balance()["ZEUR"] == Decimal("10000")
    assert fake_time.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("fault", FAULTS)
def test_retries_are_bounded(make_client: MakeClient, fake_time: FakeTime, kraken_simulator: Simulator,
                             fault: str) -> None:
    inject, error = FAULTS[fault]
    inject(kraken_simulator, 10)
    with pytest.raises(error):
        make_client(max_retries=3).server_time()
    assert fake_time.sleeps == [1.0, 2.0, 4.0]
    assert kraken_simulator.faults.pending == 10 - 4


def test_refusals_are_not_retried(client: KrakenTestnetClient, fake_time: FakeTime,
                                  kraken_simulator: Simulator) -> None:
    kraken_simulator.faults.kraken_error("EGeneral:Internal error", times=3)
    with pytest.raises(ExchangeNotAvailable):
        client.server_time()
    assert fake_time.sleeps == [] and kraken_simulator.faults.pending == 2


def test_a_slow_answer_times_out_and_the_read_is_retried(make_client: MakeClient, fake_time: FakeTime,
                                                         kraken_simulator: Simulator) -> None:
    kraken_simulator.faults.delay(0.5, method="Time")
    assert make_client(timeout_seconds=0.2).server_time() > 0
    assert fake_time.sleeps == [1.0]
    kraken_simulator.faults.delay(0.5, method="Time", times=2)
    with pytest.raises(RequestTimeout, match=r"no answer within 0\.2 s"):
        make_client(timeout_seconds=0.2, max_retries=1).server_time()


@pytest.mark.parametrize("fault", ["http 503", "malformed body"])
def test_a_real_order_is_not_resent_when_it_may_have_been_placed(make_client: MakeClient, fake_time: FakeTime,
                                                                 kraken_simulator: Simulator, fault: str) -> None:
    client = make_client(**LIVE)
    client.asset_pairs()
    inject, _ = FAULTS[fault]
    inject(kraken_simulator, 1)
    with pytest.raises(OrderStatusUnknown, match=r"may have reached Kraken \(userref \d+\), so it was not resent"):
        client.add_order("BTC/EUR", "buy", "market", "0.01")
    assert fake_time.sleeps == []


def test_a_real_order_that_timed_out_may_be_on_the_book(make_client: MakeClient, fake_time: FakeTime,
                                                        kraken_simulator: Simulator) -> None:
    client = make_client(timeout_seconds=0.2, **LIVE)
    client.asset_pairs()
    kraken_simulator.faults.delay(0.5, method="AddOrder")
    with pytest.raises(OrderStatusUnknown, match=r"no answer within 0\.2 s; the order may have reached Kraken") as lost:
        client.add_order("BTC/EUR", "buy", "limit", "0.01", price="20000", userref=7)
    assert fake_time.sleeps == [] and lost.value.client_order_id == "7"
    assert [order.userref for order in client.open_orders().values()] == [7]  # why a blind resend is wrong


def test_every_order_carries_a_userref_of_its_own(make_client: MakeClient, kraken_simulator: Simulator) -> None:
    client = make_client(**LIVE)
    for _ in range(3):
        client.add_order("BTC/EUR", "buy", "limit", "0.01", price="20000")
    refs = [order.userref for order in client.open_orders().values()]
    assert len(set(refs)) == 3 and all(ref and 0 < ref < 2**31 for ref in refs)


def test_a_validate_only_order_whose_answer_stays_lost_is_of_unknown_status(
        make_client: MakeClient, kraken_simulator: Simulator) -> None:
    kraken_simulator.faults.http_error(502, method="AddOrder", times=3)
    with pytest.raises(OrderStatusUnknown, match=r"HTTP 502; the order may have reached Kraken \(userref \d+\)$"):
        make_client(max_retries=2).add_order("BTC/EUR", "buy", "market", "0.01")


@pytest.mark.parametrize("fault", ["rate limit", "EService:Busy", "EService:Unavailable"])
def test_a_real_order_refused_by_kraken_is_resent(make_client: MakeClient, fake_time: FakeTime,
                                                  kraken_simulator: Simulator, fault: str) -> None:
    client = make_client(**LIVE)
    FAULTS[fault][0](kraken_simulator, 1)
    result = client.add_order("BTC/EUR", "buy", "market", "0.01")
    assert fake_time.sleeps == [1.0]
    assert list(kraken_simulator.exchange.account.orders) == list(result.txids)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_retried_even_for_a_real_order(make_client: MakeClient, fake_time: FakeTime) -> None:
    client = make_client(max_retries=2, **LIVE)
    client.asset_pairs()
    client.base_url = f"http://127.0.0.1:{_closed_port()}"  # nothing listens: nothing can be sent
    with pytest.raises(NetworkError, match="connection failed"):
        client.add_order("BTC/EUR", "buy", "market", "0.01")
    assert fake_time.sleeps == [1.0, 2.0]


def test_nothing_leaks_the_key_the_secret_or_a_signature(make_client: MakeClient, kraken_simulator: Simulator,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    signatures: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: signatures.append(response.request.headers["API-Sign"])
                                     if "API-Sign" in response.request.headers else None)
    wrong_secret = "c2VjcmV0LW5vdC10aGUtc2ltdWxhdG9ycw=="
    texts: list[str] = []
    client = make_client(session=session, **LIVE)
    kraken_simulator.faults.http_error(503, method="Balance")
    client.balance()
    client.add_order("BTC/EUR", "buy", "market", "0.01")
    bad = make_client(session=session, credentials=Credentials(DEFAULT_API_KEY, wrong_secret))
    with pytest.raises(AuthenticationError) as info:
        bad.balance()
    texts += [repr(bad), str(info.value), repr(info.value)]
    with pytest.raises(CredentialsError) as refused:
        Credentials(DEFAULT_API_KEY, "not base64!", secret_var="KRAKEN_TESTNET_API_SECRET")
    texts += [str(refused.value), repr(refused.value), repr(client.__dict__), repr(bad.__dict__), caplog.text]
    assert len(signatures) == 4
    for secret in [DEFAULT_API_KEY, DEFAULT_API_SECRET, wrong_secret, "not base64!", *signatures]:
        assert not [text for text in texts if secret in text]


@pytest.mark.parametrize("kraken_simulator", [{"tier": "starter"}], indirect=True)
def test_backoff_lets_krakens_rate_counter_drain(kraken_simulator: Simulator) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # waiting is what drains the counter: let it move the simulated clock
        slept.append(seconds)
        kraken_simulator.clock.advance(seconds)

    config = kraken_simulator.config(rate_limit_ms=0)
    client = KrakenTestnetClient(config, credentials=kraken_simulator.credentials(config), sleep=sleep)
    for _ in range(18):
        client.balance()
    # 15 calls fill the counter; the 16th frees a slot after 1+2+4 s (0.33/s), leaving 0.31 spare for
    # the 17th; the 18th waits 1+2 s more. Without the waits moving the clock, all would fail.
    assert slept == [1.0, 2.0, 4.0, 1.0, 2.0]
