"""Profiles as pytest nodes (pytest's "working with non-python tests" pattern).

Setup decides (limits, and a reservation in the ledger when the run spends budget),
runtest runs the session, teardown settles what was actually spent, whatever happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .desk import DESK, Desk
from .errors import InputError
from .limits import Decision, Plan
from .errors import display
from .profiles import Profile
from .usage import Reservation, money


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
        self.decision: Decision | None = None
        self.reservation: Reservation | None = None

    @property
    def desk(self) -> Desk:
        return self.config.stash[DESK]

    @property
    def plan(self) -> Plan:
        p = self.profile
        return Plan(p.symbol, money(p.max_notional), p.max_trades, p.duration_minutes)

    def setup(self) -> None:
        desk, plan = self.desk, self.plan
        if desk.dry_run:
            self.decision = desk.limits.check_run_allowed(plan.symbol, plan.notional, plan.trades, plan.duration_minutes)
        else:
            self.decision, self.reservation = desk.limits.reserve_run(plan, self.profile.name, self.nodeid, "live")
        self.user_properties.append(("testnet_decision", str(self.decision)))
        if not self.decision.allowed and desk.on_blocked == "skip":
            pytest.skip(f"testnet limits: {self.decision}")

    def runtest(self) -> None:
        assert self.decision is not None
        if not self.decision.allowed:
            raise RunBlocked(self.decision)
        if self.desk.dry_run:
            return
        raise NotImplementedError("sessions arrive with the session module")

    def teardown(self) -> None:
        if self.reservation is not None:
            self.desk.ledger.settle(self.reservation, 0, 0, "released")
            self.reservation = None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, RunBlocked):
            return "testnet limits blocked this run:\n" + "\n".join(f"  {r}" for r in excinfo.value.decision.reasons)
        if isinstance(excinfo.value, InputError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"testnet profile {self.profile.name} ({display(self.profile.source, self.desk.root)})"
