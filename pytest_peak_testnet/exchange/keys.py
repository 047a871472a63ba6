"""An API key and its secret, whatever the venue: read once from the environment
variables the config names, checked before any request, and never shown.

Everything else in the plugin holds a key pair object, never the environment or a mapping
of secrets, so a traceback printed with ``--showlocals`` or a junit report shows
``<Class>(<redacted: VARIABLE, VARIABLE>)`` wherever a key would otherwise appear. Each
venue subclasses it with its issuer's name, its own error class, any check of its
secret's format, and its signature.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, TypeVar

from ..errors import InputError

#: Characters an API key or secret consists of: printable ASCII without blanks. Anything
#: else is a copy-paste accident, and a non-Latin-1 character cannot even go into an HTTP header.
KEY_CHARACTERS = frozenset(chr(c) for c in range(0x21, 0x7F))
Keys = TypeVar("Keys", bound="KeyPair")


def key_problem(value: str, issuer: str) -> str | None:
    """Why ``value`` cannot be a key or secret ``issuer`` issued, never quoting it."""
    if not value:
        return "not set (or empty)"
    for position, char in enumerate(value, 1):
        if char not in KEY_CHARACTERS:
            kind = "a blank" if char.isspace() else "a non-ASCII character" if not char.isascii() \
                else "a control character"
            return f"contains {kind} at position {position}; expected printable ASCII as {issuer} issues keys"
    return None


class KeyPair:
    """A key and its secret, checked on construction. ``repr``/``str`` show only the names
    of the variables they came from."""

    __slots__ = ("_key", "_secret", "key_var", "secret_var")
    #: Who issues the keys, as the messages name it.
    issuer: ClassVar[str] = "the exchange"
    #: What a missing or malformed key raises: ``<VARIABLE>: <why>``, never the value.
    error: ClassVar[type[InputError]] = InputError

    def __init__(self, key: str, secret: str, *, key_var: str = "api key", secret_var: str = "api secret") -> None:
        problem = key_problem(key, self.issuer)
        if problem:
            raise self.error(key_var, problem)
        self._key, self._secret = key, self.load_secret(secret, secret_var)
        self.key_var, self.secret_var = key_var, secret_var

    def load_secret(self, secret: str, secret_var: str) -> Any:
        """The secret as ``sign`` uses it. A venue whose secrets have a format of its own
        checks it here (calling this first), or turns it into a key object (Binance's Ed25519)."""
        problem = key_problem(secret, self.issuer)
        if problem:
            raise self.error(secret_var, problem)
        return secret

    @classmethod
    def from_environment(cls: type[Keys], key_var: str, secret_var: str) -> Keys:
        """Both variables, checked; a missing one is named (both, when both are missing)."""
        key, secret = os.environ.get(key_var, ""), os.environ.get(secret_var, "")
        if not key and not secret:
            raise cls.error(f"{key_var} and {secret_var}", f"not set; private {cls.issuer} calls need both")
        return cls(key, secret, key_var=key_var, secret_var=secret_var)

    @property
    def key(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted: {self.key_var}, {self.secret_var}>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("API keys are not pickled: they stay in the process that read them")
