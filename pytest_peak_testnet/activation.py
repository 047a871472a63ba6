"""Whether this pytest run is a desk's: the plugin acts only where asked.

An installed plugin loads in every project of its environment, most of them not a desk.
So the plugin stays silent unless the user asked for it (a ``--testnet-*`` option, ini
``testnet_config``) or the project's config holds a testnet section. This module decides
that with the standard library only: it runs in every pytest process, and the desk's own
modules (config schema, profiles, ledger) load only once the answer is yes.
"""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from .errors import display

if TYPE_CHECKING:
    from .desk.project import Desk

OnBlocked = Literal["skip", "fail"]
ON_BLOCKED: tuple[OnBlocked, ...] = ("skip", "fail")
DEFAULT_CONFIG = "config/config.toml"
DEFAULT_PROFILES_DIR = "profiles"
DEFAULT_CASSETTES_DIR = "cassettes"
#: Top-level TOML keys that make a config a desk's. ``[environment]`` alone does not: the
#: name is too common for a foreign project's config not to use it.
DESK_KEYS = ("testnet_", "live_risk_limits", "exchange.kraken_testnet", "exchange.binance_testnet")
DESK_SECTIONS = "[testnet_limits.*], [testnet_profiles.*], [testnet_session], [exchange.kraken_testnet], ..."
#: Options that ask for the desk on their own (``--testnet-config`` names the file instead).
ASKING_OPTIONS = ("testnet_profile", "testnet_list", "testnet_budget", "testnet_dry_run", "testnet_override",
                  "testnet_record_mode", "testnet_base_url", "testnet_simulator", "testnet_simulator_data",
                  "testnet_on_blocked",
                  "testnet_report", "testnet_report_dir", "testnet_report_template", "testnet_dashboard",
                  "testnet_update_baselines", "testnet_warn_unused_baselines")
_MENTION = re.compile(r"testnet|live_risk_limits")

DESK: pytest.StashKey[Desk] = pytest.StashKey()
_ACTIVE: pytest.StashKey[tuple[Path, bool] | None] = pytest.StashKey()
#: The config's TOML as ``holds_desk`` parsed it, so the desk's loader does not read it again.
_PARSED: pytest.StashKey[dict[str, Any]] = pytest.StashKey()


def config_path(config: pytest.Config) -> tuple[Path, bool]:
    """The config file and whether the user chose it (a chosen file must be a desk's)."""
    chosen = config.getoption("testnet_config") or config.getini("testnet_config")
    path = Path(chosen or DEFAULT_CONFIG).expanduser()
    return (path if path.is_absolute() else config.rootpath / path), bool(chosen)


def asked(config: pytest.Config) -> bool:
    return any(config.getoption(name) for name in ASKING_OPTIONS)


def holds_desk(path: Path) -> tuple[bool | None, dict[str, Any] | None]:
    """Whether the TOML file at ``path`` holds a testnet section (None when it does not
    exist), and the file parsed when it had to be. A file that mentions none of the names
    is not parsed at all; one that does but is not valid TOML counts as a desk's, so its
    author sees the parse error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError:
        return False, None
    text = data.decode("utf-8", "replace")
    if not _MENTION.search(text):
        return False, None
    if "\ufffd" in text and "\ufffd".encode() not in data:
        return True, None  # a desk's file that is not UTF-8: its author sees the loader's error
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised only on 3.10
        import tomli as tomllib
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True, None
    names = [*raw, *(f"exchange.{sub}" for sub in raw.get("exchange") or () if isinstance(raw["exchange"], dict))]
    return any(name.startswith(DESK_KEYS) for name in names), raw


def active(config: pytest.Config) -> tuple[Path, bool] | None:
    """The config to open when this run is a desk's, with whether it holds a testnet
    section (it may not when the user asked for the desk: ``not_a_desk`` then, once the
    desk's loader found nothing worse); None when the plugin should stay silent. Decided
    once per run."""
    if _ACTIVE not in config.stash:
        path, chosen = config_path(config)
        found, raw = holds_desk(path)
        config.stash[_ACTIVE] = (path, bool(found)) if found or chosen or asked(config) else None
        if raw is not None:
            config.stash[_PARSED] = raw
    return config.stash[_ACTIVE]


def parsed_config(config: pytest.Config) -> dict[str, Any] | None:
    """The config's TOML if ``active`` parsed it (a file with no testnet name in it is not)."""
    return config.stash.get(_PARSED, None)


def not_a_desk(path: Path, root: Path) -> pytest.UsageError:
    return pytest.UsageError(f"{display(path, root)}: holds no testnet section ({DESK_SECTIONS}); "
                             "name the desk's config with --testnet-config or ini testnet_config")


def rootdir_hint(config: pytest.Config) -> str:
    """Why the rootdir may be somewhere the user did not mean, or ``""``. pytest chooses the
    rootdir before it knows a plugin's options, so in ``--testnet-simulator-data PATH`` (a
    space, not ``=``) it takes PATH for a test path, and a PATH outside the project moves
    the rootdir there: the desk's config is then "not found"."""
    if config.inipath is not None and config.invocation_params.dir.is_relative_to(config.rootpath):
        return ""  # the project's own ini file set the rootdir: no option moved it
    args = [str(arg) for arg in config.invocation_params.args]
    for option, value in itertools.pairwise(args):
        if not option.startswith("--testnet-") or "=" in option:
            continue
        given = config.getoption(option[2:].replace("-", "_"), None)
        taken = value == given or (isinstance(given, list) and value in given)
        if taken and (config.invocation_params.dir / value).exists():  # only a path that exists moves the rootdir
            return (f"; pytest took the rootdir {config.rootpath} from '{option} {value}' (it reads that value as a "
                    f"test path before it knows the option): write {option}={value}")
    return ""
