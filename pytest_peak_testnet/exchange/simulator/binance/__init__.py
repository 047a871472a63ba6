"""The simulator's Binance spot front-end: Binance's paths, signature and timestamp checks,
filters, request weight and error bodies over the venue-neutral core (market, matching,
clock, faults). ``Simulator(venue="binance")`` serves it; see ``exchange`` for the paths."""
