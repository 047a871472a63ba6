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
             limit: float | None = None, width: int = 640, height: int = 200) -> str:
    """Grouped bars per label (``series`` = ``(name, colour, values)``), with a dashed line
    at ``limit``; every bar carries a ``<title>`` with its figure for hovering."""
    pad, base = 36, height - 28
    top = max([limit or 0.0, *(v for _, _, values in series for v in values)]) or 1.0
    slot = (width - 2 * pad) / max(1, len(labels))
    bar = slot * 0.8 / max(1, len(series))
    #: Labels need about 40 px each; label every ``step``-th slot and always the last one.
    step = max(1, math.ceil(len(labels) * 40 / (width - 2 * pad)))

    def y(value: float) -> float:
        return base - value / top * (base - 12)

    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#888"/>']
    for i, label in enumerate(labels):
        x0 = pad + i * slot + slot * 0.1
        for j, (name, colour, values) in enumerate(series):
            v = values[i]
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(v):.1f}" width="{bar:.1f}" height="{base - y(v):.1f}" '
                         f'fill="{colour}"><title>{escape(label)} {escape(name)}: {v:.2f}</title></rect>')
        if (len(labels) - 1 - i) % step == 0:
            parts.append(f'<text x="{pad + (i + 0.5) * slot:.1f}" y="{height - 10}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    if limit is not None:
        parts.append(f'<line x1="{pad}" y1="{y(limit):.1f}" x2="{width - pad}" y2="{y(limit):.1f}" stroke="#c0392b" '
                     f'stroke-dasharray="6 4"><title>limit {limit:g}</title></line>'
                     f'<text x="{width - pad}" y="{y(limit) - 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#c0392b">limit {limit:g}</text>')
    parts.append("</svg>")
    return "".join(parts)
