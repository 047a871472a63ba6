"""xdist's workers collect on their own; a worker whose collection is a usage error (a
path that holds no test, say) ends without the controller showing why, and the session
says only "no tests ran". Each worker hands its error line to the controller, which shows
it and fails the session as a run without ``-n`` would."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

#: The worker's error line, in what xdist carries back from it (``workeroutput``).
KEY = "peak_testnet_usage_error"


class WorkerErrors:
    """Registered only when xdist is present: ``pytest_testnodedown`` is its hook."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.shown: set[str] = set()

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except pytest.UsageError as exc:
            output = getattr(session.config, "workeroutput", None)
            if output is not None:
                output[KEY] = " ".join(str(exc).split())
            raise

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        message = getattr(node, "workeroutput", {}).get(KEY)
        if message and message not in self.shown:
            self.shown.add(message)
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"ERROR: xdist worker {node.gateway.id}: {message}", red=True)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.shown:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
