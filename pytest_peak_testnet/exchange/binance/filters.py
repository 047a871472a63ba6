"""A symbol's exchangeInfo filters, and the order checked against them before it is sent.

Binance refuses an order that breaks a filter with ``-1013 Filter failure: <FILTER>``; the
client finds the same breach locally and raises ``InvalidOrder`` naming the filter the way
Binance would, plus what was expected, so a strategy's mistake costs no request (and no
request weight). The filters checked: ``PRICE_FILTER``, ``LOT_SIZE``, ``MARKET_LOT_SIZE``,
``NOTIONAL`` and the older ``MIN_NOTIONAL``, ``PERCENT_PRICE_BY_SIDE`` and the older
``PERCENT_PRICE``. A value of zero turns a bound off, as Binance documents (``maxPrice 0``,
``stepSize 0``). The notional of a market order and the percent-price band are judged
against the symbol's average price (``/api/v3/avgPrice``), which the caller fetches only
when a filter needs it (``needs_reference``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import InvalidOrder
from ..klines import dec
from ..protocol import Instrument, OrderType, Side

FILTER_FAILURE = -1013


@dataclass(frozen=True)
class Band:
    """A ``[minimum, maximum]`` bound with a step; 0 switches any of them off."""

    minimum: Decimal
    maximum: Decimal
    step: Decimal


@dataclass(frozen=True)
class Notional:
    """``NOTIONAL`` (or ``MIN_NOTIONAL``, which has no maximum and one switch for both)."""

    filter_type: str
    minimum: Decimal
    maximum: Decimal | None
    min_to_market: bool
    max_to_market: bool


@dataclass(frozen=True)
class PercentPrice:
    """``PERCENT_PRICE_BY_SIDE`` (or ``PERCENT_PRICE``, the same band for both sides)."""

    filter_type: str
    bid_up: Decimal
    bid_down: Decimal
    ask_up: Decimal
    ask_down: Decimal


@dataclass(frozen=True)
class SymbolRules:
    """One exchangeInfo ``symbols`` entry, as the checks need it."""

    symbol: str
    base: str
    quote: str
    status: str
    price: Band | None
    lot: Band | None
    market_lot: Band | None
    notional: Notional | None
    percent_price: PercentPrice | None

    def instrument(self, desk_symbol: str) -> Instrument:
        """The protocol's view: bounds Binance switches off (0) are None."""
        lot = self.lot or Band(Decimal(0), Decimal(0), Decimal(0))
        notional = self.notional
        return Instrument(symbol=desk_symbol, venue_symbol=self.symbol, base=self.base, quote=self.quote,
                          lot_step=lot.step, tick_size=self.price.step if self.price else Decimal(0),
                          min_quantity=lot.minimum, max_quantity=lot.maximum or None,
                          market_max_quantity=self.market_lot.maximum or None if self.market_lot else None,
                          min_notional=notional.minimum if notional else None,
                          max_notional=notional.maximum or None if notional else None,
                          trading=self.status == "TRADING")

    def needs_reference(self, kind: OrderType) -> bool:
        """True when checking an order of ``kind`` needs the symbol's average price."""
        if kind == "limit":
            return self.percent_price is not None
        return self.notional is not None and (self.notional.min_to_market or self.notional.max_to_market)


def parse_rules(entry: Mapping[str, Any]) -> SymbolRules:
    filters = {str(f["filterType"]): f for f in entry.get("filters", ())}

    def band(name: str, low: str, high: str, step: str) -> Band | None:
        f = filters.get(name)
        return Band(dec(f[low]), dec(f[high]), dec(f[step])) if f else None

    notional: Notional | None = None
    if "NOTIONAL" in filters:
        f = filters["NOTIONAL"]
        notional = Notional("NOTIONAL", dec(f["minNotional"]), dec(f["maxNotional"]),
                            _flag(f["applyMinToMarket"]), _flag(f["applyMaxToMarket"]))
    elif "MIN_NOTIONAL" in filters:
        f = filters["MIN_NOTIONAL"]
        applies = _flag(f.get("applyToMarket", True))
        notional = Notional("MIN_NOTIONAL", dec(f["minNotional"]), None, applies, False)
    percent: PercentPrice | None = None
    if "PERCENT_PRICE_BY_SIDE" in filters:
        f = filters["PERCENT_PRICE_BY_SIDE"]
        percent = PercentPrice("PERCENT_PRICE_BY_SIDE", dec(f["bidMultiplierUp"]), dec(f["bidMultiplierDown"]),
                               dec(f["askMultiplierUp"]), dec(f["askMultiplierDown"]))
    elif "PERCENT_PRICE" in filters:
        f = filters["PERCENT_PRICE"]
        up, down = dec(f["multiplierUp"]), dec(f["multiplierDown"])
        percent = PercentPrice("PERCENT_PRICE", up, down, up, down)
    return SymbolRules(symbol=str(entry["symbol"]), base=str(entry["baseAsset"]), quote=str(entry["quoteAsset"]),
                       status=str(entry.get("status", "TRADING")),
                       price=band("PRICE_FILTER", "minPrice", "maxPrice", "tickSize"),
                       lot=band("LOT_SIZE", "minQty", "maxQty", "stepSize"),
                       market_lot=band("MARKET_LOT_SIZE", "minQty", "maxQty", "stepSize"),
                       notional=notional, percent_price=percent)


