"""The budget dashboard: a static page that shows the ledger's figures in a real browser."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_peak_testnet import cli
from pytest_peak_testnet.desk.config import DailyLimits
from pytest_peak_testnet.desk.usage import UsageLedger
from pytest_peak_testnet.reporting.dashboard import write

NOW = datetime.now(timezone.utc)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install chromium); CI installs it in .ci/run")


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
    assert text.count("<svg") == 2 and "limit 2000" in text

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
    assert html.count("<tr><td>20") == 2 + 3
    first = (NOW - timedelta(days=29)).date().isoformat()
    last = (NOW - timedelta(days=2)).date().isoformat()
    assert f'<td colspan="7" class="gap">{first} – {last}: no runs (28 days)</td>' in html

