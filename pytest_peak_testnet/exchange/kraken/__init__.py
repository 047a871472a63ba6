"""Kraken spot: its client, wire format, error strings and keys, and the factory every
venue package exposes to ``exchange.venues`` (see there for the interface).

Kraken spot has no test environment (``ExchangeConfig.test_hosts`` is None): its guard is
``validate=true`` (and, for real orders, ``allow_live_orders``), which the client sends
whatever host it talks to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ...desk.config import ExchangeConfig, VenueConfig
from ..protocol import ExchangeClient
from .adapter import KrakenExchange
from .client import KrakenTestnetClient
from .credentials import Credentials

#: A well-formed credential that signs nothing real: a replay sends no request anywhere.
REPLAY_KEY = "replay-without-credentials"
REPLAY_SECRET = "cmVwbGF5LXdpdGhvdXQtY3JlZGVudGlhbHM="


def build_client(name: str, config: VenueConfig, *, base_url: str, credentials: Any, transport: Any,
                 sleep: Callable[[float], None], monotonic: Callable[[], float]) -> ExchangeClient:
    assert isinstance(config, ExchangeConfig)
    raw = KrakenTestnetClient(replace(config, base_url=base_url), credentials=credentials, session=transport,
                              sleep=sleep, monotonic=monotonic)
    return KrakenExchange(raw, name)


def credentials_from_env(config: VenueConfig) -> Credentials:
    return Credentials.from_environment(config.api_key_env_var, config.api_secret_env_var)


def replay_credentials() -> Credentials:
    return Credentials(REPLAY_KEY, REPLAY_SECRET)


def simulator(**market: Any) -> Any:
    """The simulator speaking Kraken's wire format (http.server: imported for recordings only)."""
    from ..simulator import Simulator

    return Simulator(**market)
