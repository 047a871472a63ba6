"""Binance's Ed25519 API keys, the type Binance recommends: the desk keeps the private key,
Binance holds the public one.

The payload is the HMAC one (the query string followed, without separator, by the form
body, already percent-encoded); ``signature`` is the base64 of its Ed25519 signature,
percent-encoded in turn where it travels (``/`` ``+`` ``=``) and, unlike an HMAC one,
case-sensitive (Binance's REST API documentation, "SIGNED Endpoint Examples", Ed25519 Keys).
Binance's documented Ed25519 examples publish no private key, so the signatures are
checked against RFC 8032's test vectors instead.

Made with PyCA's ``cryptography`` (the ``ed25519`` extra). This module imports it, and is
imported only for a block with ``key_type = "ed25519"`` (``ed25519_keys``), so a desk on
HMAC keys never needs it.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..keys import KeyPair
from .signing import KeysError

#: What Binance's key generator (and ``openssl genpkey -algorithm ed25519``) writes.
EXPECTED = "expected an unencrypted Ed25519 private key in PEM (-----BEGIN PRIVATE KEY-----)"


def private_key(pem: str, secret_var: str) -> Ed25519PrivateKey:
    """The key ``pem`` holds, or ``KeysError`` naming ``secret_var``, never quoting the file."""
    try:
        loaded = load_pem_private_key(pem.encode(), password=None)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise KeysError(secret_var, f"names a password-protected key; {EXPECTED}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeysError(secret_var, f"names a file that holds no private key; {EXPECTED}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        kind = type(loaded).__name__.removeprefix("_").replace("PrivateKey", "")
        raise KeysError(secret_var, f"names a private key of another type ({kind}), not Ed25519; {EXPECTED}")
    return loaded


def verifies(public: Ed25519PublicKey, payload: str, signature: str) -> bool:
    """Whether ``signature`` (base64, as decoded from the request) signs ``payload``."""
    try:
        public.verify(base64.b64decode(signature, validate=True), payload.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class Ed25519Keys(KeyPair):
    """An API key and its Ed25519 private key, read from a PEM file."""

    __slots__ = ()
    issuer = "Binance"
    error = KeysError

    @classmethod
    def from_environment(cls, key_var: str, secret_var: str) -> Ed25519Keys:
        """The key from ``key_var``; the private key from the file whose path ``secret_var``
        holds (a multi-line PEM does not fit an environment variable everywhere)."""
        key, path = os.environ.get(key_var, ""), os.environ.get(secret_var, "")
        if not key and not path:
            raise cls.error(f"{key_var} and {secret_var}", "not set; private Binance calls with an Ed25519 key "
                                                           "need both (the API key, the private key's PEM file)")
        if not path:
            raise cls.error(secret_var, "not set (or empty); expected the path of the Ed25519 private key's PEM file")
        try:
            pem = Path(path).read_text(encoding="ascii")
        except OSError as exc:
            raise cls.error(secret_var, f"names {path!r}, which cannot be read ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise cls.error(secret_var, f"names {path!r}, which is not text; {EXPECTED}") from None
        return cls(key, pem, key_var=key_var, secret_var=secret_var)

    def load_secret(self, secret: str, secret_var: str) -> Ed25519PrivateKey:
        return private_key(secret, secret_var)

    def sign(self, payload: str) -> str:
        """``signature`` for ``payload``: base64, to be percent-encoded where it is sent."""
        return base64.b64encode(self._secret.sign(payload.encode())).decode()
