"""Amounts are written as their exact text: no exponent, no trailing fractional zero."""

from __future__ import annotations

import random
from decimal import Context, Decimal

import pytest

from pytest_peak_testnet.trading.exact import exact

WIDE = Context(prec=200)


def reference(value: Decimal) -> str:
    """The stdlib's own way to that text: normalize, then fixed-point format."""
    return format(value.normalize(WIDE), "f") if value.is_finite() else str(value)


@pytest.mark.parametrize(("text", "written"), [
    ("60123.4", "60123.4"), ("100", "100"), ("1E+2", "100"), ("1.500", "1.5"), ("0.10", "0.1"),
    ("10.0", "10"), ("0E-8", "0"), ("-0.00", "-0"), ("1.23E-7", "0.000000123"), ("5E+3", "5000"),
    ("-5.10", "-5.1"), ("0.0000001", "0.0000001"), ("Infinity", "Infinity"), ("NaN", "NaN"),
])
def test_each_shape_of_amount(text: str, written: str) -> None:
    assert exact(Decimal(text)) == written == reference(Decimal(text))


def test_random_amounts_match_the_stdlib_text() -> None:
    rng = random.Random(20261123)
    amounts = [Decimal(rng.randint(-10**12, 10**12)).scaleb(rng.randint(-14, 8)) for _ in range(20_000)]
    amounts += [a * b for a, b in zip(amounts[::2], amounts[1::2], strict=True)]
    assert [exact(a) for a in amounts] == [reference(a) for a in amounts]
