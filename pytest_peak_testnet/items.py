"""Profiles as pytest nodes (pytest's "working with non-python tests" pattern).

Setup asks the limits (and reserves, when the run spends budget), runtest runs the
session, teardown settles what was actually used, whatever happened in between.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
import pytest

from .activation import DESK
from .cassettes import CassetteError
from .desk.limits import Decision
from .desk.profiles import Profile
from .desk.project import Desk
from .desk.switches import off_reason
from .errors import InputError, display, os_problem
from .exchange.errors import BaseError
from .gcpause import gc_paused
from .trading.exact import exact

if TYPE_CHECKING:  # the session's modules (HTTP client, simulator) load when a profile runs
    from .runner import ProfileRun
    from .verdict import Verdict

#: Frames a user's traceback leaves out: the plugin's own, pytest's and pluggy's. A failure
#: in the user's code (a conftest strategy, say) shows the user's frames, as a test would.
MACHINERY = (Path(__file__).parent, *(Path(inspect.getfile(module)).parent for module in (pytest.Item, pluggy.HookimplMarker)))


T = TypeVar("T")
#: pytest-socket, whose refusal of a socket is one line too; the plugin never imports it.
SOCKET_PLUGIN = "pytest_socket"


class RunBlocked(Exception):
    """The limits said no; raised in runtest with ``--testnet-on-blocked=fail``."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(str(decision))
        self.decision = decision


class ProfileFile(pytest.File):
    """A YAML profile, or the TOML config holding ``[testnet_profiles.*]`` tables."""

    def collect(self) -> Any:
        for profile in self.config.stash[DESK].by_source.get(self.path, []):
            yield ProfileItem.from_parent(self, name=profile.name, profile=profile)


