"""Session profiles: one YAML file each under ``profiles/``, or ``[testnet_profiles.NAME]``.

A profile is a plan: what runs (strategy, symbol, timeframe, params) and how much it may
spend (duration, notional, trades). The limits check these planned figures before a run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from ..cassettes import SERIALIZERS
from ..errors import InputError, ProfileError, display
from . import yamlio
from .config import PROFILES_TABLE, DeskConfig, Timeframe, check_unused_exchanges
from .expectations import Expectations
from .schema import build, closest, coerce, positive, round_trip, share
from .simsettings import SimulatorSettings
from .yamlio import Loader, problem

PROFILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Profile:
    """One testnet session as a YAML file or a ``[testnet_profiles.NAME]`` table describes it."""

    name: str
    #: The file that defines it: a YAML file, or the TOML config.
    source: Path
    strategy: str
    symbol: str
    timeframe: Timeframe
    duration_minutes: int = positive(60)
    max_notional: Decimal = positive(Decimal("500"))
    #: A run buys only when a buy and the sell that closes it both fit: fewer than 2 never trades.
    max_trades: int = round_trip(20)
    #: Close a position still open on the last candle at that candle's close (freqtrade's
    #: force-exit, backtesting.py's ``finalize_trades``); otherwise it is reported as open.
    close_at_end: bool = False
    description: str | None = None
    markers: tuple[str, ...] = ()
    #: Strategy parameters; the strategy declares and checks them.
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Cassette file under the cassettes dir, ``.json`` or ``.yaml``; default ``<name>.json``.
    cassette: str | None = None
    #: What the run must show; checked in every mode (``expectations``).
    expect: Expectations = field(default_factory=Expectations)
    #: Replays compare the run with ``<name>.baseline.yaml`` beside the cassette (``baselines``).
    baseline: bool = True
    #: Relative tolerance for amounts against the baseline; default ini ``testnet_baseline_tolerance``, else 1e-9.
    #: Above 1 it would match any two amounts of one sign, so it is refused.
    baseline_tolerance: Decimal | None = share(None)
    #: A Kraken OHLCVT CSV (relative to the rootdir) the simulator serves when recording this profile.
    simulator_data: str | None = None
    #: The ``[exchange.NAME]`` block this profile trades on; default ``[testnet_session] default_exchange``.
    exchange: str | None = None
    #: The market the simulator shows a recording of this profile (``simsettings``).
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)

    @property
    def from_config(self) -> bool:
        return self.source.suffix == ".toml"

    def where(self, root: Path) -> str:
        """How errors name this profile's definition."""
        shown = display(self.source, root)
        return f"{shown}: {PROFILES_TABLE}.{self.name}" if self.from_config else shown

    def key_prefix(self, root: Path) -> str:
        """What goes before a key in an error: ``file.yaml: `` or ``config.toml: table.``."""
        return f"{self.where(root)}." if self.from_config else f"{self.where(root)}: "


USER_FIELDS = [f.name for f in dataclasses.fields(Profile) if f.name not in ("name", "source")]
HINTS = get_type_hints(Profile)
CHECKS_BY_FIELD = {f.name: f.metadata["check"] for f in dataclasses.fields(Profile) if "check" in f.metadata}
#: Short names accepted by ``--testnet-override``.
OVERRIDE_ALIASES = {"duration": "duration_minutes", "notional": "max_notional", "trades": "max_trades"}


def _checked(profile: Profile, where: str) -> Profile:
    """What the field types cannot say: markers are identifiers, a cassette is a file vcrpy
    can serialize and stays under the cassettes folder (a recording writes it and its
    baseline there)."""
    for marker in profile.markers:
        if not marker.isidentifier():
            raise ProfileError(f"{where}: markers", f"expected marker names (identifiers), found {marker!r}")
    if profile.cassette is not None:
        cassette = Path(profile.cassette)
        if cassette.suffix.lower() not in SERIALIZERS:
            raise ProfileError(f"{where}: cassette",
                               f"expected a file name ending in {' or '.join(SERIALIZERS)}, found {profile.cassette!r}")
        if cassette.is_absolute() or cassette.drive or ".." in cassette.parts:
            raise ProfileError(f"{where}: cassette", "expected a path inside the cassettes folder (relative, without "
                                                     f"'..'), found {profile.cassette!r}")
    return profile


def load_yaml_profile(path: Path, root: Path, defaults: Mapping[str, Any] | None = None) -> Profile:
    """``defaults`` fill the fields the file leaves out (``[testnet_session]`` symbol and timeframe)."""
    shown = display(path, root)
    try:
        text = path.read_text(encoding="utf-8")
        data = yamlio.load(text)
    except yaml.YAMLError as exc:
        what, line = problem(exc)
        raise ProfileError(f"{shown}{f':{line}' if line else ''}", f"invalid YAML: {what or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(shown, f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{shown}:1", f"expected a mapping of profile fields, found {type(data).__name__}")
    lines = _KeyLines(text)
    try:
        profile = build(Profile, {**(defaults or {}), **data}, lambda key: f"{shown}:{lines[key]}: {key}",
                        extra={"name": path.stem, "source": path})
    except InputError as exc:
        raise ProfileError(exc.where, exc.message) from None
    return _checked(profile, shown)


