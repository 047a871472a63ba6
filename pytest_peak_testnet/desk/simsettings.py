"""A profile's ``simulator:``: the market the project's simulator shows a recording
(``--testnet-simulator``) of that profile.

The shipped Binance profile must record orders that partly fill and expire on a thin book,
and every recording of it must show the same book: so the book is declared in the profile,
beside the run it shapes, not passed on a command line. A replay and a run against an
exchange ignore it (the cassette holds what the simulator answered). Which settings a
venue's simulator takes is its config class's ``simulator_settings``; another is a
one-line error when the profiles are loaded.

    simulator:
      book_depth: 0.0002   # base asset resting at each price level
      book_levels: 5       # price levels per side
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ..errors import InputError
from .schema import build, describe, positive


@dataclass(frozen=True)
class SimulatorSettings:
    """Unset settings keep the simulator's own defaults."""

    #: Base asset resting at each price level of the order book (default: each symbol's own
    #: thin book, 0.01 BTC or 0.2 ETH): a market order larger than the book expires partly filled.
    book_depth: Decimal | None = positive(None)
    #: Price levels on each side of the book (default 5).
    book_levels: int | None = positive(None)

    @classmethod
    def parse_input(cls, value: Any, where: str) -> SimulatorSettings:
        if not isinstance(value, dict):
            raise InputError(where, f"expected a table (mapping) of simulator settings, found {describe(value)}")
        return build(cls, value, lambda key: f"{where}.{key}")

    def arguments(self) -> dict[str, Any]:
        """The settings the profile set, as the simulator's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
