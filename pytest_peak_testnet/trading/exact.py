"""Exact money: the decimal contexts the books use, and the exact text of an amount.

Prices and volumes arrive from Kraken as decimal strings on the pair's grid, so sums and
products of them are exact in decimal arithmetic, never in binary floats. ``BOOKS`` is
wide enough for any such sum or product and *traps* ``Inexact``: an addition or a
multiplication that would round raises instead of drifting. Divisions are ratios (a
size before it is cut to the lot, drawdown, win rate, averages); they use ``RATIOS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from typing import Any

ZERO = Decimal(0)
INFINITY = Decimal("Infinity")
BOOKS = Context(prec=200, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
RATIOS = Context(prec=34)


def exact(value: Decimal) -> str:
    """The exact value without trailing zeros or an exponent: ``10007.999``, ``100``.

    ``str`` already gives that text for most amounts (Kraken's strings and sums of them),
    at a tenth of the cost of normalizing: it is taken when it has no exponent and no
    trailing fractional zero. Run logs write an amount per field of every order event."""
    text = str(value)
    if not value.is_finite() or ("E" not in text and not ("." in text and text[-1] == "0")):
        return text
    return f"{value.normalize(BOOKS):f}"


def total(values: Iterable[Decimal]) -> Decimal:
    """The exact sum, in ``BOOKS``: a sum that would round raises."""
    result = ZERO
    for value in values:
        result = BOOKS.add(result, value)
    return result


def plain(value: Any) -> Any:
    """``value`` with every ``Decimal`` as its exact string, tuples as lists: the form run
    records, run logs and JSON reports carry (JSON numbers are binary floats)."""
    if isinstance(value, Decimal):
        return exact(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def json_default(value: Any) -> str:
    """``json.dumps(..., default=json_default)``: amounts as exact strings, anything else
    (a path) as its text. Cheaper than ``plain`` on a hot path: the C encoder asks only
    for the values it cannot write itself."""
    return exact(value) if isinstance(value, Decimal) else str(value)
