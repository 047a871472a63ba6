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
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from .cassettes import CASSETTE_SUFFIX, is_replay, use_cassette
from .desk.config import VenueConfig, not_a_test_environment
from .desk.limits import Decision, Plan
from .desk.profiles import Profile
from .desk.project import Desk
from .desk.usage import Reservation, RunMode, money
from .exchange import venues
from .exchange.clock import Clock, SimulatorClock, VirtualClock, WallClock
from .exchange.handshake import simulator_version
from .exchange.reference import ReferenceMarket
from .reporting.runlog import Listener, RunLog
from .trading.exact import exact
from .trading.executor import TestnetExchangeOrderExecutor
from .trading.risk import LiveRiskLimits
from .trading.session import Session, SessionResult
from .trading.strategies import Strategy, make_strategy


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
    #: Told of each event of the run's log (the terminal's progress), if anyone listens.
    listener: Listener | None = None

    @property
    def plan(self) -> Plan:
        p = self.profile
        return Plan(p.symbol, money(p.max_notional), p.max_trades, p.duration_minutes, self.exchange_name)

    @property
    def exchange_name(self) -> str:
        """The ``[exchange.NAME]`` block this run trades on."""
        return self.profile.exchange or self.desk.config.default_exchange

    @property
    def exchange(self) -> VenueConfig:
        return self.desk.config.exchange_named(self.profile.exchange)

    @property
    def base_url(self) -> str:
        return self.desk.base_url(self.profile.exchange)

    @property
    def cassette(self) -> Path:
        return self.desk.cassettes_dir / (self.profile.cassette or f"{self.profile.name}{CASSETTE_SUFFIX}")

    @cached_property
    def mode(self) -> RunMode:
        """Decided once, when the run starts: a ``once`` recording writes the very cassette
        that would make it look like a replay by the time it settles."""
        known = self.unasked_mode
        if known != "live":
            return known
        # A host the guard refuses is not even asked whether it is the simulator.
        refused = not_a_test_environment(self.exchange, self.base_url) is not None
        return "simulator" if not refused and simulator_version(self.base_url) is not None else "live"

    @property
    def unasked_mode(self) -> RunMode:
        """The mode as far as it is known without asking the server: all a run that stopped
        before its admission (a missing key) may tell its report, since it sends nothing."""
        if is_replay(self.cassette, self.desk.record_mode):
            return "replay"
        return "simulator" if self.desk.simulator else "live"

    @property
    def record_command(self) -> str:
        return f"pytest --testnet-profile {self.profile.name} --testnet-record-mode=rewrite --testnet-simulator"

    def strategy(self) -> Strategy:
        p = self.profile
        return make_strategy(p.strategy, p.params, p.key_prefix(self.desk.root), self.desk.strategies)

    @property
    def needs_credentials(self) -> bool:
        """A run that sends requests to a server other than a simulator of its own. Known
        without the handshake, so that the credentials are checked before it is sent."""
        return not self.desk.dry_run and self.unasked_mode == "live"

    def admit(self) -> Decision:
        """The limits decide; only a run that spends reserves, in the same locked step.
        What an allowed run needs is checked before that, so a bad key or a broken cassette
        stops it with nothing logged or reserved: its credentials before anything is sent
        (the simulator's handshake included), a replay's cassette once the limits allow it."""
        plan, limits = self.plan, self.desk.limits
        if self.unasked_mode == "live":  # before anything is sent, the simulator's handshake included
            venues.check_environment(self.exchange_name, self.exchange, self.base_url)
        if self.needs_credentials:
            self.desk.credentials(self.profile.exchange)
        if self.mode == "simulator":
            from .exchange.marketdata import check_timeframe

            check_timeframe(self.desk, self.profile, self.exchange.venue)
        if self.desk.dry_run or self.mode != "live":  # decided without reserving
            decision = limits.evaluate(plan, self.desk.dry_run_day if self.desk.dry_run else self.desk.ledger.read())
            if not self.desk.dry_run and decision.allowed and self.mode == "replay":
                from .cassettes.replay import load

                load(self.cassette, self.record_command)  # parsed once: the replay reuses it
            self.decision = decision
        else:
            self.decision, self.reservation = limits.reserve_run(plan, self.profile.name, self.nodeid, "live")
        return self.decision

    def execute(self) -> SessionResult:
        desk, profile = self.desk, self.profile
        # a live run's log is named after its reservation: a run killed before it could
        # settle is counted from it when the reservation is released (desk.recovery)
        run_id = self.reservation.run_id if self.reservation else uuid.uuid4().hex[:8]
        with ExitStack() as stack:
            base_url, credentials, clock = stack.enter_context(self._exchange())
            log = RunLog(desk.config.orchestration.runs_base_dir, profile.name, run_id, self.listener)
            self.log_path = log.path
            stack.callback(log.close)
            stack.push(_log_failure(log))
            replay = stack.enter_context(use_cassette(self.cassette, desk.record_mode, self.record_command))
            client = venues.client(self.exchange_name, self.exchange, base_url=base_url, credentials=credentials,
                                   transport=replay, sleep=clock.sleep, monotonic=clock.monotonic)
            executor = TestnetExchangeOrderExecutor(desk.config.environment, client,
                                                    LiveRiskLimits(desk.config.risk), log, profile.symbol)
            exchange = self.exchange
            reference = None if exchange.reference_klines_url is None else ReferenceMarket(
                exchange.reference_klines_url, replay, exchange.timeout_seconds, exchange.max_reference_drift_bps)
            self.session = Session(profile, self.strategy(), desk.config.session, desk.config.risk.max_order_notional,
                                   client, executor, clock, log, self.mode, reference)
            self.result = self.session.run()
            return self.result

    @contextmanager
    def _exchange(self) -> Iterator[tuple[str, Any, Clock]]:
        """Where requests go, with which credentials, and how waiting works. Real keys come
        only from the environment, and only where a request can leave this process."""
        exchange, url, timeout = self.exchange, self.base_url, self.exchange.timeout_seconds
        if self.mode == "replay":
            yield url, venues.package(exchange).replay_credentials(), VirtualClock()
        elif self.desk.simulator:
            from .exchange.marketdata import simulator_market

            market = simulator_market(self.desk, self.profile, exchange.venue)
            with venues.package(exchange).simulator(**market) as sim:
                yield sim.url, sim.credentials(exchange), SimulatorClock(sim.url, timeout)
        elif self.mode == "simulator":
            yield url, self.desk.credentials(self.profile.exchange), SimulatorClock(url, timeout)
        else:
            yield url, self.desk.credentials(self.profile.exchange), WallClock()

    def record(self, outcome: str, error: str | None) -> dict[str, Any]:
        """Everything the reports show of this run, as plain JSON data (it crosses from
        xdist workers to the controller on the test report)."""
        p, decision = self.profile, self.decision
        return {
            "profile": p.name, "nodeid": self.nodeid, "source": p.where(self.desk.root), "exchange": self.exchange_name,
            "strategy": p.strategy, "symbol": p.symbol, "timeframe": p.timeframe,
            "duration_minutes": p.duration_minutes, "max_notional": exact(p.max_notional), "max_trades": p.max_trades,
            "close_at_end": p.close_at_end,
            "params": dict(p.params),
            "mode": "dry-run" if self.desk.dry_run else self.mode if decision is not None else self.unasked_mode,
            "cassette": str(self.cassette), "validate_only": self.exchange.validate_only,
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
                               notional, trades, outcome, symbol=self.profile.symbol, venue=self.exchange_name)


def _log_failure(log: RunLog) -> Callable[..., None]:
    """An exit callback that ends the run log with ``run_failed`` when the run raised, so
    the monitor can tell a run that broke (an API error, a missing cassette) from one still going."""
    def on_exit(kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            log.write("run_failed", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    return on_exit
