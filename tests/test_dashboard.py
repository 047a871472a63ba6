"""The budget dashboard: a static page that shows the ledger's figures in a real browser."""

from __future__ import annotations

import base64
import io
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import CHROMIUM, edit, needs_chromium, write_profile, write_run
from pytest_peak_testnet import cli
from pytest_peak_testnet.desk.config import DailyLimits
from pytest_peak_testnet.desk.usage import UsageLedger
from pytest_peak_testnet.reporting import outcomes
from pytest_peak_testnet.reporting.dashboard import write

NOW = datetime.now(timezone.utc)


class Allow:
    allowed = True


def ledger_with_runs(base: Path) -> UsageLedger:
    """Yesterday one live run; today a live run and a replay (shown, not counted)."""
    for when, profile, mode, planned, actual, trades in (
            (NOW - timedelta(days=1), "btc_momentum", "live", 1000, 412.5, 9),
            (NOW, "ma_crossover_small", "live", 500, 123.45, 4),
            (NOW, "quick_smoke", "replay", 200, 38.1, 1)):
        ledger = UsageLedger(base, 7, now=lambda when=when: when)
        if mode == "live":
            _, reservation = ledger.reserve(profile, f"profiles/{profile}.yaml::{profile}", "live", planned, 10,
                                            lambda usage: Allow())
            assert reservation is not None
            ledger.settle(reservation, actual, trades, "passed")
        else:
            ledger.log_unspent(profile, f"profiles/{profile}.yaml::{profile}", "replay", planned, 5, actual, trades,
                               "passed")
    return UsageLedger(base, 7)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
def test_dashboard_opens_from_disk_and_shows_the_ledger(tmp_path: Path) -> None:
    page = tmp_path / "site" / "dashboard.html"
    write(page, ledger_with_runs(tmp_path / "results"), DailyLimits(max_notional_per_day=2000.0, max_trades_per_day=60))
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "chrome-a")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    assert "Testnet budget dashboard" in text
    assert "123.45 / 2000.00" in text  # today's counted notional against the daily limit
    assert "4 / 60" in text
    assert "1 counted" in text and "+ 1 replay/simulator" in text
    assert "412.50" in text  # yesterday's run, in the days table and the runs table
    for profile in ("btc_momentum", "ma_crossover_small", "quick_smoke"):
        assert f"<td>{profile}</td>" in text
    assert text.count("<svg") == 3 and "limit 2000" in text

    shot = tmp_path / "dashboard.png"
    taken = chromium(f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri(), profile=tmp_path / "chrome-b")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dashboard_command_writes_the_page_beside_the_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger_with_runs(tmp_path / "test_results")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert cli.main(["dashboard"], out=out) == 0
    assert out.getvalue() == "dashboard written: reports/dashboard.html\n"
    html = (tmp_path / "reports" / "dashboard.html").read_text()
    assert "123.45 / 5000.00" in html  # no config file: the documented default limits
    # Today and yesterday, then each ledger entry; the 28 days without a run are one line.
    assert html.count('<tr><td class="when">20') == 2 + 3
    first = (NOW - timedelta(days=29)).date().isoformat()
    last = (NOW - timedelta(days=2)).date().isoformat()
    assert f'<td colspan="7" class="gap">{first} – {last}: no runs (28 days)</td>' in html



def desk_of_a_busy_day(base: Path) -> tuple[UsageLedger, Path]:
    """Today: one live run (counted) and a day of replays whose notional (2,866) is well
    over the 2,000 limit, as in the issue; run logs with each verdict and each mode."""
    ledger = ledger_with_runs(base / "results")
    for _ in range(14):
        UsageLedger(base / "results", 7).log_unspent("quick_smoke", "q", "replay", 200, 5, 203.98, 2, "passed")
    runs = base / "runs"
    for n, (profile, mode, verdict) in enumerate((("quick_smoke", "replay", "passed"),
                                                 ("eth_swing", "simulator", "failed expectations"),
                                                 ("btc_momentum", "replay", "baseline differs"),
                                                 ("ma_crossover_small", "live", "passed"))):
        started = {"event": "run_started", "time": 1704067200, "at": f"2026-11-23T10:0{n}:00.000+00:00",
                   "profile": profile, "strategy": "ma_crossover", "symbol": "BTC/EUR", "timeframe": "1m",
                   "duration_minutes": 15, "max_notional": "200", "max_trades": 5, "validate_only": True, "mode": mode}
        stop = "RUN_MAX_TRADES_REACHED (4 of 5 trades used; a buy needs 2 left)" if n == 1 else "DURATION_ELAPSED"
        finished = {"event": "run_finished", "time": 1704068100, "at": "x", "stop_reason": stop,
                    "spent_notional": "97.5", "spent_trades": 2, "metrics": {"pnl": "-0.23", "equity_curve": [
                        [1704067200, "10000"], [1704067260, "9999.77"]]}}
        folder = write_run(runs, f"20261123T100{n}00Z-{profile}-0000000{n}", [started, finished])
        outcomes.keep({"profile": profile, "mode": mode, "outcome": "failed" if verdict != "passed" else "passed",
                       "log_path": str(folder / "events.jsonl"), "decision": {"allowed": True},
                       "verdict": {"failed": int(verdict == "failed expectations"), "checks": [],
                                   "baseline": {"status": "differs" if "baseline" in verdict else "matched"}}}, runs)
    write_run(runs, "20261123T100900Z-btc_momentum-00000009", [
        {"event": "run_started", "time": 1704067200, "at": "2026-11-23T10:09:00.000+00:00", "profile": "btc_momentum",
         "strategy": "momentum_1h", "symbol": "BTC/EUR", "timeframe": "5m", "duration_minutes": 120,
         "max_notional": "1000", "max_trades": 30, "mode": "live"},
        {"event": "run_failed", "time": None, "at": "x", "error": "KrakenAPIError: EOrder:Insufficient funds (the "
         "exchange refused the order: the testnet account holds 0.0000 EUR against 32.52 EUR needed) on POST "
         "/0/private/AddOrder after 3 attempts with backoff 1 s, 2 s, 4 s"}])
    outcomes.keep({"profile": "eth_swing", "symbol": "ETH/EUR", "timeframe": "1m", "mode": "replay", "outcome": "blocked",
                   "log_path": None, "decision": {"allowed": False, "reasons": [
                       {"code": "DAILY_TRADES_EXCEEDED", "detail": "60 of 60 used"}]}}, runs)
    return ledger, runs


