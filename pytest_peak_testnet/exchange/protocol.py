"""What the desk needs from a venue, and nothing venue-specific.

The session, the executor, reconciliation, market data, the limits and the reports talk to
an exchange only through ``ExchangeClient`` and the dataclasses here. Each venue (Kraken,
Binance) implements it in its own subpackage and is chosen by name (``venues``); nothing
above ``exchange/`` imports a venue's module. The shapes follow what both venues answer:
an order has the venue's id and the client's own id (Kraken's ``userref``, Binance's
``newClientOrderId``), and its fills carry the exchange's price, quantity, quote amount and
commission with the commission's asset, since a venue may charge it in a third asset.

Every amount is an exact ``Decimal`` parsed from the wire; a venue's rounding rules live in
``Instrument``, so an order is shaped (and refused) before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from ..trading.market import Candle

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
#: Venue-neutral order states. Binance's names map one to one (``EXPIRED_IN_MATCH`` is
#: ``expired``); Kraken's ``pending``/``open`` are ``new`` (or ``partially_filled`` once
#: something filled), ``closed`` is ``filled``.
OrderStatus = Literal["new", "partially_filled", "filled", "canceled", "expired", "rejected"]
#: After these no more fills can come.
FINAL_STATUSES: frozenset[OrderStatus] = frozenset({"filled", "canceled", "expired", "rejected"})


@dataclass(frozen=True)
class Instrument:
    """A market's trading rules, as the venue states them (Kraken's AssetPairs, Binance's
    exchangeInfo filters). ``None`` where the venue sets no such bound."""

    #: The desk's unified name, ``BTC/EUR``.
    symbol: str
    #: The venue's own id for it (``XXBTZEUR``, ``BTCUSDT``).
    venue_symbol: str
    base: str
    quote: str
    #: Quantities are whole multiples of this (Kraken: 10**-lot_decimals; Binance: LOT_SIZE stepSize).
    lot_step: Decimal
    #: Prices are whole multiples of this (Kraken: tick_size or 10**-pair_decimals; Binance: PRICE_FILTER tickSize).
    tick_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal | None = None
    #: A market order's own quantity bounds where they differ (Binance's MARKET_LOT_SIZE).
    market_max_quantity: Decimal | None = None
    min_notional: Decimal | None = None
    max_notional: Decimal | None = None
    #: False where the venue has halted the market (Kraken status != online, Binance status != TRADING).
    trading: bool = True


@dataclass(frozen=True)
class Ticker:
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal


@dataclass(frozen=True)
class CandlePage:
    """Closed candles oldest first, the still-open one apart, and ``last``: what to pass as
    ``since`` to get only newer ones."""

    candles: list[Candle]
    current: Candle | None
    last: int


@dataclass(frozen=True)
class Fill:
    """One execution as the venue booked it."""

    trade_id: str
    order_id: str
    side: Side
    price: Decimal
    quantity: Decimal
    #: What the fill cost or paid in the quote asset before commission (the venue's own
    #: figure: Kraken's ``cost``, Binance's ``quoteQty``).
    quote_quantity: Decimal
    commission: Decimal
    commission_asset: str
    #: Unix seconds (Binance's milliseconds / 1000, exactly).
    time: Decimal
    maker: bool | None = None


@dataclass(frozen=True)
class OrderAck:
    """A place-order answer. ``validated``: the venue only checked the order (Kraken's
    ``validate=true``, Binance's ``/order/test``): nothing was placed and ``order_id`` is None."""

    client_order_id: str
    order_id: str | None
    validated: bool
    status: OrderStatus | None
    description: str = ""
    #: Fills the answer already carried (Binance's FULL response); more may follow.
    fills: tuple[Fill, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderReport:
    """An order as the venue describes it now, with every fill it has had so far."""

    order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    status: OrderStatus
    quantity: Decimal
    executed_quantity: Decimal
    #: Sum of the fills' quote amounts.
    cumulative_quote: Decimal
    #: The limit price, None for a market order.
    price: Decimal | None
    time: Decimal
    fills: tuple[Fill, ...] = field(default=())

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


class ExchangeClient(Protocol):
    """One venue, one environment, one set of credentials. Errors are the typed ones in
    ``exchange.errors``; each says how to treat it (``treatment``)."""

    #: The venue's name as the config names its block (``kraken_testnet``, ``binance_testnet``).
    @property
    def venue(self) -> str: ...

    #: True when orders are only checked, never placed.
    @property
    def validate_only(self) -> bool: ...

    def server_time(self) -> int:
        """The exchange's clock, unix seconds."""
        ...

    def instrument(self, symbol: str) -> Instrument:
        """``symbol`` in the desk's spelling (``BTC/EUR``); an unknown one is ``BadSymbol``
        naming the closest ones the venue lists."""
        ...

    def candles(self, symbol: str, interval_minutes: int, since: int | None = None, *,
                newest: int | None = None) -> CandlePage:
        """Closed candles opening after ``since``; ``newest`` keeps only that many of the newest."""
        ...

    def ticker(self, symbol: str) -> Ticker: ...

    def place_order(self, symbol: str, side: Side, type: OrderType, quantity: Decimal,
                    price: Decimal | None = None, client_order_id: str | None = None) -> OrderAck:
        """Checks the order against ``instrument(symbol)`` before sending (a breach is
        ``InvalidOrder`` naming the rule), then places it, or only validates it in
        validate-only mode. A lost answer raises ``OrderStatusUnknown`` carrying the client
        order id; the order is never resent."""
        ...

    def orders(self, symbol: str, order_ids: Iterable[str]) -> dict[str, OrderReport]:
        """The orders' current state with all their fills, by order id."""
        ...

    def find_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """Reconciliation: the order placed with this client order id, open or closed, or None."""
        ...

    def open_orders(self, symbol: str | None = None) -> dict[str, OrderReport]: ...

    def cancel_order(self, symbol: str, order_id: str) -> OrderReport | None:
        """The canceled order where the venue answers with it (Binance), else None (Kraken)."""
        ...

    def balances(self) -> dict[str, Decimal]:
        """Free balance per asset, in the venue's asset names."""
        ...
