"""Kraken behind the exchange protocol, against the simulator: a pair is an Instrument, an
order's userref is its client order id, Kraken's states are the protocol's, and a fill is
the exchange's own (commission in the quote asset)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from pytest_peak_testnet.desk.config import ExchangeConfig
from pytest_peak_testnet.exchange import venues
from pytest_peak_testnet.exchange.errors import InvalidOrder
from pytest_peak_testnet.exchange.protocol import ExchangeClient
from pytest_peak_testnet.exchange.simulator import Simulator


def _client(simulator: Simulator, validate_only: bool = False) -> ExchangeClient:
    config = ExchangeConfig(base_url=simulator.url, validate_only=validate_only, allow_live_orders=True,
                            rate_limit_ms=0)
    return venues.client("kraken_testnet", config, base_url=simulator.url, credentials=simulator.credentials(config),
                         sleep=lambda _: None, monotonic=lambda: 0.0)


def test_a_pair_is_an_instrument_with_its_rules(kraken_simulator: Simulator) -> None:
    client = _client(kraken_simulator)
    btc = client.instrument("BTC/EUR")
    assert (btc.symbol, btc.venue_symbol, btc.base, btc.quote) == ("BTC/EUR", "XXBTZEUR", "BTC", "EUR")
    assert btc.lot_step == Decimal("1E-8") and btc.min_quantity > 0 and btc.trading
    assert client.instrument("XBTEUR") == btc
    assert (client.venue, client.validate_only) == ("kraken_testnet", False)
    ticker = client.ticker("BTC/EUR")
    assert ticker.symbol == "BTC/EUR" and ticker.bid <= ticker.ask


def test_a_market_order_fills_and_reports_the_exchanges_fill(kraken_simulator: Simulator) -> None:
    client = _client(kraken_simulator)
    ack = client.place_order("BTC/EUR", "buy", "market", Decimal("0.01"), client_order_id="4242")
    assert (ack.client_order_id, ack.validated, ack.status) == ("4242", False, "new") and ack.order_id
    report = client.orders("BTC/EUR", [ack.order_id])[ack.order_id]
    assert (report.status, report.final, report.client_order_id) == ("filled", True, "4242")
    assert report.executed_quantity == report.quantity == Decimal("0.01")
    [fill] = report.fills
    assert (fill.order_id, fill.side, fill.quantity, fill.commission_asset) == (ack.order_id, "buy", Decimal("0.01"),
                                                                                "EUR")
    assert fill.quote_quantity == report.cumulative_quote and fill.commission > 0
    found = client.find_order("BTC/EUR", "4242")  # by userref, among the closed orders; fills come with orders()
    assert found is not None and replace(found, fills=report.fills) == report
    assert client.find_order("BTC/EUR", "4243") is None


def test_a_resting_limit_order_is_new_open_and_canceled(kraken_simulator: Simulator) -> None:
    client = _client(kraken_simulator)
    below = (client.ticker("BTC/EUR").bid * Decimal("0.5")).quantize(client.instrument("BTC/EUR").tick_size)
    ack = client.place_order("BTC/EUR", "buy", "limit", Decimal("0.01"), price=below, client_order_id="7")
    assert ack.order_id is not None
    [(order_id, report)] = client.open_orders("BTC/EUR").items()
    assert (order_id, report.status, report.type, report.price) == (ack.order_id, "new", "limit", below)
    assert client.cancel_order("BTC/EUR", ack.order_id) is None
    assert client.orders("BTC/EUR", [ack.order_id])[ack.order_id].status == "canceled"
    assert client.open_orders() == {}


def test_validate_only_places_nothing_and_a_bad_client_order_id_is_refused(kraken_simulator: Simulator) -> None:
    client = _client(kraken_simulator, validate_only=True)
    ack = client.place_order("BTC/EUR", "sell", "market", Decimal("0.01"))
    assert (ack.validated, ack.order_id, ack.status) == (True, None, None) and int(ack.client_order_id)
    with pytest.raises(InvalidOrder, match="must be an integer for Kraken's userref"):
        client.place_order("BTC/EUR", "buy", "market", Decimal("0.01"), client_order_id="pt-1")
    assert client.balances()["ZEUR"] == Decimal(10000)
