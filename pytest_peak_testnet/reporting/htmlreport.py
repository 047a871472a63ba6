"""The session report as one self-contained HTML page, rendered from the report's data.

The same dict the Markdown and the JSON are made of, so the three never disagree. Styles
and charts (SVG) are inside the page and it has no script: it opens from a CI artefact
or an e-mail attachment with no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from .charts import svg_line
from .rendering import render

TEMPLATE = "report.html.j2"


def charts(profile: Mapping[str, Any]) -> Markup:
    """The price the run traded on with its buys and sells marked, and its equity beneath,
    both against UTC time; only the equity when the run log held no candles (an older log)."""
    currency, timeframe = profile["currency"], profile["timeframe"]
    parts = []
    if profile["prices"]:
        times, closes = zip(*profile["prices"], strict=True)
        parts.append(svg_line(f"{profile['profile']}: {profile['symbol']} close, with its trades", closes,
                              y_label=f"price ({currency})", x_label=f"time (UTC), {timeframe} candles",
                              times=times, marks=[tuple(fill) for fill in profile["fills"]], height=240))
    parts.append(svg_line(f"{profile['profile']}: equity", profile["equity"], y_label=f"equity ({currency})",
                          x_label=f"time (UTC), {timeframe} candles", times=profile["equity_times"], height=180))
    return Markup("".join(parts))


def page(data: Mapping[str, Any]) -> str:
    shown = {p["profile"]: charts(p) for p in data["profiles"] if p["equity"]}
    return render(TEMPLATE, autoescape=True, report=data, charts=shown)
