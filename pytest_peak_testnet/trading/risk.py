"""Live risk limits (``[live_risk_limits]``): the executor asks before every API call.

A denial lists every limit the order breaks, not just the first, each as a stable code with
the numbers, in the style of NautilusTrader's OrderDenied reasons
(``ORDER_NOTIONAL_EXCEEDS_MAX (1200.00 > 1000.00)``), so one log line says what to change.
Time is the caller's: the session runs on a virtual clock, so nothing here reads the wall clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ..desk.config import RiskLimitsConfig
from .paper import Side

DenialCode = Literal["ORDER_NOTIONAL_EXCEEDS_MAX", "EXPOSURE_EXCEEDS_MAX", "ORDER_RATE_EXCEEDED", "DAILY_LOSS_EXCEEDED"]
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RiskOrder:
    """What the limits need to know of an order about to be sent."""

    side: Side
    notional: Decimal
    #: When it would be sent, on the session's clock (unix seconds, never decreasing).
    time: float


@dataclass(frozen=True, slots=True)
class RiskState:
    """The paper account as the limits see it just before the order."""

    #: Notional of the open position at the current price.
    exposure: Decimal
    #: ``PaperAccount.daily_loss``: how far equity is below the start of the UTC day.
    daily_loss: Decimal


@dataclass(frozen=True, slots=True)
class Denial:
    """One live risk limit an order would break, with the value it would reach and the limit."""

    code: DenialCode
    value: Decimal | int
    limit: Decimal | int

    def __str__(self) -> str:
        if self.code == "ORDER_RATE_EXCEEDED":
            return f"{self.code} ({self.value:.0f} orders in {RATE_WINDOW_SECONDS}s >= {self.limit:.0f})"
        return f"{self.code} ({self.value:.2f} > {self.limit:.2f})"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The live risk limits' answer to an order: allowed, or every limit it would break."""

    denials: tuple[Denial, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.denials

    def __str__(self) -> str:
        return "; ".join(map(str, self.denials)) or "ALLOWED"


ALLOWED = RiskDecision()


class LiveRiskLimits:
    """Each limit allows its boundary value and denies past it.

    The order rate applies to every order. Per-order notional, exposure and daily loss apply
    only to buys: this account is long-only, so a sell only ever closes risk, and denying it
    (say, because the position grew past the per-order cap) would keep the risk open.
    An allowed order is counted in the rate window at once, because the executor sends every
    order it is allowed to; a denied one is not, as it never reaches the exchange, so the
    window holds only orders actually sent. With ``enabled = false`` everything is allowed.
    """

    __slots__ = ("_config", "_sent")

    def __init__(self, config: RiskLimitsConfig) -> None:
        self._config = config
        self._sent: deque[float] = deque()

    def check(self, order: RiskOrder, state: RiskState) -> RiskDecision:
        config = self._config
        if not config.enabled:
            return ALLOWED
        denials = []
        if order.side == "buy":
            if order.notional > config.max_order_notional:
                denials.append(Denial("ORDER_NOTIONAL_EXCEEDS_MAX", order.notional, config.max_order_notional))
            exposure = state.exposure + order.notional
            if exposure > config.max_total_exposure_notional:
                denials.append(Denial("EXPOSURE_EXCEEDS_MAX", exposure, config.max_total_exposure_notional))
            if state.daily_loss > config.max_daily_loss_abs:
                denials.append(Denial("DAILY_LOSS_EXCEEDED", state.daily_loss, config.max_daily_loss_abs))
        sent = self._sent
        while sent and sent[0] <= order.time - RATE_WINDOW_SECONDS:
            sent.popleft()
        if len(sent) >= config.max_orders_per_minute:
            denials.append(Denial("ORDER_RATE_EXCEEDED", len(sent), config.max_orders_per_minute))
        if denials:
            return RiskDecision(tuple(denials))
        sent.append(order.time)
        return ALLOWED
