"""Binance's request signature and the keys that make it, never shown.

A SIGNED request carries ``signature``: the lowercase hex HMAC-SHA256 of the query string
followed, without separator, by the form body, keyed with the secret as it is written (not
base64-decoded, unlike Kraken's). Checked against the example in Binance's REST API
documentation (``SIGNED Endpoint Examples for POST /api/v3/order``, HMAC keys).

Only HMAC keys are supported: Binance's Ed25519 and RSA keys need an asymmetric signature,
and no well-kept library that makes one (``cryptography``, ``PyNaCl``) is installed with
this plugin.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re

from ...errors import InputError

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


class KeysError(InputError):
    """A key variable is missing or holds something that cannot be a key: ``<VARIABLE>: <why>``,
    never the value."""


def _problem(value: str) -> str | None:
    if not value:
        return "not set (or empty)"
    if not (value.isascii() and value.isprintable()) or " " in value:
        return "expected printable ASCII without blanks, as Binance issues API keys and secrets"
    return None


class HmacKeys:
    """An API key and its HMAC secret. ``repr``/``str`` show only the names of the variables
    they came from, so a traceback shown with ``--showlocals`` holds no secret."""

    __slots__ = ("_key", "_secret", "key_var", "secret_var")

    def __init__(self, key: str, secret: str, *, key_var: str = "api key", secret_var: str = "api secret") -> None:
        for name, value in ((key_var, key), (secret_var, secret)):
            problem = _problem(value)
            if problem:
                raise KeysError(name, problem)
        self._key, self._secret = key, secret
        self.key_var, self.secret_var = key_var, secret_var

    @classmethod
    def from_environment(cls, key_var: str, secret_var: str) -> HmacKeys:
        key, secret = os.environ.get(key_var, ""), os.environ.get(secret_var, "")
        if not key and not secret:
            raise KeysError(f"{key_var} and {secret_var}", "not set; signed Binance calls need both")
        return cls(key, secret, key_var=key_var, secret_var=secret_var)

    @property
    def key(self) -> str:
        """What ``X-MBX-APIKEY`` carries."""
        return self._key

    def sign(self, payload: str) -> str:
        return sign(payload, self._secret)

    def __repr__(self) -> str:
        return f"HmacKeys(<redacted: {self.key_var}, {self.secret_var}>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("API keys are not pickled: they stay in the process that read them")
