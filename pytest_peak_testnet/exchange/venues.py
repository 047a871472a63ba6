"""A venue chosen by name: the one place that turns a config block into a client.

Each ``[exchange.NAME]`` block is a ``VenueConfig`` whose class names its venue package
(``ExchangeConfig.venue == "kraken"``, ``BinanceConfig.venue == "binance"``); the package
``pytest_peak_testnet.exchange.<venue>`` is imported on first use, so a replay imports only
the venue it replays. Nothing above ``exchange/`` imports a venue module: the runner asks
this module for a client, its credentials and its simulator.

The environment guard needs no venue package: a block's class names its venue's test
hosts (``VenueConfig.test_hosts``), and ``check_environment`` refuses any other host
before a client exists, so a refused host never sees a request.

Every venue package exposes, at module level, what ``VenuePackage`` lists:

- ``build_client(name, config, *, base_url, credentials, transport, sleep, monotonic)``: an
  ``ExchangeClient`` for the block ``name`` (``config``), sending to ``base_url`` (the
  config's, or ``--testnet-base-url``, or a simulator's) through ``transport`` (None: the
  venue's own ``requests.Session``; a replay passes ``cassettes.replay.ReplaySession``);
  ``sleep``/``monotonic`` are the run's clock (virtual in a replay).
- ``credentials_from_env(config)``: the keys from the variables the block names, checked;
  a missing or malformed one is an ``InputError`` naming the variable, never the value.
- ``replay_credentials()``: well-formed keys that sign nothing real, for a replay.
- ``simulator(**market)``: a context manager serving the venue's wire format on loopback,
  with ``.url`` and ``.credentials(config)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, cast

from ..desk.config import VenueConfig, not_a_test_environment
from .errors import NotTestEnvironment
from .protocol import ExchangeClient


class VenuePackage(Protocol):
    def build_client(self, name: str, config: VenueConfig, *, base_url: str, credentials: Any, transport: Any,
                     sleep: Callable[[float], None], monotonic: Callable[[], float]) -> ExchangeClient: ...

    def credentials_from_env(self, config: VenueConfig) -> Any: ...

    def replay_credentials(self) -> Any: ...

    def simulator(self, **market: Any) -> Any: ...


def package(config: VenueConfig) -> VenuePackage:
    """The venue package that serves ``config``'s block, imported on first use."""
    return cast(VenuePackage, importlib.import_module(f"{__package__}.{config.venue}"))


def check_environment(name: str, config: VenueConfig, base_url: str) -> None:
    """The environment guard: ``NotTestEnvironment`` (one line) for a host the venue refuses."""
    problem = not_a_test_environment(config, base_url)
    if problem is not None:
        raise NotTestEnvironment(f"exchange.{name}: {problem}; nothing was sent")


def client(name: str, config: VenueConfig, *, base_url: str, credentials: Any, transport: Any = None,
           sleep: Callable[[float], None], monotonic: Callable[[], float]) -> ExchangeClient:
    """The block's client, once the guard has let ``base_url`` through."""
    check_environment(name, config, base_url)
    return package(config).build_client(name, config, base_url=base_url, credentials=credentials,
                                        transport=transport, sleep=sleep, monotonic=monotonic)
