"""The layout of each report format, checked line by line and tag by tag: a template's
whitespace control (``trim_blocks``) can join two lines, or a tag can be left open, and
the figures in it would still all be "in" the file."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CHROMIUM, edit, needs_chromium, write_profile

#: Void elements: no closing tag in HTML.
VOID = {"meta", "br", "hr", "img", "input", "link"}
#: SVG elements written self-closed (``<line .../>``).
SELF_CLOSED = {"line", "polyline", "circle", "rect", "path", "polygon"}
#: What a Markdown line of the report may start with.
MARKDOWN_LINE = re.compile(r"^(#{1,3} |\|[ -]|- \*\*|  - |[0-9]+ run\(s\) |The ledger |$)")


@pytest.fixture
def reports(replay_project: pytest.Pytester) -> Path:
    """A replay of quick_smoke whose profile expects one trade at most (it makes two), of
    ma_crossover_small, and a profile the limits block, in every format: a report with
    orders, trades, held and failed expectations, baselines and blocked reasons."""
    edit(replay_project.path / "config" / "config.toml", 'report_format = "markdown"',
         'report_format = ["markdown", "html"]')
    edit(replay_project.path / "profiles" / "quick_smoke.yaml", "  open_volume: 0", "  open_volume: 0\n  trades: {max: 1}")
    write_profile(replay_project, "too_big", max_notional=100000.0)  # blocked by the limits, with long codes
    result = replay_project.runpytest("--testnet-profile", "quick_smoke,ma_crossover_small,too_big", "--testnet-report")
    result.assert_outcomes(failed=1, passed=1, skipped=1)
    return replay_project.path / "reports"


def test_markdown_has_one_item_per_line(reports: Path) -> None:
    markdown = (reports / "latest.md").read_text()
    for number, line in enumerate(markdown.splitlines(), 1):
        assert MARKDOWN_LINE.match(line), f"line {number} starts in no known way: {line!r}"
        assert "- **" not in line[2:].lstrip(" -"), f"line {number} joins two items: {line!r}"
    section = markdown.split("## quick_smoke\n", 1)[1].split("\n## ", 1)[0]
    labels = re.findall(r"^- \*\*([^*]+):\*\*", section, re.MULTILINE)
    assert labels == ["Outcome", "Plan", "Limits", "Orders", "Session", "Figures", "Trips", "Equity", "Expectations",
                      "Baseline", "Last error", "Run log"]
    assert "  - **failed**: `expect.trades.max: 2 > 1`" in section


class Tags(HTMLParser):
    """Every element opened is closed in order; records each ``<li>``'s first bold label."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.labels: list[str] = []
        self._in_li_start = False
        self._in_b = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li" and (not self.open or self.open[-1] not in ("ul", "ol")):
            self.problems.append(f"<li> inside <{self.open[-1] if self.open else 'nothing'}>")
        self._in_b = tag == "b" and self._in_li_start
        self._in_li_start = tag == "li"
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SELF_CLOSED | VOID:
            self.problems.append(f"<{tag}/> is not an element that may close itself")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
            return
        self.open.pop()
        self._in_b = False

    def handle_data(self, data: str) -> None:
        if self._in_b:
            self.labels.append(data)
            self._in_b = False
        if data.strip():
            self._in_li_start = False


def test_html_is_well_formed_and_shows_every_item_the_markdown_shows(reports: Path) -> None:
    html = (reports / "latest.html").read_text()
    tags = Tags()
    tags.feed(html)
    tags.close()
    assert tags.problems == [] and tags.open == []
    assert "**" not in html and "`" not in html  # no Markdown left in the page
    markdown = (reports / "latest.md").read_text()
    for label in re.findall(r"^- \*\*([^*]+):\*\*", markdown, re.MULTILINE):
        assert f"{label}:" in tags.labels, f"the Markdown's {label!r} item is not in the HTML"


def test_json_is_one_line_of_exact_figures(reports: Path) -> None:
    text = (reports / "latest.json").read_text()
    assert text.endswith("}\n") and text.count("\n") == 1
    data = json.loads(text)
    profile = data["profiles"][0]
    for key in ("spent_notional", "fees", "pnl", "final_equity"):
        assert isinstance(profile[key], str) and re.fullmatch(r"-?\d+(\.\d+)?", profile[key]), key
    assert [c["held"] for c in profile["verdict"]["checks"]].count(False) == 1
    assert set(data) >= {"title", "started_at", "config", "profiles", "totals", "budget", "sections"}


@needs_chromium
def test_html_fits_a_1400_px_window(reports: Path) -> None:
    """Nothing runs off the side: a blocked profile's reasons wrap in their cell."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto((reports / "latest.html").as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400
            assert page.locator("svg").count() == 4 and page.locator("#profile-quick_smoke polygon.mark").count() == 2
            assert page.locator("table.expectations tr.failed td").first.inner_text() == "expect.trades.max"
        finally:
            browser.close()
