"""Kraken's error strings as typed exceptions, named after ccxt's hierarchy.

Callers branch on the class (``except InsufficientFunds``) and read the exact strings Kraken
sent in ``exc.errors``; ccxt's names are used because traders already know what each means.
Two roots, as in ccxt: ``ExchangeError`` means Kraken understood and refused the request,
``NetworkError`` means the request or its answer was lost or rejected for load, so trying
again later may succeed. Every class pickles with its fields (``__reduce__``), so a failure
inside an xdist worker reaches the controller intact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class KrakenError(Exception):
    """Base of every error the Kraken client raises. ``errors`` holds Kraken's own strings
    (empty when the failure happened before Kraken answered)."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)

    def __reduce__(self) -> tuple[type, tuple[str, tuple[str, ...]]]:
        return (type(self), (self.message, self.errors))


class ExchangeError(KrakenError):
    """Kraken answered and refused; repeating the same request gives the same answer."""


class AuthenticationError(ExchangeError):
    """Bad key or signature, or credentials that are not there at all."""


class MissingCredentials(AuthenticationError):
    """A private call was made and the environment lacks the key or the secret."""


class PermissionDenied(AuthenticationError):
    """The key exists but lacks the permission this call needs."""


class BadRequest(ExchangeError):
    """Arguments Kraken rejects (``EGeneral:Invalid arguments...``)."""


class BadSymbol(BadRequest):
    """A pair or asset Kraken (or the client's AssetPairs cache) does not know."""


class InsufficientFunds(ExchangeError):
    """The account cannot pay for the order."""


class InvalidOrder(ExchangeError):
    """The order breaks a market rule: minimum volume or cost, tick size, decimals."""


class OrderNotFound(InvalidOrder):
    """No such order (unknown txid, or already gone)."""


class BadResponse(ExchangeError):
    """The answer is not a Kraken envelope: truncated JSON, an HTML error page, no result."""


class NetworkError(KrakenError):
    """The request or its answer was lost, or Kraken shed load; a later retry may work."""


class RequestTimeout(NetworkError):
    """No answer within ``timeout_seconds``."""


class OrderStatusUnknown(NetworkError):
    """An AddOrder reached the exchange and its answer was lost (a read timeout, a dropped
    connection, a 5xx or a garbled body): the order may be on the book. ``userref`` is the
    reference the client attached to it, to look it up with ``open_orders`` and
    ``closed_orders``."""

    def __init__(self, message: str, errors: Sequence[str] = (), userref: int = 0) -> None:
        super().__init__(message, errors)
        self.userref = userref

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.errors, self.userref))


class ExchangeNotAvailable(NetworkError):
    """Kraken's service is down or overloaded (``EService:*``, HTTP 5xx)."""


class OnMaintenance(ExchangeNotAvailable):
    """The market accepts only some orders for now (cancel_only, post_only mode)."""


class InvalidNonce(NetworkError):
    """The nonce was not above the last one Kraken accepted for this key."""


class DDoSProtection(NetworkError):
    """Kraken throttles this key or address (``EGeneral:Temporary lockout``)."""


class RateLimitExceeded(DDoSProtection):
    """The key's call counter is full; it decays by itself over a few seconds."""


#: Exact Kraken error strings; matched before the prefixes below.
EXACT: Mapping[str, type[KrakenError]] = {
    "EAPI:Invalid key": AuthenticationError,
    "EAPI:Invalid signature": AuthenticationError,
    "EAPI:Invalid nonce": InvalidNonce,
    "EAPI:Rate limit exceeded": RateLimitExceeded,
    "EOrder:Rate limit exceeded": RateLimitExceeded,
    "EGeneral:Temporary lockout": DDoSProtection,
    "EGeneral:Permission denied": PermissionDenied,
    "EGeneral:Internal error": ExchangeNotAvailable,
    "EService:Market in cancel_only mode": OnMaintenance,
    "EService:Market in post_only mode": OnMaintenance,
    "EOrder:Insufficient funds": InsufficientFunds,
    "EOrder:Unknown order": OrderNotFound,
    "EQuery:Unknown asset pair": BadSymbol,
    "EQuery:Unknown asset": BadSymbol,
}
#: Prefixes for strings with a variable tail (``EGeneral:Invalid arguments:volume``) and for
#: categories as a whole; the longest matching prefix wins.
PREFIXES: Mapping[str, type[KrakenError]] = {
    "EGeneral:Invalid arguments": BadRequest,
    "EService:": ExchangeNotAvailable,
    "EOrder:": InvalidOrder,
    "EQuery:": BadRequest,
    "EAPI:": AuthenticationError,
}


def error_class(error: str) -> type[KrakenError]:
    """The exception class for one Kraken error string; ``ExchangeError`` if unknown."""
    if error in EXACT:
        return EXACT[error]
    matches = [prefix for prefix in PREFIXES if error.startswith(prefix)]
    return PREFIXES[max(matches, key=len)] if matches else ExchangeError


def error_from(errors: Sequence[str]) -> KrakenError:
    """One exception for an error list; the first string decides the class (Kraken sends
    one error per failure in practice), all strings are kept."""
    return error_class(errors[0])(", ".join(errors), errors)


def unwrap(payload: Any) -> tuple[Any, tuple[str, ...]]:
    """``(result, warnings)`` from a decoded envelope, or the typed exception it carries.

    A failed call may have only ``"error"``, no ``"result"``; ``W...`` strings are warnings
    that come with a result, so they never make a call fail.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("error", []), list):
        raise BadResponse(f"not a Kraken envelope: {str(payload)[:120]}")
    messages = [str(item) for item in payload.get("error", [])]
    errors = [m for m in messages if not m.startswith("W")]
    if errors:
        raise error_from(errors)
    if "result" not in payload:
        raise BadResponse("Kraken envelope without error and without result")
    return payload["result"], tuple(m for m in messages if m.startswith("W"))
