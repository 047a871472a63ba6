"""A Kraken-compatible exchange simulator on loopback: Kraken spot has no testnet, and tests
must not need the network. See ``server`` for the endpoints, ``clock`` for time control,
``faults`` for failures on demand."""

from __future__ import annotations

from .clock import DEFAULT_START_TIME, SimClock
from .faults import Faults
from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "DEFAULT_START_TIME", "Faults", "SimClock", "Simulator"]