class ProfileItem(pytest.Item):
    #: A profile asks for no fixtures. Plugins that act on items with fixtures (pytest-socket
    #: blocks the network for them) read this to know the item is a test like any other.
    fixturenames: tuple[str, ...] = ()

    def __init__(self, *, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        for marker in ("testnet", *profile.markers):
            self.add_marker(marker)
        self.run: ProfileRun | None = None
        self.outcome = "error"
        #: The last line of what went wrong, for the reports.
        self.error: str | None = None
        #: Its expectations and baseline, judged (``verdict``).
        self.verdict: Verdict | None = None

    @property
    def desk(self) -> Desk:
        return self.config.stash[DESK]

    @cached_property
    def line(self) -> int:
        """The 0-based line that defines the profile: a YAML file's first, or the TOML
        config's ``[testnet_profiles.NAME]`` header."""
        if not self.profile.from_config:
            return 0
        header = re.compile(rf"""^\s*\[\s*testnet_profiles\s*\.\s*["']?{re.escape(self.profile.name)}["']?\s*\]""")
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return 0
        return next((n for n, text in enumerate(lines) if header.match(text)), 0)

    def setup(self) -> None:
        __tracebackhide__ = True
        with gc_paused():  # the client's, session's and executor's modules: see gcpause
            from .runner import ProfileRun

        off = off_reason(self.desk.config, self.desk.root, self.profile.exchange)
        if off is not None:
            self.outcome = "skipped"
            pytest.skip(off)
        from .reporting.progress import PROGRESS

        self.run = ProfileRun(self.desk, self.profile, self.nodeid, listener=self.config.stash.get(PROGRESS, None))
        decision = one_line(self.run.admit)
        self.user_properties.append(("testnet_decision", str(decision)))
        if not decision.allowed and self.desk.on_blocked == "skip" and self.profile.expect.blocked is None:
            self.outcome = "blocked"
            pytest.skip(f"testnet limits: {decision}")

    def runtest(self) -> None:
        __tracebackhide__ = True
        assert self.run is not None and self.run.decision is not None
        from .verdict import SETTINGS, Verdict

        self.verdict = Verdict(self.profile.name, "dry-run" if self.desk.dry_run else self.run.mode)
        self.verdict.decided(self.profile.expect, self.run.decision)
        self._judge()
        if not self.run.decision.allowed:
            self.outcome = "blocked"
            if self.verdict.checks:
                return  # refused, as the profile expects
            raise RunBlocked(self.run.decision)
        if self.desk.dry_run:
            self.outcome = "passed"
            return
        self.outcome = "failed"
        try:
            result = self.run.execute()
        except KeyboardInterrupt as exc:
            self.outcome, self.error = "interrupted", f"KeyboardInterrupt: {str(exc) or 'Ctrl-C'}"
            raise
        self.outcome = "passed"
        for name, value in (("testnet_notional", exact(result.spent_notional)), ("testnet_trades", result.spent_trades),
                            ("testnet_pnl", exact(result.metrics.pnl)),
                            ("testnet_stop_reason", result.stop_reason)):
            self.user_properties.append((name, value))
        self.verdict.ran(self.run, self.config.stash[SETTINGS])
        self._judge()

    def _judge(self) -> None:
        __tracebackhide__ = True
        from .verdict import ExpectationsFailed

        if self.verdict is not None and self.verdict.failed:
            self.outcome, self.error = "failed", f"ExpectationsFailed: {self.verdict.summary()}"
            raise ExpectationsFailed(self.verdict.text())

    def teardown(self) -> None:
        run = self.run
        if run is None:
            return
        try:
            one_line(lambda: run.finish(self.outcome))
        finally:
            if self.outcome == "interrupted":
                self._report_interrupted(run)

    def _report_interrupted(self, run: ProfileRun) -> None:
        """pytest makes no report for a test a KeyboardInterrupt ended; its teardown runs
        as the session ends. This run's report is made here (after its settle), so the
        summary and the testnet report say what was interrupted and what it spent."""
        report = pytest.TestReport(self.nodeid, self.location, {}, "failed", self.error, "call",
                                   user_properties=self.user_properties)
        record = run.record(self.outcome, self.error)
        record["verdict"] = None
        report.testnet_run = record  # type: ignore[attr-defined]
        self.ihook.pytest_runtest_logreport(report=report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, RunBlocked):
            return "testnet limits blocked this run:\n" + "\n".join(f"  {r}" for r in excinfo.value.decision.reasons)
        from .verdict import ExpectationsFailed

        if isinstance(excinfo.value, ExpectationsFailed):  # the block reads as it is
            return str(excinfo.value)
        if isinstance(excinfo.value, plain_failures()):
            return failure_line(excinfo.value)
        if not self.config.getoption("fulltrace", False):
            excinfo.traceback = user_frames(excinfo.traceback)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.line, f"testnet profile {self.profile.name} ({display(self.profile.source, self.desk.root)})"

    def complete(self, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
        """What a phase's report says of this profile: a skip is located at the profile's
        definition (not at the plugin line that raised it), the error goes to the reports,
        and the teardown report carries the run's record (xdist carries it to the controller)."""
        if report.skipped and isinstance(report.longrepr, tuple):
            report.longrepr = (str(self.path), self.line + 1, report.longrepr[2])
        if report.failed and self.error is None and call.excinfo is not None:
            error = call.excinfo.value
            self.error = f"{type(error).__name__}: {error}"
        if call.when == "teardown" and self.run is not None:
            record = self.run.record(self.outcome, self.error)
            record["verdict"] = None if self.verdict is None else self.verdict.to_dict()
            report.testnet_run = record  # type: ignore[attr-defined]


def user_frames(traceback: Any) -> Any:
    """``traceback`` (pytest's) without the machinery's frames; all of it when nothing else
    is left: then the error is the plugin's own."""
    kept = traceback.filter(lambda entry: not any(Path(entry.path).is_relative_to(f) for f in MACHINERY))
    return kept or traceback


def one_line(action: Callable[[], T]) -> T:
    """``action()``; a failure that explains itself ends setup or teardown as that one line.
    pytest shows setup and teardown errors with a full traceback (``repr_failure`` is only
    asked about the call phase), so they are turned into a ``pytest.fail`` without one,
    raised outside the ``except``, so that no chained traceback comes along either."""
    try:
        return action()
    except plain_failures() as exc:
        message = failure_line(exc)
    pytest.fail(message, pytrace=False)


def plain_failures() -> tuple[type[BaseException], ...]:
    """Failures that explain themselves in one line: no traceback helps the reader. An
    ``OSError`` is the file system's answer (a full disk, a read-only or misplaced folder):
    its path and reason say it all. With pytest-socket loaded, its refusal too:
    ``--disable-socket`` refused a recording's connection."""
    from .exchange.clock import ClockError
    from .trading.bounds import SessionBoundExceeded
    from .trading.executor import EnvironmentNotTestnetError

    refused = getattr(sys.modules.get(SOCKET_PLUGIN), "SocketBlockedError", None)
    return (InputError, CassetteError, BaseError, EnvironmentNotTestnetError, SessionBoundExceeded, ClockError,
            OSError, *((refused,) if isinstance(refused, type) else ()))


def failure_line(exc: BaseException) -> str:
    """How a failure from ``plain_failures`` reads: its class and what it says."""
    line = f"{type(exc).__name__}: {os_problem(exc) if isinstance(exc, OSError) else exc}"
    if type(exc).__module__ == SOCKET_PLUGIN:
        line += (" (pytest-socket refused this run's connection: a replay or a --testnet-simulator recording "
                 "with --allow-hosts=127.0.0.1 needs none beyond loopback)")
    return line
