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


def equity_chart(profile: Mapping[str, Any]) -> Markup:
    candles = len(profile["equity"])
    return Markup(svg_line(f"{profile['profile']}: equity", profile["equity"],
                           y_label=f"equity ({profile['currency']})", x_label=f"candle ({profile['timeframe']})",
                           x_ends=("1", str(candles))))


def page(data: Mapping[str, Any]) -> str:
    charts = {p["profile"]: equity_chart(p) for p in data["profiles"] if p["equity"]}
    return render(TEMPLATE, autoescape=True, report=data, charts=charts)
