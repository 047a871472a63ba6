"""The desk's configuration: one TOML file, parsed once per pytest session.

Each ``[section]`` is a frozen dataclass below; its fields are the only keys accepted.
Defaults equal the desk's documented defaults, so a missing section is never "no limit".
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from ..errors import ConfigError, InputError, display
from .schema import build, closest, fraction, non_negative, positive

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

Mode = Literal["paper", "testnet", "live"]
#: Kraken's OHLC intervals, as the desk writes them; values are minutes.
TIMEFRAMES: dict[str, int] = {
    "1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440, "1w": 10080, "15d": 21600,
}
#: What ``report_format`` may name; the JSON data file is written whatever it says.
ReportFormat = Literal["markdown", "html", "json"]
Timeframe = Literal["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "15d"]
#: Binance's API key types the client signs with (RSA keys are not supported).
KeyType = Literal["hmac", "ed25519"]


@dataclass(frozen=True)
class EnvironmentConfig:
    """``[environment]``: the executor refuses to exist unless mode is ``testnet``."""

    mode: Mode = "paper"
    #: Default for ``--testnet-dry-run``: check limits only, never start a session.
    testnet_dry_run: bool = False


@dataclass(frozen=True)
class VenueConfig:
    """What every ``[exchange.NAME]`` block has, whatever the venue: the session, the
    runner and the reports read only these. Keys live in the environment, never in the file."""

    #: The venue package (``exchange.venues``) that serves a block of this class.
    venue: ClassVar[str] = ""
    #: The hosts of the venue's test environments: orders go to no other (loopback aside,
    #: where the simulator runs). None for a venue without one, whose guard is
    #: ``validate_only``. A class attribute: no config file can widen it.
    test_hosts: ClassVar[frozenset[str] | None] = None
    #: The venue's production hosts, named as such when refused: the same keys' format
    #: trades real funds there, so a copied URL must say what it would have reached.
    production_hosts: ClassVar[frozenset[str]] = frozenset()
    #: What a profile's ``simulator:`` may set for this venue's simulator (``simsettings``).
    simulator_settings: ClassVar[frozenset[str]] = frozenset()
    enabled: bool = True
    base_url: str = ""
    api_key_env_var: str = ""
    api_secret_env_var: str = ""
    #: Orders are only checked by the venue, never placed.
    validate_only: bool = True
    timeout_seconds: float = positive(30.0)
    max_retries: int = non_negative(3)
    #: Public, key-less klines in Binance's format of a reference market (Binance's own
    #: production ``https://api.binance.com/api/v3/klines``): the report shows how far the
    #: test environment's closes were from it during the run. Only read, never signed.
    reference_klines_url: str | None = None
    #: A run whose closes drift further than this from the reference is flagged.
    max_reference_drift_bps: Decimal = positive(Decimal("100"))

    def problems(self) -> Iterator[tuple[str, str]]:
        return iter(())


#: Hosts where a simulator or a test's own server runs.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def not_a_test_environment(config: VenueConfig, base_url: str) -> str | None:
    """The environment guard: why ``base_url`` may not receive this venue's orders, or None.
    Absolute: whatever else the config says, a venue with test environments gets requests
    only there (or on loopback)."""
    if config.test_hosts is None:
        return None
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    if host in config.test_hosts or host in LOOPBACK:
        return None
    what = f"{config.venue}'s production API (real funds), " if host in config.production_hosts else ""
    return (f"{host or base_url!r} is {what}not one of {config.venue}'s test environments "
            f"({', '.join(sorted(config.test_hosts))}); orders go to a test environment only")


@dataclass(frozen=True)
class ExchangeConfig(VenueConfig):
    """``[exchange.NAME]``, a Kraken-compatible endpoint (``kraken_testnet`` unless
    ``default_exchange`` says otherwise, and any block whose name does not start with
    ``binance``)."""

    venue: ClassVar[str] = "kraken"
    base_url: str = "https://api.kraken.com"
    api_key_env_var: str = "KRAKEN_TESTNET_API_KEY"
    api_secret_env_var: str = "KRAKEN_TESTNET_API_SECRET"
    #: AddOrder carries ``validate=true``: Kraken checks the order and does not place it.
    validate_only: bool = True
    #: Turning validate_only off places real orders; it needs this second, explicit switch.
    allow_live_orders: bool = False
    rate_limit_ms: int = non_negative(1000)

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.validate_only and not self.allow_live_orders:
            yield "validate_only", "false places real orders; set allow_live_orders = true as well to confirm"


#: Binance's two environments whose orders fill against a real matching engine without
#: real money: the Spot Testnet and Demo Mode.
BINANCE_SPOT_TESTNET = "https://testnet.binance.vision"
BINANCE_DEMO = "https://demo-api.binance.com"


@dataclass(frozen=True)
class BinanceConfig(VenueConfig):
    """``[exchange.binance_testnet]`` (or any block named ``binance*``): Binance's Spot
    Testnet or Demo Mode. Orders are placed by default (``validate_only = false``): a test
    environment has its own money; a production host is refused whatever this says."""

    venue: ClassVar[str] = "binance"
    test_hosts: ClassVar[frozenset[str] | None] = frozenset({urlsplit(BINANCE_SPOT_TESTNET).hostname or "",
                                                             urlsplit(BINANCE_DEMO).hostname or ""})
    production_hosts: ClassVar[frozenset[str]] = frozenset(
        {"api.binance.com", "api-gcp.binance.com", *(f"api{n}.binance.com" for n in range(1, 5))})
    simulator_settings: ClassVar[frozenset[str]] = frozenset({"book_depth", "book_levels"})
    base_url: str = BINANCE_SPOT_TESTNET
    api_key_env_var: str = "BINANCE_TESTNET_API_KEY"
    api_secret_env_var: str = "BINANCE_TESTNET_API_SECRET"
    #: The API key's type: ``hmac`` signs with the secret in ``api_secret_env_var``;
    #: ``ed25519`` (Binance's recommendation) with the private key in the PEM file whose path
    #: ``private_key_file_env_var`` holds, and needs the ``ed25519`` extra (``cryptography``).
    key_type: KeyType = "hmac"
    private_key_file_env_var: str = "BINANCE_TESTNET_PRIVATE_KEY_FILE"
    #: ``POST /api/v3/order/test`` instead of ``/api/v3/order``: checked, never placed.
    validate_only: bool = False
    timeout_seconds: float = positive(10.0)
    #: Milliseconds a signed request stays valid after its ``timestamp`` (Binance allows up to 60000).
    recv_window: int = positive(5000)

    @property
    def secret_env_var(self) -> str:
        """The variable that holds what signs: the HMAC secret, or the Ed25519 key file's path."""
        return self.private_key_file_env_var if self.key_type == "ed25519" else self.api_secret_env_var

    def problems(self) -> Iterator[tuple[str, str]]:
        refused = not_a_test_environment(self, self.base_url)
        if refused:
            yield "base_url", refused
        if self.recv_window > 60000:
            yield "recv_window", f"expected at most 60000 (Binance's limit), found {self.recv_window}"


