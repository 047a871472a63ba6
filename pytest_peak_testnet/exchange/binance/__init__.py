"""Binance spot's test environments (Spot Testnet, Demo Mode): its client, wire format,
filters, error codes and keys, and the factory every venue package exposes to
``exchange.venues`` (``build_client``, ``credentials_from_env``, ``replay_credentials``,
``simulator``).

Unlike Kraken, Binance has environments where orders fill without real money, so orders
are placed by default and the guard is the host: the client serves only the Spot
Testnet, Demo Mode and a simulator on loopback (``BinanceConfig.test_hosts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .client import BinanceTestnetClient
from .signing import HmacKeys, KeysError, Signer

if TYPE_CHECKING:
    from .ed25519 import Ed25519Keys

#: Well-formed keys that sign nothing real: a replay sends no request anywhere.
REPLAY_KEY = "replay-without-credentials"
REPLAY_SECRET = "replay-without-credentials-secret"

__all__ = ["BinanceTestnetClient", "HmacKeys", "build_client", "credentials_from_env", "ed25519_keys",
           "replay_credentials", "simulator"]


def build_client(name: str, config: Any, *, base_url: str, credentials: Any, transport: Any,
                 sleep: Callable[[float], None], monotonic: Callable[[], float]) -> BinanceTestnetClient:
    """The client for the block ``[exchange.<name>]`` (``config``), sending to ``base_url``."""
    return BinanceTestnetClient(replace(config, base_url=base_url), keys=credentials, session=transport,
                                sleep=sleep, monotonic=monotonic, venue=name)


def credentials_from_env(config: Any) -> Signer:
    keys = ed25519_keys() if config.key_type == "ed25519" else HmacKeys
    return keys.from_environment(config.api_key_env_var, config.secret_env_var)


def ed25519_keys() -> type[Ed25519Keys]:
    """The class of Ed25519 keys: ``cryptography`` is imported here, for an Ed25519 key only."""
    try:
        from .ed25519 import Ed25519Keys
    except ImportError:
        raise KeysError('key_type = "ed25519"', "needs the cryptography package, which is not installed: "
                        "pip install 'pytest-peak-testnet[ed25519]'") from None
    return Ed25519Keys


def replay_credentials() -> HmacKeys:
    return HmacKeys(REPLAY_KEY, REPLAY_SECRET)


def simulator(**market: Any) -> Any:
    """The simulator speaking Binance's wire format (http.server: imported for recordings only)."""
    from ..simulator import Simulator

    return Simulator(venue="binance", **market)
