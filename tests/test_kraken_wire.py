"""Parsing and order formatting, from raw texts written after Kraken's documentation.

These bodies are deliberately not the simulator's output: real Kraken answers differ from
any simulator in small ways (key order, ``\\/``, integers as strings, missing fields).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pytest_peak_testnet.kraken_errors import BadResponse, InvalidOrder, unwrap
from pytest_peak_testnet.kraken_wire import (
    PairInfo, parse_asset_pairs, parse_balance, parse_ohlc, parse_orders, parse_ticker, parsed, prepare_order, sign,
)
from pytest_peak_testnet.market import Candle

DOC_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


def result_of(raw: str) -> object:
    return unwrap(json.loads(raw))[0]


def test_documented_signature_example_reproduces_exactly() -> None:
    body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert sign("/0/private/AddOrder", 1616492376594, body, DOC_SECRET) == (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==")


ASSET_PAIRS = r"""{"error":[],"result":{
 "XXBTZEUR":{"altname":"XBTEUR","wsname":"XBT\/EUR","aclass_base":"currency","base":"XXBT",
  "aclass_quote":"currency","quote":"ZEUR","lot":"unit","cost_decimals":5,"pair_decimals":1,"lot_decimals":8,
  "lot_multiplier":1,"leverage_buy":[2,3,4,5],"leverage_sell":[2,3,4,5],"fees":[[0,0.26],[50000,0.24]],
  "fees_maker":[[0,0.16],[50000,0.14]],"fee_volume_currency":"ZUSD","margin_call":80,"margin_stop":40,
  "ordermin":"0.0001","costmin":"0.5","tick_size":"0.1","status":"online","long_position_limit":270,
  "short_position_limit":180},
 "XXDGZEUR":{"altname":"XDGEUR","wsname":"XDG\/EUR","aclass_base":"currency","base":"XXDG",
  "aclass_quote":"currency","quote":"ZEUR","lot":"unit","pair_decimals":"7","lot_decimals":"8",
  "lot_multiplier":1,"fees":[[0,0.26]],"fees_maker":[[0,0.16]],"fee_volume_currency":"ZUSD",
  "margin_call":80,"margin_stop":40}}}"""


def test_asset_pairs_unescape_wsname_and_accept_older_captures() -> None:
    pairs = parse_asset_pairs(result_of(ASSET_PAIRS))
    btc = pairs["XXBTZEUR"]
    assert (btc.wsname, btc.symbol, btc.altname) == ("XBT/EUR", "BTC/EUR", "XBTEUR")
    assert (btc.base, btc.quote) == ("XXBT", "ZEUR")
    assert (btc.pair_decimals, btc.lot_decimals, btc.cost_decimals) == (1, 8, 5)
    assert (btc.ordermin, btc.costmin, btc.tick_size, btc.status) == (Decimal("0.0001"), Decimal("0.5"),
                                                                       Decimal("0.1"), "online")
    old = pairs["XXDGZEUR"]  # an older capture: no ordermin, costmin, tick_size, status; decimals as strings
    assert old.symbol == "DOGE/EUR"
    assert (old.pair_decimals, old.ordermin, old.costmin, old.tick_size, old.status) == (7, 0, None, None, "online")


def test_ticker_as_documented() -> None:
    raw = """{"error":[],"result":{"XXBTZUSD":{"a":["30300.10000","1","1.000"],"b":["30300.00000","1","1.000"],
      "c":["30303.20000","0.00067643"],"v":["4083.67001100","4412.73601799"],"p":["30706.77771","30689.13205"],
      "t":[34619,"38907"],"l":["29868.30000","29868.30000"],"h":["31631.00000","31631.00000"],"o":"30502.80000"}}}"""
    ticker = parse_ticker(result_of(raw), "XXBTZUSD")
    assert (ticker.ask, ticker.bid, ticker.last) == (Decimal("30300.1"), Decimal("30300.0"), Decimal("30303.2"))
    assert (ticker.trades_24h, ticker.open, ticker.volume_24h) == (38907, Decimal("30502.8"), Decimal("4412.73601799"))


@pytest.mark.parametrize("last", ['1688671260', '"1688671260"'])
def test_ohlc_splits_the_open_candle_and_reads_last_as_int_or_string(last: str) -> None:
    raw = ('{"error":[],"result":{"XBTUSD":[[1688671200,"30306.1","30306.2","30305.7","30305.7","30306.1",'
           '"3.39243896",23],["1688671260","30304.5","30304.5","30300.0","30300.0","30300.0","4.42996871","18"]],'
           f'"last":{last}}}}}')
    page = parse_ohlc(result_of(raw), "XXBTZUSD")  # keyed by the altname here: still the one pair asked for
    d = Decimal
    assert page.candles == [Candle(1688671200, d("30306.1"), d("30306.2"), d("30305.7"), d("30305.7"), d("30306.1"),
                                   d("3.39243896"), 23)]
    assert page.current == Candle(1688671260, d("30304.5"), d("30304.5"), d("30300.0"), d("30300.0"), d("30300.0"),
                                  d("4.42996871"), 18)
    assert page.last == 1688671260


def test_query_orders_as_documented_with_userref_as_string() -> None:
    raw = """{"error":[],"result":{"OBCMZD-JIEE7-77TH3F":{"refid":"None","userref":"0","status":"closed",
      "reason":null,"opentm":1688665496.7808,"closetm":1688665499.1922,"starttm":0,"expiretm":0,
      "descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"27500.0","price2":"0","leverage":"none",
      "order":"buy 1.25000000 XBTUSD @ limit 27500.0","close":""},"vol":"1.25000000","vol_exec":"1.25000000",
      "cost":"27526.2","fee":"26.2","price":"27500.0","stopprice":"0.00000","limitprice":"0.00000","misc":"",
      "oflags":"fciq","trades":["TZX2WP-XSEOP-FP7WYR"]},
      "OMMDB2-FSB6Z-7W3HPO":{"refid":null,"userref":null,"status":"open","opentm":1688592012.2317,"starttm":0,
      "expiretm":0,"descr":{"pair":"XBTUSD","type":"sell","ordertype":"market","price":"0","price2":"0",
      "leverage":"none","order":"sell 0.25000000 XBTUSD @ market","close":""},"vol":"0.25000000",
      "vol_exec":"0.00000000","cost":"0.00000","fee":"0.00000","price":"0.00000","misc":"","oflags":"fcib"}}}"""
    orders = parse_orders(result_of(raw))
    closed, open_ = orders["OBCMZD-JIEE7-77TH3F"], orders["OMMDB2-FSB6Z-7W3HPO"]
    assert (closed.status, closed.userref, closed.volume_executed, closed.closetm) == (
        "closed", 0, Decimal("1.25"), 1688665499.1922)
    assert (open_.userref, open_.closetm, open_.side, open_.ordertype) == (None, None, "sell", "market")


def test_balance_keeps_asset_suffixes() -> None:
    raw = '{"error":[],"result":{"ZEUR":"60.0000","XXBT":"0.0000002600","ETH.F":"0.1","DOT.S":"12.5"}}'
    assert parse_balance(result_of(raw)) == {"ZEUR": Decimal("60"), "XXBT": Decimal("0.00000026"),
                                             "ETH.F": Decimal("0.1"), "DOT.S": Decimal("12.5")}


def test_a_result_of_the_wrong_shape_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="parse_ticker"):
        parsed(parse_ticker, {"XXBTZEUR": {"a": []}}, "XXBTZEUR")


BTC = PairInfo("XXBTZEUR", "XBTEUR", "XBT/EUR", "XXBT", "ZEUR", pair_decimals=1, lot_decimals=8, cost_decimals=5,
               ordermin=Decimal("0.0001"), costmin=Decimal("0.5"), tick_size=Decimal("0.5"), status="online")


@pytest.mark.parametrize(("ordertype", "volume", "price", "expected"), [
    ("limit", "1.25", "37500", ("1.25000000", "37500.0")),
    ("limit", 0.1, 30000.5, ("0.10000000", "30000.5")),  # floats via str(): no binary noise
    ("limit", Decimal("0.123456789"), "100", ("0.12345678", "100.0")),  # truncated, never rounded up
    ("market", "0.001", None, ("0.00100000", None)),  # no price: the exchange judges costmin
    ("market", "0.001", "30000", ("0.00100000", None)),  # a reference price is checked, not sent
])
def test_orders_are_formatted_to_the_pairs_decimals(ordertype: str, volume: object, price: object,
                                                    expected: tuple[str, str | None]) -> None:
    assert prepare_order(BTC, ordertype, volume, price) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("ordertype", "volume", "price", "message"), [
    ("limit", "0.00009", "30000", "below ordermin"),
    ("limit", "0.000099999", "30000", "below ordermin"),
    ("limit", "0.0001", "1000", "below costmin"),
    ("market", "0.0001", "1000", "below costmin"),
    ("limit", "1", "30000.25", "more than 1 decimals"),
    ("limit", "1", "30000.1", "tick size 0.5"),
    ("limit", "1", None, "needs a price"),
    ("limit", "abc", "1", "not a number"),
    ("limit", "-1", "1", "positive"),
    ("limit", "1", "NaN", "positive"),
])
def test_orders_breaking_market_rules_fail_before_sending(ordertype: str, volume: str, price: str | None,
                                                          message: str) -> None:
    with pytest.raises(InvalidOrder, match=message):
        prepare_order(BTC, ordertype, volume, price)  # type: ignore[arg-type]
