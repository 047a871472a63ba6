"""``peak-testnet serve``: the dashboard over HTTP, watched in headless Chromium while a run
records against the simulator, and the run-log figures it lists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CHROMIUM, needs_chromium, write_run
from pytest_peak_testnet.desk.config import AlertsConfig
from pytest_peak_testnet.reporting.runview import summary

BIN = Path(sys.executable).parent


@pytest.fixture
def served(project: pytest.Pytester) -> Iterator[str]:
    """``peak-testnet serve --port 0`` in the project; yields its URL."""
    proc = subprocess.Popen([str(BIN / "peak-testnet"), "serve", "--port", "0", "--refresh", "0.5"],
                            cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving the testnet dashboard on http://127.0.0.1:"), line + proc.stderr.read()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_is_read_only_on_loopback(served: str) -> None:
    with urllib.request.urlopen(served + "api/state", timeout=10) as response:
        state = json.load(response)
    assert state["run_logs"] == [] and state["today"]["runs"] == 0
    assert state["limits"] == {"notional": 2000.0, "trades": 60}  # config.test.toml
    for method in ("POST", "PUT", "DELETE"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(served, data=b"x", method=method), timeout=10)
        assert refused.value.code == 501
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(served + "ledger.json", timeout=10)
    assert missing.value.code == 404


@needs_chromium
def test_a_run_appears_live_in_chromium(project: pytest.Pytester, served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.goto(served)
            expect(page.locator("#run-logs")).to_contain_text("No run logs under the runs folder yet.")
            expect(page.locator("#today-runs")).to_contain_text("+ 0 replay/simulator")
            expect(page.locator("p.muted").first).to_contain_text("refreshed every 0.5 s")
            page.evaluate("window.notReloaded = true")

            # A run still writing its log: it shows as running with the PnL its fills realized so far.
            going = project.path / "test_runs" / "20261123T100000Z-eth_swing-abcd1234"
            going.mkdir(parents=True)
            log = going / "events.jsonl"
            log.write_text(json.dumps({"event": "run_started", "time": 1, "at": "2026-11-23T10:00:00.000+00:00",
                                       "profile": "eth_swing", "strategy": "rsi_strategy", "symbol": "ETH/EUR",
                                       "timeframe": "1m", "duration_minutes": 60, "max_notional": "800",
                                       "max_trades": 20, "validate_only": True}) + "\n")
            running = page.locator("#run-logs tr", has_text="eth_swing")
            expect(running).to_contain_text("running", timeout=30_000)
            with log.open("a") as handle:
                for side, pnl in (("buy", "0"), ("sell", "1.25")):
                    handle.write(json.dumps({"event": "fill", "time": 2, "at": "x", "side": side, "volume": "0.01",
                                             "price": "2000", "notional": "20", "fee": "0.05",
                                             "realized_pnl": pnl, "trade": side}) + "\n")
            expect(running.locator("td").nth(8)).to_have_text("+1.25 EUR", timeout=30_000)
            expect(running.locator("td").nth(6)).to_have_text("2")

            env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "PYTEST_"))}
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testnet-profile", "quick_smoke",
                 "--testnet-simulator", "--testnet-record-mode=all"],
                cwd=project.path, env=env, capture_output=True, text=True, timeout=300, check=False)
            assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

            row = page.locator("#run-logs tr", has_text="quick_smoke")
            expect(row.locator("td.verdict")).to_have_text("passed", timeout=30_000)  # its expectations held
            expect(row.locator("td.mode")).to_have_text("simulator")
            expect(row).to_contain_text("DURATION_ELAPSED")
            expect(row.locator("td").nth(8)).to_have_text(
                re.compile(r"^[+-]\d+\.\d\d EUR$"))  # the run's PnL
            expect(page.locator("#today-runs")).to_contain_text("+ 1 replay/simulator")
            assert page.evaluate("window.notReloaded") is True  # refreshed in place, not reloaded
            expect(page.locator("p.muted").first).to_contain_text("refreshed every 0.5 s")

            page.locator("details summary", has_text="quick_smoke").click()
            details = page.locator("details", has_text="quick_smoke")
            expect(details).to_contain_text("run_started")
            expect(details).to_contain_text("run_finished")
            expect(details.locator(".y-label")).to_have_text("equity (EUR)")
            expect(details.locator(".x-label")).to_have_text("time (UTC), 1m candles")
            expect(page.locator("svg .y-label", has_text="notional (quote currency)")).to_have_count(2)  # counted; replays apart

            shot = tmp_path / "serve.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()


def test_a_run_in_progress_shows_its_realized_pnl_so_far(tmp_path: Path) -> None:
    run = tmp_path / "20261123T100000Z-quick_smoke-abcd1234"
    run.mkdir()
    lines = [
        {"event": "run_started", "time": 1, "at": "2026-11-23T10:00:00.000+00:00", "profile": "quick_smoke",
         "strategy": "ma_crossover", "symbol": "BTC/EUR", "timeframe": "1m", "duration_minutes": 15,
         "max_notional": "200", "max_trades": 5, "validate_only": True},
        {"event": "fill", "time": 2, "at": "x", "side": "buy", "volume": "0.001", "price": "50000",
         "notional": "50", "fee": "0.13", "realized_pnl": "0", "trade": "T1"},
        {"event": "fill", "time": 3, "at": "x", "side": "sell", "volume": "0.001", "price": "50100",
         "notional": "50.1", "fee": "0.13", "realized_pnl": "-0.16", "trade": "T2"},
    ]
    (run / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"event": "fi')
    seen = summary(run, AlertsConfig())
    assert (seen["state"], seen["trades"], seen["notional"], seen["pnl"]) == ("running", 2, 100.1, -0.16)
    assert seen["equity"] == [0.0, 0.0, -0.16] and seen["equity_kind"] == "realized PnL so far"
    assert seen["started_at"] == "2026-11-23 10:00:00" and seen["events"] == 3  # the half line is not read yet
    assert not (run / "summary.json").exists()  # still going: its line is made again each time


def ended_run(folder: Path, drawdown: str, pnl: str = "-0.5") -> Path:
    return write_run(folder.parent, folder.name, [
        {"event": "run_started", "time": 1, "at": "2026-11-23T10:00:00.000+00:00", "profile": "quick_smoke",
         "strategy": "ma_crossover", "symbol": "BTC/EUR", "timeframe": "1m", "duration_minutes": 15,
         "max_notional": "200", "max_trades": 5, "validate_only": True},
        {"event": "run_finished", "time": 2, "stop_reason": "DURATION_ELAPSED", "spent_notional": "38.9",
         "spent_trades": 1, "metrics": {"pnl": pnl, "max_drawdown_pct": drawdown,
                                        "equity_curve": [[1, "1000"], [2, "999.5"]]}},
    ])


def test_an_ended_runs_line_is_kept_beside_its_log_and_read_back(tmp_path: Path) -> None:
    run = ended_run(tmp_path / "20261123T100000Z-quick_smoke-abcd1234", drawdown="0.03")
    first = summary(run, AlertsConfig())
    assert (first["state"], first["pnl"], first["alerts"], first["equity"]) == ("finished", -0.5, 0, [1000.0, 999.5])
    kept = json.loads((run / "summary.json").read_text())
    assert kept["summary"] == first
    kept["summary"]["pnl"] = 123.0  # what the next session shows comes from the kept line, not the log
    (run / "summary.json").write_text(json.dumps(kept))
    assert summary(run, AlertsConfig())["pnl"] == 123.0


def test_a_kept_line_is_made_again_when_the_rules_or_the_log_change(tmp_path: Path) -> None:
    run = ended_run(tmp_path / "20261123T100000Z-quick_smoke-abcd1234", drawdown="0.03")
    assert summary(run, AlertsConfig(max_drawdown_pct=0.05))["alerts"] == 0
    assert summary(run, AlertsConfig(max_drawdown_pct=0.01))["alerts"] == 1  # a stricter threshold in the config
    ended_run(run, drawdown="0.03", pnl="-12.25")  # the log rewritten: another size
    assert summary(run, AlertsConfig(max_drawdown_pct=0.01))["pnl"] == -12.25
    moved = run.rename(run.with_name("20261123T100000Z-renamed-abcd1234"))
    assert summary(moved, AlertsConfig(max_drawdown_pct=0.01))["profile"] == "quick_smoke"
    assert summary(moved, AlertsConfig(max_drawdown_pct=0.01))["name"] == moved.name


def test_an_unreadable_kept_line_is_made_again(tmp_path: Path) -> None:
    run = ended_run(tmp_path / "20261123T100000Z-quick_smoke-abcd1234", drawdown="0.03")
    expected = summary(run, AlertsConfig())
    (run / "summary.json").write_text('{"made_from": ')
    assert summary(run, AlertsConfig()) == expected
    assert json.loads((run / "summary.json").read_text())["summary"] == expected  # and kept again


def test_a_line_kept_by_an_older_version_or_before_the_verdict_is_made_again(tmp_path: Path) -> None:
    """Lines gain fields (mode, verdict); one kept without them would break the page."""
    run = ended_run(tmp_path / "20261123T100000Z-quick_smoke-abcd1234", drawdown="0.03")
    assert summary(run, AlertsConfig())["verdict"] == "finished"
    kept = json.loads((run / "summary.json").read_text())
    del kept["made_from"]["format"], kept["summary"]["verdict"]
    (run / "summary.json").write_text(json.dumps(kept))
    assert summary(run, AlertsConfig())["verdict"] == "finished"
    (run / "verdict.json").write_text(json.dumps({"verdict": "failed expectations", "mode": "replay"}))
    assert summary(run, AlertsConfig())["verdict"] == "failed expectations"  # judged after the log ended


def test_a_long_runs_fills_stay_in_view_among_its_candles(tmp_path: Path) -> None:
    def candle(n: int) -> dict[str, object]:
        return {"event": "candle", "time": 60 * n, "at": "x", "close": "100", "done": n, "planned": 80, "trades": 1,
                "pnl": "0"}

    fill = {"event": "fill", "time": 60 * 40, "at": "x", "side": "buy", "volume": "0.01", "price": "100",
            "notional": "1", "fee": "0.01", "realized_pnl": "0", "trade": "T1"}
    run = write_run(tmp_path, "20261123T100000Z-quick_smoke-abcd1234",
                    [candle(n) for n in range(1, 41)] + [fill] + [candle(n) for n in range(41, 81)])
    recent = summary(run, AlertsConfig())["recent"]
    assert [line.split()[2] for line in recent] == ["fill", "candle"]
    assert "80/80 candles" in recent[-1]


@pytest.mark.parametrize(("option", "value", "line"), [
    ("--port", "99999", "peak-testnet: --port: expected a TCP port from 0 to 65535, found 99999"),
    ("--port", "-1", "peak-testnet: --port: expected a TCP port from 0 to 65535, found -1"),
    ("--refresh", "-5", "peak-testnet: --refresh: expected a number of seconds > 0, found -5"),
    ("--refresh", "nan", "peak-testnet: --refresh: expected a number of seconds > 0, found nan"),
])
def test_a_bad_port_or_refresh_is_one_line(project: pytest.Pytester, option: str, value: str, line: str) -> None:
    args = {"--port": "0", "--refresh": "1", option: value}
    done = subprocess.run([str(BIN / "peak-testnet"), "serve", *(x for kv in args.items() for x in kv)],
                          cwd=project.path, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr.splitlines(), done.stdout) == (1, [line], "")


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads in /proc")
def test_idle_connections_are_bounded_timed_out_and_closed_quietly(project: pytest.Pytester) -> None:
    """300 idle connections held 301 threads with no timeout, and closing them printed 300
    BrokenPipeError tracebacks."""
    import socket
    import time

    from pytest_peak_testnet.reporting.serve import IDLE_SECONDS, MAX_CONNECTIONS

    proc = subprocess.Popen([str(BIN / "peak-testnet"), "serve", "--port", "0"], cwd=project.path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ", 1)[1].split()[0]
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(300)]
        time.sleep(1)
        assert _threads(proc.pid) <= MAX_CONNECTIONS + 2
        idle[0].settimeout(IDLE_SECONDS + 10)
        assert idle[0].recv(1) == b""  # the server closed it after IDLE_SECONDS of silence
        statuses = []
        while len(statuses) < 50 and 200 not in statuses:  # the other idle ones time out about as soon
            try:
                with urllib.request.urlopen(url + "api/state", timeout=30) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as busy:
                statuses.append(busy.code)
                time.sleep(0.1)
        assert set(statuses) <= {503, 200} and statuses[-1] == 200  # busy said at once, then served
        for conn in idle:
            conn.close()
        time.sleep(0.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "BrokenPipe" not in err, err[:2000]
