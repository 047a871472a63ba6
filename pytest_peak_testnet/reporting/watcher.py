"""The end of a desk's session: the terminal summary and the report, from every run's record."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from ..desk.project import Desk
from ..errors import InputError, display, os_problem
from ..gcpause import gc_paused
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
        #: What the end of the session says of baselines no profile used.
        self.unused_lines: list[str] = []
        #: An xdist worker: its records go on to the controller, which keeps them.
        self.worker = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session, self.started = session, datetime.now(timezone.utc)
        self.worker = hasattr(session.config, "workerinput")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = getattr(report, "testnet_run", None)
        if run is not None:
            self.runs.append(run)
            if not self.worker:  # the controller keeps it, once
                self._keep_verdict(run)

    def _keep_verdict(self, run: dict[str, Any]) -> None:
        """Beside the run's log, for the dashboard (``outcomes``); a folder that cannot be
        written loses only that line of the dashboard, not the session."""
        from .outcomes import keep

        try:
            keep(run, self.desk.config.orchestration.runs_base_dir)
        except OSError:
            pass

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Baselines no profile of a full run used fail the session, as syrupy's unused
        snapshots do (or only warn); updating removes them. The controller decides."""
        if hasattr(session.config, "workerinput"):
            return
        from ..verdict import SETTINGS, unused

        found = unused(self.desk, self.runs)
        if not found:
            return
        settings = session.config.stash[SETTINGS]
        shown = ", ".join(display(path, self.desk.root) for path in found)
        if settings.update:
            for path in found:
                path.unlink(missing_ok=True)
            self.unused_lines = [f"testnet baselines removed, no profile uses them: {shown}"]
            return
        self.unused_lines = [f"testnet baselines no profile used ({len(found)}): {shown}; remove them, or run "
                             "with --testnet-update-baselines"]
        if not settings.warn_unused and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if any(run["decision"] for run in self.runs):
            self._summary(terminalreporter)
        for line in self.unused_lines:
            terminalreporter.write_line(line, red=not self.session or self.session.exitstatus != pytest.ExitCode.OK,
                                        yellow=bool(self.session and self.session.exitstatus == pytest.ExitCode.OK))
        if self.runs and not hasattr(terminalreporter.config, "workerinput"):
            from .retention import prune_runs

            orchestration = self.desk.config.orchestration
            prune_runs(orchestration.runs_base_dir, orchestration.keep_runs)  # before the dashboard lists them
            self._publish(terminalreporter)

    def _publish(self, terminalreporter: Any) -> None:
        """A report that cannot be written fails the session (exit code 4, usage error)
        rather than pass unseen; the tests' own outcomes are in the lines above it."""
        with gc_paused():  # jinja2, the report and the dashboard: see gcpause
            from .rendering import ReportError
            from .report import publish

        try:
            with gc_paused():
                lines = publish(terminalreporter.config, self.desk, self.runs, self.started)
            for line in lines:
                terminalreporter.write_line(line)
        except (ReportError, OSError) as exc:
            why = os_problem(exc) if isinstance(exc, OSError) else exc
            terminalreporter.write_line(f"testnet report not written: {why}", red=True)
            if self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
                self.session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _summary(self, terminalreporter: Any) -> None:
        if self.desk.dry_run:
            terminalreporter.write_sep("-", "testnet dry run: limit decisions")
            for run in self.runs:
                if run["decision"]:
                    terminalreporter.write_line(f"{run['profile']}: {run['decision']['text']}")
        sessions = [run for run in self.runs if run["result"] or run["outcome"] == "interrupted"]
        if sessions:
            terminalreporter.write_sep("-", "testnet sessions")
            for run in sessions:
                terminalreporter.write_line(session_line(run))
        from ..verdict import summary_lines

        for line in summary_lines(self.runs):
            terminalreporter.write_line(line)
        suffix = " (dry run: nothing reserved)" if self.desk.dry_run else ""
        try:
            terminalreporter.write_line(summary_line(self.desk) + suffix)
        except InputError as exc:
            terminalreporter.write_line(f"testnet budget unavailable: {exc}", red=True)
