"""A profile's ``expect:``: what its run must show for the item to pass (tavern's idea).

A profile that could not fail proves only that nothing crashed. ``expect:`` states what it
is for: bounds on the figures the report shows, the stop reason, how many alerts of each
kind, or that the limits refuse it. It is parsed with the profile, so a typo is a
one-line error naming the file, the line and the closest name; a run is judged with
exact arithmetic (money as ``Decimal``, bounds read as written).

    expect:
      orders_accepted: {min: 1}
      pnl: {min: -1.5}
      stop_reason: DURATION_ELAPSED        # or a list of the reasons that are fine
      alerts: {risk_denial: 0}
      blocked: [RUN_NOTIONAL_EXCEEDS_MAX]  # or true: the limits must refuse the run
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import InputError
from ..trading.exact import exact
from . import limits
from .schema import closest, describe, exact_figure

#: Figures of the exchange's own fills (``trading.execution``): a run whose fills were
#: simulated has none, and a bound on them then fails as "no figure". Slippage in basis
#: points, worse is positive; dust in the base asset (what is left below one lot step).
EXECUTION_COUNTS = ("orders_filled", "orders_partially_filled", "orders_expired")
EXECUTION_AMOUNTS = ("max_slippage_bps", "mean_slippage_bps", "dust")
#: The largest distance of the run's closes from the reference market's (``trading.drift``),
#: in basis points; only runs whose exchange block names a reference have it.
REFERENCE_AMOUNTS = ("reference_drift_bps",)
#: Every figure an expectation can bound, as the report names it. Counts are whole
#: numbers; the rest are exact decimals (money in the quote currency; drawdown, win rate
#: and time in the market as fractions: 0.05 is 5 %).
COUNTS = ("candles", "trades", "round_trips", "orders_requested", "orders_denied", "orders_sent", "orders_accepted",
          "orders_rejected", *EXECUTION_COUNTS)
AMOUNTS = ("notional", "fees", "pnl", "realized_pnl", "unrealized_pnl", "final_equity", "open_volume", "max_drawdown",
           "max_drawdown_pct", "win_rate", "profit_factor", "average_trade", "exposure_pct", *EXECUTION_AMOUNTS,
           *REFERENCE_AMOUNTS)
#: Other names people reach for, and the figure each one means.
ALIASES = {"risk_denials": "orders_denied", "exchange_rejections": "orders_rejected"}
STOP_REASONS = ("DURATION_ELAPSED", "RUN_MAX_TRADES_REACHED", "RUN_MAX_NOTIONAL_REACHED")
#: The kinds ``monitor.alerts`` raises.
ALERT_KINDS = ("risk_denial", "exchange_rejection", "limit_reached", "run_failed", "drawdown")
KEYS = (*COUNTS, *AMOUNTS, *ALIASES, "stop_reason", "alerts", "blocked")

Number = int | Decimal


@dataclass(frozen=True)
class Bound:
    """``name`` (as the profile wrote it) within ``[low, high]``; ``exact`` when the
    profile wrote a single value."""

    name: str
    low: Number | None
    high: Number | None
    exact: bool = False


@dataclass(frozen=True)
class Check:
    """One expectation, judged: ``text`` reads like an assertion (``expect.pnl.min: -0.23 < 0``)."""

    name: str
    held: bool
    text: str
    #: What the profile asks (``≤ 10``, ``== 0``, ``DURATION_ELAPSED``) and what the run
    #: showed, apart: the HTML report's table of expectations has a column for each.
    bound: str = ""
    value: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "held": self.held, "text": self.text, "bound": self.bound, "value": self.value}


@dataclass(frozen=True)
class Expectations:
    """What a profile's ``expect:`` says its run must show: bounds on figures, stop reasons, blocking."""

    bounds: tuple[Bound, ...] = ()
    stop_reasons: tuple[str, ...] = ()
    #: None: the run may or may not be blocked (blocked runs are then skipped, or failed
    #: with ``--testnet-on-blocked=fail``); True/False: it must be, or must not be.
    blocked: bool | None = None
    #: Codes each of which must be among a blocked run's reasons.
    blocked_by: tuple[str, ...] = ()

    @classmethod
    def parse_input(cls, data: Any, where: str) -> Expectations:
        """From a profile's ``expect:`` mapping; ``where`` is the key path errors start with
        (``expect``), and each error extends it (``expect.pnl.min``)."""
        if not isinstance(data, dict):
            raise InputError(where, f"expected a table of figures and their bounds, found {describe(data)}")
        bounds: list[Bound] = []
        stop_reasons: tuple[str, ...] = ()
        blocked: bool | None = None
        blocked_by: tuple[str, ...] = ()
        for key, value in data.items():
            at = f"{where}.{key}"
            if key == "stop_reason":
                stop_reasons = _codes(value, STOP_REASONS, at, "a stop reason")
            elif key == "blocked":
                if isinstance(value, bool):
                    blocked = value
                else:
                    blocked, blocked_by = True, _codes(value, limits.CODES, at, "true, false or limit codes")
            elif key == "alerts":
                if not isinstance(value, dict):
                    raise InputError(at, f"expected a table of alert kinds and counts, found {describe(value)}")
                for kind, count in value.items():
                    if kind not in ALERT_KINDS:
                        raise InputError(f"{at}.{kind}", f"unknown alert kind{closest(str(kind), ALERT_KINDS)} "
                                                         f"(kinds: {', '.join(ALERT_KINDS)})")
                    bounds.append(_bound(f"alerts.{kind}", count, int, f"{at}.{kind}"))
            elif key in COUNTS or key in AMOUNTS or key in ALIASES:
                figure = ALIASES.get(key, key)
                bounds.append(_bound(key, value, int if figure in COUNTS else Decimal, at))
            else:
                raise InputError(at, f"unknown figure{closest(str(key), KEYS)}")
        return cls(tuple(bounds), stop_reasons, blocked, blocked_by)


