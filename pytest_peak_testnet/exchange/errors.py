"""Every error an exchange client raises, venue-neutral, named after ccxt's hierarchy.

Callers branch on the class (``except InsufficientFunds``) and read the venue's own error
strings or codes in ``exc.errors``; ccxt's names are used because traders already know what
each means. Two roots under ``BaseError``, as in ccxt: ``ExchangeError`` means the venue
understood and refused the request, ``NetworkError`` means the request or its answer was
lost or shed for load. Each class also says how a caller treats it (``treatment``):

- ``retry``: a later attempt may work; ``retry_after`` is the wait the venue asked for
  (Binance's ``Retry-After``), None when it named none (the client backs off);
- ``fail``: this request will not work as it is; the session goes on (a rejected order);
- ``fatal``: nothing more will work (bad keys, a banned IP, a locked account): the run stops
  with one line;
- ``unknown``: an order's answer was lost; it may be on the book. It is never resent, and
  is looked up by its client order id.

Every class pickles with its fields (``__reduce__``), so a failure inside an xdist worker
reaches the controller intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

Treatment = Literal["retry", "fail", "fatal", "unknown"]


class BaseError(Exception):
    """Base of every error an exchange client raises. ``errors`` holds the venue's own
    strings (Kraken's ``EOrder:...``, Binance's ``-1013 Filter failure: ...``), empty when
    the failure happened before the venue answered; ``retry_after`` the seconds the venue
    asked the client to wait, when it said."""

    treatment: ClassVar[Treatment] = "fail"

    def __init__(self, message: str, errors: Sequence[str] = (), retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.errors, self.retry_after))


class ExchangeError(BaseError):
    """The venue answered and refused; repeating the same request gives the same answer."""


class AuthenticationError(ExchangeError):
    """Bad key or signature, or credentials that are not there at all."""

    treatment: ClassVar[Treatment] = "fatal"


class AccountSuspended(ExchangeError):
    """The venue will not serve this key or address any more for now (Binance's HTTP 418
    IP ban, Kraken's ``ETrade:User Locked``): the run stops."""

    treatment: ClassVar[Treatment] = "fatal"


class NotTestEnvironment(ExchangeError):
    """The host is not one of the venue's test environments (Binance's production API, say):
    refused before any request, whatever the config says."""

    treatment: ClassVar[Treatment] = "fatal"


class MissingCredentials(AuthenticationError):
    """A private call was made and the environment lacks the key or the secret."""


class PermissionDenied(AuthenticationError):
    """The key exists but lacks the permission this call needs."""


class BadRequest(ExchangeError):
    """Arguments the venue rejects (Kraken's ``EGeneral:Invalid arguments...``)."""


class BadSymbol(BadRequest):
    """A pair or asset the venue (or the client's cache of its markets) does not know."""


class InsufficientFunds(ExchangeError):
    """The account cannot pay for the order."""


class InvalidOrder(ExchangeError):
    """The order breaks a market rule: minimum volume or cost, tick size, decimals."""


class OrderNotFound(InvalidOrder):
    """No such order (unknown txid, or already gone)."""


class BadResponse(ExchangeError):
    """The answer is not the venue's envelope: truncated JSON, an HTML error page, no result."""


class NetworkError(BaseError):
    """The request or its answer was lost, or the venue shed load; a later retry may work."""

    treatment: ClassVar[Treatment] = "retry"


class RequestTimeout(NetworkError):
    """No answer within ``timeout_seconds``."""


class OrderStatusUnknown(NetworkError):
    """An order reached the exchange and its answer was lost (a read timeout, a dropped
    connection, a 5xx or a garbled body): the order may be on the book. It is never resent;
    ``client_order_id`` is the id the client attached to it (Kraken's ``userref``, Binance's
    ``newClientOrderId``), to look it up with ``find_order``."""

    treatment: ClassVar[Treatment] = "unknown"

    def __init__(self, message: str, errors: Sequence[str] = (), client_order_id: str = "") -> None:
        super().__init__(message, errors)
        self.client_order_id = client_order_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.errors, self.client_order_id))


class ExchangeNotAvailable(NetworkError):
    """The venue's service is down or overloaded (``EService:*``, HTTP 5xx)."""


class OnMaintenance(ExchangeNotAvailable):
    """The market accepts only some orders for now (cancel_only, post_only mode)."""


class InvalidNonce(NetworkError):
    """The nonce was not above the last one the venue accepted for this key."""


class DDoSProtection(NetworkError):
    """The venue throttles this key or address (``EGeneral:Temporary lockout``)."""


class RateLimitExceeded(DDoSProtection):
    """The key's call counter is full; it decays by itself over a few seconds."""
