"""Small charts with no dependencies: a Unicode sparkline for Markdown, SVG for the dashboard.

GitHub strips ``<svg>`` from Markdown, so the report draws its equity curves with block
characters, which render in any viewer and terminal; the dashboard is HTML and gets real
SVG, drawn here so the page needs no script to show its figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

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


def svg_bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
             limit: float | None = None, y_label: str = "", x_label: str = "", width: int = 640,
             height: int = 220) -> str:
    """Grouped bars per label (``series`` = ``(name, colour, values)``) on a scaled y axis
    named ``y_label`` (with its unit), with a dashed line at ``limit``; every bar carries a
    ``<title>`` with its figure for hovering."""
    left, right, top, base = 72, 16, 12, height - 44
    high = max([limit or 0.0, *(v for _, _, values in series for v in values)]) or 1.0
    slot = (width - left - right) / max(1, len(labels))
    bar = min(slot * 0.8 / max(1, len(series)), 28.0)
    #: Labels need about 40 px each; label every ``step``-th slot and always the last one.
    step = max(1, math.ceil(len(labels) * 40 / (width - left - right)))

    def y(value: float) -> float:
        return base - value / high * (base - top)

    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in ticks(0.0, high):
        parts.append(f'<line x1="{left - 4}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 3:.1f}" font-size="10" text-anchor="end">{tick:,.{0 if high >= 20 else 1}f}</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#888"/>'
                 f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#888"/>')
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for j, (name, colour, values) in enumerate(series):
            v = values[i]
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(v):.1f}" width="{bar:.1f}" height="{base - y(v):.1f}" '
                         f'fill="{colour}"><title>{escape(label)} {escape(name)}: {v:.2f}</title></rect>')
        if (len(labels) - 1 - i) % step == 0:
            parts.append(f'<text x="{left + (i + 0.5) * slot:.1f}" y="{base + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    if limit is not None:
        parts.append(f'<line x1="{left}" y1="{y(limit):.1f}" x2="{width - right}" y2="{y(limit):.1f}" stroke="#c0392b" '
                     f'stroke-dasharray="6 4"><title>limit {limit:g}</title></line>'
                     f'<text x="{width - right}" y="{y(limit) - 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#c0392b">limit {limit:g}</text>')
    parts.append(axis_titles(x_label, y_label, left, right, top, base, width, height))
    parts.append("</svg>")
    return "".join(parts)


def axis_titles(x_label: str, y_label: str, left: int, right: int, top: int, base: float, width: int,
                height: int) -> str:
    return (f'<text x="{left + (width - left - right) / 2}" y="{height - 6}" font-size="11" text-anchor="middle" '
            f'class="x-label">{escape(x_label)}</text>'
            f'<text transform="translate(14 {top + (base - top) / 2}) rotate(-90)" font-size="11" '
            f'text-anchor="middle" class="y-label">{escape(y_label)}</text>')


def ticks(low: float, high: float, count: int = 4) -> list[float]:
    """``count`` + 1 evenly spaced values from ``low`` to ``high`` for an axis's scale."""
    if high == low:
        return [low]
    return [low + (high - low) * i / count for i in range(count + 1)]


def svg_line(title: str, values: Sequence[float], y_label: str, x_label: str,
             x_ends: tuple[str, str] = ("", ""), width: int = 640, height: int = 220) -> str:
    """A line with a labelled, scaled y axis and an x axis named and marked at both ends:
    an equity curve is read as figures, not as a shape."""
    left, right, top, bottom = 72, 16, 12, 44
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    base, plot_w = height - bottom, width - left - right
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#888"/>'
                 f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#888"/>')
    if values:
        low, high = min(values), max(values)
        span = (high - low) or max(abs(high) * 0.001, 1.0)
        low, high = (low, high) if high > low else (low - span / 2, high + span / 2)

        def y(value: float) -> float:
            return base - (value - low) / (high - low) * (base - top)

        for tick in ticks(low, high):
            parts.append(f'<line x1="{left - 4}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
                         f'stroke="#eee"/><text x="{left - 6}" y="{y(tick) + 3:.1f}" font-size="10" '
                         f'text-anchor="end">{tick:,.2f}</text>')
        step = plot_w / max(1, len(values) - 1)
        points = " ".join(f"{left + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#2e86de" stroke-width="1.5"/>')
    else:
        parts.append(f'<text x="{left + plot_w / 2}" y="{height / 2}" font-size="12" text-anchor="middle" '
                     f'fill="#666">no data</text>')
    parts.append(f'<text x="{left}" y="{base + 14}" font-size="10" text-anchor="start">{escape(x_ends[0])}</text>'
                 f'<text x="{width - right}" y="{base + 14}" font-size="10" text-anchor="end">{escape(x_ends[1])}</text>'
                 + axis_titles(x_label, y_label, left, right, top, base, width, height) + "</svg>")
    return "".join(parts)