def _codes(value: Any, known: tuple[str, ...], where: str, what: str) -> tuple[str, ...]:
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise InputError(where, f"expected {what} or a list of them, found {describe(value)}")
    for n, code in enumerate(codes):
        if code not in known:
            at = where if isinstance(value, str) else f"{where}[{n}]"
            raise InputError(at, f"unknown code {code!r}{closest(code, known)} (codes: {', '.join(known)})")
    return tuple(codes)


def _bound(name: str, value: Any, hint: type, where: str) -> Bound:
    """``{min: .., max: ..}`` (either may be left out) or one exact value."""
    if not isinstance(value, dict):
        number = exact_figure(value, hint, where)
        return Bound(name, number, number, exact=True)
    for key in value:
        if key not in ("min", "max"):
            raise InputError(f"{where}.{key}", f"unknown bound, expected min or max{closest(str(key), ('min', 'max'))}")
    if not value:
        raise InputError(where, "expected min, max or both, found an empty table")
    low, high = (None if value.get(k) is None else exact_figure(value[k], hint, f"{where}.{k}") for k in ("min", "max"))
    if low is not None and high is not None and low > high:
        raise InputError(where, f"min {low} is above max {high}")
    return Bound(name, low, high)


def _shown(value: Number | None) -> str:
    """A bound as the profile wrote it (``0.00`` stays ``0.00``), a count as it is."""
    if value is None:
        return "–"
    return f"{value:f}" if isinstance(value, Decimal) and value.is_finite() else str(value)


def _near(actual: Decimal, bound: Decimal) -> str:
    """``actual`` to two places, or to the bound's places when finer; exact when rounding
    would hide which side of the bound it is on."""
    places = max(2, -int(bound.as_tuple().exponent)) if bound.is_finite() else 2
    if not actual.is_finite():
        return str(actual)
    rounded = actual.quantize(Decimal(1).scaleb(-places))
    same_side = (rounded > bound) == (actual > bound) and (rounded < bound) == (actual < bound)
    return f"{rounded:f}" if same_side else exact(actual)


