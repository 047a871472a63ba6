"""Cassettes: sessions are recorded to and replayed from one cassette per profile.

vcrpy itself (``recording``) is imported only when a cassette is used: the plugin loads
this module in every pytest run, and most runs never touch a cassette.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from .recording import IndexedCassette

RECORD_MODES = ("none", "once", "new_episodes", "all")


class CassetteError(Exception):
    """A replay cannot go on; the message says which cassette and how to record it."""


def body_text(body: Any) -> str:
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)


def is_replay(path: Path, record_mode: str) -> bool:
    """True when no request can reach the network."""
    return record_mode == "none" or (record_mode == "once" and path.exists())


@contextmanager
def use_cassette(path: Path, record_mode: str, record_command: str) -> Iterator[IndexedCassette]:
    """Run the block against ``path``; a replay miss becomes a ``CassetteError`` naming the
    cassette, the request and ``record_command``."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    from .recording import IndexedCassette, recorder

    if record_mode == "none" and not path.exists():
        raise CassetteError(f"cassette {path} not found; record it with: {record_command}")
    config = recorder(record_mode).get_merged_config(path=str(path))
    try:
        with IndexedCassette.use(**config) as cassette:
            yield cassette
    except CannotOverwriteExistingCassetteException as exc:
        raise CassetteError(f"cassette {path} has no recorded answer for {describe(exc.failed_request)}; "
                            f"record it again with: {record_command}") from None


def describe(request: Any) -> str:
    """``POST /0/private/AddOrder (pair XXBTZEUR)``: what a person needs to find the call."""
    fields = dict(request.query) | dict(parse_qsl(body_text(request.body)))
    pair = f" (pair {fields['pair']})" if "pair" in fields else ""
    return f"{request.method} {request.path}{pair}"


SECRET_PATTERNS = [
    re.compile(r"(?i)\bapi-(?:key|sign)\b"),
    re.compile(r"(?<![\w])(?:nonce|otp)=\w"),
    re.compile(r"[A-Za-z0-9+/]{86}=="),  # an HMAC-SHA512 signature, base64
]


def find_secrets(text: str) -> list[str]:
    """What in a cassette looks like a key, a signature, a nonce or an OTP."""
    return [m.group(0)[:24] for pattern in SECRET_PATTERNS for m in pattern.finditer(text)]
