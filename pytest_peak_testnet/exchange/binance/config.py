"""``[exchange.binance_testnet]`` as the Binance client reads it.

Stand-in until the desk's config carries the block (``desk.config.BinanceConfig``): the
same fields, names and defaults, so the integrator can import that one here instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

#: Binance's two environments whose orders fill against a real matching engine without
#: real money: the Spot Testnet and Demo Mode.
SPOT_TESTNET = "https://testnet.binance.vision"
DEMO = "https://demo-api.binance.com"
#: The most ``recvWindow`` Binance accepts, in milliseconds.
MAX_RECV_WINDOW = 60_000


@dataclass(frozen=True)
class BinanceConfig:
    """Binance's Spot Testnet (default) or Demo Mode. Orders are placed unless
    ``validate_only`` (then ``POST /api/v3/order/test`` checks them and places nothing)."""

    venue: ClassVar[str] = "binance"
    enabled: bool = True
    base_url: str = SPOT_TESTNET
    api_key_env_var: str = "BINANCE_TESTNET_API_KEY"
    api_secret_env_var: str = "BINANCE_TESTNET_API_SECRET"
    validate_only: bool = False
    timeout_seconds: float = 10.0
    max_retries: int = 3
    #: Milliseconds a signed request stays valid after its ``timestamp``.
    recv_window: int = 5000

    def problems(self) -> Iterator[tuple[str, str]]:
        if not 0 < self.recv_window <= MAX_RECV_WINDOW:
            yield "recv_window", f"expected 1 to {MAX_RECV_WINDOW} ms (Binance's limit), found {self.recv_window}"
