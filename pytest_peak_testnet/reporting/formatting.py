"""Numbers for people: the filters the templates use, and the terminal lines.

Run records carry money as exact decimal strings (JSON numbers are binary floats), so
every formatter takes those as well as numbers, and formats the exact value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Number = Decimal | float | int | str


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


def num(value: Number | None, digits: int = 2, sign: bool = False) -> str:
    return "–" if value is None else f"{Decimal(str(value)):{'+' if sign else ''},.{digits}f}"


def money(value: Number | None, currency: str | None, digits: int = 2, sign: bool = False) -> str:
    """``1,234.50 EUR``; ``–`` when there is no figure (or no single currency to sum in)."""
    return "–" if value is None or currency is None else f"{num(value, digits, sign)} {currency}"


def pct(value: Number | None, digits: int = 2) -> str:
    return "–" if value is None else f"{Decimal(str(value)):.{digits}%}"


def ratio(value: Number | None, digits: int = 2) -> str:
    """A ratio that may be unbounded: profit factor with profits and no loss is ``∞``."""
    if value is None:
        return "–"
    number = Decimal(str(value))
    return "∞" if number.is_infinite() else num(number, digits)
