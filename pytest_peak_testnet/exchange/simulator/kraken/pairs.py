"""The pairs and assets the simulator lists, with Kraken's real AssetPairs field set."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...kraken.wire import PairInfo
from .wire import Reject

#: Kraken's volume-tiered fee tables in percent (taker, maker), as AssetPairs lists them.
FEES = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16],
        [2500000, 0.14], [5000000, 0.12], [10000000, 0.1]]
FEES_MAKER = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06],
              [2500000, 0.04], [5000000, 0.02], [10000000, 0.0]]
TAKER_FEE = Decimal("0.0026")
MAKER_FEE = Decimal("0.0016")

#: Decimals Kraken shows each asset's balance with.
ASSET_DECIMALS = {"ZEUR": 4, "XXBT": 10, "XETH": 10, "USDT": 8, "SHIB": 5}


@dataclass(frozen=True)
class SimPair(PairInfo):
    """A pair as Kraken describes it, plus what drives its simulated market."""

    position_limits: tuple[int, int]
    #: The price path: its level on 2024-01-01, its daily volatility, its volume per minute.
    start_price: float
    daily_volatility: float
    minute_volume: float

    def asset_pair(self) -> dict[str, Any]:
        """This pair's AssetPairs entry: ints where Kraken sends ints, strings where strings."""
        return {
            "altname": self.altname, "wsname": self.wsname, "aclass_base": "currency", "base": self.base,
            "aclass_quote": "currency", "quote": self.quote, "lot": "unit", "cost_decimals": self.cost_decimals,
            "pair_decimals": self.pair_decimals, "lot_decimals": self.lot_decimals, "lot_multiplier": 1,
            "leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5], "fees": FEES, "fees_maker": FEES_MAKER,
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
            "ordermin": str(self.ordermin), "costmin": str(self.costmin), "tick_size": str(self.tick_size),
            "status": self.status, "long_position_limit": self.position_limits[0],
            "short_position_limit": self.position_limits[1],
        }

    def price(self, value: Decimal | float) -> str:
        """A price as Kraken writes it for this pair: ``pair_decimals`` places."""
        return f"{value:.{self.pair_decimals}f}"

    def money(self, value: Decimal) -> str:
        """A cost or fee as Kraken writes it for this pair: ``cost_decimals`` places."""
        return f"{value:.{self.cost_decimals}f}"


PAIRS: dict[str, SimPair] = {
    pair.pair_id: pair
    for pair in (
        SimPair("XXBTZEUR", "XBTEUR", "XBT/EUR", "XXBT", "ZEUR", pair_decimals=1, lot_decimals=8, cost_decimals=5,
                ordermin=Decimal("0.00005"), costmin=Decimal("0.5"), tick_size=Decimal("0.1"), status="online",
                position_limits=(270, 180), start_price=38_900.0, daily_volatility=0.03, minute_volume=1.5),
        SimPair("XETHZEUR", "ETHEUR", "ETH/EUR", "XETH", "ZEUR", pair_decimals=2, lot_decimals=8, cost_decimals=5,
                ordermin=Decimal("0.002"), costmin=Decimal("0.5"), tick_size=Decimal("0.01"), status="online",
                position_limits=(2700, 1400), start_price=2_090.0, daily_volatility=0.04, minute_volume=12.0),
        # Priced in tether: the pair of the market history shipped in examples/market_history,
        # whose source quoted cents, so its prices keep two decimals here (Kraken's has one).
        SimPair("XBTUSDT", "XBTUSDT", "XBT/USDT", "XXBT", "USDT", pair_decimals=2, lot_decimals=8, cost_decimals=5,
                ordermin=Decimal("0.00005"), costmin=Decimal("0.5"), tick_size=Decimal("0.01"), status="online",
                position_limits=(270, 180), start_price=42_300.0, daily_volatility=0.03, minute_volume=2.0),
        # A cross priced in bitcoin (5 price decimals) and a coin priced in millionths of a
        # euro (8): homes for market files whose prices are that fine.
        SimPair("XETHXXBT", "ETHXBT", "ETH/XBT", "XETH", "XXBT", pair_decimals=5, lot_decimals=8, cost_decimals=10,
                ordermin=Decimal("0.002"), costmin=Decimal("0.00002"), tick_size=Decimal("0.00001"), status="online",
                position_limits=(2700, 1400), start_price=0.0545, daily_volatility=0.025, minute_volume=5.0),
        SimPair("SHIBEUR", "SHIBEUR", "SHIB/EUR", "SHIB", "ZEUR", pair_decimals=8, lot_decimals=5, cost_decimals=5,
                ordermin=Decimal("50000"), costmin=Decimal("0.5"), tick_size=Decimal("0.00000001"), status="online",
                position_limits=(0, 0), start_price=0.0000093, daily_volatility=0.05, minute_volume=200_000_000.0),
    )
}


def describe(pair: SimPair, side: str, ordertype: str, volume: Decimal, price: Decimal) -> str:
    """AddOrder's ``descr.order``: ``buy 1.25000000 XBTEUR @ limit 37500.0``."""
    limit = f" {pair.price(price)}" if ordertype == "limit" else ""
    return f"{side} {volume:.8f} {pair.altname} @ {ordertype}{limit}"


def find_pair(name: str | None) -> SimPair:
    """Kraken takes a pair by id (``XXBTZEUR``) or by altname (``XBTEUR``)."""
    wanted = (name or "").upper()
    for pair in PAIRS.values():
        if wanted in (pair.pair_id, pair.altname):
            return pair
    raise Reject("EQuery:Unknown asset pair")


def find_pairs(names: str | None) -> list[SimPair]:
    """A comma list of pairs, or every pair when none is named."""
    return [find_pair(name) for name in names.split(",")] if names else list(PAIRS.values())
