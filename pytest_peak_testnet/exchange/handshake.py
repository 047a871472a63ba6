"""Telling the project's simulator from an exchange: by asking, never by the address.

Only the simulator answers ``GET /_sim/hello`` with its name and version. Any other server,
on loopback or not (a proxy to Kraken, a mock, a recorder), is an exchange: the session
waits on the wall clock, keeps the real rate limit, and the run spends budget. A host under
a real exchange's domain is not asked at all: it is an exchange by name, and a request it has
no use for would still reach it (and be logged there) before the run's first real call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .. import __version__

HELLO_PATH = "/_sim/hello"
#: Where a recording tells the simulator that time has passed (``clock.SimulatorClock``).
ADVANCE_PATH = "/_sim/advance"
SIMULATOR_NAME = "pytest-peak-testnet simulator"
#: The handshake is one small request to a server the run is about to use anyway.
HELLO_TIMEOUT_SECONDS = 2.0
#: Domains of real exchanges (their hosts and every subdomain): never asked for the handshake.
EXCHANGE_DOMAINS = ("kraken.com", "binance.com", "binance.vision", "binance.us")


def hello() -> dict[str, Any]:
    """What the simulator answers."""
    return {"simulator": SIMULATOR_NAME, "version": __version__}


def is_exchange_host(base_url: str) -> bool:
    """Whether ``base_url``'s host is a real exchange's, by its name."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    return any(host == domain or host.endswith(f".{domain}") for domain in EXCHANGE_DOMAINS)


def simulator_version(base_url: str) -> str | None:
    """The simulator's version if ``base_url`` is the project's simulator, else None; a real
    exchange's host is not asked."""
    if is_exchange_host(base_url):
        return None
    import requests

    from .transport import environment_session

    url = base_url.rstrip("/") + HELLO_PATH
    try:
        with environment_session(url) as session:
            answer = session.get(url, timeout=HELLO_TIMEOUT_SECONDS)
            data = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) and data.get("simulator") == SIMULATOR_NAME else None
    return version if isinstance(version, str) else None
