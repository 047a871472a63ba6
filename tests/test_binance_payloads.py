"""The Binance client's parsers on real response bodies (``tests/data/binance``, each file's
source in its ``SOURCES.md``), and its signature on Binance's documented example.

Every figure is compared exactly, as a ``Decimal`` built from the file's own digits: a
parser that went through float, dropped a digit or misread an integer sent as a string
fails here, whoever's simulator it agrees with.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pytest_peak_testnet.exchange.binance.errors import error_from
from pytest_peak_testnet.exchange.binance.filters import parse_rules, shape, symbol_entry
from pytest_peak_testnet.exchange.binance.signing import HmacKeys, sign
from pytest_peak_testnet.exchange.binance.wire import (
    STATUSES,
    order,
    parse_balances,
    parse_book_ticker,
    parse_klines,
    parse_server_time,
    placed_fills,
    trade,
)
from pytest_peak_testnet.exchange.errors import (
    BadSymbol,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    RateLimitExceeded,
)
from pytest_peak_testnet.exchange.protocol import FINAL_STATUSES

DATA = Path(__file__).parent / "data" / "binance"
#: Binance's documented HMAC example (rest-api.md, "SIGNED Endpoint Examples", HMAC Keys).
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOC_QUERY_NON_ASCII = ("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
                       "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_every_data_file_has_its_source_named() -> None:
    sources = (DATA / "SOURCES.md").read_text()
    assert [f.name for f in sorted(DATA.glob("*.json")) if f.name not in sources] == []


def test_signature_matches_binances_documented_examples() -> None:
    assert sign(DOC_QUERY, DOC_SECRET) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign(DOC_QUERY_NON_ASCII, DOC_SECRET) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    keys = HmacKeys(DOC_KEY, DOC_SECRET, key_var="BINANCE_TESTNET_API_KEY", secret_var="BINANCE_TESTNET_API_SECRET")
    assert keys.sign(DOC_QUERY) == sign(DOC_QUERY, DOC_SECRET)
    shown = f"{keys!r} {keys}"
    assert DOC_SECRET not in shown and DOC_KEY not in shown and "BINANCE_TESTNET_API_SECRET" in shown


def test_server_time() -> None:
    assert parse_server_time(load("time.json")) == 1499827319559


def test_exchange_info_with_notional_and_percent_price_by_side() -> None:
    rules = parse_rules(load("exchange_info_symbol_notional.json"))
    instrument = rules.instrument("BTC/USDT")
    assert (instrument.venue_symbol, instrument.base, instrument.quote, instrument.trading) == \
        ("BTCUSDT", "BTC", "USDT", True)
    assert (instrument.tick_size, instrument.lot_step, instrument.min_quantity, instrument.max_quantity) == \
        (Decimal("0.01000000"), Decimal("0.00001000"), Decimal("0.00001000"), Decimal("9000.00000000"))
    assert instrument.market_max_quantity == Decimal("128.52621715")
    assert (instrument.min_notional, instrument.max_notional) == (Decimal("5.00000000"), Decimal("9000000.00000000"))
    assert rules.notional is not None and rules.notional.min_to_market and not rules.notional.max_to_market
    assert rules.percent_price is not None and rules.percent_price.filter_type == "PERCENT_PRICE_BY_SIDE"
    assert (rules.percent_price.bid_up, rules.percent_price.ask_down) == (Decimal("5"), Decimal("0.2"))


def test_exchange_info_with_the_older_min_notional() -> None:
    body = load("exchange_info_min_notional.json")
    rules = parse_rules(symbol_entry(body, "ETHUSDT"))
    assert rules.notional is not None and rules.notional.filter_type == "MIN_NOTIONAL"
    assert (rules.notional.minimum, rules.notional.maximum, rules.notional.min_to_market) == \
        (Decimal("10.00000000"), None, True)
    assert rules.lot is not None and rules.lot.step == Decimal("0.00010000")
    assert rules.percent_price is not None and rules.percent_price.filter_type == "PERCENT_PRICE"


@pytest.mark.parametrize(("side", "kind", "quantity", "price", "filter_type"), [
    ("buy", "market", "0.000001", None, "LOT_SIZE"),
    ("buy", "market", "200", None, "MARKET_LOT_SIZE"),
    ("buy", "limit", "0.001", "60000.001", "PRICE_FILTER"),
    ("buy", "limit", "0.00002", "60000", "NOTIONAL"),
    ("buy", "market", "0.00002", None, "NOTIONAL"),
    ("sell", "limit", "0.001", "10000", "PERCENT_PRICE_BY_SIDE"),
])
def test_a_breach_is_refused_naming_the_filter_as_binance_would(side: Any, kind: Any, quantity: str,
                                                               price: str | None, filter_type: str) -> None:
    rules = parse_rules(load("exchange_info_symbol_notional.json"))
    with pytest.raises(InvalidOrder) as caught:
        shape(rules, side, kind, Decimal(quantity), Decimal(price) if price else None, Decimal("60000"))
    assert caught.value.errors == (f"-1013 Filter failure: {filter_type}",)


def test_a_quantity_is_truncated_to_the_lot_step_never_rounded_up() -> None:
    rules = parse_rules(load("exchange_info_symbol_notional.json"))
    assert shape(rules, "buy", "limit", Decimal("0.0012349"), Decimal("60000.01"), Decimal("60000")) == \
        (Decimal("0.00123"), Decimal("60000.01"))


def test_klines_parse_exactly_and_hold_back_the_candle_under_way() -> None:
    page = parse_klines(load("klines.json"), reached_now=True, since=None)
    assert len(page.candles) == 9 and page.current is not None and page.current.time == 1634944320
    first = page.candles[0]
    assert (first.time, first.open, first.high, first.low, first.close, first.volume, first.count) == \
        (1634943780, Decimal("60685.22000000"), Decimal("60729.84000000"), Decimal("60670.90000000"),
         Decimal("60719.27000000"), Decimal("21.63272000"), 617)
    assert first.vwap == Decimal("1313200.01340410") / Decimal("21.63272000")
    assert page.last == page.candles[-1].time == 1634944260
    cut = parse_klines(load("klines_doc.json"), reached_now=False, since=1499000000)
    assert (cut.candles, cut.current, cut.last) == ([], None, 1499000000)


def test_book_ticker_and_price() -> None:
    ticker = parse_book_ticker(load("book_ticker.json"), load("ticker_price.json"), "BTC/USDT")
    assert (ticker.bid, ticker.ask, ticker.last) == (Decimal("60741.67000000"), Decimal("60741.68000000"),
                                                     Decimal("4.00000200"))


def test_full_order_answer_books_each_fill() -> None:
    body = load("order_full.json")
    report, fills = order(body, "BTC/USDT"), placed_fills(body)
    assert (report.order_id, report.client_order_id, report.status, report.side, report.type) == \
        ("28", "6gCrw2kRUAF9CvJDGP16IP", "filled", "sell", "market")
    assert (report.quantity, report.executed_quantity, report.price) == (Decimal("10"), Decimal("10"), None)
    assert [(f.trade_id, f.price, f.quantity, f.commission, f.commission_asset) for f in fills][:2] == [
        ("56", Decimal("4000.00000000"), Decimal("1.00000000"), Decimal("4.00000000"), "USDT"),
        ("57", Decimal("3999.00000000"), Decimal("5.00000000"), Decimal("19.99500000"), "USDT")]
    assert sum(f.quantity for f in fills) == report.executed_quantity
    assert fills[0].time == Decimal("1507725176.595")


def test_order_answers_with_integers_sent_as_strings() -> None:
    placed = order(load("order_new_strings.json"), "SOL/USDT")
    assert (placed.order_id, placed.status, placed.price, placed.time) == \
        ("9780331417", "new", Decimal("241.00000000"), Decimal("1737635557.417"))
    queried = order(load("order_query_filled_strings.json"), "LTC/USDT")
    assert (queried.status, queried.executed_quantity, queried.cumulative_quote, queried.price) == \
        ("filled", Decimal("0.10000000"), Decimal("9.08000000"), None)
    (open_order,) = [order(e, "LTC/USDT") for e in load("open_orders_strings.json")]
    assert (open_order.order_id, open_order.type, open_order.status) == ("3811057334", "limit", "new")


def test_documented_order_query_cancel_and_open_orders() -> None:
    queried = order(load("order_query.json"), "LTC/BTC")
    assert (queried.order_id, queried.client_order_id, queried.status, queried.price, queried.time) == \
        ("1", "myOrder1", "new", Decimal("0.1"), Decimal("1499827319.559"))
    canceled = order(load("order_cancel.json"), "LTC/BTC")
    assert (canceled.order_id, canceled.client_order_id, canceled.status, canceled.final) == \
        ("4", "myOrder1", "canceled", True)
    assert [order(e, "LTC/BTC").order_id for e in load("open_orders.json")] == ["1"]


def test_my_trades_in_both_spellings() -> None:
    (documented,) = [trade(e) for e in load("my_trades.json")]
    assert (documented.trade_id, documented.order_id, documented.side, documented.maker) == \
        ("28457", "100234", "buy", False)
    assert (documented.quote_quantity, documented.commission, documented.commission_asset) == \
        (Decimal("48.000012"), Decimal("10.10000000"), "BNB")
    (recorded,) = [trade(e) for e in load("my_trades_strings.json")]
    assert (recorded.trade_id, recorded.side, recorded.price, recorded.time) == \
        ("309520010", "sell", Decimal("69.63000000"), Decimal("1698138992.358"))


def test_account_balances() -> None:
    assert parse_balances(load("account.json")) == {"BTC": Decimal("4723846.89208129"),
                                                    "LTC": Decimal("4763368.68006011")}
    assert parse_balances(load("account_strings.json"))["ETH"] == Decimal("0.02229833")


@pytest.mark.parametrize(("name", "kind", "text"), [
    ("error_-1013.json", InvalidOrder, "-1013 Filter failure: LOT_SIZE"),
    ("error_-1021.json", InvalidNonce, "-1021 Timestamp for this request was 1000ms ahead of the server's time."),
    ("error_-2010.json", InsufficientFunds, "-2010 Account has insufficient balance for requested action."),
    ("error_-1003.json", RateLimitExceeded, "-1003 Too many requests queued."),
    ("error_-2013.json", OrderNotFound, "-2013 Order does not exist."),
    ("error_-1121.json", BadSymbol, "-1121 Invalid symbol."),
])
def test_error_bodies_become_typed_errors(name: str, kind: type[Exception], text: str) -> None:
    error = error_from(load(name), "/api/v3/order")
    assert type(error) is kind
    assert error.errors == (text,) and str(error) == f"/api/v3/order: {text}"


def test_every_documented_order_status_has_a_neutral_one() -> None:
    documented = {"NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL", "REJECTED",
                  "EXPIRED", "EXPIRED_IN_MATCH"}
    assert set(STATUSES) == documented
    assert {STATUSES[s] for s in ("FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH")} <= FINAL_STATUSES
    pending_cancel = {**load("order_query.json"), "status": "PENDING_CANCEL"}
    assert order(pending_cancel, "LTC/BTC").status == "new"
