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

from ..errors import (
    AccountSuspended,
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    BaseError,
    DDoSProtection,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OnMaintenance,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)

#: Exact Kraken error strings; matched before the prefixes below.
EXACT: Mapping[str, type[BaseError]] = {
    "EAPI:Invalid key": AuthenticationError,
    "EAPI:Invalid signature": AuthenticationError,
    "EAPI:Invalid nonce": InvalidNonce,
    "EAPI:Rate limit exceeded": RateLimitExceeded,
    "EOrder:Rate limit exceeded": RateLimitExceeded,
    "EGeneral:Temporary lockout": DDoSProtection,
    "EGeneral:Too many requests": DDoSProtection,
    "ETrade:User Locked": AccountSuspended,
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
PREFIXES: Mapping[str, type[BaseError]] = {
    "EGeneral:Invalid arguments": BadRequest,
    "EService:": ExchangeNotAvailable,
    "EOrder:": InvalidOrder,
    "EQuery:": BadRequest,
    "EAPI:": AuthenticationError,
}


def error_class(error: str) -> type[BaseError]:
    """The exception class for one Kraken error string; ``ExchangeError`` if unknown."""
    if error in EXACT:
        return EXACT[error]
    matches = [prefix for prefix in PREFIXES if error.startswith(prefix)]
    return PREFIXES[max(matches, key=len)] if matches else ExchangeError


def error_from(errors: Sequence[str]) -> BaseError:
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
