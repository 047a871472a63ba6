"""The life of one profile run: admit, execute, settle.

Where a run's requests go decides what it costs. A replay (no request can leave: record
mode ``none``, or ``once`` with the cassette present) and a recording against the
project's simulator (``--testnet-simulator``, or a server that answers the simulator's
handshake) reach no exchange, so they are checked against the limits but spend nothing;
they are logged in the ledger as unspent runs. Any other server is an exchange, whatever
its address: the run reserves its planned figures in setup and settles the actual ones
afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from .cassettes import CASSETTE_SUFFIX, is_replay, use_cassette
from .desk.limits import Decision, Plan
from .desk.profiles import Profile
from .desk.project import Desk
from .desk.usage import Reservation, RunMode, money
from .exchange.clock import Clock, SimulatorClock, VirtualClock, WallClock
from .exchange.credentials import Credentials
from .exchange.handshake import simulator_version
from .exchange.kraken import KrakenTestnetClient
from .reporting.runlog import RunLog
from .trading.exact import exact
from .trading.executor import TestnetExchangeOrderExecutor
from .trading.risk import LiveRiskLimits
from .trading.session import Session, SessionResult
from .trading.strategies import Strategy, make_strategy

#: A well-formed credential that signs nothing real: a replay sends no request anywhere.
REPLAY_KEY = "replay-without-credentials"
REPLAY_SECRET = "cmVwbGF5LXdpdGhvdXQtY3JlZGVudGlhbHM="


@dataclass
class ProfileRun:
    """One profile item's run, from the limits' decision in setup to the ledger entry in teardown."""

    desk: Desk
    profile: Profile
    nodeid: str
    decision: Decision | None = None
    reservation: Reservation | None = None
    session: Session | None = None
    result: SessionResult | None = None
    started_at: str | None = None
    log_path: Path | None = None

    @property
    def plan(self) -> Plan:
        p = self.profile
        return Plan(p.symbol, money(p.max_notional), p.max_trades, p.duration_minutes)

    @property
    def cassette(self) -> Path:
        return self.desk.cassettes_dir / (self.profile.cassette or f"{self.profile.name}{CASSETTE_SUFFIX}")

    @cached_property
    def mode(self) -> RunMode:
        """Decided once, when the run starts: a ``once`` recording writes the very cassette
        that would make it look like a replay by the time it settles."""
        if is_replay(self.cassette, self.desk.record_mode):
            return "replay"
        if self.desk.simulator or simulator_version(self.desk.base_url) is not None:
            return "simulator"
        return "live"

    @property
    def record_command(self) -> str:
        return f"pytest --testnet-profile {self.profile.name} --testnet-record-mode=rewrite --testnet-simulator"

    def strategy(self) -> Strategy:
        p = self.profile
        return make_strategy(p.strategy, p.params, p.key_prefix(self.desk.root), self.desk.strategies)

    @property
    def needs_credentials(self) -> bool:
        """A run that sends requests to a server other than a simulator of its own."""
        return not self.desk.dry_run and self.mode != "replay" and not self.desk.simulator

    def admit(self) -> Decision:
        """The limits decide; only a run that spends reserves, in the same locked step.
        What an allowed run needs (its credentials, its cassette) is checked before that: a
        bad key or a broken cassette stops it before it starts, with nothing logged or reserved."""
        plan, limits = self.plan, self.desk.limits
        if self.desk.dry_run or self.mode != "live":  # decided without reserving
            decision = limits.evaluate(plan, self.desk.dry_run_day if self.desk.dry_run else self.desk.ledger.read())
            if decision.allowed and not self.desk.dry_run:
                self._check_needs()
            self.decision = decision
        else:
            self._check_needs()
            self.decision, self.reservation = limits.reserve_run(plan, self.profile.name, self.nodeid, "live")
        return self.decision

    def _check_needs(self) -> None:
        if self.mode == "simulator":
            from .exchange.marketdata import check_timeframe

            check_timeframe(self.desk, self.profile)
        if self.needs_credentials:
            self.desk.credentials  # noqa: B018 - read and checked once per session
        if self.mode == "replay":
            from .cassettes.replay import load

            load(self.cassette, self.record_command)  # parsed once: the replay reuses it

    def execute(self) -> SessionResult:
        desk, profile = self.desk, self.profile
        run_id = uuid.uuid4().hex[:8]
        with ExitStack() as stack:
            base_url, credentials, clock = stack.enter_context(self._exchange())
            log = RunLog(desk.config.orchestration.runs_base_dir, profile.name, run_id)
            self.log_path = log.path
            stack.callback(log.close)
            stack.push(_log_failure(log))
            replay = stack.enter_context(use_cassette(self.cassette, desk.record_mode, self.record_command))
            exchange = desk.config.exchange
            client = KrakenTestnetClient(replace(exchange, base_url=base_url), credentials=credentials, session=replay,
                                         sleep=clock.sleep, monotonic=clock.monotonic)
            executor = TestnetExchangeOrderExecutor(desk.config.environment, exchange, client,
                                                    LiveRiskLimits(desk.config.risk), log, profile.symbol)
            self.session = Session(profile, self.strategy(), desk.config.session, desk.config.risk.max_order_notional,
                                   client, executor, clock, log)
            self.result = self.session.run()
            return self.result

    @contextmanager
    def _exchange(self) -> Iterator[tuple[str, Credentials, Clock]]:
        """Where requests go, with which credentials, and how waiting works. Real keys come
        only from the environment, and only where a request can leave this process."""
        timeout = self.desk.config.exchange.timeout_seconds
        if self.mode == "replay":
            yield self.desk.base_url, Credentials(REPLAY_KEY, REPLAY_SECRET), VirtualClock()
        elif self.desk.simulator:
            from .exchange.marketdata import simulator_market
            from .exchange.simulator import Simulator  # http.server: recordings only

            with Simulator(**simulator_market(self.desk, self.profile)) as sim:
                yield sim.url, sim.credentials(self.desk.config.exchange), SimulatorClock(sim.url, timeout)
        elif self.mode == "simulator":
            yield self.desk.base_url, self.desk.credentials, SimulatorClock(self.desk.base_url, timeout)
        else:
            yield self.desk.base_url, self.desk.credentials, WallClock()

    def record(self, outcome: str, error: str | None) -> dict[str, Any]:
        """Everything the reports show of this run, as plain JSON data (it crosses from
        xdist workers to the controller on the test report)."""
        p, decision = self.profile, self.decision
        return {
            "profile": p.name, "nodeid": self.nodeid, "source": p.where(self.desk.root),
            "strategy": p.strategy, "symbol": p.symbol, "timeframe": p.timeframe,
            "duration_minutes": p.duration_minutes, "max_notional": exact(p.max_notional), "max_trades": p.max_trades,
            "close_at_end": p.close_at_end,
            "params": dict(p.params), "mode": "dry-run" if self.desk.dry_run else self.mode,
            "cassette": str(self.cassette), "validate_only": self.desk.config.exchange.validate_only,
            "outcome": outcome, "error": error,
            "decision": None if decision is None else {
                "allowed": decision.allowed, "text": str(decision),
                "reasons": [{"code": r.code, "detail": r.detail} for r in decision.reasons]},
            "result": None if self.result is None else self.result.to_dict(),
            "log_path": None if self.log_path is None else str(self.log_path),
            "spent_notional": exact(self.session.spent_notional) if self.session else "0",
            "spent_trades": self.session.spent_trades if self.session else 0,
            "unknown_orders": self.session.unknown_orders if self.session else 0,
        }

    def finish(self, outcome: str) -> None:
        """Settle a reservation to what was actually accepted, or log an unspent run."""
        session = self.session
        notional = session.spent_notional if session else Decimal(0)
        trades = session.spent_trades if session else 0
        ledger = self.desk.ledger
        if self.reservation is not None:
            ledger.settle(self.reservation, notional, trades, outcome)
            self.reservation = None
        elif self.decision is not None and self.decision.allowed and not self.desk.dry_run:
            ledger.log_unspent(self.profile.name, self.nodeid, self.mode, self.plan.notional, self.plan.trades,
                               notional, trades, outcome, symbol=self.profile.symbol)


def _log_failure(log: RunLog) -> Callable[..., None]:
    """An exit callback that ends the run log with ``run_failed`` when the run raised, so
    the monitor can tell a run that broke (an API error, a missing cassette) from one still going."""
    def on_exit(kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            log.write("run_failed", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    return on_exit
