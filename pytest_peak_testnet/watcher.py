"""The end of a desk's session: the terminal summary and the report, from every run's record."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from .desk import Desk
from .errors import InputError
from .terminal import session_line, summary_line


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
        from .rendering import ReportError
        from .report import publish

        try:
            for line in publish(terminalreporter.config, self.desk, self.runs, self.started):
                terminalreporter.write_line(line)
        except (ReportError, OSError) as exc:
            why = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else exc
            terminalreporter.write_line(f"testnet report not written: {why}", red=True)
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
