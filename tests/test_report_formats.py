"""``report_format``: Markdown, a self-contained HTML page and JSON, from the same data."""

from __future__ import annotations

import json
import re

import pytest

from conftest import edit, error_lines

SMOKE = ("--testnet-profile", "quick_smoke", "--testnet-report")


def set_formats(project: pytest.Pytester, value: str) -> None:
    config = project.path / "config" / "config.toml"
    edit(config, 'report_format = "markdown"', f"report_format = {value}")


def test_markdown_and_html_are_both_written_and_each_file_is_named(replay_project: pytest.Pytester) -> None:
    set_formats(replay_project, '["markdown", "html"]')
    result = replay_project.runpytest(*SMOKE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["testnet report: reports/testnet-report-*.md",
                                 "testnet report: reports/testnet-report-*.html",
                                 "testnet report: reports/testnet-report-*.json"])
    reports = replay_project.path / "reports"
    for suffix in ("md", "html", "json"):
        assert len(list(reports.glob(f"testnet-report-*.{suffix}"))) == 1
        assert (reports / f"latest.{suffix}").exists()
    html = (reports / "latest.html").read_text()
    markdown = (reports / "latest.md").read_text()
    data = json.loads((reports / "latest.json").read_text())

    # The same figures as the Markdown, from the same data.
    assert "| quick_smoke | passed | ma_crossover | BTC/EUR | 15 min | 2 | 1 | 97.58 EUR | 0.25 EUR | -0.23 EUR |" \
        in markdown
    cells = re.search(r'<tr><td><a href="#profile-quick_smoke">quick_smoke</a></td>(.*?)</tr>', html)
    assert cells is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", cells.group(1))[:9] == [
        "passed", "ma_crossover", "BTC/EUR", "15 min", "2", "1", "97.58 EUR", "0.25 EUR", "-0.23 EUR"]
    assert f"Started</th><td>{data['started_at']} (UTC)" in html
    assert "DURATION_ELAPSED after 15 candles" in html and "DURATION_ELAPSED after 15 candles" in markdown
    assert "final equity 9,999.77 EUR" in html

    # Self-contained: no script, no stylesheet or image from anywhere else.
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    # A price chart with the run's buy and sell, and the equity beneath it, both against
    # UTC time, on y axes in the quote currency at 1-2-5 steps.
    assert html.count("<svg") == 2
    price, equity = html.split("<svg")[1:]
    assert 'class="y-label">price (EUR)</text>' in price and 'class="y-label">equity (EUR)</text>' in equity
    assert html.count('class="x-label">time (UTC), 1m candles</text>') == 2
    for chart in (price, equity):  # the cassette's candles: 2024-01-01, 00:00 to 00:14
        assert re.findall(r'class="x-tick">([^<]*)<', chart) == ["01-01 00:00", "00:05", "00:10"]
    assert re.findall(r'text-anchor="end">([0-9,.]+)</text>', price) == ["38,800", "38,850", "38,900", "38,950",
                                                                           "39,000"]
    assert re.findall(r'text-anchor="end">([0-9,.]+)</text>', equity) == ["9,999.7", "9,999.8", "9,999.9", "10,000.0"]
    assert re.findall(r'<polygon class="mark (buy|sell)"', price) == ["buy", "sell"]
    assert "<title>buy at 38,927.05</title>" in price and "<title>sell at 38,942.12</title>" in price


def test_json_alone_writes_only_the_data_file(replay_project: pytest.Pytester) -> None:
    set_formats(replay_project, '"json"')
    result = replay_project.runpytest(*SMOKE)
    result.assert_outcomes(passed=1)
    written = [line for line in result.outlines if line.startswith("testnet report:")]
    assert len(written) == 1 and written[0].endswith(".json")
    reports = replay_project.path / "reports"
    assert sorted(p.suffix for p in reports.glob("testnet-report-*")) == [".json"]
    assert json.loads((reports / "latest.json").read_text())["profiles"][0]["profile"] == "quick_smoke"


def test_html_alone_still_leaves_the_json_beside_it(replay_project: pytest.Pytester) -> None:
    set_formats(replay_project, '"html"')
    replay_project.runpytest(*SMOKE).assert_outcomes(passed=1)
    reports = replay_project.path / "reports"
    assert sorted(p.suffix for p in reports.glob("testnet-report-*")) == [".html", ".json"]


@pytest.mark.parametrize(("value", "found"), [('"pdf"', "'pdf'"), ('["markdown", "pdf"]', "a list ['markdown', 'pdf']"),
                                              ("[]", None)])
def test_an_unknown_format_is_one_line(replay_project: pytest.Pytester, value: str, found: str | None) -> None:
    set_formats(replay_project, value)
    result = replay_project.runpytest(*SMOKE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = ("expected one of 'markdown', 'html', 'json' or a list of 'markdown', 'html', 'json', found " + found
                if found else "expected at least one of 'markdown', 'html', 'json', found an empty list")
    assert error_lines(result) == [f"ERROR: config/config.toml: testnet_orchestration.report_format: {expected}"]
