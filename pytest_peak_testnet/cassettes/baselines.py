"""Baselines: what a replayed profile did, kept beside its cassette and compared each replay.

A cassette pins what the exchange said; the baseline pins what the profile made of it:
the run's figures and its order list. Changing ``fee_rate``, a strategy parameter or the
trading code then fails the replay with the difference, instead of passing unseen
(syrupy's snapshots, pytest-regressions' ``num_regression``). Counts, the stop reason and
the orders compare exactly; amounts within a relative tolerance.

The file is ``<profile>.baseline.yaml`` beside the cassette. YAML, not JSON, so that it
never looks like a cassette (``cassettes/*.json``) and can carry a comment saying how it
is updated. It is written here, never by a YAML dumper: keys in one fixed order, one
order per line (a flow mapping), every amount a quoted exact decimal string, so a reader
never turns ``0.0026`` into a binary float and a review diff shows one changed line per
changed figure or order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..atomic import atomic_write
from ..desk import yamlio
from ..desk.expectations import AMOUNTS, COUNTS
from ..desk.yamlio import invalid
from ..trading.exact import plain

SUFFIX = ".baseline.yaml"
DEFAULT_TOLERANCE = Decimal("1e-9")
#: The figures a baseline holds, in the order they are written.
FIGURES = ("stop_reason", *COUNTS, *AMOUNTS)
ORDER_KEYS = ("time", "side", "volume", "price", "outcome")


def path_for(cassette: Path, profile: str) -> Path:
    """Beside the cassette, named for the profile: profiles that share a cassette (the
    same market, other parameters) each have their own."""
    return cassette.parent / f"{profile}{SUFFIX}"


def update_command(profile: str) -> str:
    return f"pytest --testnet-profile {profile} --testnet-update-baselines"


def orders(events: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each order the run asked for, from its run log: candle time, side, volume, price,
    and what became of it (validated, placed, denied, rejected)."""
    found: list[dict[str, str]] = []
    pending: Mapping[str, Any] | None = None
    for event in events:
        if event["event"] == "order_request":
            pending = event
        elif event["event"] == "order_outcome" and pending is not None:
            stamp = datetime.fromtimestamp(int(pending["time"]), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            found.append({"time": stamp, "side": str(pending["side"]), "volume": str(pending["volume"]),
                          "price": str(pending["price"]), "outcome": str(event["status"])})
            pending = None
    return found


@dataclass(frozen=True)
class Baseline:
    """What a profile's replay did, as its baseline file pins it: the figures and every order."""

    profile: str
    #: By name, in ``FIGURES`` order: ints, strings, exact decimal strings or None.
    figures: Mapping[str, Any]
    orders: Sequence[Mapping[str, str]]

    def text(self) -> str:
        lines = [f"# Baseline of testnet profile {self.profile}: the figures and orders of its replay.",
                 "# Compared on every replay; rewrite it, then review the diff, with:",
                 f"#   {update_command(self.profile)}",
                 f"profile: {json.dumps(self.profile)}",
                 "figures:"]
        lines += [f"  {name}: {json.dumps(plain(self.figures.get(name)))}" for name in FIGURES if name in self.figures]
        lines.append("orders:" + ("" if self.orders else " []"))
        lines += ["  - {" + ", ".join(f"{k}: {json.dumps(order[k])}" for k in ORDER_KEYS) + "}" for order in self.orders]
        return "\n".join(lines) + "\n"


class BaselineError(Exception):
    """A baseline that cannot be read; the message says which file and what to run."""


def read(path: Path, profile: str) -> Baseline:
    def broken(what: str) -> BaselineError:
        return BaselineError(f"baseline {path} {what}; rewrite it with: {update_command(profile)}")

    try:
        data = yamlio.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise broken(invalid(exc)) from None
    except UnicodeDecodeError as exc:
        raise broken(f"is not UTF-8 text (byte {exc.start})") from None
    except (OSError, RecursionError) as exc:
        raise broken(f"cannot be read ({getattr(exc, 'strerror', None) or 'nested too deep'})") from None
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict) \
            or not isinstance(data.get("orders"), list):
        raise broken("holds no figures and orders")
    for n, order in enumerate(data["orders"]):
        if not isinstance(order, dict):
            raise broken(f"holds {str(order)[:40]!r} as orders[{n}], expected a mapping of {', '.join(ORDER_KEYS)}")
    return Baseline(str(data.get("profile", profile)), data["figures"], data["orders"])


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def close(old: Any, new: Any, tolerance: Decimal) -> bool:
    """Amounts within ``tolerance`` of each other, relative to the larger (``math.isclose``
    without an absolute floor: zero matches only zero). Anything else compares exactly,
    as do amounts too large to subtract."""
    if old is None or new is None:
        return old is new
    a, b = _number(old), _number(new)
    if a is None or b is None or not (a.is_finite() and b.is_finite()):
        return str(old) == str(new)
    try:
        return abs(a - b) <= tolerance * max(abs(a), abs(b))
    except ArithmeticError:  # beyond what Decimal can compute (``1e999999999``): compared as written
        return str(old) == str(new)


def _describe(order: Mapping[str, Any] | None) -> str:
    if order is None:
        return "none"
    return f"{order.get('side')} {order.get('volume')} @ {order.get('price')} at {order.get('time')} ({order.get('outcome')})"


def differences(old: Baseline, new: Baseline, tolerance: Decimal) -> list[str]:
    """What changed, as ``trades: 4 → 2`` lines, then the first order that differs."""
    found = []
    names = [*FIGURES, *(n for n in old.figures if n not in FIGURES)]
    for name in names:
        before, after = old.figures.get(name), plain(new.figures.get(name))
        same = close(before, after, tolerance) if name in AMOUNTS else before == after
        if not same:
            found.append(f"{name}: {_shown(before, name in old.figures)} → {_shown(after, name in new.figures)}")
    if len(old.orders) != len(new.orders):
        found.append(f"orders: {len(old.orders)} → {len(new.orders)}")
    for n in range(max(len(old.orders), len(new.orders))):
        before_order = dict(old.orders[n]) if n < len(old.orders) else None
        after_order = dict(new.orders[n]) if n < len(new.orders) else None
        if before_order != after_order:
            found.append(f"first differing order, #{n + 1}: baseline {_describe(before_order)}; "
                         f"this run {_describe(after_order)}")
            break
    return found


def _shown(value: Any, present: bool) -> str:
    return "(absent)" if not present else "null" if value is None else str(value)


def write(path: Path, baseline: Baseline) -> str:
    """Write atomically (xdist workers write side by side); ``created``, ``changed`` or
    ``unchanged``, and an unchanged file is not touched."""
    text = baseline.text()
    try:
        before: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    if before == text:
        return "unchanged"
    atomic_write(path, text)
    return "created" if before is None else "changed"


def on_disk(cassettes_dir: Path) -> list[Path]:
    return sorted(cassettes_dir.rglob(f"*{SUFFIX}")) if cassettes_dir.is_dir() else []
