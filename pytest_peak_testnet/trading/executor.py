"""The only way an order reaches the exchange: guarded, risk-checked, logged.

The guard is structural: the executor cannot be built outside ``[environment] mode =
"testnet"``, so paper and live configurations cannot send anything through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ..desk.config import EnvironmentConfig, ExchangeConfig
from ..exchange.errors import BaseError, OrderStatusUnknown
from ..exchange.kraken import KrakenTestnetClient
from ..reporting.runlog import RunLog
from .paper import OrderTally, Side
from .risk import LiveRiskLimits, RiskOrder, RiskState


class EnvironmentNotTestnetError(Exception):
    """Raised instead of building an executor outside testnet mode."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"the testnet order executor runs only with [environment] mode = \"testnet\", found {mode!r}; "
                         "nothing was sent")
        self.mode = mode

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (type(self), (self.mode,))


@dataclass(frozen=True)
class OrderRequest:
    """An order as the trader sizes it, before the risk limits and the exchange see it."""

    side: Side
    #: On the pair's lot grid, exactly what is sent.
    volume: Decimal
    #: The price the order is sized at (the last close); market orders fill near it.
    price: Decimal
    time: int
    #: Filled at ``price`` on this candle (closing a position on the run's last candle),
    #: not at the next candle's open.
    at_close: bool = False

    @property
    def notional(self) -> Decimal:
        return self.volume * self.price


@dataclass(frozen=True)
class Outcome:
    """What became of an order: validated, placed, denied by the risk limits, rejected or unknown."""

    #: ``unknown``: the answer was lost and the exchange could not confirm either way; the
    #: order counts as placed (spent), the safe side for the budget.
    status: Literal["validated", "placed", "denied", "rejected", "unknown"]
    #: Who said no (``risk`` or ``exchange``) and why, for denied and rejected orders.
    by: str | None = None
    reason: str | None = None
    description: str | None = None
    #: The exchange's ids of a placed order (none for a validated one).
    txids: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status in ("validated", "placed")


class TestnetExchangeOrderExecutor:
    __test__ = False  # a product class, not a test class

    def __init__(self, environment: EnvironmentConfig, exchange: ExchangeConfig, client: KrakenTestnetClient,
                 risk: LiveRiskLimits, log: RunLog, symbol: str) -> None:
        if environment.mode != "testnet":
            raise EnvironmentNotTestnetError(environment.mode)
        self.validate_only = exchange.validate_only
        self.tally = OrderTally()
        self._client = client
        self._risk = risk
        self._log = log
        self._symbol = symbol

    def submit(self, order: OrderRequest, state: RiskState) -> Outcome:
        """Risk check, then (only if allowed) one AddOrder. Exchange rejections are outcomes,
        not errors: the session goes on. Fatal ones (bad credentials, a locked account) are
        errors: nothing can succeed."""
        self._log.write("order_request", order.time, side=order.side, volume=order.volume, price=order.price,
                        notional=order.notional, validate_only=self.validate_only)
        decision = self._risk.check(RiskOrder(order.side, order.notional, order.time), state)
        if not decision.allowed:
            self.tally.denied += 1
            outcome = Outcome("denied", by="risk", reason=str(decision))
        else:
            self.tally.sent += 1
            try:
                result = self._client.add_order(self._symbol, order.side, "market", order.volume)
            except OrderStatusUnknown as exc:
                outcome = self._reconcile(order, exc)
            except BaseError as exc:
                if exc.treatment == "fatal":  # bad keys, a locked account: no later order can succeed
                    raise
                self.tally.rejected += 1
                outcome = Outcome("rejected", by="exchange", reason=str(exc))
            else:
                self.tally.accepted += 1
                outcome = Outcome("validated" if result.validated else "placed", description=result.description,
                                  txids=result.txids)
        self._log.write("order_outcome", order.time, side=order.side, status=outcome.status, by=outcome.by,
                        reason=outcome.reason, description=outcome.description, txids=list(outcome.txids))
        return outcome

    def _reconcile(self, order: OrderRequest, lost: OrderStatusUnknown) -> Outcome:
        """The answer to an AddOrder was lost. A placed order shows among the open or closed
        orders under the userref the client gave it; a validate-only one leaves no trace to
        look for. What cannot be confirmed counts as placed."""
        if not self.validate_only:
            userref = int(lost.client_order_id)
            try:
                found = {txid for txid, info in self._client.open_orders().items() if info.userref == userref}
                found.update(self._client.closed_orders(userref=userref)[0])
            except BaseError as exc:
                lookup = f"looking it up failed ({exc})"
            else:
                if found:
                    txids = sorted(found)
                    self.tally.accepted += 1
                    self._log.write("order_reconciled", order.time, side=order.side, userref=userref, txids=txids)
                    return Outcome("placed", description=f"found by userref {userref} after its answer was lost",
                                   txids=tuple(txids))
                lookup = f"no open or closed order has userref {userref}"
        else:
            lookup = "validate-only: nothing to look up"
        return Outcome("unknown", by="exchange", reason=f"{lost}; {lookup}; counted as placed")
