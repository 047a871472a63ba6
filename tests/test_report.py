"""The session report: what a user finds in reports/ after a run, for every kind of outcome."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import edit, ledger_runs, write_profile

SMOKE = ("--testnet-profile", "quick_smoke", "--testnet-report")


def report(project: pytest.Pytester) -> tuple[str, dict[str, Any]]:
    """``latest.md`` and ``latest.json``, after checking there is exactly one dated pair."""
    reports = project.path / "reports"
    assert len(list(reports.glob("testnet-report-*.md"))) == 1
    assert len(list(reports.glob("testnet-report-*.json"))) == 1
    return (reports / "latest.md").read_text(), json.loads((reports / "latest.json").read_text())


def row(markdown: str, profile: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {profile} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def row_text(markdown: str, prefix: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(prefix))


def test_passed_profile_report_has_header_table_section_and_budget(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest(*SMOKE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["testnet report: reports/testnet-report-*.md",
                                 "testnet report: reports/testnet-report-*.json",
                                 "testnet dashboard: reports/dashboard.html"])
    markdown, data = report(replay_project)
    run = data["profiles"][0]
    metrics = run["result"]["metrics"]
    assert markdown.startswith("# Testnet session report\n")
    assert "| Config | `config/config.toml` |" in markdown
    assert "| Runs | replay (cassette record mode `none`) |" in markdown
    assert "fills are simulated on a paper account" in markdown
    # quick_smoke closes its position on the last candle: one round trip, exact figures in EUR.
    assert row(markdown, "quick_smoke") == [
        "quick_smoke", "passed", "ma_crossover", "BTC/EUR", "15 min", "2", "1",
        f"{Decimal(run['spent_notional']):,.2f} EUR", f"{Decimal(metrics['fees']):,.2f} EUR",
        f"{Decimal(metrics['pnl']):+,.2f} EUR", f"{Decimal(metrics['max_drawdown_pct']):.3%}",
        "100.00%" if Decimal(metrics["pnl"]) > 0 else "0.00%", "∞" if Decimal(metrics["pnl"]) > 0 else "0.00", ""]
    assert "## quick_smoke" in markdown
    assert "- **Limits:** allowed" in markdown
    assert ("- **Orders:** 2 requested: 0 denied by the risk limits, 2 sent, 2 accepted, 0 rejected by the exchange"
            in markdown)
    assert "- **Figures:** 2 trades, 1 round trip, notional " in markdown
    assert "- **Equity:** `" in markdown
    assert "## Budget for" in markdown and "| Notional (quote currency) | 0.00 | 2,000.00 | 2,000.00 |" in markdown
    assert "1 replay or simulator run(s) logged and not counted" in markdown
    assert data["totals"] == {"runs": 1, "outcomes": {"passed": 1}, "currency": "EUR",
                              "notional": run["spent_notional"], "trades": run["spent_trades"],
                              "fees": metrics["fees"], "pnl": metrics["pnl"], "alerts": 0,
                              "expectations": {"held": 8, "failed": 0}}
    assert "- **Baseline:** matched, `cassettes/quick_smoke.baseline.yaml`" in markdown
    assert (replay_project.path / "reports" / "dashboard.html").exists()


def test_failed_profile_shows_its_error_and_a_run_failed_alert(replay_project: pytest.Pytester) -> None:
    # Other parameters send an order its cassette never recorded: the run fails mid-way.
    replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", "params.fast=2",
                             "--testnet-override", "params.slow=4", "--testnet-report").assert_outcomes(failed=1)
    markdown, data = report(replay_project)
    assert row(markdown, "quick_smoke")[1] == "failed"
    assert "- **Last error:** `CassetteError: " in markdown
    assert "## Alerts" in markdown and "- **quick_smoke** run_failed at " in markdown
    assert [a["kind"] for a in data["profiles"][0]["alerts"]] == ["run_failed"]


def test_markdown_shows_html_in_a_profile_name_as_text(replay_project: pytest.Pytester) -> None:
    name = "<script>alert(1)</script>"
    with (replay_project.path / "config" / "config.toml").open("a") as f:
        f.write(f'\n[testnet_profiles."{name}"]\nstrategy = "ma_crossover"\nsymbol = "BTC/EUR"\ntimeframe = "1m"\n'
                'max_notional = 1500.0\n')
    replay_project.runpytest("--testnet-report").assert_outcomes(passed=5, skipped=1)
    markdown, _ = report(replay_project)
    assert "<script>" not in markdown and "</script>" not in markdown
    assert "## &lt;script>alert(1)&lt;/script>" in markdown
    assert row(markdown, "&lt;script>alert(1)&lt;/script>")[1] == "blocked"


def test_blocked_profile_lists_the_limit_reasons(replay_project: pytest.Pytester) -> None:
    write_profile(replay_project, "too_big", max_notional=1500.0, duration_minutes=300)
    replay_project.runpytest("--testnet-profile", "too_big", "--testnet-report").assert_outcomes(skipped=1)
    markdown, data = report(replay_project)
    assert row(markdown, "too_big")[1] == "blocked"
    assert row(markdown, "too_big")[-1] == "RUN_NOTIONAL_EXCEEDS_MAX, RUN_DURATION_EXCEEDS_MAX"
    assert ("- **Limits:** blocked: RUN_NOTIONAL_EXCEEDS_MAX (1500.00 > 1000.00); "
            "RUN_DURATION_EXCEEDS_MAX (300 min > 240 min)") in markdown
    assert data["profiles"][0]["result"] is None


def test_errored_profile_and_an_unreadable_ledger_still_give_a_report(replay_project: pytest.Pytester) -> None:
    usage = replay_project.path / "test_results" / "usage"
    usage.mkdir(parents=True)
    today = datetime.now(timezone.utc).date().isoformat()
    (usage / f"usage_{today}.json").write_text("{not json")
    result = replay_project.runpytest(*SMOKE)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["testnet dashboard not written: *usage_*.json: not valid JSON*"])
    markdown, data = report(replay_project)
    assert row(markdown, "quick_smoke")[1] == "error"
    assert "LedgerError" in row_text(markdown, "- **Last error:** ")
    assert "The ledger could not be read: " in markdown
    assert data["budget"]["error"].endswith("fix or remove the file")


def test_no_report_unless_asked_or_configured(replay_project: pytest.Pytester) -> None:
    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    assert not (replay_project.path / "reports").exists()
    config = replay_project.path / "config" / "config.toml"
    edit(config, "auto_generate_report = false", "auto_generate_report = true")
    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    assert (replay_project.path / "reports" / "latest.md").exists()


def test_report_dir_from_option_and_from_ini(replay_project: pytest.Pytester) -> None:
    replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-report-dir", "out/a").assert_outcomes(passed=1)
    assert (replay_project.path / "out" / "a" / "latest.md").exists()
    ini = replay_project.path / "tox.ini"
    ini.write_text(ini.read_text().rstrip("\n") + "\ntestnet_report_dir = out/b\n")
    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    assert not (replay_project.path / "out" / "b").exists()  # the ini says where, not whether
    replay_project.runpytest(*SMOKE).assert_outcomes(passed=1)
    assert (replay_project.path / "out" / "b" / "latest.json").exists()


def test_template_mistake_is_one_line_and_fails_the_session(replay_project: pytest.Pytester) -> None:
    (replay_project.path / "mine.md.j2").write_text("# Mine\n\n{{ report.totals.runs }} runs\n{{ report.nope }}\n")
    result = replay_project.runpytest(*SMOKE, "--testnet-report-template", "mine.md.j2")
    result.stdout.fnmatch_lines(["testnet report not written: *mine.md.j2, line 4: 'dict object' has no attribute 'nope'"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert not (replay_project.path / "reports" / "latest.md").exists()

    (replay_project.path / "mine.md.j2").write_text("{% for p in report.profiles %}\n")
    broken = replay_project.runpytest(*SMOKE, "--testnet-report-template", "mine.md.j2")
    broken.stdout.fnmatch_lines(["testnet report not written: *mine.md.j2, line 1: Unexpected end of template*"])


def test_user_template_can_include_the_shipped_table(replay_project: pytest.Pytester) -> None:
    (replay_project.path / "mine.md.j2").write_text(
        "# Desk run {{ report.started_at[:10] }}\n\n{% include 'summary_table.md.j2' %}")
    replay_project.runpytest(*SMOKE, "--testnet-report-template", "mine.md.j2").assert_outcomes(passed=1)
    markdown, _ = report(replay_project)
    assert markdown.startswith("# Desk run ")
    assert row(markdown, "quick_smoke")[1] == "passed"


def test_conftest_adds_a_section_through_the_hook(replay_project: pytest.Pytester) -> None:
    replay_project.makeconftest("""
        def pytest_peak_testnet_report_sections(config, report):
            return [("Desk notes", f"{report['totals']['runs']} run(s) reviewed by the desk.")]
    """)
    replay_project.runpytest(*SMOKE).assert_outcomes(passed=1)
    markdown, data = report(replay_project)
    assert markdown.rstrip().endswith("## Desk notes\n\n1 run(s) reviewed by the desk.")
    assert data["sections"] == [{"title": "Desk notes", "markdown": "1 run(s) reviewed by the desk."}]


def test_step_summary_gets_the_table_appended(replay_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = replay_project.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = replay_project.runpytest(*SMOKE)
    result.stdout.fnmatch_lines(["testnet summary table appended to $GITHUB_STEP_SUMMARY"])
    text = summary.read_text()
    assert text.startswith("earlier step\n### Testnet sessions, ")
    assert row(text, "quick_smoke")[1] == "passed"
    assert "| **1 run** | 1 passed |" in text


def test_junitxml_carries_the_profile_figures(replay_project: pytest.Pytester) -> None:
    replay_project.runpytest(*SMOKE, "--junitxml=out.xml").assert_outcomes(passed=1)
    _, data = report(replay_project)
    case = ET.parse(replay_project.path / "out.xml").getroot().find(".//testcase[@name='quick_smoke']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    run = data["profiles"][0]
    assert props["testnet_notional"] == run["spent_notional"]  # exact decimal strings
    assert int(props["testnet_trades"]) == run["spent_trades"]
    assert props["testnet_pnl"] == run["pnl"]


def test_xdist_writes_one_report_whose_totals_equal_the_ledger(replay_project: pytest.Pytester) -> None:
    # The EUR profiles: totals of money are summed in one currency only (BTC/USDT's run is apart)
    result = replay_project.runpytest("-n", "2", "profiles", "-k", "not binance", "--testnet-report")
    result.assert_outcomes(passed=4)
    markdown, data = report(replay_project)
    runs = ledger_runs(replay_project.path)
    assert sorted(p["profile"] for p in data["profiles"]) == sorted(r["profile"] for r in runs) == [
        "btc_momentum", "eth_swing", "ma_crossover_small", "quick_smoke"]
    # One definition of notional, exactly the same in the report and in the ledger.
    assert Decimal(data["totals"]["notional"]) == sum(Decimal(r["actual_notional"]) for r in runs)
    assert data["totals"]["trades"] == sum(r["actual_trades"] for r in runs)
    assert (f"| **4 runs** | 4 passed | | | | **{data['totals']['trades']}** | | "
            f"**{Decimal(data['totals']['notional']):,.2f} EUR** |") in markdown
    assert not list(Path(replay_project.path / "reports").glob(".*.tmp"))


def test_testnet_dashboard_option_writes_the_page(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dashboard", "site/budget.html")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["testnet dashboard: site/budget.html"])
    assert "quick_smoke" in (replay_project.path / "site" / "budget.html").read_text()
    assert not (replay_project.path / "reports").exists()


def test_ini_mirrors_what_a_desk_fixes_once(replay_project: pytest.Pytester) -> None:
    (replay_project.path / "desk.md.j2").write_text("# Desk\n\n{{ report.totals.runs }} runs\n")
    ini = replay_project.path / "tox.ini"
    ini.write_text(ini.read_text().rstrip("\n") + "\ntestnet_report = true\ntestnet_report_template = desk.md.j2\n"
                   "testnet_dashboard = site/budget.html\n")
    replay_project.runpytest("--testnet-profile", "quick_smoke").assert_outcomes(passed=1)
    assert (replay_project.path / "reports" / "latest.md").read_text().startswith("# Desk\n\n1 runs")
    assert (replay_project.path / "site" / "budget.html").exists()
