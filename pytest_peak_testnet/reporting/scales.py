"""Axis scales a person reads at a glance: values at 1-2-5 steps, times at whole minutes,
hours or days in UTC.

Dividing a range into equal parts gives ticks such as 9,999.94 / 9,999.88 / 9,999.83,
which say nothing until each is read in full; a 1-2-5 step (0.05, 0.1, 0.2 ...) gives
9,999.80 / 9,999.90 / 10,000.00, and the axis widens to the ticks around the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

#: Time steps in seconds, smallest first: 1, 2, 5, 10, 15, 30 minutes; 1, 2, 3, 6, 12 hours; 1, 2, 7 days.
TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


@dataclass(frozen=True)
class Scale:
    """An axis from ``low`` to ``high`` with ``ticks`` inside it, each with its label."""

    low: float
    high: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


def nice_step(span: float, count: int) -> float:
    """The 1-2-5 step (times a power of ten) that divides ``span`` into about ``count`` parts."""
    raw = span / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if raw <= m * power * (1 + 1e-9))


def value_scale(low: float, high: float, count: int = 4, zero: bool = False) -> Scale:
    """Ticks at a 1-2-5 step covering ``low`` .. ``high`` (from 0 when ``zero``); a flat
    series gets a small range around its value, so its line is drawn in the middle."""
    if zero:
        low, high = min(0.0, low), high if high > 0 else 1.0
    if high <= low:
        pad = max(abs(high) * 0.0005, 0.01)
        low, high = low - pad, high + pad
    step = nice_step(high - low, count)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = tuple(n * step for n in range(first, last + 1))
    places = max(0, -math.floor(math.log10(step) + 1e-9))
    return Scale(ticks[0], ticks[-1], ticks, tuple(f"{t:,.{places}f}" for t in ticks))


def time_scale(start: int, end: int, count: int = 6) -> Scale:
    """Ticks at whole UTC minutes, hours or days between two epoch seconds; a tick is
    labelled ``HH:MM``, with its date on the first tick and where the day changes."""
    if end <= start:
        end = start + 60
    step = next((s for s in TIME_STEPS if (end - start) / s <= count), TIME_STEPS[-1])
    ticks = tuple(float(t) for t in range(-(-start // step) * step, end + 1, step))
    labels, day = [], None
    for tick in ticks:
        moment = datetime.fromtimestamp(tick, timezone.utc)
        labels.append(moment.strftime("%m-%d %H:%M" if moment.date() != day else "%H:%M"))
        day = moment.date()
    return Scale(float(start), float(end), ticks, tuple(labels))
