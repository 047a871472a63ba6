"""Which market the simulator shows a recording: its seeded random walk, or real history
from a Kraken OHLCVT CSV (``--testnet-simulator-data``, else the profile's
``simulator_data``, else ``[testnet_session] simulator_data``).

With history, the simulator's clock starts where the file leaves room for the session's
warm-up candles, so the strategy is warmed and trades on the market's own candles of
those hours; a file too short for that, or for another pair, is a one-line error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..desk.config import TIMEFRAMES
from ..desk.profiles import Profile
from ..desk.project import Desk
from ..errors import InputError, ProfileError, display
from .simulator.kraken.account import DEFAULT_BALANCES
from .simulator.kraken.csvhistory import History, load, stamp
from .simulator.kraken.marketdata import INTERVALS


@lru_cache(maxsize=8)
def _history(path: Path, mtime_ns: int) -> History:
    return load(path)


def history_for(desk: Desk, profile: Profile) -> History | None:
    chosen = desk.simulator_data or (desk.root / profile.simulator_data if profile.simulator_data else None) \
        or desk.config.session.simulator_data
    if chosen is None:
        return None
    try:
        return _history(chosen, chosen.stat().st_mtime_ns)
    except FileNotFoundError:
        raise InputError(display(chosen, desk.root), "simulator data file not found") from None


def check_timeframe(desk: Desk, profile: Profile, venue: str) -> None:
    """The Kraken simulator serves candles that divide a UTC day; Kraken's 1w and 15d would
    take it years of minute bars per answer. Such a profile is refused before its run starts."""
    if venue == "kraken" and TIMEFRAMES[profile.timeframe] not in INTERVALS:
        served = ", ".join(name for name, minutes in TIMEFRAMES.items() if minutes in INTERVALS)
        raise ProfileError(f"{profile.key_prefix(desk.root)}timeframe",
                           f"the simulator serves {served} candles, not {profile.timeframe}; "
                           "record this profile against Kraken")


def simulator_market(desk: Desk, profile: Profile, venue: str = "kraken") -> dict[str, Any]:
    """Keyword arguments for ``Simulator``: the profile's ``simulator:`` settings, and
    nothing more for the random walk. History is Kraken's OHLCVT format, served by the
    Kraken simulator only."""
    settings = profile.simulator.arguments()
    history = history_for(desk, profile)
    if history is None:
        return settings
    shown = display(history.path, desk.root)
    if venue != "kraken":
        raise InputError(shown, f"holds Kraken candles, which only the Kraken simulator serves; profile "
                                f"{profile.name} trades on {venue}'s simulator (drop the simulator data for it)")
    if history.pair.wsname != profile.symbol.replace("BTC", "XBT"):
        raise InputError(shown, f"holds {history.pair.wsname} candles; profile {profile.name} trades {profile.symbol}")
    candle = TIMEFRAMES[profile.timeframe] * 60
    if candle % history.interval:
        raise InputError(shown, f"holds {history.interval // 60}-minute candles, which cannot make "
                                f"{profile.name}'s {profile.timeframe} candles")
    warmup = desk.config.session.warmup_candles
    start = -(-(history.first + warmup * candle) // candle) * candle
    needed = start + profile.duration_minutes * 60 + candle
    if needed > history.end:
        raise InputError(shown, f"{history.covers()}: {profile.name} needs {warmup} warm-up candles of "
                                f"{profile.timeframe} and {profile.duration_minutes} min after them, up to {stamp(needed)}")
    # The account starts with as much of the history's quote currency as of euros, so a
    # buy on a pair the default balances leave out (XBTUSDT) is not refused for funds.
    balances = {**DEFAULT_BALANCES, history.pair.quote: DEFAULT_BALANCES["ZEUR"]}
    return {**settings, "history": [history], "start_time": float(start), "balances": balances}
