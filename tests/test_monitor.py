"""``peak-testnet monitor``: reading, following and alerting on run logs."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, edit, write_run
from pytest_peak_testnet import cli
from pytest_peak_testnet.desk.config import AlertsConfig
from pytest_peak_testnet.reporting.monitor import alerts, read_events

STARTED = {"event": "run_started", "time": 1704067200, "profile": "quick_smoke", "strategy": "ma_crossover",
           "symbol": "BTC/EUR", "timeframe": "1m", "duration_minutes": 15, "max_notional": 200.0, "max_trades": 5,
           "validate_only": True}
REQUEST = {"event": "order_request", "time": 1704067620, "side": "buy", "volume": 0.001, "price": 38907.6,
           "notional": 38.9076}
DENIED = {"event": "order_outcome", "time": 1704067620, "side": "buy", "status": "denied", "by": "risk",
          "reason": "blocked: MAX_ORDER_NOTIONAL (38.91 > 10.00)"}
REJECTED = {"event": "order_outcome", "time": 1704067680, "side": "buy", "status": "rejected", "by": "exchange",
            "reason": "EOrder:Insufficient funds"}
CAPPED = {"event": "limit_reached", "time": 1704067740, "reason": "RUN_MAX_TRADES_REACHED (5 of 5 trades used)"}
FAILED = {"event": "run_failed", "time": None, "at": "2026-01-02T03:04:05.000+00:00",
          "error": "KrakenServerError: EService:Unavailable"}


def finished(drawdown: float) -> dict[str, Any]:
    return {"event": "run_finished", "time": 1704068100, "stop_reason": "DURATION_ELAPSED", "spent_notional": "38.9",
            "spent_trades": 1, "metrics": {"realized_pnl": "0", "unrealized_pnl": "-0.5", "pnl": "-0.5",
                                           "max_drawdown_pct": str(drawdown)}}


@pytest.fixture
def desk_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the test config as config/config.toml, as the current folder."""
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "config.test.toml", tmp_path / "config" / "config.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def monitor(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(["monitor", *args], out=out)
    return code, out.getvalue()


@pytest.mark.parametrize(("event", "kind"), [
    (DENIED, "risk_denial"), (REJECTED, "exchange_rejection"), (CAPPED, "limit_reached"), (FAILED, "run_failed"),
    (finished(0.08), "drawdown"),
])
def test_each_alert_rule(event: dict[str, Any], kind: str) -> None:
    [alert] = alerts([event], AlertsConfig())
    assert alert.kind == kind
    assert not alerts([event], AlertsConfig(risk_denial=False, exchange_rejection=False, limit_reached=False,
                                            run_failed=False, max_drawdown_pct=0.1))


def test_drawdown_within_the_threshold_and_plain_events_are_no_alerts() -> None:
    assert alerts([STARTED, REQUEST, finished(0.05)], AlertsConfig(max_drawdown_pct=0.05)) == []


def test_latest_shows_every_event_of_the_newest_run(desk_dir: Path) -> None:
    write_run(desk_dir / "test_runs", "20260101T000000Z-old-aaaa", [STARTED, finished(0.0)])
    write_run(desk_dir / "test_runs", "20260102T000000Z-quick_smoke-bbbb", [STARTED, REQUEST, DENIED, finished(0.0)])
    code, out = monitor("--latest")
    assert code == 0
    assert out.splitlines() == [
        "run 20260102T000000Z-quick_smoke-bbbb",
        "2024-01-01 00:00:00  run_started   quick_smoke: ma_crossover on BTC/EUR 1m for 15 min, "
        "at most 200.00 notional / 5 trades (validate-only)",
        "2024-01-01 00:07:00  order_request buy 0.001 @ 38,907.60 (38.91 notional)",
        "2024-01-01 00:07:00  order_outcome buy denied by risk: blocked: MAX_ORDER_NOTIONAL (38.91 > 10.00)",
        "ALERT risk_denial at 2024-01-01 00:07:00: buy order denied by risk: blocked: MAX_ORDER_NOTIONAL (38.91 > 10.00)",
        "2024-01-01 00:15:00  run_finished  DURATION_ELAPSED: 1 trades, notional 38.90, PnL -0.50, "
        "max drawdown 0.000%",
    ]
    code, listing = monitor()
    assert [line.split()[0] for line in listing.splitlines()] == ["20260101T000000Z-old-aaaa",
                                                                  "20260102T000000Z-quick_smoke-bbbb"]


