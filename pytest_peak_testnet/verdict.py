"""Whether a profile run passes: its expectations, then its baseline, as one judgement.

The item asks for the verdict after the limits decided (a profile may expect to be
blocked) and again after the session ran. A failed verdict is one block of text that reads
like a pytest assertion: each broken expectation, each baseline difference, the first
differing order and the command that updates the baseline. The same text is the item's
failure, its ``--junitxml`` message, and (as data) the report's per-profile checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .cassettes import baselines
from .desk.expectations import Check, Expectations, judge, judge_blocked
from .desk.limits import Decision
from .errors import display

if TYPE_CHECKING:
    from .desk.project import Desk
    from .runner import ProfileRun
    from .trading.session import SessionResult


class ExpectationsFailed(Exception):
    """A run that did not do what its profile expects; the message is the whole block."""

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (type(self), (str(self),))


@dataclass(frozen=True)
class BaselineSettings:
    """How baselines are treated in this pytest run, read once from the options and the ini."""

    #: ``--testnet-update-baselines``: write what the runs did instead of comparing.
    update: bool
    #: ``--testnet-warn-unused-baselines``: unused baselines warn instead of failing.
    warn_unused: bool
    #: ini ``testnet_baseline_tolerance``; a profile's ``baseline_tolerance`` wins.
    tolerance: Decimal
    #: Profiles ``--testnet-override`` changed: their baseline pins another profile.
    overridden: frozenset[str]


SETTINGS: pytest.StashKey[BaselineSettings] = pytest.StashKey()


def configure(config: pytest.Config, desk: Desk) -> BaselineSettings:
    """Read the options once (``pytest_configure``); a bad ini value is a usage error."""
    raw = config.getini("testnet_baseline_tolerance")
    try:
        tolerance = Decimal(str(raw).strip()) if raw else baselines.DEFAULT_TOLERANCE
    except InvalidOperation:
        tolerance = Decimal(-1)
    if not tolerance.is_finite() or not 0 <= tolerance <= 1:
        raise pytest.UsageError(f"ini testnet_baseline_tolerance: expected a number in [0, 1], found {raw!r}")
    settings = BaselineSettings(
        update=bool(config.getoption("testnet_update_baselines")),
        warn_unused=bool(config.getoption("testnet_warn_unused_baselines")
                         or config.getini("testnet_warn_unused_baselines")),
        tolerance=tolerance, overridden=desk.overridden)
    config.stash[SETTINGS] = settings
    return settings


def figures(result: SessionResult) -> dict[str, Any]:
    """The run's figures by the names ``expect:`` and the baseline use. ``trades`` and
    ``notional`` are the spent figures, as the summary table and the ledger show them."""
    m = result.metrics
    return {
        "stop_reason": result.stop_reason, "candles": result.candles, "trades": result.spent_trades,
        "round_trips": m.round_trips, "orders_requested": m.orders_denied + m.orders_sent,
        "orders_denied": m.orders_denied, "orders_sent": m.orders_sent, "orders_accepted": m.orders_accepted,
        "orders_rejected": m.orders_rejected, "notional": result.spent_notional, "fees": m.fees, "pnl": m.pnl,
        "realized_pnl": m.realized_pnl, "unrealized_pnl": m.unrealized_pnl, "final_equity": m.final_equity,
        "open_volume": m.open_volume, "max_drawdown": m.max_drawdown, "max_drawdown_pct": m.max_drawdown_pct,
        "win_rate": m.win_rate, "profit_factor": m.profit_factor, "average_trade": m.average_trade,
        "exposure_pct": m.exposure_pct,
        **({} if result.execution is None else result.execution.figures()),
        **({} if result.drift is None else {"reference_drift_bps": result.drift.largest_bps}),
    }


@dataclass
class Verdict:
    """A run's expectations and baseline comparison: held or failed, and the lines that say why."""

    profile: str
    mode: str
    checks: list[Check] = field(default_factory=list)
    #: What happened to the baseline: its path (as shown), ``status`` (matched, differs,
    #: missing, broken, created, changed, unchanged, not compared), differences, a note.
    baseline: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return any(not c.held for c in self.checks) or (
            self.baseline is not None and self.baseline["status"] in ("differs", "missing", "broken"))

    def decided(self, expect: Expectations, decision: Decision) -> None:
        self.checks += judge_blocked(expect, decision.allowed, tuple(r.code for r in decision.reasons))

    def ran(self, run: ProfileRun, settings: BaselineSettings) -> None:
        """Judge a finished session: the figures, then the baseline where one applies."""
        from .reporting.monitor import alerts, read_events

        assert run.result is not None
        profile, desk = run.profile, run.desk
        events = read_events(run.log_path) if run.log_path is not None and run.log_path.exists() else []
        counts: dict[str, int] = {}
        for alert in alerts(events, desk.config.alerts):
            counts[alert.kind] = counts.get(alert.kind, 0) + 1
        found = figures(run.result)
        self.checks += judge(profile.expect, found, counts)
        self.baseline = self._baseline(run, desk, settings, baselines.Baseline(profile.name, found,
                                                                                baselines.orders(events)))

    def _baseline(self, run: ProfileRun, desk: Desk, settings: BaselineSettings,
                  now: baselines.Baseline) -> dict[str, Any] | None:
        """Replays compare (or, updating, rewrite); recordings against ``--testnet-simulator``
        (a fixed seed) write the baseline of the cassette they made. Other recordings reach
        an exchange whose answers differ each time: only their replays have a baseline."""
        profile = run.profile
        path = baselines.path_for(run.cassette, profile.name)
        entry: dict[str, Any] = {"path": display(path, desk.root), "differences": [], "note": None}
        if not profile.baseline:
            return None
        if profile.name in settings.overridden:
            return {**entry, "status": "not compared", "note": "--testnet-override changed the profile"}
        replay = run.mode == "replay"
        if not replay and not (run.mode == "simulator" and desk.simulator):
            return None
        if settings.update or not replay:
            return {**entry, "status": baselines.write(path, now)}
        if not path.exists():
            return {**entry, "status": "missing",
                    "note": f"create it with: {baselines.update_command(profile.name)}"}
        try:
            old = baselines.read(path, profile.name)
        except baselines.BaselineError as exc:
            return {**entry, "status": "broken", "note": str(exc)}
        tolerance = settings.tolerance if profile.baseline_tolerance is None else profile.baseline_tolerance
        found = baselines.differences(old, now, tolerance)
        return {**entry, "status": "differs" if found else "matched", "differences": found,
                "tolerance": f"{tolerance:g}"}

    def summary(self) -> str:
        """One line for the reports' last-error field."""
        broken = [c.name for c in self.checks if not c.held]
        status = (self.baseline or {}).get("status")
        parts = [f"{len(broken)} of {len(self.checks)} expectations failed ({', '.join(broken)})"] if broken else []
        if status == "differs":
            names = [d.split(":", 1)[0] for d in (self.baseline or {})["differences"]]
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            parts.append(f"baseline differs in {', '.join(names[:3])}{more}")
        elif status in ("missing", "broken"):
            parts.append(f"baseline {status}")
        return "; ".join(parts)

    def text(self) -> str:
        """The failure block: pytest's assertion style, one line per broken thing."""
        b = self.baseline
        broken = [f"  {c.text}" for c in self.checks if not c.held]
        if not broken and b is not None and b["status"] in ("missing", "broken"):  # one line says it all
            return f"baseline {b['path']} is missing; {b['note']}" if b["status"] == "missing" else str(b["note"])
        lines = [f"{self.profile} ({self.mode}): {self.summary()}", *broken]
        if b is not None and b["status"] == "missing":
            lines.append(f"  baseline {b['path']} is missing; {b['note']}")
        elif b is not None and b["status"] == "broken":
            lines.append(f"  {b['note']}")
        elif b is not None and b["status"] == "differs":
            lines.append(f"  baseline {b['path']} differs (amounts within relative tolerance {b['tolerance']}):")
            lines += [f"    {d}" for d in b["differences"]]
            lines.append(f"  update the baseline with: {baselines.update_command(self.profile)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"checks": [c.to_dict() for c in self.checks], "baseline": self.baseline,
                "held": sum(1 for c in self.checks if c.held), "failed": sum(1 for c in self.checks if not c.held)}


