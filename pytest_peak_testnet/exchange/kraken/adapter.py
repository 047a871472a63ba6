"""Kraken behind the exchange protocol: ``KrakenExchange`` answers ``ExchangeClient`` with
the raw client's calls, in the order and number the raw client made them before the
protocol existed, so a shipped cassette replays request for request.

Kraken's own words become the protocol's: a pair is an ``Instrument`` (its lot step is
``10**-lot_decimals``), an order's ``userref`` is its client order id (as text), and its
``pending``/``open``/``closed`` states are ``new``/``partially_filled``/``filled``. Kraken
charges spot fees in the quote currency, so every fill's commission asset is the quote.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from ..errors import InvalidOrder
from ..protocol import CandlePage, Fill, Instrument, OrderAck, OrderReport, OrderStatus, OrderType, Side, Ticker
from .client import KrakenTestnetClient
from .wire import PairInfo

if TYPE_CHECKING:
    from .orders import OrderInfo, TradeInfo

VENUE = "kraken"


def instrument(pair: PairInfo) -> Instrument:
    base, quote = pair.symbol.split("/")
    return Instrument(symbol=pair.symbol, venue_symbol=pair.pair_id, base=base, quote=quote,
                      lot_step=Decimal(1).scaleb(-pair.lot_decimals),
                      tick_size=pair.tick_size or Decimal(1).scaleb(-pair.pair_decimals),
                      min_quantity=pair.ordermin, min_notional=pair.costmin, trading=pair.status == "online")


def status(info: OrderInfo) -> OrderStatus:
    """Kraken's order state in the protocol's words; an open order with fills is partly filled."""
    if info.status in ("pending", "open"):
        return "partially_filled" if info.volume_executed else "new"
    return {"closed": "filled", "canceled": "canceled", "expired": "expired"}.get(info.status, "rejected")  # type: ignore[return-value]


def fill(trade: TradeInfo, quote: str) -> Fill:
    return Fill(trade_id=trade.txid, order_id=trade.ordertxid, side="buy" if trade.side == "buy" else "sell",
                price=trade.price, quantity=trade.volume, quote_quantity=trade.cost, commission=trade.fee,
                commission_asset=quote, time=Decimal(str(trade.time)), maker=trade.maker)


def report(info: OrderInfo, symbol: str, fills: tuple[Fill, ...] = ()) -> OrderReport:
    return OrderReport(order_id=info.txid, client_order_id=None if info.userref is None else str(info.userref),
                       symbol=symbol, side="buy" if info.side == "buy" else "sell",
                       type="limit" if info.ordertype == "limit" else "market", status=status(info),
                       quantity=info.volume, executed_quantity=info.volume_executed, cumulative_quote=info.cost,
                       price=info.price.value if info.ordertype == "limit" else None,
                       time=Decimal(str(info.opentm)), fills=fills)


class KrakenExchange:
    """``ExchangeClient`` over one ``KrakenTestnetClient`` (``raw``, for what only Kraken has)."""

    def __init__(self, raw: KrakenTestnetClient, venue: str = "kraken_testnet") -> None:
        self.raw = raw
        self._venue = venue
        #: Fills already read, by trade id: QueryTrades is asked only for new ones.
        self._fills: dict[str, Fill] = {}

    def __repr__(self) -> str:
        return f"KrakenExchange({self.raw!r})"

    @property
    def venue(self) -> str:
        return self._venue

    @property
    def validate_only(self) -> bool:
        return self.raw.config.validate_only

    def server_time(self) -> int:
        return self.raw.server_time()

    def instrument(self, symbol: str) -> Instrument:
        return instrument(self.raw.pair_info(symbol))

    def candles(self, symbol: str, interval_minutes: int, since: int | None = None, *,
                newest: int | None = None) -> CandlePage:
        page = self.raw.ohlc(symbol, interval_minutes, since, newest=newest)
        return CandlePage(page.candles, page.current, page.last)

    def ticker(self, symbol: str) -> Ticker:
        answer = self.raw.ticker(symbol)
        return Ticker(self.raw.pair_info(symbol).symbol, answer.bid, answer.ask, answer.last)

    def place_order(self, symbol: str, side: Side, type: OrderType, quantity: Decimal,
                    price: Decimal | None = None, client_order_id: str | None = None) -> OrderAck:
        """``client_order_id`` travels as Kraken's ``userref``, so it must be an int32 in decimal."""
        userref = None
        if client_order_id is not None:
            try:
                userref = int(client_order_id)
            except ValueError:
                raise InvalidOrder(f"client order id {client_order_id!r} must be an integer for Kraken's userref") \
                    from None
        result = self.raw.add_order(symbol, side, type, quantity, price, userref=userref)
        return OrderAck(client_order_id=str(result.userref), order_id=result.txids[0] if result.txids else None,
                        validated=result.validated, status=None if result.validated else "new",
                        description=result.description, warnings=result.warnings)

    def orders(self, symbol: str, order_ids: Iterable[str]) -> dict[str, OrderReport]:
        """QueryOrders with their trade ids, then QueryTrades for the fills not read before."""
        infos = self.raw.query_orders(order_ids, trades=True)
        new = [trade for info in infos.values() for trade in info.trades if trade not in self._fills]
        if new:
            quote = self.instrument(symbol).quote
            self._fills.update({txid: fill(trade, quote) for txid, trade in self.raw.query_trades(new).items()})
        return {txid: report(info, symbol, tuple(self._fills[t] for t in info.trades if t in self._fills))
                for txid, info in infos.items()}

    def find_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """The order with this userref among the open ones, else among the closed ones. Its
        fills come with ``orders``."""
        userref = int(client_order_id)
        found = [info for info in self.raw.open_orders().values() if info.userref == userref]
        found.extend(self.raw.closed_orders(userref=userref)[0].values())
        return report(found[0], symbol) if found else None

    def open_orders(self, symbol: str | None = None) -> dict[str, OrderReport]:
        wanted = None if symbol is None else self.raw.pair_info(symbol)
        return {txid: report(info, wanted.symbol if wanted else info.pair)
                for txid, info in self.raw.open_orders().items()
                if wanted is None or info.pair in (wanted.altname, wanted.pair_id, wanted.wsname)}

    def cancel_order(self, symbol: str, order_id: str) -> OrderReport | None:
        self.raw.cancel_order(order_id)
        return None

    def balances(self) -> dict[str, Decimal]:
        return self.raw.balance()
