"""Where Binance orders may go: only to a test environment, whatever the config says.

The Spot Testnet (``testnet.binance.vision``) and Demo Mode (``demo-api.binance.com``)
fill orders with money that is not real; loopback is the project's simulator. Any other
host is refused before a request is sent: Binance's production API
(``api.binance.com``, ``api-gcp`` and ``api1``-``api4``) trades real funds with the same
keys format, so a copied URL must never reach it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .config import DEMO, SPOT_TESTNET

TEST_HOSTS = frozenset(urlsplit(url).hostname for url in (SPOT_TESTNET, DEMO))
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PRODUCTION_HOSTS = frozenset({"api.binance.com", "api-gcp.binance.com", "api1.binance.com", "api2.binance.com",
                              "api3.binance.com", "api4.binance.com"})


def refusal(base_url: str) -> str | None:
    """None where orders may go, else the one line that says why not."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    if host in TEST_HOSTS or host in LOOPBACK_HOSTS:
        return None
    what = "Binance's production API (real funds)" if host in PRODUCTION_HOSTS else "not a Binance test environment"
    return (f"base_url {base_url!r} is {what}; expected {SPOT_TESTNET} (Spot Testnet), {DEMO} (Demo Mode) "
            "or a simulator on 127.0.0.1")