def _flag(value: Any) -> bool:
    """A JSON boolean, or its text in recordings that stringify values."""
    return value is True or value in ("true", "True")


def failure(rules: SymbolRules, filter_type: str, detail: str) -> InvalidOrder:
    text = f"{FILTER_FAILURE} Filter failure: {filter_type}"
    return InvalidOrder(f"{rules.symbol}: {text}: {detail}", (text,))


def _number(name: str, value: Decimal | float | str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidOrder(f"{name} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise InvalidOrder(f"{name} must be a positive number, found {value!r}")
    return number


def _within(rules: SymbolRules, name: str, what: str, value: Decimal, band: Band | None) -> None:
    if band is None:
        return
    if band.minimum and value < band.minimum:
        raise failure(rules, name, f"{what} {value} is below {band.minimum}")
    if band.maximum and value > band.maximum:
        raise failure(rules, name, f"{what} {value} is above {band.maximum}")
    if band.step and (value - band.minimum) % band.step:
        raise failure(rules, name, f"{what} {value} is not a multiple of {band.step}")


def shape(rules: SymbolRules, side: Side, kind: OrderType, quantity: Decimal | float | str,
          price: Decimal | float | str | None, reference: Decimal | None) -> tuple[Decimal, Decimal | None]:
    """``(quantity, price)`` as they will be sent, or the ``InvalidOrder`` Binance would
    answer. The quantity is truncated to the lot step (never more than asked for); a price
    is a decision, so one off the tick grid is refused, not moved. ``reference``: the
    average price, for the filters that judge against it (see ``needs_reference``)."""
    if kind == "limit" and price is None:
        raise InvalidOrder(f"{rules.symbol}: a limit order needs a price")
    size = _number("quantity", quantity)
    lot = rules.market_lot if kind == "market" and rules.market_lot and rules.market_lot.step else rules.lot
    if lot and lot.step:
        size = (size - lot.minimum) // lot.step * lot.step + lot.minimum if size >= lot.minimum else size
    _within(rules, "LOT_SIZE", "quantity", size, rules.lot)
    if kind == "market":
        _within(rules, "MARKET_LOT_SIZE", "quantity", size, rules.market_lot)
    limit = _number("price", price) if kind == "limit" and price is not None else None
    if limit is not None:
        _within(rules, "PRICE_FILTER", "price", limit, rules.price)
        _percent_price(rules, side, limit, reference)
    _notional(rules, kind, size, limit if limit is not None else reference)
    return size, limit


def _percent_price(rules: SymbolRules, side: Side, limit: Decimal, reference: Decimal | None) -> None:
    band = rules.percent_price
    if band is None or reference is None:
        return
    up, down = (band.bid_up, band.bid_down) if side == "buy" else (band.ask_up, band.ask_down)
    if not reference * down <= limit <= reference * up:
        raise failure(rules, band.filter_type, f"price {limit} is outside {reference * down} to {reference * up} "
                                               f"({down} to {up} times the average price {reference})")


def _notional(rules: SymbolRules, kind: OrderType, size: Decimal, price: Decimal | None) -> None:
    notional = rules.notional
    if notional is None or price is None:
        return
    value = size * price
    check_min = kind == "limit" or notional.min_to_market
    check_max = kind == "limit" or notional.max_to_market
    if check_min and value < notional.minimum:
        raise failure(rules, notional.filter_type, f"notional {value} is below {notional.minimum}")
    if check_max and notional.maximum and value > notional.maximum:
        raise failure(rules, notional.filter_type, f"notional {value} is above {notional.maximum}")


def symbol_entry(body: Mapping[str, Any], symbol: str) -> Mapping[str, Any]:
    """The ``symbols`` entry for ``symbol`` in an exchangeInfo answer."""
    entries: Sequence[Mapping[str, Any]] = body["symbols"]
    for entry in entries:
        if entry["symbol"] == symbol:
            return entry
    raise KeyError(symbol)
