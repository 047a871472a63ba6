"""Cassettes: sessions are recorded to and replayed from one vcrpy cassette per profile.

A replay goes through ``replay.ReplaySession``, which answers from the cassette file
without a socket (nor requests); only a recording loads vcrpy (``recording``). Both match requests by
``request_key``. The plugin loads this module in every pytest run, and most runs never
touch a cassette, so it imports neither requests nor vcrpy itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from .replay import ReplaySession

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
#: Form fields that change with every private call and are never written to a cassette.
SECRET_FIELDS = frozenset({"nonce", "otp"})
#: Form fields that differ between runs, neither recorded nor matched: the client picks each
#: order's ``userref`` afresh (see ``kraken``), so a replay's orders carry other ones.
VARYING_FIELDS = frozenset({"userref"})

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
    form = (pair for pair in parse_qsl(body_text(body), keep_blank_values=True)
            if pair[0] not in SECRET_FIELDS and pair[0] not in VARYING_FIELDS)
    return (method.upper(), parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True))),
            tuple(sorted(form)))


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


@contextmanager
def use_cassette(path: Path, record_mode: str, record_command: str) -> Iterator[ReplaySession | None]:
    """Yields the transport a replay must send through, answered from ``path``; or ``None``
    when requests go out on the client's own session and vcrpy records them (``new_episodes``
    plays what the cassette holds and records the rest). In a replay, a request the cassette
    cannot answer is a ``CassetteError`` naming the cassette, the request and ``record_command``."""
    if is_replay(path, record_mode):
        from .replay import ReplaySession

        yield ReplaySession(path, record_command)
        return
    from .recording import IndexedCassette, recorder

    if record_mode == "rewrite":
        path.unlink(missing_ok=True)
    with IndexedCassette.use(**recorder(record_mode, serializer_for(path)).get_merged_config(path=str(path))):
        yield None


SECRET_PATTERNS = [
    re.compile(r"(?i)\bapi-(?:key|sign)\b"),
    re.compile(r"(?<![\w])(?:nonce|otp)=\w"),
    re.compile(r"[A-Za-z0-9+/]{86}=="),  # an HMAC-SHA512 signature, base64
]


def find_secrets(text: str) -> list[str]:
    """What in a cassette looks like a key, a signature, a nonce or an OTP."""
    return [m.group(0)[:24] for pattern in SECRET_PATTERNS for m in pattern.finditer(text)]
