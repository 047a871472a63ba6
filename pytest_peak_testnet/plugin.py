"""pytest hooks and fixtures; each hook hands its work to the module that owns it.

pytest imports this module in every run of every project where the plugin is installed,
most of them not a desk. So it imports pytest and the standard library only (and the
stdlib-only ``activation`` and ``cassettes``); the desk's modules load in
``pytest_configure`` once ``activation.active`` says this run is a desk's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .activation import DEFAULT_CASSETTES_DIR, DEFAULT_CONFIG, DEFAULT_PROFILES_DIR, DESK, ON_BLOCKED, active
from .cassettes import RECORD_MODES

if TYPE_CHECKING:
    from .desk.config import DeskConfig
    from .desk.limits import LimitsController
    from .desk.project import Desk
    from .desk.usage import Ledger
    from .exchange.simulator import Simulator

MARKERS = {
    "testnet": "a testnet session profile collected by pytest-peak-testnet",
    "testnet_smoke": "a short testnet profile for CI smoke runs",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testnet", "exchange-testnet sessions (pytest-peak-testnet)")
    group.addoption("--testnet-config", metavar="PATH",
                    help=f"the desk's TOML config (default: ini testnet_config, else {DEFAULT_CONFIG})")
    group.addoption("--testnet-profile", action="append", metavar="NAME",
                    help="run only these profiles (repeatable, comma-separated), even outside the collected paths")
    group.addoption("--testnet-list", action="store_true", help="list the profiles and exit")
    group.addoption("--testnet-budget", action="store_true", help="show today's usage, what is left and the limits, and exit")
    group.addoption("--testnet-dry-run", action="store_true", default=None,
                    help="check each profile against the limits without starting a session")
    group.addoption("--testnet-override", action="append", metavar="KEY=VALUE",
                    help="override a profile field for this run, e.g. duration=30, max_notional=300, params.fast=5")
    group.addoption("--testnet-on-blocked", choices=ON_BLOCKED,
                    help="report a run the limits block as skipped (default) or failed")
    group.addoption("--testnet-record-mode", choices=RECORD_MODES,
                    help="cassette record mode: vcrpy's, or rewrite (record afresh, replacing the cassette); "
                         "default none: replay only, never the network")
    group.addoption("--testnet-base-url", metavar="URL",
                    help="send requests here instead of the config's base_url (a simulator, say)")
    group.addoption("--testnet-simulator", action="store_true",
                    help="record against a fresh simulator of the profile's venue on 127.0.0.1 for each profile")
    group.addoption("--testnet-simulator-data", metavar="PATH",
                    help="the simulator serves this Kraken OHLCVT CSV as its pair's market history "
                         "(implies --testnet-simulator)")
    parser.addini("testnet_config", f"the desk's TOML config (default {DEFAULT_CONFIG})")
    parser.addini("testnet_profiles_dir", f"folder of YAML profiles (default {DEFAULT_PROFILES_DIR})")
    parser.addini("testnet_on_blocked", "skip or fail a run the limits block (default skip)")
    parser.addini("testnet_record_mode", f"cassette record mode: {', '.join(RECORD_MODES)} (default none)")
    parser.addini("testnet_cassettes_dir", f"folder of cassettes (default {DEFAULT_CASSETTES_DIR})")
    group.addoption("--testnet-report", action="store_true",
                    help="write the session report (each report_format) even when auto_generate_report is off")
    group.addoption("--testnet-report-dir", metavar="DIR",
                    help="folder for the reports (default: ini testnet_report_dir, else the config's reports_dir)")
    group.addoption("--testnet-report-template", metavar="PATH",
                    help="render the report with this jinja2 template instead of the shipped one")
    group.addoption("--testnet-dashboard", metavar="PATH",
                    help="write the static HTML budget dashboard here (it is also written beside each report)")
    group.addoption("--testnet-update-baselines", action="store_true",
                    help="rewrite the baselines of the profiles that run instead of comparing them, and say which "
                         "files changed (in a full run, also remove the baselines no profile uses)")
    group.addoption("--testnet-warn-unused-baselines", action="store_true",
                    help="baselines no profile used in a full run warn instead of failing the session")
    # ini mirrors for what a desk fixes once per project; per-run choices stay options only.
    parser.addini("testnet_report", "write the session report even when auto_generate_report is off", type="bool",
                  default=False)
    parser.addini("testnet_report_dir", "folder for the session reports (default: the config's reports_dir)")
    parser.addini("testnet_report_template", "the desk's own jinja2 report template (relative to the rootdir)")
    parser.addini("testnet_dashboard", "also write the HTML budget dashboard here (relative to the rootdir)")
    parser.addini("testnet_warn_unused_baselines", "unused baselines warn instead of failing the session",
                  type="bool", default=False)
    parser.addini("testnet_baseline_tolerance", "relative tolerance for amounts against the baselines (default 1e-9)")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--testnet-list`` and ``--testnet-budget`` answer and exit, like ``--fixtures``."""
    if not (config.getoption("testnet_list") or config.getoption("testnet_budget")):
        return None
    from .desk.project import open_desk
    from .errors import InputError
    from .reporting.terminal import budget, profile_list

    desk = open_desk(config)
    assert desk is not None  # asking for either makes open_desk require a config
    try:
        if config.getoption("testnet_budget"):
            desk.ledger.release_abandoned()
        lines = list(profile_list(desk) if config.getoption("testnet_list") else budget(desk))
    except (InputError, OSError) as exc:
        raise usage_error(exc) from None
    print("\n".join(lines))
    return 0


