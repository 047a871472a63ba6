"""Profiles as pytest nodes (pytest's "working with non-python tests" pattern).

Setup asks the limits (and reserves, when the run spends budget), runtest runs the
session, teardown settles what was actually used, whatever happened in between.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .cassettes import CassetteError
from .desk import DESK, Desk
from .errors import InputError, display
from .kraken_errors import KrakenError
from .limits import Decision
from .exact import exact
from .profiles import Profile

if TYPE_CHECKING:  # the session's modules (HTTP client, simulator) load when a profile runs
    from .runner import ProfileRun


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
    def __init__(self, *, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        for marker in ("testnet", *profile.markers):
            self.add_marker(marker)
        self.run: ProfileRun | None = None
        self.outcome = "error"
        #: The last line of what went wrong, for the reports.
        self.error: str | None = None

    @property
    def desk(self) -> Desk:
        return self.config.stash[DESK]

    def setup(self) -> None:
        from .runner import ProfileRun

        self.run = ProfileRun(self.desk, self.profile, self.nodeid)
        decision = self.run.admit()
        self.user_properties.append(("testnet_decision", str(decision)))
        if not decision.allowed and self.desk.on_blocked == "skip":
            self.outcome = "blocked"
            pytest.skip(f"testnet limits: {decision}")

    def runtest(self) -> None:
        assert self.run is not None and self.run.decision is not None
        if not self.run.decision.allowed:
            self.outcome = "blocked"
            raise RunBlocked(self.run.decision)
        if self.desk.dry_run:
            self.outcome = "passed"
            return
        self.outcome = "failed"
        try:
            result = self.run.execute()
        except KeyboardInterrupt:
            self.outcome = "interrupted"
            raise
        self.outcome = "passed"
        for name, value in (("testnet_notional", exact(result.spent_notional)), ("testnet_trades", result.spent_trades),
                            ("testnet_pnl", exact(result.metrics.pnl)),
                            ("testnet_stop_reason", result.stop_reason)):
            self.user_properties.append((name, value))

    def teardown(self) -> None:
        if self.run is not None:
            self.run.finish(self.outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, RunBlocked):
            return "testnet limits blocked this run:\n" + "\n".join(f"  {r}" for r in excinfo.value.decision.reasons)
        if isinstance(excinfo.value, plain_failures()):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"testnet profile {self.profile.name} ({display(self.profile.source, self.desk.root)})"


def plain_failures() -> tuple[type[BaseException], ...]:
    """Failures that explain themselves in one line: no traceback helps the reader."""
    from .executor import EnvironmentNotTestnetError

    return (InputError, CassetteError, KrakenError, EnvironmentNotTestnetError)
