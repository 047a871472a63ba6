"""Small charts with no dependencies: a Unicode sparkline for Markdown, SVG for the HTML
report and the dashboard.

GitHub strips ``<svg>`` from Markdown, so the report draws its equity curves with block
characters, which render in any viewer and terminal; the HTML pages get real SVG, drawn
here so a page needs no script to show its figures. Axes are scaled by ``scales``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from .scales import Scale, time_scale, value_scale

BLOCKS = "▁▂▃▄▅▆▇█"


def sample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` values, evenly picked, always keeping the first and the last."""
    if len(values) <= width:
        return list(values)
    step = (len(values) - 1) / (width - 1)
    return [values[round(i * step)] for i in range(width)]


def sparkline(values: Sequence[float], width: int = 48) -> str:
    """``▁▂▅█`` style line; a flat series is a flat line, an empty one is empty."""
    points = sample(values, width)
    if not points:
        return ""
    low, high = min(points), max(points)
    span = high - low
    if span == 0:
        return BLOCKS[0] * len(points)
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int((v - low) / span * len(BLOCKS)))] for v in points)


#: Where a chart's plot sits inside its ``viewBox``: room for the y labels and the axis titles.
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 12, 44
#: Trade markers: a buy points up, a sell down.
MARKS = {"buy": ("#1e8449", 1), "sell": ("#c0392b", -1)}


def _open(title: str, width: int, height: int) -> list[str]:
    return [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']


def _y_grid(scale: Scale, y: Callable[[float], float], width: int) -> str:
    return "".join(f'<line x1="{LEFT - 4}" y1="{y(t):.1f}" x2="{width - RIGHT}" y2="{y(t):.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 6}" y="{y(t) + 3:.1f}" font-size="10" text-anchor="end">{label}</text>'
                   for t, label in zip(scale.ticks, scale.labels, strict=True))


def _axes(base: float, width: int) -> str:
    return (f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#888"/>'
            f'<line x1="{LEFT}" y1="{base}" x2="{width - RIGHT}" y2="{base}" stroke="#888"/>')


def svg_bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
             limit: float | None = None, y_label: str = "", x_label: str = "", width: int = 640,
             height: int = 220) -> str:
    """Grouped bars per label (``series`` = ``(name, colour, values)``) on a y axis from 0
    at 1-2-5 steps, named ``y_label`` (with its unit), with a dashed line at ``limit``;
    every bar carries a ``<title>`` with its figure for hovering."""
    base = height - BOTTOM
    scale = value_scale(0.0, max([limit or 0.0, *(v for _, _, values in series for v in values)]), zero=True)
    slot = (width - LEFT - RIGHT) / max(1, len(labels))
    bar = min(slot * 0.8 / max(1, len(series)), 28.0)
    #: Labels need about 40 px each; label every ``step``-th slot and always the last one.
    step = max(1, math.ceil(len(labels) * 40 / (width - LEFT - RIGHT)))

    def y(value: float) -> float:
        return base - value / scale.high * (base - TOP)

    parts = [*_open(title, width, height), _y_grid(scale, y, width), _axes(base, width)]
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot + (slot - bar * len(series)) / 2
        for j, (name, colour, values) in enumerate(series):
            v = values[i]
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(v):.1f}" width="{bar:.1f}" height="{base - y(v):.1f}" '
                         f'fill="{colour}"><title>{escape(label)} {escape(name)}: {v:.2f}</title></rect>')
        if (len(labels) - 1 - i) % step == 0:
            parts.append(f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{base + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    if limit is not None:
        parts.append(f'<line x1="{LEFT}" y1="{y(limit):.1f}" x2="{width - RIGHT}" y2="{y(limit):.1f}" stroke="#c0392b" '
                     f'stroke-dasharray="6 4" class="limit"><title>limit {limit:g}</title></line>'
                     f'<text x="{width - RIGHT}" y="{y(limit) - 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#c0392b">limit {limit:g}</text>')
    parts.append(axis_titles(x_label, y_label, base, width, height))
    parts.append("</svg>")
    return "".join(parts)


def axis_titles(x_label: str, y_label: str, base: float, width: int, height: int) -> str:
    return (f'<text x="{LEFT + (width - LEFT - RIGHT) / 2}" y="{height - 6}" font-size="11" text-anchor="middle" '
            f'class="x-label">{escape(x_label)}</text>'
            f'<text transform="translate(14 {TOP + (base - TOP) / 2}) rotate(-90)" font-size="11" '
            f'text-anchor="middle" class="y-label">{escape(y_label)}</text>')


def svg_line(title: str, values: Sequence[float], y_label: str, x_label: str,
             x_ends: tuple[str, str] = ("", ""), times: Sequence[int] | None = None,
             marks: Sequence[tuple[int, str, float]] = (), width: int = 640, height: int = 220) -> str:
    """A line on a y axis at 1-2-5 steps. With ``times`` (epoch seconds, one per value)
    the x axis is UTC time and ``marks`` (time, side, price) are drawn as triangles, up
    for a buy and down for a sell; without, the x axis is marked at both ends (``x_ends``)."""
    base, plot_w = height - BOTTOM, width - LEFT - RIGHT
    parts = [*_open(title, width, height), _axes(base, width)]
    if not values:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{height / 2}" font-size="12" text-anchor="middle" '
                     f'fill="#666">no data</text>')
        return "".join([*parts, axis_titles(x_label, y_label, base, width, height), "</svg>"])
    scale = value_scale(min([*values, *(m[2] for m in marks)]), max([*values, *(m[2] for m in marks)]))

    def y(value: float) -> float:
        return base - (value - scale.low) / (scale.high - scale.low) * (base - TOP)

    parts.append(_y_grid(scale, y, width))
    if times is None:
        step = plot_w / max(1, len(values) - 1)
        xs = [LEFT + i * step for i in range(len(values))]
        parts.append(f'<text x="{LEFT}" y="{base + 14}" font-size="10" text-anchor="start">{escape(x_ends[0])}</text>'
                     f'<text x="{width - RIGHT}" y="{base + 14}" font-size="10" text-anchor="end">'
                     f'{escape(x_ends[1])}</text>')
    else:
        span = time_scale(min(times), max(times))

        def x(time: float) -> float:
            return LEFT + (time - span.low) / (span.high - span.low) * plot_w

        xs = [x(t) for t in times]
        for tick, label in zip(span.ticks, span.labels, strict=True):
            parts.append(f'<line x1="{x(tick):.1f}" y1="{base}" x2="{x(tick):.1f}" y2="{base + 4}" stroke="#888"/>'
                         f'<text x="{x(tick):.1f}" y="{base + 15}" font-size="10" text-anchor="middle" '
                         f'class="x-tick">{escape(label)}</text>')
    points = " ".join(f"{px:.1f},{y(v):.1f}" for px, v in zip(xs, values, strict=True))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#2e86de" stroke-width="1.5"/>')
    if times is not None:
        for time, side, price in marks:
            colour, up = MARKS[side]
            cx, cy = x(time), y(price)
            parts.append(f'<polygon class="mark {side}" points="{cx:.1f},{cy - 6 * up:.1f} {cx - 5:.1f},'
                         f'{cy + 4 * up:.1f} {cx + 5:.1f},{cy + 4 * up:.1f}" fill="{colour}"><title>{side} at '
                         f'{price:,.2f}</title></polygon>')
    parts.append(axis_titles(x_label, y_label, base, width, height) + "</svg>")
    return "".join(parts)
