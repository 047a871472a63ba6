"""Kraken's API key and base64 secret (``exchange.keys``: read from the environment,
checked before any request, never shown)."""

from __future__ import annotations

import base64
import binascii

from ...errors import InputError
from ..keys import KeyPair


class CredentialsError(InputError):
    """A variable is missing or holds something that cannot be a key: ``<VARIABLE>: <why>``,
    never the value."""


class Credentials(KeyPair):
    """A key and a base64 secret, checked on construction."""

    __slots__ = ()
    issuer = "Kraken"
    error = CredentialsError

    def load_secret(self, secret: str, secret_var: str) -> str:
        super().load_secret(secret, secret_var)
        try:
            base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            raise CredentialsError(secret_var, "is not valid base64; Kraken issues secrets in base64") from None
        return secret

    def sign(self, uri_path: str, nonce: int, body: str) -> str:
        from .wire import sign

        return sign(uri_path, nonce, body, self._secret)
