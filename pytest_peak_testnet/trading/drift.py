"""How far a test environment's prices were from a reference market during a run.

Each of the run's candles is compared with the reference candle that opened at the same
time: the close's distance from it in basis points, either way. The run's figure is the largest distance either way (``reference_drift_bps``, what
``expect:`` bounds), and the run is flagged when it exceeds the configured threshold.
Candles the reference lacks are left out and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .exact import RATIOS, plain
from .market import Candle

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Drift:
    """``largest_bps``/``mean_bps`` are absolute; None when no candle could be compared
    (``problem`` then says why, when the reference could not be read)."""

    url: str
    threshold_bps: Decimal
    compared: int
    missing: int
    largest_bps: Decimal | None
    mean_bps: Decimal | None
    problem: str | None = None

    @property
    def flagged(self) -> bool:
        return self.largest_bps is not None and self.largest_bps > self.threshold_bps

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain({**vars(self), "flagged": self.flagged})
        return data


def drift(run: Iterable[Candle], reference: Iterable[Candle], url: str, threshold: Decimal,
          problem: str | None = None) -> Drift:
    closes = {candle.time: candle.close for candle in reference}
    distances, missing = [], 0
    for candle in run:
        at = closes.get(candle.time)
        if at is None or not at:
            missing += 1
            continue
        distances.append(abs(RATIOS.divide(RATIOS.multiply(RATIOS.subtract(candle.close, at), BPS), at)))
    largest = max(distances, default=None)
    mean = RATIOS.divide(sum(distances, Decimal(0)), len(distances)) if distances else None
    return Drift(url, threshold, len(distances), missing, largest, mean, problem)
