"""How a taker order meets a book of limited depth, whatever the venue.

The simulated book has ``levels`` price levels on each side, one tick apart from the touch
outward, each offering ``depth`` of the base asset; ``depth`` None is a book deep enough
for any order at the touch. A taker walks the levels until it is filled, the book runs
out, or (a limit order) the next level is past its limit. What it could not take is left to
the venue: a market order's remainder expires, a limit order's rests. Deterministic: the
same touch, depth and order give the same fills.
"""

from __future__ import annotations

from decimal import Decimal


def sweep(side: str, touch: Decimal, tick: Decimal, quantity: Decimal, depth: Decimal | None, levels: int,
          limit: Decimal | None = None) -> list[tuple[Decimal, Decimal]]:
    """``[(price, quantity), ...]`` a ``side`` ("buy"/"sell") taker gets, best price first."""
    if depth is None:
        crosses = limit is None or (touch <= limit if side == "buy" else touch >= limit)
        return [(touch, quantity)] if crosses and quantity > 0 else []
    step = tick if side == "buy" else -tick
    fills: list[tuple[Decimal, Decimal]] = []
    left = quantity
    for level in range(levels):
        price = touch + step * level
        if left <= 0 or (limit is not None and (price > limit if side == "buy" else price < limit)):
            break
        taken = min(left, depth)
        fills.append((price, taken))
        left -= taken
    return fills