@dataclass(frozen=True)
class SessionConfig:
    """``[testnet_session]``: polling and the paper account that simulates fills."""

    enabled: bool = True
    #: The ``[exchange.NAME]`` block the profiles use.
    default_exchange: str = "kraken_testnet"
    symbol: str = "BTC/EUR"
    timeframe: Timeframe = "1m"
    poll_interval_seconds: float = positive(60.0)
    warmup_candles: int = positive(200)
    start_balance: Decimal = positive(Decimal("10000"))
    position_fraction: Decimal = fraction(Decimal("0.1"))
    fee_rate: Decimal = non_negative(Decimal("0.0026"))
    slippage_bps: Decimal = non_negative(Decimal("5"))
    #: A Kraken OHLCVT CSV the simulator serves as its pair's history (a profile's own wins).
    simulator_data: Path | None = None


@dataclass(frozen=True)
class RiskLimitsConfig:
    """``[live_risk_limits]``: checked by the executor before every API call."""

    enabled: bool = True
    max_order_notional: Decimal = positive(Decimal("1000"))
    max_total_exposure_notional: Decimal = positive(Decimal("5000"))
    max_orders_per_minute: int = positive(10)
    max_daily_loss_abs: Decimal = positive(Decimal("500"))


@dataclass(frozen=True)
class RunLimits:
    """``[testnet_limits.run]``: the most one run may plan."""

    max_notional_per_run: Decimal = positive(Decimal("1000"))
    max_trades_per_run: int = positive(50)
    max_duration_minutes: int = positive(240)


