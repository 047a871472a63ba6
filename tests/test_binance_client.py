"""The Binance client over real HTTP against the simulator speaking Binance's wire format,
which checks every key, timestamp, recvWindow and signature.

Time is faked only where the client waits: ``FakeTime`` is the client's monotonic clock
and records every sleep, so the simulator's clock (which stands still unless advanced) and
the client's agree, and the tests assert on waits without waiting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from pytest_peak_testnet.desk.config import BinanceConfig, not_a_test_environment
from pytest_peak_testnet.errors import ConfigError
from pytest_peak_testnet.exchange.binance import BinanceTestnetClient, HmacKeys
from pytest_peak_testnet.exchange.errors import (
    AccountSuspended,
    AuthenticationError,
    BadSymbol,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidOrder,
    MissingCredentials,
    NotTestEnvironment,
    OrderNotFound,
    OrderStatusUnknown,
    RateLimitExceeded,
)
from pytest_peak_testnet.exchange.simulator import Simulator

MakeClient = Callable[..., BinanceTestnetClient]
BTC = "BTC/USDT"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        #: Called with each wait, e.g. to move the simulator's clock as a recording does.
        self.also: Callable[[float], object] | None = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.also is not None:
            self.also(seconds)


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    with Simulator(venue="binance", **getattr(request, "param", {})) as simulator:
        yield simulator


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(sim: Simulator, fake_time: FakeTime) -> MakeClient:
    def make(keys: HmacKeys | str | None = "simulator", **changes: Any) -> BinanceTestnetClient:
        config = sim.config(**changes)
        return BinanceTestnetClient(config, keys=sim.credentials(config) if keys == "simulator" else keys,
                                    sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    return make


@pytest.fixture
def client(make_client: MakeClient) -> BinanceTestnetClient:
    return make_client()


def test_market_data_and_instrument(client: BinanceTestnetClient, sim: Simulator) -> None:
    assert client.server_time() == int(sim.clock.now())
    rules = client.instrument(BTC)
    assert (rules.venue_symbol, rules.lot_step, rules.tick_size, rules.min_notional) == \
        ("BTCUSDT", Decimal("0.00001"), Decimal("0.01"), Decimal("5"))
    ticker = client.ticker(BTC)
    assert ticker.bid < ticker.last < ticker.ask
    sim.clock.advance(3600)
    page = client.candles(BTC, 5, newest=6)
    assert len(page.candles) == 6 and page.current is not None
    assert [c.time for c in page.candles] == list(range(page.last - 25 * 60, page.last + 1, 300))
    assert page.current.time == page.last + 300
    newer = client.candles(BTC, 5, since=page.candles[2].time)
    assert [c.time for c in newer.candles] == [c.time for c in page.candles[3:]]


def test_an_unknown_symbol_names_the_closest(client: BinanceTestnetClient) -> None:
    with pytest.raises(BadSymbol, match=r"unknown symbol 'BTC/USDC'; closest: BTC/USDT"):
        client.instrument("BTC/USDC")


def test_a_signed_call_carries_key_timestamp_and_signature(client: BinanceTestnetClient, sim: Simulator) -> None:
    assert client.balances()["USDT"] == Decimal("10000")
    wrong = HmacKeys(sim.exchange.api_key, "not-the-secret")
    with pytest.raises(AuthenticationError, match="-1022 Signature for this request is not valid"):
        BinanceTestnetClient(client.config, keys=wrong).balances()
    with pytest.raises(AuthenticationError, match="-2015"):
        BinanceTestnetClient(client.config, keys=HmacKeys("another-key", "x")).balances()
    with pytest.raises(MissingCredentials, match="BINANCE_TESTNET_API_KEY"):
        BinanceTestnetClient(client.config).balances()


def test_minus_1021_is_answered_by_one_resync(client: BinanceTestnetClient, sim: Simulator,
                                               fake_time: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    client.balances()  # offset measured
    sim.clock.advance(30)  # Binance's clock moves, ours does not: timestamps now 30 s behind
    caplog.set_level(logging.INFO)
    assert client.balances()["BTC"] == Decimal("0.5")
    assert "-1021 Timestamp for this request is outside of the recvWindow" in caplog.text
    assert fake_time.sleeps == []
    fake_time.now += 10  # ours now runs 10 s ahead of Binance's
    assert client.balances()["BTC"] == Decimal("0.5")
    assert "1000ms ahead of the server's time" in caplog.text


def test_filters_are_checked_before_anything_is_sent(client: BinanceTestnetClient, sim: Simulator) -> None:
    client.instrument(BTC)
    sent = len(sim.exchange.account.orders)
    for quantity, price, filter_type in [(Decimal("0.000001"), None, "LOT_SIZE"),
                                         (Decimal("0.0001"), None, "NOTIONAL"),
                                         (Decimal("101"), None, "MARKET_LOT_SIZE"),
                                         (Decimal("0.001"), Decimal("40000.001"), "PRICE_FILTER"),
                                         (Decimal("0.001"), Decimal("1000"), "PERCENT_PRICE_BY_SIDE")]:
        with pytest.raises(InvalidOrder) as caught:
            client.place_order(BTC, "buy", "limit" if price else "market", quantity, price)
        assert caught.value.errors == (f"-1013 Filter failure: {filter_type}",)
    assert len(sim.exchange.account.orders) == sent


def test_the_simulator_refuses_what_the_client_would_have(client: BinanceTestnetClient, sim: Simulator) -> None:
    """The same filter, enforced by the server: a client that skipped the check still hears -1013."""
    import requests

    answer = requests.get(f"{sim.url}/api/v3/exchangeInfo", params={"symbol": "XYZUSDT"}, timeout=5)
    assert (answer.status_code, answer.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    with pytest.raises(InsufficientFunds, match="-2010 Account has insufficient balance"):
        client.place_order(BTC, "buy", "limit", Decimal("1"), Decimal("42000"))


def test_validate_only_uses_order_test_and_places_nothing(make_client: MakeClient, sim: Simulator) -> None:
    client = make_client(validate_only=True)
    ack = client.place_order(BTC, "buy", "market", Decimal("0.001"))
    assert (ack.validated, ack.order_id, ack.status) == (True, None, None)
    assert sim.exchange.account.orders == {}


def test_every_status_the_simulator_produces(sim: Simulator, client: BinanceTestnetClient) -> None:
    filled = client.place_order(BTC, "buy", "market", Decimal("0.001"), client_order_id="m1")
    assert filled.status == "filled" and sum(f.quantity for f in filled.fills) == Decimal("0.001")
    resting = client.place_order(BTC, "buy", "limit", Decimal("0.001"), Decimal("41000"))
    assert resting.status == "new" and resting.order_id in client.open_orders(BTC)
    canceled = client.cancel_order(BTC, str(resting.order_id))
    assert canceled is not None and canceled.status == "canceled" and canceled.final
    with pytest.raises(InvalidOrder, match="-2011 Unknown order sent"):
        client.cancel_order(BTC, str(resting.order_id))
    maker = client.place_order(BTC, "sell", "limit", Decimal("0.001"), Decimal("42400"))
    client.place_order(BTC, "buy", "limit", Decimal("0.001"), Decimal("42500"))  # meets our own sell
    assert client.orders(BTC, [str(maker.order_id)])[str(maker.order_id)].status == "expired"  # EXPIRED_IN_MATCH
    assert sim.exchange.account.orders[int(str(maker.order_id))].status == "EXPIRED_IN_MATCH"
    bid = client.ticker(BTC).bid
    later = client.place_order(BTC, "buy", "limit", Decimal("0.001"), bid - Decimal("30"))
    for _ in range(240):
        sim.clock.advance(60)
        report = client.orders(BTC, [str(later.order_id)])[str(later.order_id)]
        if report.status == "filled":
            break
    assert report.status == "filled" and report.fills[0].maker is True and report.fills[0].price == bid - 30


@pytest.mark.parametrize("sim", [{"book_depth": "0.002", "book_levels": 3}], indirect=True)
def test_thin_book_partly_fills_a_market_order_and_expires_the_rest(client: BinanceTestnetClient,
                                                                    sim: Simulator) -> None:
    before = client.balances()
    ack = client.place_order(BTC, "buy", "market", Decimal("0.01"))
    assert ack.status == "expired"
    assert [f.quantity for f in ack.fills] == [Decimal("0.002")] * 3
    report = client.orders(BTC, [str(ack.order_id)])[str(ack.order_id)]
    assert (report.status, report.executed_quantity, report.quantity) == ("expired", Decimal("0.006"), Decimal("0.01"))
    assert [f.trade_id for f in report.fills] == [f.trade_id for f in ack.fills]
    after = client.balances()
    paid = sum(f.price * f.quantity for f in report.fills)
    assert before["USDT"] - after["USDT"] == paid
    assert after["BTC"] - before["BTC"] == Decimal("0.006") - sum(f.commission for f in report.fills)
    crossing = client.place_order(BTC, "buy", "limit", Decimal("0.01"), ack.fills[-1].price)
    assert crossing.status == "partially_filled" and crossing.order_id in client.open_orders(BTC)


def test_the_default_book_is_thin_as_the_spot_testnets(client: BinanceTestnetClient) -> None:
    """0.01 BTC at each of 5 levels: a 0.06 BTC market order takes 0.05 and expires."""
    ack = client.place_order(BTC, "buy", "market", Decimal("0.06"))
    assert ack.status == "expired" and sum(f.quantity for f in ack.fills) == Decimal("0.05")


def test_a_lost_order_answer_is_never_resent_and_found_by_client_order_id(client: BinanceTestnetClient,
                                                                         sim: Simulator, fake_time: FakeTime) -> None:
    client.instrument(BTC)
    sim.faults.drop(method="POST /api/v3/order")
    with pytest.raises(OrderStatusUnknown) as caught:
        client.place_order(BTC, "buy", "market", Decimal("0.001"), client_order_id="lost-1")
    assert caught.value.client_order_id == "lost-1" and caught.value.treatment == "unknown"
    assert len(sim.exchange.account.orders) == 1 and fake_time.sleeps == []
    found = client.find_order(BTC, "lost-1")
    assert found is not None and found.status == "filled" and found.fills
    assert client.find_order(BTC, "never-placed") is None
    sim.faults.http_error(503, method="POST /api/v3/order")
    with pytest.raises(OrderStatusUnknown, match="HTTP 503"):
        client.place_order(BTC, "buy", "market", Decimal("0.001"), client_order_id="lost-2")
    assert client.find_order(BTC, "lost-2") is None  # the gateway answered; Binance never saw it


def test_a_timeout_or_binances_own_unknown_status_on_an_order_is_unknown(make_client: MakeClient,
                                                                         sim: Simulator) -> None:
    client = make_client(timeout_seconds=0.3)
    client.instrument(BTC)
    sim.faults.delay(1.0, method="POST /api/v3/order")  # placed, but the answer comes too late
    with pytest.raises(OrderStatusUnknown, match=r"no answer within 0\.3 s") as caught:
        client.place_order(BTC, "sell", "market", Decimal("0.001"), client_order_id="slow-1")
    found = client.find_order(BTC, caught.value.client_order_id)
    assert found is not None and found.status == "filled"
    sim.faults.binance_error(-1007, "Timeout waiting for response from backend server. Send status unknown; "
                                    "execution status unknown.", method="POST /api/v3/order")
    with pytest.raises(OrderStatusUnknown, match="-1007"):
        client.place_order(BTC, "sell", "market", Decimal("0.001"), client_order_id="slow-2")
    assert len(sim.exchange.account.orders) == 1  # neither was sent twice


def test_a_5xx_on_a_read_is_retried_with_backoff(client: BinanceTestnetClient, sim: Simulator,
                                                 fake_time: FakeTime) -> None:
    sim.faults.http_error(502, times=2, method="/api/v3/account")
    assert client.balances()["USDT"] == Decimal("10000")
    assert fake_time.sleeps == [1.0, 2.0]
    sim.faults.http_error(503, times=4, method="/api/v3/account")
    with pytest.raises(ExchangeNotAvailable):
        client.balances()


def test_429_waits_for_retry_after(client: BinanceTestnetClient, sim: Simulator, fake_time: FakeTime) -> None:
    client.instrument(BTC)
    sim.faults.binance_error(-1003, "Too many requests queued.", 429, retry_after=7, method="POST /api/v3/order")
    ack = client.place_order(BTC, "buy", "market", Decimal("0.001"))
    assert ack.status == "filled" and fake_time.sleeps == [7.0]
    assert len(sim.exchange.account.orders) == 1  # refused before the engine, so resent once
    sim.faults.rate_limit(times=2)  # the simulator's rate-limit fault, in Binance's words
    assert client.balances() and fake_time.sleeps == [7.0, 1.0, 1.0]


@pytest.mark.parametrize("sim", [{"weight_limit": 60}], indirect=True)
def test_the_weight_header_paces_and_a_real_429_says_how_long(client: BinanceTestnetClient, sim: Simulator,
                                                              fake_time: FakeTime) -> None:
    fake_time.also = sim.clock.advance  # waiting moves Binance's clock, as in a recording
    client.balances()
    client.instrument(BTC)  # exchangeInfo says 60 a minute; 1 + 20 + 20 used
    client.ticker(BTC)
    client.ticker(BTC)  # 4 each: 49 used, past 80 % of 60
    assert fake_time.sleeps == []
    client.ticker(BTC)  # so this one waits for Binance's next minute first
    assert fake_time.sleeps == [60.0]
    client.ticker(BTC)
    assert fake_time.sleeps == [60.0]  # a new minute: 8 used
    sim.exchange.weight_limit = 1
    with pytest.raises(RateLimitExceeded, match="-1003 Too much request weight used") as caught:
        client.ticker(BTC)
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60


def test_418_stops_the_run_in_one_line(client: BinanceTestnetClient, sim: Simulator, fake_time: FakeTime) -> None:
    import requests

    answer = requests.post(f"{sim.url}/_sim/faults", timeout=5, data={  # as a test in another process would
        "kind": "binance_error", "code": "-1003", "status": "418", "retry_after": "120",
        "msg": "Way too much request weight used; IP banned until 1704070800000."})
    assert answer.json() == {"pending": 1}
    with pytest.raises(AccountSuspended) as caught:
        client.server_time()
    assert caught.value.treatment == "fatal" and "\n" not in str(caught.value)
    assert "HTTP 418" in str(caught.value) and "120 s" in str(caught.value) and fake_time.sleeps == []


def test_an_unknown_order_query_is_order_not_found(client: BinanceTestnetClient) -> None:
    with pytest.raises(OrderNotFound, match="-2013 Order does not exist"):
        client.orders(BTC, ["999"])


@pytest.mark.parametrize("url", ["https://api.binance.com", "https://api-gcp.binance.com/", "https://api3.binance.com",
                                 "https://example.com"])
def test_a_production_host_is_refused_before_any_request(url: str) -> None:
    class NoTransport:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"a request was attempted: {name}")

    with pytest.raises(NotTestEnvironment) as caught:
        BinanceTestnetClient(BinanceConfig(base_url=url), session=NoTransport())  # type: ignore[arg-type]
    assert caught.value.treatment == "fatal" and "\n" not in str(caught.value)
    assert "nothing was sent" in str(caught.value) and not_a_test_environment(BinanceConfig(), url) is not None


@pytest.mark.parametrize("url", ["https://testnet.binance.vision", "https://demo-api.binance.com/",
                                 "http://127.0.0.1:8080"])
def test_test_environments_pass_the_guard(url: str) -> None:
    assert not_a_test_environment(BinanceConfig(), url) is None
    BinanceTestnetClient(BinanceConfig(base_url=url))


def test_a_bad_recv_window_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"exchange.binance_testnet.recv_window: expected at most 60000"):
        BinanceTestnetClient(BinanceConfig(recv_window=70000))


def test_no_secret_in_repr_log_or_error(client: BinanceTestnetClient, sim: Simulator,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.balances()
    sim.faults.http_error(503, times=9)
    with pytest.raises(ExchangeNotAvailable) as caught:
        client.balances()
    secret, key = sim.exchange.api_secret, sim.exchange.api_key
    shown = [repr(client), repr(sim.credentials()), caplog.text, str(caught.value)]
    frames = caught.tb.tb_next if caught.tb else None
    while frames is not None:
        shown.append(repr(frames.tb_frame.f_locals))
        frames = frames.tb_next
    assert "signature=<redacted>" in caplog.text  # urllib3 logs GET URLs, query and all
    assert all(secret not in text and key not in text and not re.search("signature=[0-9a-f]{64}", text)
               for text in shown)


def test_the_venue_package_builds_a_client_for_a_config_block(monkeypatch: pytest.MonkeyPatch,
                                                              fake_time: FakeTime) -> None:
    import pytest_peak_testnet.exchange.binance as venue
    from pytest_peak_testnet.exchange.binance.signing import KeysError

    monkeypatch.delenv("BINANCE_TESTNET_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_TESTNET_API_SECRET", raising=False)
    with pytest.raises(KeysError, match=r"^BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET: not set"):
        venue.credentials_from_env(BinanceConfig())
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "k e y")
    monkeypatch.setenv("BINANCE_TESTNET_API_SECRET", "s3cret")
    with pytest.raises(KeysError, match=r"^BINANCE_TESTNET_API_KEY: contains a blank at position 2; expected printable ASCII") as caught:
        venue.credentials_from_env(BinanceConfig())
    assert "k e y" not in str(caught.value)
    assert repr(venue.replay_credentials()).startswith("HmacKeys(<redacted")
    with venue.simulator(seed=2) as sim:
        client = venue.build_client("binance_demo", BinanceConfig(), base_url=sim.url, credentials=sim.credentials(),
                                    transport=None, sleep=fake_time.sleep, monotonic=fake_time.monotonic)
        assert (client.venue, client.validate_only) == ("binance_demo", False)
        assert client.balances()["USDT"] == Decimal("10000")


def test_a_recording_on_the_simulators_clock_keeps_its_timestamps_in_the_window(
        sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    """As a --testnet-simulator recording runs it: waiting advances the simulator's clock,
    and the client's timestamps move with it, so an hour of waits needs no re-sync."""
    from pytest_peak_testnet.exchange.clock import SimulatorClock

    clock = SimulatorClock(sim.url)
    client = BinanceTestnetClient(sim.config(), keys=sim.credentials(), sleep=clock.sleep,
                                  monotonic=clock.monotonic)
    caplog.set_level(logging.INFO)
    for _ in range(60):
        client.balances()
        clock.sleep(60)
    assert sim.clock.now() == 1704067200 + 3600
    assert "-1021" not in caplog.text
