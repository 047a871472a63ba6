"""Cassettes: sessions are recorded to and replayed from one vcrpy cassette per profile.

A replay goes through ``replay.ReplaySession``, which answers from the cassette file
without a socket (nor requests); only a recording loads vcrpy (``recording``). Both match requests by
``request_key``. The plugin loads this module in every pytest run, and most runs never
touch a cassette, so it imports neither requests nor vcrpy itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .format import (
    CASSETTE_SUFFIX,
    RECORD_MODES,
    SECRET_FIELDS,
    SECRET_PATTERNS,
    SERIALIZERS,
    VARYING_FIELDS,
    CassetteError,
    Key,
    body_text,
    describe,
    find_secrets,
    is_replay,
    request_key,
    serializer_for,
)

if TYPE_CHECKING:
    from .replay import ReplaySession

__all__ = [
    "CASSETTE_SUFFIX",
    "RECORD_MODES",
    "SECRET_FIELDS",
    "SECRET_PATTERNS",
    "SERIALIZERS",
    "VARYING_FIELDS",
    "CassetteError",
    "Key",
    "body_text",
    "describe",
    "find_secrets",
    "is_replay",
    "request_key",
    "serializer_for",
    "use_cassette",
]


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
    from .recording import check_yaml, recording

    if record_mode != "rewrite" and serializer_for(path) == "yaml":  # rewrite never reads it
        check_yaml(path, record_command)
    with recording(path, record_mode, serializer_for(path)):
        yield None
