"""An exchange simulator on loopback, so tests and recordings need no network: a
venue-neutral core (``market``: the price path; ``matching``: a taker against a book of
limited depth; ``clock``; ``faults``; ``server``: HTTP and the ``/_sim/`` control
endpoints) under one wire front-end per venue, ``kraken`` (the default) and ``binance``
(``Simulator(venue="binance")``)."""

from __future__ import annotations

from .clock import DEFAULT_START_TIME, SimClock
from .faults import Faults
from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "DEFAULT_START_TIME", "Faults", "SimClock", "Simulator"]