class _KeyLines:
    """Line numbers of keys, parsed only when an error needs one. A key path
    (``expect.pnl.min``, ``markers[1]``) gives the line of its deepest key in the file."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: yaml.Node | None = None

    def __getitem__(self, path: str) -> int:
        if self._root is None:
            self._root = yaml.compose(self._text, Loader=Loader)
        node, line = self._root, 1
        for part in re.sub(r"\[\d+\]", "", path).split("."):
            pairs = node.value if isinstance(node, yaml.MappingNode) else []
            found = next(((k, v) for k, v in pairs if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        return line


def load_table_profile(name: str, table: Mapping[str, Any], config_path: Path, root: Path,
                       defaults: Mapping[str, Any] | None = None) -> Profile:
    where = f"{display(config_path, root)}: {PROFILES_TABLE}.{name}"
    try:
        profile = build(Profile, {**(defaults or {}), **table}, lambda key: f"{where}.{key}",
                        extra={"name": name, "source": config_path})
    except InputError as exc:
        raise ProfileError(exc.where, exc.message) from None
    return _checked(profile, where)


def load_profiles(profiles_dir: Path, config: DeskConfig, root: Path) -> dict[str, Profile]:
    """Every profile by name; a name defined twice is an error naming both places."""
    found: dict[str, Profile] = {}
    files = sorted(p for p in profiles_dir.glob("*") if p.suffix in PROFILE_SUFFIXES) if profiles_dir.is_dir() else []
    defaults = {"symbol": config.session.symbol, "timeframe": config.session.timeframe}
    candidates: Iterable[Profile] = [
        *(load_yaml_profile(p, root, defaults) for p in files),
        *(load_table_profile(n, t, config.path, root, defaults) for n, t in config.profile_tables.items()),
    ]
    for profile in candidates:
        if profile.name in found:
            first = found[profile.name]
            raise ProfileError(profile.where(root), f"profile {profile.name!r} is also defined in {first.where(root)}")
        found[profile.name] = profile
    return found


def check_exchanges(profiles: Iterable[Profile], config: DeskConfig, root: Path) -> None:
    """A profile's ``exchange:`` must name a block the config defines (or a known venue's),
    and a block nothing names must not look like a misspelt one."""
    profiles = list(profiles)
    for profile in profiles:
        if profile.exchange is not None and profile.exchange not in config.exchanges:
            known = ", ".join(config.exchanges)
            raise ProfileError(f"{profile.key_prefix(root)}exchange",
                               f"unknown exchange {profile.exchange!r}{closest(profile.exchange, config.exchanges)}; "
                               f"the config defines {known}")
        venue = config.exchange_named(profile.exchange)
        for key in profile.simulator.arguments():
            if key not in venue.simulator_settings:
                takes = ", ".join(sorted(venue.simulator_settings)) or "no settings"
                raise ProfileError(f"{profile.key_prefix(root)}simulator.{key}",
                                   f"{venue.venue}'s simulator takes {takes}, not {key} (profile {profile.name} "
                                   f"trades on {profile.exchange or config.default_exchange})")
    check_unused_exchanges(config, display(config.path, root), {p.exchange for p in profiles if p.exchange})


def select(profiles: Mapping[str, Profile], names: Sequence[str]) -> list[Profile]:
    """The named profiles; an unknown name lists those that exist and the closest one."""
    chosen = []
    for name in names:
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ProfileError("--testnet-profile", f"unknown profile {name!r}{closest(name, profiles)} (profiles: {known})")
        chosen.append(profiles[name])
    return chosen


def apply_overrides(profile: Profile, overrides: Sequence[str], root: Path) -> Profile:
    """``KEY=VALUE`` from the command line; values are YAML scalars, checked like the file."""
    changes: dict[str, Any] = {}
    params = dict(profile.params)
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = OVERRIDE_ALIASES.get(key.strip(), key.strip())
        if not sep or not key:
            raise ProfileError("--testnet-override", f"expected KEY=VALUE, found {item!r}")
        try:
            value = yamlio.load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        if key.startswith("params."):
            params[key.removeprefix("params.")] = value
            continue
        if key not in USER_FIELDS:
            names = [*USER_FIELDS, *OVERRIDE_ALIASES, "params.NAME"]
            hint = closest(key, names) or f"; expected one of {', '.join(names)}"
            raise ProfileError(f"--testnet-override {key}", f"unknown profile field{hint}")
        try:
            changes[key] = coerce(value, HINTS[key], CHECKS_BY_FIELD.get(key), f"--testnet-override {key}")
        except InputError as exc:
            raise ProfileError(exc.where, exc.message) from None
    return _checked(dataclasses.replace(profile, params=params, **changes), "--testnet-override")
