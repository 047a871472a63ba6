"""Kraken's wire format as the simulator writes it: envelopes, compact JSON, ``\\/`` escapes."""

from __future__ import annotations

import json
from typing import Any


class Reject(Exception):
    """A request Kraken refuses; ``error`` is Kraken's exact string."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def encode(payload: Any) -> bytes:
    """Compact JSON with ``/`` escaped as ``\\/``, as Kraken's servers send it (``XBT\\/EUR``).

    A ``/`` only ever occurs inside JSON strings, where ``\\/`` is a valid escape, so the
    replacement cannot change the document's meaning; it keeps clients honest about it.
    """
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def success(result: Any) -> bytes:
    return encode({"error": [], "result": result})


def failure(error: str) -> bytes:
    """A failed call carries only ``error``: no ``result`` key at all."""
    return encode({"error": [error]})