def _wanted(bound: Bound) -> str:
    """The bound as a reader checks a figure against it: ``== 0``, ``≥ 1``, ``1 … 10``."""
    if bound.exact:
        return f"== {_shown(bound.low)}"
    if bound.low is not None and bound.high is not None:
        return f"{_shown(bound.low)} … {_shown(bound.high)}"
    return f"≥ {_shown(bound.low)}" if bound.low is not None else f"≤ {_shown(bound.high)}"


def _value(value: Number, against: Number | None) -> str:
    if isinstance(value, Decimal) and isinstance(against, Decimal):
        return _near(value, against)
    return _shown(value)


def judge_bound(bound: Bound, actual: Number | None) -> Check:
    check = _judge_bound(bound, actual)
    shown = "–" if actual is None else _value(actual, bound.low if bound.low is not None else bound.high)
    return Check(check.name, check.held, check.text, _wanted(bound), shown)


def _judge_bound(bound: Bound, actual: Number | None) -> Check:
    name = f"expect.{bound.name}"
    if actual is None:
        wanted = _shown(bound.low) if bound.exact else " and ".join(
            f"{side} {_shown(v)}" for side, v in (("min", bound.low), ("max", bound.high)) if v is not None)
        return Check(name, False, f"{name}: no figure (–), expected {wanted}")
    if bound.exact:
        assert bound.low is not None
        held = actual == bound.low
        return Check(name, held, f"{name}: {_value(actual, bound.low)} {'==' if held else '≠'} {_shown(bound.low)}")
    if bound.low is not None and actual < bound.low:
        return Check(f"{name}.min", False, f"{name}.min: {_value(actual, bound.low)} < {_shown(bound.low)}")
    if bound.high is not None and actual > bound.high:
        return Check(f"{name}.max", False, f"{name}.max: {_value(actual, bound.high)} > {_shown(bound.high)}")
    parts = [f"{_shown(bound.low)} ≤" if bound.low is not None else "",
             _value(actual, bound.low if bound.low is not None else bound.high),
             f"≤ {_shown(bound.high)}" if bound.high is not None else ""]
    return Check(name, True, f"{name}: {' '.join(p for p in parts if p)}")


def judge(expect: Expectations, figures: Mapping[str, Any], alerts: Mapping[str, int]) -> list[Check]:
    """Every expectation on a finished run: ``figures`` by name (``facts.figures``) and the
    number of alerts of each kind."""
    checks = []
    for bound in expect.bounds:
        kind = bound.name.removeprefix("alerts.")
        actual = alerts.get(kind, 0) if kind != bound.name else figures.get(ALIASES.get(bound.name, bound.name))
        checks.append(judge_bound(bound, actual))
    if expect.stop_reasons:
        reason = str(figures["stop_reason"])
        code = reason.split(" ", 1)[0]
        held = code in expect.stop_reasons
        wanted = expect.stop_reasons[0] if len(expect.stop_reasons) == 1 else f"one of {', '.join(expect.stop_reasons)}"
        checks.append(Check("expect.stop_reason", held,
                            f"expect.stop_reason: {reason} {'is' if held else 'is not'} {wanted}", wanted, reason))
    return checks


def judge_blocked(expect: Expectations, allowed: bool, codes: tuple[str, ...]) -> list[Check]:
    """Whether the limits decided as the profile expects (the only check of a dry run)."""
    if expect.blocked is None:
        return []
    name = "expect.blocked"
    shown = "allowed" if allowed else f"blocked by {', '.join(codes)}"
    if not expect.blocked:
        return [Check(name, allowed, f"{name}: {shown}, expected allowed", "allowed", shown)]
    wanted = "blocked" + (f" by {', '.join(expect.blocked_by)}" if expect.blocked_by else "")
    if allowed:
        return [Check(name, False, f"{name}: allowed, expected {wanted}", wanted, shown)]
    missing = [code for code in expect.blocked_by if code not in codes]
    if missing:
        return [Check(name, False, f"{name}: {shown}, not by {', '.join(missing)}", wanted, shown)]
    return [Check(name, True, f"{name}: {shown}", wanted, shown)]