@dataclass(frozen=True)
class DailyLimits:
    """``[testnet_limits.daily]``: the most all runs of one UTC day may spend together."""

    max_notional_per_day: Decimal = positive(Decimal("5000"))
    max_trades_per_day: int = positive(200)


@dataclass(frozen=True)
class SymbolPolicy:
    """``[testnet_limits.symbols]``: the whitelist, and daily caps per symbol
    (``{ "BTC/EUR" = 3000.0 }``; a symbol without one is held by the daily totals only)."""

    allowed: tuple[str, ...] = ("BTC/EUR", "ETH/EUR")
    max_notional_per_day: Mapping[str, Any] = field(default_factory=dict)
    max_trades_per_day: Mapping[str, Any] = field(default_factory=dict)

    def notional_cap(self, symbol: str) -> Decimal | None:
        cap = self.max_notional_per_day.get(symbol)
        return None if cap is None else Decimal(repr(cap) if isinstance(cap, float) else str(cap))

    def trades_cap(self, symbol: str) -> int | None:
        return self.max_trades_per_day.get(symbol)

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.allowed:
            yield "allowed", "expected at least one symbol, found an empty list"
        for key, whole in (("max_notional_per_day", False), ("max_trades_per_day", True)):
            for symbol, cap in getattr(self, key).items():
                ok = (isinstance(cap, int) if whole else isinstance(cap, (int, float))) and not isinstance(cap, bool)
                if symbol not in self.allowed:
                    yield f"{key}.{symbol}", f"expected a symbol in allowed ({', '.join(self.allowed)}), found {symbol!r}"
                elif not ok or not cap > 0 or cap != cap or cap == float("inf"):
                    yield f"{key}.{symbol}", f"expected {'a whole number' if whole else 'a number'} > 0, found {cap!r}"


@dataclass(frozen=True)
class OrchestrationConfig:
    """``[testnet_orchestration]``: where runs, reports and the usage ledger live."""

    runs_base_dir: Path = Path("test_runs")
    reports_dir: Path = Path("reports")
    #: The ledger is ``<usage_base_dir>/usage/usage_YYYY-MM-DD.json``.
    usage_base_dir: Path = Path("test_results")
    auto_generate_report: bool = True
    #: One format or a list of them.
    report_format: ReportFormat | tuple[ReportFormat, ...] = "markdown"
    usage_retention_days: int = positive(30)
    #: Sessions whose dated reports are kept in reports_dir (``latest.*`` always is); older
    #: ones are pruned at the start of a session, as the ledger's days are.
    keep_reports: int = positive(30)
    #: Run folders kept under runs_base_dir, newest first; a run still going is never pruned.
    keep_runs: int = positive(100)
    #: Runs the dashboard lists with their details; the rest are one line each in runs.html.
    dashboard_runs: int = positive(25)
    #: ``postgresql://user@host/db``: the ledger in PostgreSQL, shared by the desk's machines
    #: (env ``PEAK_TESTNET_LEDGER_URL`` wins); unset, the JSON files under usage_base_dir.
    ledger: str | None = None

    @property
    def report_formats(self) -> tuple[str, ...]:
        chosen = (self.report_format,) if isinstance(self.report_format, str) else self.report_format
        return tuple(dict.fromkeys(chosen))

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.report_formats:
            yield "report_format", "expected at least one of 'markdown', 'html', 'json', found an empty list"