def test_alerts_only_uses_the_thresholds_from_the_config(desk_dir: Path) -> None:
    config = desk_dir / "config" / "config.toml"
    run = write_run(desk_dir / "test_runs", "20260102T000000Z-x-cccc", [STARTED, REJECTED, CAPPED, finished(0.03)])
    assert monitor("--alerts", str(run))[1].splitlines()[1:] == [
        "ALERT exchange_rejection at 2024-01-01 00:08:00: buy order rejected by the exchange: EOrder:Insufficient funds",
        "ALERT limit_reached at 2024-01-01 00:09:00: RUN_MAX_TRADES_REACHED (5 of 5 trades used)",
    ]
    edit(config, "max_drawdown_pct = 0.05", "max_drawdown_pct = 0.02")
    edit(config, "limit_reached = true", "limit_reached = false")
    assert [line.split()[1] for line in monitor("--alerts", str(run))[1].splitlines()[1:]] == [
        "exchange_rejection", "drawdown"]


def test_no_runs_is_one_line_on_stderr(desk_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor("--latest") == (1, "")
    assert capsys.readouterr().err == f"peak-testnet: no runs under {desk_dir / 'test_runs'}\n"


def test_a_half_written_line_is_not_read_yet(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text(json.dumps(STARTED) + "\n" + json.dumps(REQUEST)[:20])
    assert [e["event"] for e in read_events(log)] == ["run_started"]


class Signalling(io.StringIO):
    """Output that tells the writer thread when the monitor has shown its first event."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = threading.Event()

    def write(self, text: str) -> int:
        if "run_started" in text:
            self.shown.set()
        return super().write(text)


def test_tail_follows_a_log_while_it_is_written(desk_dir: Path) -> None:
    run = write_run(desk_dir / "test_runs", "20260102T000000Z-quick_smoke-dddd", [STARTED])
    out = Signalling()

    def writer() -> None:
        out.shown.wait(timeout=30)  # the monitor is following before the rest of the run arrives
        with (run / "events.jsonl").open("a") as log:
            for event in (REQUEST, DENIED, finished(0.0)):
                line = json.dumps(event) + "\n"
                log.write(line[:15])  # half a line first: the monitor must wait for the rest
                log.flush()
                log.write(line[15:])
                log.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    code = cli.main(["monitor", "--latest", "--tail", "--poll", "0.01", "--max-seconds", "30"], out=out)
    thread.join()
    assert code == 0
    shown = [line.split()[2] for line in out.getvalue().splitlines()[1:] if not line.startswith("ALERT")]
    assert shown == ["run_started", "order_request", "order_outcome", "run_finished"]
    assert "ALERT risk_denial" in out.getvalue()
    assert "has not ended" not in out.getvalue()


def test_tail_gives_up_after_max_seconds_on_a_run_that_never_ends(desk_dir: Path) -> None:
    write_run(desk_dir / "test_runs", "20260102T000000Z-quick_smoke-eeee", [STARTED])
    code, out = monitor("--latest", "--tail", "--poll", "0.01", "--max-seconds", "0.05")
    assert code == 0
    assert out.splitlines()[-1] == "the run has not ended (yet)"


def test_console_script_is_installed(desk_dir: Path) -> None:
    run = write_run(desk_dir / "test_runs", "20260102T000000Z-quick_smoke-ffff", [STARTED, FAILED])
    script = Path(sys.executable).parent / "peak-testnet"
    done = subprocess.run([str(script), "monitor", "--latest", "--alerts"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"run {run.name}", "ALERT run_failed at 2026-01-02 03:04:05: KrakenServerError: EService:Unavailable"]
