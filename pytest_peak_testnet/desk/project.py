"""The session-wide objects of one pytest run, built once from the options and the config.

pytest's custom items get no fixtures, so everything an item needs lives here, in
``config.stash``; the session fixtures hand the same objects to Python tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from ..activation import (
    DEFAULT_CASSETTES_DIR,
    DEFAULT_PROFILES_DIR,
    DESK,
    OnBlocked,
    active,
    not_a_desk,
    parsed_config,
    rootdir_hint,
)
from ..errors import InputError, ProfileError
from ..trading.strategies import BUILTIN_STRATEGIES, Strategy, make_strategy
from .config import DeskConfig, load_config
from .ledgers import open_ledger
from .limits import LimitsController
from .profiles import Profile, apply_overrides, check_exchanges, load_profiles, select
from .usage import DayUsage, Ledger

STRATEGY_ENTRY_POINTS = "pytest_peak_testnet.strategies"


@dataclass
class Desk:
    """The session-wide objects of one pytest run: config, profiles, ledger, limits, options."""

    root: Path
    config: DeskConfig
    #: Every profile by name, overrides applied.
    profiles: dict[str, Profile]
    #: Names from ``--testnet-profile``; None when the option was not given.
    selected: list[str] | None
    #: The profiles ``--testnet-override`` changed (their baselines are not compared).
    overridden: frozenset[str]
    profiles_dir: Path
    ledger: Ledger
    limits: LimitsController
    dry_run: bool
    on_blocked: OnBlocked
    cassettes_dir: Path
    record_mode: str
    #: ``--testnet-base-url``: where every run's requests go instead of its exchange's base_url.
    base_url_option: str | None
    #: ``--testnet-simulator``: each recording gets a fresh simulator of its own.
    simulator: bool
    strategies: dict[str, type[Strategy]]
    #: ``--testnet-simulator-data``: market history (a Kraken OHLCVT CSV) for the simulator.
    simulator_data: Path | None = None
    by_source: dict[Path, list[Profile]] = field(init=False)
    _credentials: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[Path, list[Profile]] = defaultdict(list)
        for profile in self.profiles.values():
            grouped[profile.source].append(profile)
        self.by_source = dict(grouped)

    def base_url(self, exchange: str | None = None) -> str:
        """Where the runs on ``exchange`` (a block name; None: the default) send requests."""
        return self.base_url_option or self.config.exchange_named(exchange).base_url

    def credentials(self, exchange: str | None = None) -> Any:
        """The keys of ``exchange``'s block from the environment, read and checked once per
        block (a ``CredentialsError`` naming the variable is raised again on each call)."""
        name = exchange or self.config.default_exchange
        if name not in self._credentials:
            from ..exchange import venues

            config = self.config.exchange_named(exchange)
            self._credentials[name] = venues.package(config).credentials_from_env(config)
        return self._credentials[name]

    @cached_property
    def dry_run_day(self) -> DayUsage:
        """The day's usage as a dry run's first decision reads it; every profile of the dry
        run is decided against it. A dry run writes nothing, so its decisions all answer the
        same question (what would run, given the day as it is) and the day file is decoded
        once: read per profile, it made a dry run of 1,000 profiles 2.3 s slower for every 85
        runs already in the day. (A read that fails is not kept: each profile reports it.)"""
        return self.ledger.read()

    def sources(self, names: list[str]) -> list[Path]:
        """The files that define these profiles, each once, in the order of the names."""
        return list(dict.fromkeys(self.profiles[name].source for name in names))


def open_desk(config: pytest.Config) -> Desk | None:
    """Build the desk, or None when this run is not a desk's (``activation.active``).

    Raises ``pytest.UsageError`` with the one-line message of any bad input."""
    if DESK in config.stash:
        return config.stash[DESK]
    found = active(config)
    if found is None:
        return None
    path, holds_desk = found
    root = config.rootpath
    profiles_dir = root / (config.getini("testnet_profiles_dir") or DEFAULT_PROFILES_DIR)
    try:
        if not holds_desk and path.exists():
            raise not_a_desk(path, root)
        desk_config = load_config(path, root, parsed_config(config))
        profiles = load_profiles(profiles_dir, desk_config, root)
        names = profile_names(config.getoption("testnet_profile") or [])
        select(profiles, names)
        overrides = config.getoption("testnet_override") or []
        # Overrides change the selected profiles only.
        overridden = frozenset(names or profiles) if overrides else frozenset()
        profiles = {name: apply_overrides(p, overrides, root) if name in overridden else p
                    for name, p in profiles.items()}
        check_exchanges(profiles.values(), desk_config, root)
        known_strategies = strategies(config, (p.strategy for p in profiles.values()))
        for profile in profiles.values():  # a bad strategy name or param is a config error too
            make_strategy(profile.strategy, profile.params, profile.key_prefix(root), known_strategies)
        ledger = open_ledger(desk_config.orchestration)
    except InputError as exc:
        raise pytest.UsageError(f"{exc}{rootdir_hint(config)}") from None
    limits = LimitsController(desk_config.run_limits, desk_config.daily_limits, desk_config.symbols, ledger)
    desk = Desk(
        root=root,
        config=desk_config,
        profiles=profiles,
        selected=names if config.getoption("testnet_profile") else None,
        overridden=overridden,
        profiles_dir=profiles_dir,
        ledger=ledger,
        limits=limits,
        dry_run=config.getoption("testnet_dry_run") or desk_config.environment.testnet_dry_run,
        on_blocked=config.getoption("testnet_on_blocked") or config.getini("testnet_on_blocked") or "skip",
        cassettes_dir=root / (config.getini("testnet_cassettes_dir") or DEFAULT_CASSETTES_DIR),
        record_mode=config.getoption("testnet_record_mode") or config.getini("testnet_record_mode") or "none",
        base_url_option=config.getoption("testnet_base_url"),
        simulator=bool(config.getoption("testnet_simulator") or config.getoption("testnet_simulator_data")),
        strategies=known_strategies,
        simulator_data=None if config.getoption("testnet_simulator_data") is None
        else Path(config.getoption("testnet_simulator_data")).resolve(),
    )
    config.stash[DESK] = desk
    return desk


def profile_names(options: list[str]) -> list[str]:
    """``--testnet-profile a,b --testnet-profile c``; an empty name is a mistake, not "none"."""
    names = [name.strip() for option in options for name in option.split(",")]
    for option in options:
        if not all(name.strip() for name in option.split(",")):
            raise ProfileError("--testnet-profile", f"empty profile name in {option!r}; "
                               "name one or more profiles (pytest --testnet-list shows them)")
    return names


def strategies(config: pytest.Config, names: Iterable[str]) -> dict[str, type[Strategy]]:
    """The built-ins, then what ``pytest_peak_testnet_strategies`` hooks return; installed
    packages' entry points only when one of ``names`` is still unknown. Reading every
    installed package's entry points costs each run 5-10 ms, so a desk using the shipped
    strategies and its own conftest never pays it; and a shipped strategy's name keeps its
    meaning whatever is installed (a hook, part of the project, may still replace it)."""
    found = dict(BUILTIN_STRATEGIES)
    hooked = {cls.name: cls for result in config.hook.pytest_peak_testnet_strategies() for cls in result or ()}
    if not set(names) <= found.keys() | hooked.keys():
        for entry in entry_points(group=STRATEGY_ENTRY_POINTS):
            cls = entry.load()
            if cls.name not in BUILTIN_STRATEGIES:
                found[cls.name] = cls
    return found | hooked
