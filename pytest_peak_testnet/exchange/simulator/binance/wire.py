"""Binance's wire format as the simulator writes it: compact JSON, amounts as strings with
eight decimals, ids and times as integers, errors as ``{"code": ..., "msg": ...}``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class Refusal(Exception):
    """A request Binance refuses: its HTTP status and its error body."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def error_body(code: int, msg: str) -> bytes:
    return encode({"code": code, "msg": msg})


def amount(value: Decimal | float) -> str:
    """Binance's spelling of a price or quantity: eight decimals (``"0.00100000"``)."""
    return f"{Decimal(str(value)):.8f}"


def missing(name: str) -> Refusal:
    return Refusal(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def filter_failure(name: str) -> Refusal:
    return Refusal(-1013, f"Filter failure: {name}")


INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
UNKNOWN_ORDER = "Unknown order sent."
