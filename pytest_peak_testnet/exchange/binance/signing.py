"""Binance's request signature and the keys that make it, never shown.

A SIGNED request carries ``signature``: the lowercase hex HMAC-SHA256 of the query string
followed, without separator, by the form body, keyed with the secret as it is written (not
base64-decoded, unlike Kraken's). Checked against the example in Binance's REST API
documentation (``SIGNED Endpoint Examples for POST /api/v3/order``, HMAC keys).

Ed25519 keys (Binance's recommendation) sign the same payload in ``ed25519``, with PyCA's
``cryptography`` from the ``ed25519`` extra; RSA keys are not supported.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Protocol

from ...errors import InputError
from ..keys import KeyPair

#: A signature in a URL or form: what ``redact`` hides.
SIGNATURE = re.compile(r"(signature=)[^&\s\"']+")
#: Loggers that write request URLs: urllib3 logs each one at DEBUG, and a GET carries its
#: signature in the query string (Binance wants a GET's parameters there).
URL_LOGGERS = ("urllib3.connectionpool",)


def sign(payload: str, secret: str) -> str:
    """``signature`` for ``payload`` (query string + body, already percent-encoded)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def redact(text: str) -> str:
    return SIGNATURE.sub(r"\1<redacted>", text)


class RedactSignatures(logging.Filter):
    """Rewrites a record whose message holds a signature; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "signature=" in message:
            record.msg, record.args = redact(message), None
        return True


def redact_request_logs() -> None:
    """Installs ``RedactSignatures`` once on the loggers that write request URLs."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSignatures) for f in logger.filters):
            logger.addFilter(RedactSignatures())


class Signer(Protocol):
    """What signs a request, whatever the key's type (``HmacKeys``, ``ed25519.Ed25519Keys``)."""

    @property
    def key(self) -> str: ...

    def sign(self, payload: str) -> str: ...


class KeysError(InputError):
    """A key variable is missing or holds something that cannot be a key: ``<VARIABLE>: <why>``,
    never the value."""


class HmacKeys(KeyPair):
    """An API key and its HMAC secret."""

    __slots__ = ()
    issuer = "Binance"
    error = KeysError

    def sign(self, payload: str) -> str:
        return sign(payload, self._secret)