@dataclass(frozen=True)
class AlertsConfig:
    """``[testnet_alerts]``: which run-log events the monitor and the report flag."""

    risk_denial: bool = True
    exchange_rejection: bool = True
    limit_reached: bool = True
    run_failed: bool = True
    #: A finished run whose max drawdown (a fraction of the peak) exceeds this is flagged.
    max_drawdown_pct: float = fraction(0.05)


#: Dotted TOML table name -> (attribute of DeskConfig, dataclass). One source of truth.
SECTIONS: dict[str, tuple[str, type]] = {
    "environment": ("environment", EnvironmentConfig),
    "exchange.kraken_testnet": ("exchange", ExchangeConfig),
    "testnet_session": ("session", SessionConfig),
    "live_risk_limits": ("risk", RiskLimitsConfig),
    "testnet_limits.run": ("run_limits", RunLimits),
    "testnet_limits.daily": ("daily_limits", DailyLimits),
    "testnet_limits.symbols": ("symbols", SymbolPolicy),
    "testnet_orchestration": ("orchestration", OrchestrationConfig),
    "testnet_alerts": ("alerts", AlertsConfig),
}
PROFILES_TABLE = "testnet_profiles"
#: The exchange block profiles use unless ``default_exchange`` names another ``[exchange.NAME]``.
DEFAULT_EXCHANGE = "kraken_testnet"
EXCHANGE_TABLE = f"exchange.{DEFAULT_EXCHANGE}"
#: Blocks a profile may name without the config defining them: their documented defaults.
KNOWN_EXCHANGES: dict[str, type[VenueConfig]] = {DEFAULT_EXCHANGE: ExchangeConfig, "binance_testnet": BinanceConfig}


def venue_config_class(name: str) -> type[VenueConfig]:
    """``[exchange.NAME]``: Binance's settings for a block named ``binance*``, else Kraken's."""
    return BinanceConfig if name.startswith("binance") else ExchangeConfig