def unused(desk: Desk, runs: list[dict[str, Any]]) -> list[Path] | None:
    """Baselines on disk that no profile of a full run claims; None when the run was not
    full (``-k``, ``-m`` or ``--testnet-profile`` left a profile out, or a dry run), as
    syrupy only reports what the run could have used."""
    if desk.dry_run or not runs or not set(desk.profiles) <= {run["profile"] for run in runs}:
        return None
    claimed = {baselines.path_for(Path(run["cassette"]), run["profile"]).resolve() for run in runs
               if desk.profiles[run["profile"]].baseline}
    return [path for path in baselines.on_disk(desk.cassettes_dir) if path.resolve() not in claimed]


def summary_lines(runs: list[dict[str, Any]]) -> list[str]:
    """The terminal's count of expectations and baselines, and the files written."""
    judged = [run["verdict"] for run in runs if run.get("verdict")]
    if not judged:
        return []
    held = sum(v["held"] for v in judged)
    failed = sum(v["failed"] for v in judged)
    statuses: dict[str, int] = {}
    written = []
    for verdict in judged:
        baseline = verdict["baseline"]
        if baseline is None:
            continue
        statuses[baseline["status"]] = statuses.get(baseline["status"], 0) + 1
        if baseline["status"] in ("created", "changed"):
            written.append(f"{baseline['path']} ({baseline['status']})")
    line = f"testnet expectations: {held} held, {failed} failed"
    if statuses:
        line += "; baselines: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    lines = [line]
    if written:
        lines.append("testnet baselines written: " + ", ".join(written))
    return lines
