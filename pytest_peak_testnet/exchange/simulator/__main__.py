"""``python -m pytest_peak_testnet.simulator [--venue kraken|binance] [--port N] [--seed N] [--speed X]``:
serve until Ctrl-C. ``--ed25519-key-file PATH`` (Binance) writes the simulator's Ed25519
private key there, for a desk whose block has ``key_type = "ed25519"``.

The first line printed is the URL alone, so a script can read it and point a client there.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from pathlib import Path

from .clock import DEFAULT_START_TIME
from .kraken.exchange import TIERS
from .server import VENUES, Simulator


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pytest_peak_testnet.simulator",
                                     description="An exchange simulator on 127.0.0.1 (Kraken's or Binance's wire format).")
    parser.add_argument("--venue", choices=VENUES, default="kraken", help="wire format to speak (default kraken)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the price paths and txids (default 0)")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="simulated seconds per wall second; 0 (default) moves only on POST /_sim/advance")
    parser.add_argument("--start-time", type=float, default=DEFAULT_START_TIME, help="simulated unix time at start")
    parser.add_argument("--tier", choices=sorted(TIERS), help="enforce Kraken's rate counter for this tier")
    parser.add_argument("--book-depth", help="Binance: base asset per price level (default: each symbol's own, "
                                             "0.01 BTC or 0.2 ETH); a market order larger than the book expires "
                                             "with what filled")
    parser.add_argument("--ed25519-key-file", type=Path, metavar="PATH",
                        help="Binance: write the simulator's Ed25519 private key (PEM) to PATH, for "
                             'key_type = "ed25519" (set BINANCE_TESTNET_PRIVATE_KEY_FILE to PATH)')
    args = parser.parse_args(argv)
    if args.venue == "binance" and args.tier:
        parser.error("--tier is Kraken's rate counter; the Binance simulator counts request weight")
    if args.venue != "binance" and args.ed25519_key_file:
        parser.error("--ed25519-key-file is for Binance's Ed25519 keys (--venue binance)")
    extra = {"book_depth": args.book_depth} if args.venue == "binance" else {"tier": args.tier}
    sim = Simulator(venue=args.venue, seed=args.seed, speed=args.speed, start_time=args.start_time, port=args.port,
                    **extra)
    try:
        sim.start()
    except OSError as exc:
        parser.exit(1, f"{parser.prog}: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}\n")
    try:
        print(sim.url, flush=True)
        print(f"api key {sim.exchange.api_key}, secret {sim.exchange.api_secret} (simulator-only credentials); "
              "Ctrl-C stops", flush=True)
        if args.ed25519_key_file:
            args.ed25519_key_file.write_text(sim.exchange.ed25519_private_key)
            print(f"ed25519 api key {sim.exchange.ed25519_api_key}, private key written to {args.ed25519_key_file}",
                  flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
