"""pytest hooks and fixtures; each hook hands its work to the module that owns it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from .config import DeskConfig
from .errors import InputError
from .cassettes import RECORD_MODES
from .desk import DEFAULT_CASSETTES_DIR, DEFAULT_CONFIG, DEFAULT_PROFILES_DIR, DESK, ON_BLOCKED, Desk, open_desk
from .items import ProfileFile, ProfileItem
from .limits import LimitsController
from .profiles import PROFILE_SUFFIXES
from .rendering import ReportError
from .report import publish
from .simulator.fixtures import kraken_simulator  # noqa: F401  (a fixture this plugin provides)
from .terminal import budget, profile_list, session_line, summary_line
from .usage import UsageLedger

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
                    help="vcrpy record mode for the cassettes (default none: replay only, never the network)")
    group.addoption("--testnet-base-url", metavar="URL",
                    help="send requests here instead of the config's base_url (a simulator, say)")
    group.addoption("--testnet-simulator", action="store_true",
                    help="record against a fresh Kraken simulator on 127.0.0.1 for each profile")
    parser.addini("testnet_config", f"the desk's TOML config (default {DEFAULT_CONFIG})")
    parser.addini("testnet_profiles_dir", f"folder of YAML profiles (default {DEFAULT_PROFILES_DIR})")
    parser.addini("testnet_on_blocked", "skip or fail a run the limits block (default skip)")
    parser.addini("testnet_record_mode", "vcrpy record mode: none (default), once, new_episodes, all")
    parser.addini("testnet_cassettes_dir", f"folder of cassettes (default {DEFAULT_CASSETTES_DIR})")
    group.addoption("--testnet-report", action="store_true",
                    help="write the Markdown and JSON session report even when auto_generate_report is off")
    group.addoption("--testnet-report-dir", metavar="DIR",
                    help="folder for the reports (default: ini testnet_report_dir, else the config's reports_dir)")
    group.addoption("--testnet-report-template", metavar="PATH",
                    help="render the report with this jinja2 template instead of the shipped one")
    group.addoption("--testnet-dashboard", metavar="PATH",
                    help="write the static HTML budget dashboard here (it is also written beside each report)")
    parser.addini("testnet_report_dir", "folder for the session reports (default: the config's reports_dir)")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--testnet-list`` and ``--testnet-budget`` answer and exit, like ``--fixtures``."""
    if not (config.getoption("testnet_list") or config.getoption("testnet_budget")):
        return None
    desk = open_desk(config)
    assert desk is not None  # asking for either makes open_desk require a config
    try:
        lines = list(profile_list(desk) if config.getoption("testnet_list") else budget(desk))
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    print("\n".join(lines))
    return 0


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    for ini, choices in (("testnet_on_blocked", ON_BLOCKED), ("testnet_record_mode", RECORD_MODES)):
        value = config.getini(ini)
        if value and value not in choices:
            raise pytest.UsageError(f"ini {ini}: expected one of {', '.join(choices)}, found {value!r}")
    desk = open_desk(config)
    if desk is None:
        return
    for marker in sorted({m for p in desk.profiles.values() for m in p.markers} - MARKERS.keys()):
        config.addinivalue_line("markers", f"{marker}: declared by a testnet profile")
    config.pluginmanager.register(RunWatcher(desk), "peak_testnet_watcher")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run: prune once
        desk.ledger.prune()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``--testnet-profile`` without paths runs profiles only: pytest need not walk (and
    import) what holds none, such as the test suite it would deselect anyway."""
    desk = config.stash.get(DESK, None)
    if desk is None or desk.selected is None or config.args_source is pytest.Config.ArgsSource.ARGS:
        return None
    return None if desk.may_hold_profiles(collection_path) else True


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    desk = parent.config.stash.get(DESK, None)
    if desk is None or file_path.suffix not in PROFILE_SUFFIXES or file_path not in desk.by_source:
        return None
    return ProfileFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Bring in profiles pytest did not walk to: TOML-only profiles whenever the profiles
    folder is collected, and any profile ``--testnet-profile`` names. That option then
    narrows the run to those profiles, like ``-k`` does. Runs before ``-k``/``-m``."""
    desk = config.stash.get(DESK, None)
    if desk is None:
        return
    have = {item.nodeid for item in items}
    profile_dir_collected = any(isinstance(i, ProfileItem) and not i.profile.from_config for i in items)
    wanted = [p for p in desk.profiles.values()
              if (desk.selected is not None and p.name in desk.selected)
              or (p.from_config and profile_dir_collected and desk.selected is None)]
    for source in dict.fromkeys(p.source for p in wanted):
        for item in ProfileFile.from_parent(session, path=source).collect():
            if item.nodeid not in have and item.profile in wanted:
                items.append(item)
    if desk.selected is not None:
        order = {name: n for n, name in enumerate(desk.selected)}
        keep: list[ProfileItem] = [i for i in items if isinstance(i, ProfileItem) and i.profile.name in order]
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
    if isinstance(item, ProfileItem):
        if report.failed and item.error is None and call.excinfo is not None:
            error = call.excinfo.value
            item.error = f"{type(error).__name__}: {error}"
        if call.when == "teardown" and item.run is not None:
            report.testnet_run = item.run.record(item.outcome, item.error)
    return report


class RunWatcher:
    """Registered only when the desk is active: collects profile results (from this
    process or, under xdist, from the workers) for the summary at the end."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        #: Every profile run's record, in the order they finished: the summary and the
        #: reports are both drawn from these.
        self.runs: list[dict[str, Any]] = []
        self.session: pytest.Session | None = None
        self.started = datetime.now(timezone.utc)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session, self.started = session, datetime.now(timezone.utc)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = getattr(report, "testnet_run", None)
        if run is not None:
            self.runs.append(run)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if any(run["decision"] for run in self.runs):
            self._summary(terminalreporter)
        if self.runs and not hasattr(terminalreporter.config, "workerinput"):
            self._publish(terminalreporter)

    def _publish(self, terminalreporter: Any) -> None:
        """A report that cannot be written fails the session (exit code 4, usage error)
        rather than pass unseen; the tests' own outcomes are in the lines above it."""
        try:
            for line in publish(terminalreporter.config, self.desk, self.runs, self.started):
                terminalreporter.write_line(line)
        except ReportError as exc:
            terminalreporter.write_line(f"testnet report not written: {exc}", red=True)
            if self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
                self.session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _summary(self, terminalreporter: Any) -> None:
        if self.desk.dry_run:
            terminalreporter.write_sep("-", "testnet dry run: limit decisions")
            for run in self.runs:
                if run["decision"]:
                    terminalreporter.write_line(f"{run['profile']}: {run['decision']['text']}")
        sessions = [run for run in self.runs if run["result"]]
        if sessions:
            terminalreporter.write_sep("-", "testnet sessions")
            for run in sessions:
                terminalreporter.write_line(session_line(run))
        suffix = " (dry run: nothing reserved)" if self.desk.dry_run else ""
        try:
            terminalreporter.write_line(summary_line(self.desk) + suffix)
        except InputError as exc:
            terminalreporter.write_line(f"testnet budget unavailable: {exc}", red=True)


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
def testnet_usage(pytestconfig: pytest.Config) -> UsageLedger:
    """The usage ledger the profile items reserve in and settle to."""
    return _desk(pytestconfig).ledger


@pytest.fixture(scope="session")
def testnet_limits(pytestconfig: pytest.Config) -> LimitsController:
    """The limits controller the profile items ask in setup."""
    return _desk(pytestconfig).limits
