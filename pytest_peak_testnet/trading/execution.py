"""The exchange's truth about a run's placed orders: how each fill is booked, and how real
the fills were.

Booking. A venue charges its commission in the quote asset, in the base asset (Binance
takes it from the asset a buy receives), or in a third asset (BNB). The paper account
books money in the quote asset, so:

- quote: the commission is the fee;
- base: the fee is the commission at the fill's price, and the base amount it took
  changes the position: a buy of ``q`` with commission ``c`` holds ``q - c`` (a sell gave
  ``q + c``), bought at the fill's price, so the account holds what the venue says and
  its cash moves by exactly the venue's quote amount;
- any other asset: nothing is booked in the quote asset; the amount is kept per asset
  and reported apart (it is real money, in a currency the books do not hold).

Partial fills and expired remainders need nothing special: only fills are booked, so an
order that filled 40 % books exactly those 40 %. A commission in the base asset leaves the
position a hair below the lots bought; the closing sell sells the lots, and what is left
below one lot step is reported as dust.

Quality. Each fill's slippage is measured against the price the strategy acted on (the
candle close the order was sized at), in basis points, signed so that worse is positive:
a buy above it and a sell below it slipped. Per run: orders filled, partly filled (some
but not all of their quantity, whatever their final state) and expired, and the largest
and mean slippage. Validate-only runs fill on the paper account, whose slippage is the
configured constant: they have no execution figures at all (``Execution`` is None), so a
bound on them is reported as missing rather than trivially held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..exchange.protocol import Fill, Instrument, OrderReport
from .exact import BOOKS, RATIOS, ZERO, plain

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Booking:
    """What the paper account books for one fill, in the quote asset."""

    volume: Decimal
    notional: Decimal
    fee: Decimal
    #: A commission in neither the base nor the quote asset: (asset, amount), booked apart.
    other_commission: tuple[str, Decimal] | None = None


def booking(fill: Fill, instrument: Instrument) -> Booking:
    asset, commission = fill.commission_asset.upper(), fill.commission
    if asset == instrument.quote.upper() or not commission:
        return Booking(fill.quantity, fill.quote_quantity, commission)
    if asset == instrument.base.upper():
        fee = BOOKS.multiply(commission, fill.price)
        if fill.side == "buy":
            return Booking(BOOKS.subtract(fill.quantity, commission), BOOKS.subtract(fill.quote_quantity, fee), fee)
        return Booking(BOOKS.add(fill.quantity, commission), BOOKS.add(fill.quote_quantity, fee), fee)
    return Booking(fill.quantity, fill.quote_quantity, ZERO, (fill.commission_asset, commission))


def slippage_bps(side: str, acted: Decimal, price: Decimal) -> Decimal:
    """Positive when the fill was worse than ``acted``: above it for a buy, below for a sell."""
    moved = RATIOS.divide(RATIOS.multiply(RATIOS.subtract(price, acted), BPS), acted)
    return moved if side == "buy" else -moved


@dataclass(frozen=True)
class FillQuality:
    trade_id: str
    order_id: str
    side: str
    price: Decimal
    quantity: Decimal
    #: The price the strategy acted on.
    acted_price: Decimal
    slippage_bps: Decimal
    commission: Decimal
    commission_asset: str
    #: When the exchange filled it, unix seconds.
    time: Decimal


@dataclass
class Execution:
    """A run's placed orders as the exchange settled them (see the module docstring)."""

    orders_filled: int = 0
    orders_partially_filled: int = 0
    orders_expired: int = 0
    fills: list[FillQuality] = field(default_factory=list)
    #: Commissions in a third asset, per asset: not in the quote-asset fees.
    other_commissions: dict[str, Decimal] = field(default_factory=dict)
    #: Base asset left at the end below one lot step: no order can sell it (``PaperAccount.dust``).
    dust: Decimal = ZERO

    def fill(self, fill: Fill, acted: Decimal, booked: Booking) -> None:
        self.fills.append(FillQuality(fill.trade_id, fill.order_id, fill.side, fill.price, fill.quantity, acted,
                                      slippage_bps(fill.side, acted, fill.price), fill.commission,
                                      fill.commission_asset, fill.time))
        if booked.other_commission is not None:
            asset, amount = booked.other_commission
            self.other_commissions[asset] = BOOKS.add(self.other_commissions.get(asset, ZERO), amount)

    def settled(self, report: OrderReport) -> None:
        """``report`` is final (or the run ended with it still open)."""
        if report.status == "filled":
            self.orders_filled += 1
        elif report.status == "expired":
            self.orders_expired += 1
        if ZERO < report.executed_quantity < report.quantity:
            self.orders_partially_filled += 1

    @property
    def max_slippage_bps(self) -> Decimal | None:
        return max((f.slippage_bps for f in self.fills), default=None)

    @property
    def mean_slippage_bps(self) -> Decimal | None:
        if not self.fills:
            return None
        return RATIOS.divide(sum((f.slippage_bps for f in self.fills), ZERO), len(self.fills))

    def figures(self) -> dict[str, Any]:
        """The figures ``expect:`` can bound, by name."""
        return {"orders_filled": self.orders_filled, "orders_partially_filled": self.orders_partially_filled,
                "orders_expired": self.orders_expired, "max_slippage_bps": self.max_slippage_bps,
                "mean_slippage_bps": self.mean_slippage_bps, "dust": self.dust}

    @property
    def commissions(self) -> dict[str, Decimal]:
        """Every commission, per asset, as the exchange charged it (the report shows them
        beside the fees, which hold the base and quote ones in the quote asset)."""
        charged: dict[str, Decimal] = {}
        for f in self.fills:
            charged[f.commission_asset] = BOOKS.add(charged.get(f.commission_asset, ZERO), f.commission)
        return charged

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain({**self.figures(), "fills": [vars(f) for f in self.fills],
                                      "orders": len({f.order_id for f in self.fills}),
                                      "commissions": self.commissions, "other_commissions": self.other_commissions})
        return data