#: Chromium counts the pixels of a PNG of one element near a colour: the screenshot is
#: judged as a person would look at it, without an image library on the Python side.
COUNT_PIXELS = """async ([png, rgb]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height).data;
  let found = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - rgb[0]) < 8 && Math.abs(data[i + 1] - rgb[1]) < 8 && Math.abs(data[i + 2] - rgb[2]) < 8) found++;
  }
  return found;
}"""
RED, GREY, BLUE = (0xC0, 0x39, 0x2B), (0xB8, 0xC4, 0xD0), (0x2E, 0x86, 0xDE)


@needs_chromium
def test_at_1400_px_dates_keep_to_one_line_and_only_counted_bars_meet_the_limit_line(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ledger, runs = desk_of_a_busy_day(tmp_path)
    page_path = tmp_path / "site" / "dashboard.html"
    write(page_path, ledger, DailyLimits(max_notional_per_day=2000.0, max_trades_per_day=60), runs_dir=runs)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(page_path.as_uri())

            def pixels(selector: str, rgb: tuple[int, int, int]) -> int:
                png = base64.b64encode(page.locator(selector).screenshot()).decode()
                return int(page.evaluate(COUNT_PIXELS, [png, list(rgb)]))

            counted = ["svg[aria-label^='Notional per day, counted']", "svg[aria-label^='Trades per day, counted']"]
            uncounted = "svg[aria-label^='Replay and simulator notional']"
            for chart in counted:  # the limit line, over blue bars only
                assert pixels(chart, RED) > 50 and pixels(chart, BLUE) > 50 and pixels(chart, GREY) == 0
            assert pixels(uncounted, GREY) > 50 and pixels(uncounted, RED) == 0  # 2,866 of replays, no limit
            assert page.locator(uncounted).get_attribute("aria-label") is not None

            # Every date and time is laid out on one line (a cell is as high as its row, so
            # the text's own line boxes are counted).
            lines = page.locator("td.when").evaluate_all(
                "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
                " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })")
            assert len(lines) > 10 and set(lines) == {1}
            rows = page.locator("#run-logs tr")
            assert [r.locator("td.verdict").inner_text() for r in rows.all()[1:]] == [
                "blocked", "failed", "passed", "baseline differs", "failed expectations", "passed"]
            assert [r.locator("td.mode").inner_text() for r in rows.all()[1:]] == [
                "replay", "live", "live", "replay", "simulator", "replay"]
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400  # nothing runs off the side
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()


def test_each_run_of_a_session_shows_its_verdict_and_mode(replay_project: pytest.Pytester) -> None:
    """A run whose expectations failed reads so, not "finished"; a blocked run is listed."""
    edit(replay_project.path / "profiles" / "quick_smoke.yaml", "  open_volume: 0", "  open_volume: 0\n  trades: {max: 1}")
    write_profile(replay_project, "too_big", max_notional=100000.0)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke,too_big", "--testnet-report")
    result.assert_outcomes(failed=1, skipped=1)
    html = (replay_project.path / "reports" / "dashboard.html").read_text()
    rows = dict(re.findall(r'<td>(quick_smoke|too_big)</td><td class="mode">(?:\w+)</td>.*?<td class="verdict [a-z]+"'
                           r'(?: title="[^"]*")?>([^<]+)</td>', html, re.DOTALL))
    assert rows == {"quick_smoke": "failed expectations", "too_big": "blocked"}
    assert 'class="mode">replay</td>' in html and 'title="expect.trades.max"' in html