@dataclass(frozen=True)
class DeskConfig:
    """The whole desk config, each section checked; a section left out has its defaults."""

    path: Path
    environment: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    #: The block ``[testnet_session] default_exchange`` names: what a profile without an
    #: ``exchange:`` key uses.
    exchange: VenueConfig = field(default_factory=ExchangeConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    risk: RiskLimitsConfig = field(default_factory=RiskLimitsConfig)
    run_limits: RunLimits = field(default_factory=RunLimits)
    daily_limits: DailyLimits = field(default_factory=DailyLimits)
    symbols: SymbolPolicy = field(default_factory=SymbolPolicy)
    orchestration: OrchestrationConfig = field(default_factory=OrchestrationConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    #: ``[testnet_profiles.NAME]`` tables, validated by the profiles module.
    profile_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Every exchange a profile may name: the config's blocks and the known ones' defaults.
    exchanges: Mapping[str, VenueConfig] = field(
        default_factory=lambda: {name: cls() for name, cls in KNOWN_EXCHANGES.items()})

    @property
    def default_exchange(self) -> str:
        return self.session.default_exchange

    def exchange_named(self, name: str | None) -> VenueConfig:
        """The block ``name`` names (a profile's ``exchange:``), the default one for None."""
        return self.exchange if name is None else self.exchanges[name]


def load_config(path: Path, base_dir: Path, raw: Mapping[str, Any] | None = None) -> DeskConfig:
    """Parse ``path``, or check ``raw``, its TOML already parsed; relative paths inside it
    are anchored at ``base_dir`` (the rootdir)."""
    shown = display(path, base_dir)
    try:
        if raw is None:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(shown, "config file not found (set --testnet-config or ini testnet_config)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, f"invalid TOML: {exc}") from None

    sections: dict[str, Any] = {}
    exchanges: dict[str, VenueConfig] = {}
    profile_tables: dict[str, Mapping[str, Any]] = {}
    for name, table in _tables(shown, raw):
        if name == PROFILES_TABLE:
            for profile, body in table.items():
                if not isinstance(body, dict):
                    raise ConfigError(f"{shown}: {PROFILES_TABLE}.{profile}", f"expected a table, found {body!r}")
                profile_tables[profile] = body
            continue
        attr, cls = SECTIONS.get(name, ("exchange", venue_config_class(name.split(".", 1)[-1])))
        try:
            section: Any = build(cls, table, lambda key, name=name: f"{shown}: {name}.{key}",  # type: ignore[misc]
                                 base_dir=base_dir)
        except InputError as exc:
            raise ConfigError(exc.where, exc.message) from None
        for key, problem in getattr(section, "problems", lambda: ())():
            raise ConfigError(f"{shown}: {name}.{key}", problem)
        if attr == "exchange":
            exchanges[name.split(".", 1)[1]] = section
        else:
            sections[attr] = section
    sections["exchange"] = chosen_exchange(shown, sections.get("session", SessionConfig()), exchanges)
    known = {name: cls() for name, cls in KNOWN_EXCHANGES.items()} | exchanges
    return DeskConfig(path=path, profile_tables=profile_tables, exchanges=known, **sections)


def chosen_exchange(shown: str, session: SessionConfig, exchanges: Mapping[str, VenueConfig]) -> VenueConfig:
    """``[testnet_session] default_exchange`` names the ``[exchange.NAME]`` block the
    profiles use; without any block, ``kraken_testnet`` with the documented defaults (and
    ``binance_testnet`` with its own, when named)."""
    name = session.default_exchange
    if name in exchanges or name in KNOWN_EXCHANGES:
        return exchanges[name] if name in exchanges else KNOWN_EXCHANGES[name]()
    defined = ", ".join(f"[exchange.{n}]" for n in exchanges) or f"none (only {DEFAULT_EXCHANGE}'s defaults)"
    raise ConfigError(f"{shown}: testnet_session.default_exchange",
                      f"unknown exchange {name!r}{closest(name, list(exchanges))}; the config defines {defined}")


def check_unused_exchanges(config: DeskConfig, shown: str, used: Iterable[str]) -> None:
    """A block neither ``default_exchange`` nor any profile names, and that looks like a
    misspelt one: its settings would silently not apply."""
    name = config.default_exchange
    wanted = list(dict.fromkeys([f"exchange.{name}", *(f"exchange.{n}" for n in KNOWN_EXCHANGES)]))
    for unused in (n for n in config.exchanges if n not in (name, *KNOWN_EXCHANGES, *used)):
        hint = closest(f"exchange.{unused}", wanted)
        if hint:
            raise ConfigError(f"{shown}: exchange.{unused}", f"unknown section{hint} (a block other than "
                              f"{DEFAULT_EXCHANGE} is used when [testnet_session] default_exchange or a profile's "
                              "exchange: names it)")


def _tables(shown: str, raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (dotted name, table) for each known section; anything else is an error."""
    known = [*SECTIONS, PROFILES_TABLE]
    groups = {name.split(".")[0] for name in SECTIONS if "." in name}
    for key, value in raw.items():
        candidates = [f"{key}.{sub}" for sub in value] if key in groups and isinstance(value, dict) else [key]
        for name in candidates:
            if name not in known and not name.startswith("exchange."):  # any [exchange.NAME] block
                raise ConfigError(f"{shown}: {name}", f"unknown section{closest(name, known)}")
            table = value if name == key else value[name.split(".", 1)[1]]
            if not isinstance(table, dict):
                raise ConfigError(f"{shown}: {name}", f"expected a table, found {table!r}")
            yield name, table
