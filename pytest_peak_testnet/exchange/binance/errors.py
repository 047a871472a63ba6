"""Binance's error bodies as the desk's typed exceptions.

Binance answers a refused request with ``{"code": -1013, "msg": "Filter failure: LOT_SIZE"}``
(see its ``errors.md``); the code picks the class and ``exc.errors`` keeps ``"-1013 Filter
failure: LOT_SIZE"``. ``-2010`` (new order rejected) and ``-2011`` (cancel rejected) carry
the matching engine's reason in the message, which decides between insufficient funds, an
unknown order and a plain invalid order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import (
    AccountSuspended,
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    BaseError,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)

#: Binance's codes after which an order's fate is unknown (``-1006``/``-1007``: execution
#: status unknown; ``-1000``: an unknown error while processing): it may have been placed.
STATUS_UNKNOWN_CODES = frozenset({-1000, -1006, -1007})

CODES: Mapping[int, type[BaseError]] = {
    -1000: ExchangeNotAvailable,  # UNKNOWN
    -1001: ExchangeNotAvailable,  # DISCONNECTED
    -1002: AuthenticationError,  # UNAUTHORIZED
    -1003: RateLimitExceeded,  # TOO_MANY_REQUESTS
    -1006: ExchangeNotAvailable,  # UNEXPECTED_RESP: execution status unknown
    -1007: ExchangeNotAvailable,  # TIMEOUT: execution status unknown
    -1008: ExchangeNotAvailable,  # SERVER_BUSY
    -1013: InvalidOrder,  # INVALID_MESSAGE: filter failures
    -1015: RateLimitExceeded,  # TOO_MANY_ORDERS
    -1016: ExchangeNotAvailable,  # SERVICE_SHUTTING_DOWN
    -1021: InvalidNonce,  # INVALID_TIMESTAMP
    -1022: AuthenticationError,  # INVALID_SIGNATURE
    -1111: InvalidOrder,  # BAD_PRECISION
    -1121: BadSymbol,  # BAD_SYMBOL
    -2010: InvalidOrder,  # NEW_ORDER_REJECTED (refined by its message below)
    -2011: InvalidOrder,  # CANCEL_REJECTED (refined by its message below)
    -2013: OrderNotFound,  # NO_SUCH_ORDER
    -2014: AuthenticationError,  # BAD_API_KEY_FMT
    -2015: PermissionDenied,  # REJECTED_MBX_KEY: invalid key, IP or permissions
    -2026: OrderNotFound,  # ORDER_ARCHIVED
}
#: The matching engine's reasons behind -2010 and -2011 that need a class of their own.
MESSAGES: Mapping[str, type[BaseError]] = {
    "Account has insufficient balance for requested action.": InsufficientFunds,
    "Unknown order sent.": OrderNotFound,
    "This account may not place or cancel orders.": AccountSuspended,
    "This action is disabled on this account.": AccountSuspended,
}


def error_class(code: int, message: str) -> type[BaseError]:
    """The class for one Binance error code; the -1100 range (bad parameters) is
    ``BadRequest``, an unknown code ``ExchangeError``."""
    if code in (-2010, -2011) and message in MESSAGES:
        return MESSAGES[message]
    if code in CODES:
        return CODES[code]
    return BadRequest if -1199 <= code <= -1100 else ExchangeError


def error_from(payload: Any, context: str) -> BaseError:
    """The exception for an error body; a body without Binance's ``code``/``msg`` is a
    ``BadResponse``. ``context`` (the path) starts the message."""
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), int) or "msg" not in payload:
        return BadResponse(f"{context}: not a Binance error body: {str(payload)[:120]}")
    code, message = payload["code"], str(payload["msg"])
    text = f"{code} {message}"
    return error_class(code, message)(f"{context}: {text}", (text,))