def pytest_configure(config: pytest.Config) -> None:
    for ini, choices in (("testnet_on_blocked", ON_BLOCKED), ("testnet_record_mode", RECORD_MODES)):
        value = config.getini(ini)
        if value and value not in choices:
            raise pytest.UsageError(f"ini {ini}: expected one of {', '.join(choices)}, found {value!r}")
    if active(config) is None:
        return
    from .errors import InputError
    from .gcpause import gc_paused
    from .interrupts import sigterm_as_interrupt

    config.add_cleanup(sigterm_as_interrupt())  # settle and report, as after Ctrl-C

    with gc_paused():  # the desk's modules and profiles: see gcpause
        from .desk.project import open_desk
        from .reporting.progress import Progress
        from .reporting.watcher import RunWatcher
        from .verdict import configure as configure_baselines

        desk = open_desk(config)
    assert desk is not None
    configure_baselines(config, desk)
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    for marker in sorted({m for p in desk.profiles.values() for m in p.markers} - MARKERS.keys()):
        config.addinivalue_line("markers", f"{marker}: declared by a testnet profile")
    config.pluginmanager.register(RunWatcher(desk), "peak_testnet_watcher")
    Progress.install(config)
    if config.pluginmanager.hasplugin("xdist"):
        from .workers import WorkerErrors

        config.pluginmanager.register(WorkerErrors(config), "peak_testnet_workers")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run: tidy the ledger once
        try:  # a ledger that cannot be reached stops the run here, before any item starts
            desk.ledger.prune()
            desk.ledger.release_abandoned()
        except (InputError, OSError) as exc:
            raise usage_error(exc) from None
    if desk.selected is not None:  # xdist workers too: they collect on their own, and must collect the same
        config.args[:] = selection_args(config, desk.sources(desk.selected))


def usage_error(exc: Exception) -> pytest.UsageError:
    """Bad input, or a ledger folder the file system refuses (a file where the folder
    should be, a full disk), as pytest's one-line usage error."""
    from .errors import os_problem

    return pytest.UsageError(os_problem(exc) if isinstance(exc, OSError) else str(exc))


def selection_args(config: pytest.Config, sources: list[Path]) -> list[str]:
    """What pytest collects under ``--testnet-profile``: the named profiles' files, beside
    the paths given on the command line (whose other items are then deselected), or alone
    when none were given (no walking through a test suite only to deselect it)."""
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return [str(source) for source in sources]
    given = [Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve() for arg in config.args]
    extra = [str(s) for s in sources if not any(s.resolve() == g or g in s.resolve().parents for g in given)]
    return [*config.args, *extra]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A YAML profile, or the TOML config when it holds profiles: each file is collected
    when pytest walks to it or is pointed at it, like any test file."""
    desk = parent.config.stash.get(DESK, None)
    if desk is None or file_path not in desk.by_source:
        return None
    from .items import ProfileFile

    return ProfileFile.from_parent(parent, path=file_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--testnet-profile`` narrows the run to the profiles it names, the way ``-k`` does."""
    desk = config.stash.get(DESK, None)
    if desk is None or desk.selected is None:
        return
    from .items import ProfileItem

    order = {name: n for n, name in enumerate(desk.selected)}
    profiles = [i for i in items if isinstance(i, ProfileItem)]
    keep = [i for i in profiles if i.profile.name in order]
    kept = set(keep)
    dropped = [i for i in items if i not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    ordered: list[ProfileItem] = sorted(keep, key=lambda i: order[i.profile.name])
    items[:] = ordered


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A profile's whole result rides on its teardown report, which xdist carries from the
    worker to the controller intact: the controller writes the one report for everything."""
    report = yield
    if item.config.stash.get(DESK, None) is not None:
        from .items import ProfileItem

        if isinstance(item, ProfileItem):
            item.complete(report, call)
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """A profile run a Ctrl-C or SIGTERM ended is counted as interrupted, not as failed."""
    run = getattr(report, "testnet_run", None)
    if run is not None and run["outcome"] == "interrupted" and report.when == "call":
        return "interrupted", "I", "INTERRUPTED"
    return None


def _desk(config: pytest.Config) -> Desk:
    desk = config.stash.get(DESK, None)
    if desk is None:
        pytest.fail(f"no testnet config: create {DEFAULT_CONFIG} or pass --testnet-config", pytrace=False)
    return desk


@pytest.fixture(scope="session")
def testnet_config(pytestconfig: pytest.Config) -> DeskConfig:
    """The parsed desk config, the same object the profile items use."""
    return _desk(pytestconfig).config


@pytest.fixture(scope="session")
def testnet_usage(pytestconfig: pytest.Config) -> Ledger:
    """The usage ledger the profile items reserve in and settle to."""
    return _desk(pytestconfig).ledger


@pytest.fixture(scope="session")
def testnet_limits(pytestconfig: pytest.Config) -> LimitsController:
    """The limits controller the profile items ask in setup."""
    return _desk(pytestconfig).limits


@pytest.fixture
def kraken_simulator(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A fresh Kraken simulator on 127.0.0.1 per test, so no state leaks between tests.
    Options come from indirect parametrization:
    ``@pytest.mark.parametrize("kraken_simulator", [{"seed": 7}], indirect=True)``."""
    from .exchange.simulator import Simulator

    with Simulator(**getattr(request, "param", {})) as sim:
        yield sim
