"""The simulator's Kraken spot front-end: Kraken's paths, envelopes, error strings, pairs,
account records and history paging over the venue-neutral core (market, clock, faults).
``Simulator()`` (``venue="kraken"``) serves it; see ``exchange`` for the methods."""
