"""Parsing and order formatting, from raw texts written after Kraken's documentation.

These bodies are deliberately not the simulator's output: real Kraken answers differ from
any simulator in small ways (key order, ``\\/``, integers as strings, missing fields).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from pytest_peak_testnet.exchange.errors import BadResponse, InvalidOrder
from pytest_peak_testnet.exchange.kraken.errors import unwrap
from pytest_peak_testnet.exchange.kraken.orders import (
    OrderPrice,
    TradeBalance,
    TradeInfo,
    parse_closed_orders,
    parse_orders,
    parse_trade_balance,
    parse_trades,
    parse_trades_history,
)
from pytest_peak_testnet.exchange.kraken.wire import (
    PairInfo,
    parse_asset_pairs,
    parse_balance,
    parse_ohlc,
    parse_ticker,
    parsed,
    prepare_order,
    sign,
)
from pytest_peak_testnet.trading.market import Candle

DOC_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


def result_of(raw: str) -> Any:
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
    assert (closed.price, closed.price2, closed.stopprice, closed.limitprice) == (
        OrderPrice(Decimal("27500.0")), OrderPrice(Decimal(0)), Decimal(0), Decimal(0))
    assert (closed.reason, closed.trades) == (None, ("TZX2WP-XSEOP-FP7WYR",))
    assert (open_.userref, open_.closetm, open_.side, open_.ordertype) == (None, None, "sell", "market")
    assert (open_.price, open_.stopprice, open_.limitprice, open_.trades) == (OrderPrice(Decimal(0)), None, None, ())


def order_with(ordertype: str, price: object, price2: object = "0") -> str:
    """A QueryOrders body with one order whose ``descr`` carries these prices."""
    descr = {"pair": "XBTEUR", "type": "sell", "ordertype": ordertype, "price": price, "price2": price2,
             "leverage": "none", "order": f"sell 0.10000000 XBTEUR @ {ordertype}", "close": ""}
    entry = {"refid": None, "userref": 0, "status": "canceled", "reason": "User requested", "opentm": 1688665496.7,
             "closetm": 1688665899.1, "starttm": 0, "expiretm": 0, "descr": descr, "vol": "0.10000000",
             "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000", "price": "0.00000",
             "stopprice": "29000.00000", "limitprice": "28950.00000", "misc": "", "oflags": "fciq"}
    return json.dumps({"error": [], "result": {"OQCLML-BW3P3-BUCMWZ": entry}})


@pytest.mark.parametrize(("ordertype", "price", "price2", "expected", "expected2"), [
    ("limit", "37500.0", "0", OrderPrice(Decimal("37500.0")), OrderPrice(Decimal(0))),
    ("market", 0, "0", OrderPrice(Decimal(0)), OrderPrice(Decimal(0))),  # a number, not a string: still a price
    ("trailing-stop", "+1.0000%", "0", OrderPrice(Decimal("1.0000"), "+", True), OrderPrice(Decimal(0))),
    ("trailing-stop-limit", "+50.0", "-0.5%", OrderPrice(Decimal("50.0"), "+"), OrderPrice(Decimal("0.5"), "-", True)),
    ("stop-loss", "-50.0", "0", OrderPrice(Decimal("50.0"), "-"), OrderPrice(Decimal(0))),
    ("take-profit", "#10.0", "0", OrderPrice(Decimal("10.0"), "#"), OrderPrice(Decimal(0))),
    ("stop-loss-limit", "#2.5%", "28950.0", OrderPrice(Decimal("2.5"), "#", True), OrderPrice(Decimal("28950.0"))),
])
def test_relative_descr_prices_keep_their_offset_and_unit(ordertype: str, price: object, price2: object,
                                                          expected: OrderPrice, expected2: OrderPrice) -> None:
    (order,) = parse_orders(result_of(order_with(ordertype, price, price2))).values()
    assert (order.ordertype, order.price, order.price2) == (ordertype, expected, expected2)
    assert (order.stopprice, order.limitprice, order.reason) == (Decimal(29000), Decimal(28950), "User requested")


@pytest.mark.parametrize(("price", "price2", "field", "shown"), [
    ("1.0.0", "0", "descr.price", "'1.0.0'"),
    ("5%", "0", "descr.price", "'5%'"),  # a percentage is only documented as an offset
    ("+-1", "0", "descr.price", "'+-1'"),
    ("1e5", "0", "descr.price", "'1e5'"),
    ("", "0", "descr.price", "''"),
    (None, "0", "descr.price", "None"),
    ("30000.0", "~0.5", "descr.price2", "'~0.5'"),
])
def test_an_undocumented_descr_price_names_the_field_and_the_value(price: object, price2: object, field: str,
                                                                    shown: str) -> None:
    with pytest.raises(BadResponse) as info:
        parsed(parse_orders, result_of(order_with("limit", price, price2)))
    assert f"order OQCLML-BW3P3-BUCMWZ: unexpected {field} {shown};" in info.value.message


TRADES = """{"error":[],"result":{"trades":{
  "THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD",
   "time":1688667796.8802,"type":"buy","ordertype":"limit","price":"30010.00000","cost":"600.20000",
   "fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"","trade_id":"40274859","maker":true},
  "TCWJEG-FL4SZ-3FKGH6":{"ordertxid":"OMMDB2-FSB6Z-7W3HPO","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD",
   "time":1688667769.6396,"type":"sell","ordertype":"market","price":"30002.10000","cost":"750.05250",
   "fee":"1.95014","vol":"0.02500000","margin":"0.00000","misc":""}},"count":"2346"}}"""


def test_trades_history_as_documented_with_count_as_string_and_an_older_trade() -> None:
    trades, count = parse_trades_history(result_of(TRADES))
    assert count == 2346 and list(trades) == ["THVRQM-33VKH-UCI7BS", "TCWJEG-FL4SZ-3FKGH6"]  # newest first, kept
    assert trades["THVRQM-33VKH-UCI7BS"] == TradeInfo(
        txid="THVRQM-33VKH-UCI7BS", ordertxid="OQCLML-BW3P3-BUCMWZ", postxid="TKH2SE-M7IF5-CFI7LT",
        pair="XXBTZUSD", time=1688667796.8802, side="buy", ordertype="limit", price=Decimal("30010"),
        cost=Decimal("600.2"), fee=Decimal(0), volume=Decimal("0.02"), margin=Decimal(0), misc="", maker=True,
        trade_id=40274859)
    older = trades["TCWJEG-FL4SZ-3FKGH6"]  # recorded before Kraken added maker and trade_id
    assert (older.maker, older.trade_id, older.fee, older.cost) == (None, None, Decimal("1.95014"),
                                                                    Decimal("750.0525"))


def test_query_trades_is_keyed_like_the_history_page() -> None:
    page = result_of(TRADES)["trades"]
    assert parse_trades(page) == parse_trades_history(result_of(TRADES))[0]
    with pytest.raises(BadResponse, match="parse_trades: KeyError 'fee'"):
        parsed(parse_trades, {txid: {k: v for k, v in entry.items() if k != "fee"} for txid, entry in page.items()})


def test_closed_orders_page_and_count() -> None:
    raw = json.loads(order_with("limit", "30000.0"))
    raw["result"] = {"closed": raw["result"], "count": 1}
    orders, count = parse_closed_orders(result_of(json.dumps(raw)))
    assert count == 1 and orders["OQCLML-BW3P3-BUCMWZ"].status == "canceled"
    with pytest.raises(BadResponse, match="parse_closed_orders: KeyError 'count'"):
        parsed(parse_closed_orders, {"closed": {}})


def test_trade_balance_as_documented_and_without_margin_fields() -> None:
    raw = """{"error":[],"result":{"eb":"1101.3425","tb":"392.2264","m":"7.0354","uv":"0.0000","n":"-10.0232",
      "c":"21.1063","v":"31.1297","e":"382.2032","mf":"375.1678","ml":"5432.57"}}"""
    assert parse_trade_balance(result_of(raw), "ZUSD") == TradeBalance(
        asset="ZUSD", eb=Decimal("1101.3425"), tb=Decimal("392.2264"), m=Decimal("7.0354"), uv=Decimal(0),
        n=Decimal("-10.0232"), c=Decimal("21.1063"), v=Decimal("31.1297"), e=Decimal("382.2032"),
        mf=Decimal("375.1678"), ml=Decimal("5432.57"))
    spot = parse_trade_balance({"eb": "60.0000", "tb": "60.0000", "e": "60.0000", "mf": "60.0000"}, "ZEUR")
    assert (spot.eb, spot.e, spot.m, spot.n, spot.ml, spot.uv) == (Decimal(60), Decimal(60), None, None, None, None)
    with pytest.raises(BadResponse, match="parse_trade_balance: KeyError 'tb'"):
        parsed(parse_trade_balance, {"eb": "60.0000"}, "ZEUR")


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
