"""The API key and secret: read once from the environment variables the config names,
checked before any request, and never shown.

Everything else in the plugin holds a ``Credentials`` object, never the environment or a
mapping of secrets, so a traceback printed with ``--showlocals`` or a junit report shows
``Credentials(<redacted>)`` wherever a key would otherwise appear.
"""

from __future__ import annotations

import base64
import binascii
import os

from ...errors import InputError

#: Characters a Kraken key consists of: printable ASCII without blanks. Anything else is a
#: copy-paste accident, and a non-Latin-1 character cannot even go into an HTTP header.
KEY_CHARACTERS = frozenset(chr(c) for c in range(0x21, 0x7F))


class CredentialsError(InputError):
    """A variable is missing or holds something that cannot be a key: ``<VARIABLE>: <why>``,
    never the value."""


def _problem(value: str) -> str | None:
    if not value:
        return "not set (or empty)"
    for position, char in enumerate(value, 1):
        if char not in KEY_CHARACTERS:
            kind = "a blank" if char.isspace() else "a non-ASCII character" if not char.isascii() \
                else "a control character"
            return f"contains {kind} at position {position}; expected printable ASCII as Kraken issues keys"
    return None


class Credentials:
    """A key and a base64 secret, checked on construction. ``repr``/``str`` show only the
    names of the variables they came from."""

    __slots__ = ("_key", "_secret", "key_var", "secret_var")

    def __init__(self, key: str, secret: str, *, key_var: str = "api key", secret_var: str = "api secret") -> None:
        for name, value in ((key_var, key), (secret_var, secret)):
            problem = _problem(value)
            if problem:
                raise CredentialsError(name, problem)
        try:
            base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            raise CredentialsError(secret_var, "is not valid base64; Kraken issues secrets in base64") from None
        self._key, self._secret = key, secret
        self.key_var, self.secret_var = key_var, secret_var

    @classmethod
    def from_environment(cls, key_var: str, secret_var: str) -> Credentials:
        """Both variables, checked; a missing one is named (both, when both are missing)."""
        key, secret = os.environ.get(key_var, ""), os.environ.get(secret_var, "")
        if not key and not secret:
            raise CredentialsError(f"{key_var} and {secret_var}", "not set; private Kraken calls need both")
        return cls(key, secret, key_var=key_var, secret_var=secret_var)

    @property
    def key(self) -> str:
        return self._key

    def sign(self, uri_path: str, nonce: int, body: str) -> str:
        from .wire import sign

        return sign(uri_path, nonce, body, self._secret)

    def __repr__(self) -> str:
        return f"Credentials(<redacted: {self.key_var}, {self.secret_var}>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("credentials are not pickled: they stay in the process that read them")
