"""The symbols the simulator lists, with Binance's exchangeInfo entry and filters, and the
server-side check of an order against them (Binance's ``-1013 Filter failure: ...``).

The filters follow Binance's ``filters.md``: ``PRICE_FILTER`` (bounds, tick), ``LOT_SIZE``
and ``MARKET_LOT_SIZE`` (bounds, step), ``NOTIONAL`` (a market order judged at the average
price) and ``PERCENT_PRICE_BY_SIDE`` (a limit price within a band around the average
price). Values match Binance's live BTCUSDT and ETHUSDT entries of 2024.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .wire import Refusal, amount, filter_failure


@dataclass(frozen=True)
class SimSymbol:
    """One symbol: its rules, and what drives its simulated market (``market.Priced``)."""

    pair_id: str  # BTCUSDT: the price path's seed key, as Kraken's pair id is
    base: str
    quote: str
    tick_size: Decimal
    pair_decimals: int
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    start_price: float
    daily_volatility: float
    minute_volume: float
    #: Base asset offered at each price level of the simulated book: thin, as on the Spot
    #: Testnet, so a large market order partly fills and expires.
    book_depth: Decimal
    percent_up: Decimal = Decimal(5)
    percent_down: Decimal = Decimal("0.2")

    def price(self, value: Decimal | float) -> str:
        """A price on this symbol's tick grid (``pair_decimals`` places)."""
        return f"{value:.{self.pair_decimals}f}"

    def entry(self) -> dict[str, Any]:
        """This symbol's exchangeInfo entry: integers where Binance sends integers."""
        return {
            "symbol": self.pair_id, "status": "TRADING", "baseAsset": self.base, "baseAssetPrecision": 8,
            "quoteAsset": self.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": amount(self.tick_size), "maxPrice": amount(1_000_000),
                 "tickSize": amount(self.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": amount(self.min_qty), "maxQty": amount(self.max_qty),
                 "stepSize": amount(self.step_size)},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": amount(0), "maxQty": amount(self.market_max_qty),
                 "stepSize": amount(0)},
                {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": str(self.percent_up),
                 "bidMultiplierDown": str(self.percent_down), "askMultiplierUp": str(self.percent_up),
                 "askMultiplierDown": str(self.percent_down), "avgPriceMins": 5},
                {"filterType": "NOTIONAL", "minNotional": amount(self.min_notional), "applyMinToMarket": True,
                 "maxNotional": amount(self.max_notional), "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def check(self, side: str, kind: str, quantity: Decimal, price: Decimal | None, average: Decimal) -> None:
        """Binance's filter failures, in the order its documentation lists the filters."""
        if price is not None:
            if price < self.tick_size or price > 1_000_000 or (price - self.tick_size) % self.tick_size:
                raise filter_failure("PRICE_FILTER")
            if not average * self.percent_down <= price <= average * self.percent_up:
                raise filter_failure("PERCENT_PRICE_BY_SIDE")
        if quantity < self.min_qty or quantity > self.max_qty or (quantity - self.min_qty) % self.step_size:
            raise filter_failure("LOT_SIZE")
        if kind == "MARKET" and quantity > self.market_max_qty:
            raise filter_failure("MARKET_LOT_SIZE")
        notional = quantity * (price if price is not None else average)
        if notional < self.min_notional or (price is not None and notional > self.max_notional):
            raise filter_failure("NOTIONAL")


SYMBOLS: dict[str, SimSymbol] = {
    symbol.pair_id: symbol
    for symbol in (
        SimSymbol("BTCUSDT", "BTC", "USDT", tick_size=Decimal("0.01"), pair_decimals=2, step_size=Decimal("0.00001"),
                  min_qty=Decimal("0.00001"), max_qty=Decimal("9000"), market_max_qty=Decimal("100"),
                  min_notional=Decimal("5"), max_notional=Decimal("9000000"), start_price=42_300.0,
                  daily_volatility=0.03, minute_volume=2.0, book_depth=Decimal("0.01")),
        SimSymbol("ETHUSDT", "ETH", "USDT", tick_size=Decimal("0.01"), pair_decimals=2, step_size=Decimal("0.0001"),
                  min_qty=Decimal("0.0001"), max_qty=Decimal("9000"), market_max_qty=Decimal("2000"),
                  min_notional=Decimal("5"), max_notional=Decimal("9000000"), start_price=2_280.0,
                  daily_volatility=0.04, minute_volume=15.0, book_depth=Decimal("0.2")),
    )
}


def find_symbol(name: str | None) -> SimSymbol:
    if name not in SYMBOLS:
        raise Refusal(-1121, "Invalid symbol.")
    return SYMBOLS[name]
