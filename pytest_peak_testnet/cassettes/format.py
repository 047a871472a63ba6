"""What a cassette is, shared by recording and replay: the record modes, the file formats,
the key a request is matched by, the fields never written, and the secret scan."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: vcrpy's record modes, and pytest-recording's ``rewrite``: the cassette is replaced by a
#: fresh recording, so nothing the session no longer asks for stays in it (``all`` keeps
#: the old interactions and appends the new ones).
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
#: vcrpy's serializer for each cassette suffix. New recordings are JSON: a replay parses it
#: 20 to 30 times faster than vcrpy's YAML (0.4 ms against 9 ms for the 60-minute profile's
#: cassette), and each response body stays on one line in a diff. YAML cassettes still
#: replay and record.
SERIALIZERS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
CASSETTE_SUFFIX = ".json"
#: Fields (of the form body or the query) that sign or authenticate a private call and are
#: never written to a cassette: Kraken's ``nonce`` and ``otp``, Binance's ``signature``.
SECRET_FIELDS = frozenset({"nonce", "otp", "signature"})
#: Fields that differ between runs, neither recorded nor matched: the client picks each
#: order's id afresh (Kraken's ``userref``, Binance's ``newClientOrderId`` and the
#: ``origClientOrderId`` that names it again), and Binance's ``timestamp`` is the clock's.
VARYING_FIELDS = frozenset({"userref", "timestamp", "newClientOrderId", "origClientOrderId"})
#: Both, in the order vcrpy's filters take them.
UNRECORDED_FIELDS = sorted(SECRET_FIELDS | VARYING_FIELDS)

Key = tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


class CassetteError(Exception):
    """A replay cannot go on; the message says which cassette and how to record it."""


def body_text(body: Any) -> str:
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)


def request_key(method: str, url: str, body: Any) -> Key:
    """What two requests must share to be answered alike: method, path, query and form
    body, the fields in any order, without ``SECRET_FIELDS`` and ``VARYING_FIELDS`` (the
    recorder drops them, so any nonce and userref match)."""
    parts = urlsplit(url)
    return (method.upper(), parts.path, _kept(parts.query), _kept(body_text(body)))


def _kept(encoded: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pair for pair in parse_qsl(encoded, keep_blank_values=True)
                        if pair[0] not in SECRET_FIELDS and pair[0] not in VARYING_FIELDS))


def describe(method: str, url: str, body: Any) -> str:
    """``POST /0/private/AddOrder (pair XXBTZEUR)``: what a person needs to find the call."""
    parts = urlsplit(url)
    fields = dict(parse_qsl(parts.query)) | dict(parse_qsl(body_text(body)))
    pair = f" (pair {fields['pair']})" if "pair" in fields else ""
    return f"{method} {parts.path}{pair}"


def serializer_for(path: Path) -> str:
    """The profile checks already refused any other suffix (``profiles._checked``)."""
    return SERIALIZERS[path.suffix.lower()]


def is_replay(path: Path, record_mode: str) -> bool:
    """True when no request can reach the network."""
    return record_mode == "none" or (record_mode == "once" and path.exists())




SECRET_PATTERNS = [
    re.compile(r"(?i)\bapi-(?:key|sign)\b"),
    re.compile(r"(?i)\bx-mbx-apikey\b"),
    re.compile(r"(?<![\w])(?:nonce|otp|signature)=\w"),
    re.compile(r"[A-Za-z0-9+/]{86}=="),  # an HMAC-SHA512 signature, base64
]


def find_secrets(text: str) -> list[str]:
    """What in a cassette looks like a key, a signature, a nonce or an OTP."""
    return [m.group(0)[:24] for pattern in SECRET_PATTERNS for m in pattern.finditer(text)]
