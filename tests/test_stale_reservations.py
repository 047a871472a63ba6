"""What a killed process leaves behind is cleaned up: its reservation, its temp files."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pytest_peak_testnet import cli
from pytest_peak_testnet.desk import processes
from pytest_peak_testnet.desk.usage import UsageLedger

HOLD = """
import time
from pytest_peak_testnet.desk.limits import Plan

def test_hold(testnet_limits):
    decision, reservation = testnet_limits.reserve_run(Plan("BTC/EUR", 800, 20, 30), "held", "test_hold", "live")
    assert decision.allowed
    time.sleep(120)
"""


def _day_file(root: Path) -> Path:
    return root / "test_results" / "usage" / f"usage_{datetime.now(timezone.utc).date().isoformat()}.json"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def test_a_reservation_of_a_killed_process_is_released_by_the_next_access(project: pytest.Pytester) -> None:
    project.makepyfile(test_hold=HOLD)
    process = project.popen([sys.executable, "-m", "pytest", "test_hold.py"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while '"reserved"' not in (_day_file(project.path).read_text() if _day_file(project.path).exists() else ""):
            assert time.monotonic() < deadline and process.poll() is None, "the run never reserved"
            time.sleep(0.05)
        before = project.runpytest("--testnet-budget")  # the process still runs: still reserved
        before.stdout.fnmatch_lines(["  reserved   notional       800.00   trades    20   (runs in progress)"])
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    budget = project.runpytest("--testnet-budget")
    budget.stdout.fnmatch_lines([
        "  abandoned  notional       800.00   trades    20   run * (held, started *) released, "
        f"abandoned: process {process.pid} on {processes.host()} is gone",
        "  remaining  notional      2000.00   trades    60"])
    [run] = json.loads(_day_file(project.path).read_text())["run_log"]
    assert (run["status"], run["pid"], run["host"]) == ("abandoned", process.pid, processes.host())
    assert "reserved" not in budget.stdout.str().replace("reserved on", "")


def _reserve(base: Path, host: str | None = None, pid: int | None = None) -> tuple[UsageLedger, str]:
    ledger = UsageLedger(base, 7)
    _, reservation = ledger.reserve("held", "test_hold", "live", 800, 20, admit=lambda usage: _Yes())
    assert reservation is not None
    path = ledger.path_for(ledger.today())
    data = json.loads(path.read_text())
    data["run_log"][0].update({k: v for k, v in (("host", host), ("pid", pid)) if v is not None})
    path.write_text(json.dumps(data))
    return ledger, reservation.run_id


class _Yes:
    allowed = True


def test_a_reservation_from_another_host_is_released_by_hand(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, run_id = _reserve(tmp_path / "results", host="desk-b", pid=_dead_pid())
    assert ledger.release_abandoned() == []  # another host's pid says nothing here
    assert ledger.read().notional_reserved == 800
    config = tmp_path / "config.toml"
    config.write_text(f'[testnet_orchestration]\nusage_base_dir = "{tmp_path / "results"}"\n')
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert cli.main(["--config", str(config), "ledger", "release", run_id], out=out) == 0
    assert out.getvalue() == (f"released run {run_id} (held): 800.00 notional and 20 trades reserved on desk-b "
                              f"(pid {ledger.read().find(run_id).pid}) since {ledger.read().find(run_id).started_at}; "
                              f"{ledger.path_for(ledger.today())}\n")
    assert ledger.read().notional_reserved == 0 and ledger.read().find(run_id).status == "abandoned"


@pytest.mark.parametrize(("run_id", "message"), [
    ("nope", "peak-testnet: {dir}: no run nope in the ledger\n"),
    ("{run_id}", "peak-testnet: {path}: run {run_id} is abandoned (abandoned: released by hand on {host}); "
                 "there is nothing to release\n"),
])
def test_releasing_what_is_not_reserved_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    run_id: str, message: str) -> None:
    ledger, real_id = _reserve(tmp_path, host="desk-b")
    config = tmp_path / "config.toml"
    config.write_text(f'[testnet_orchestration]\nusage_base_dir = "{tmp_path}"\n')
    base = ["--config", str(config), "ledger", "release"]
    assert cli.main([*base, real_id], out=io.StringIO()) == 0
    before = ledger.path_for(ledger.today()).read_bytes()
    assert cli.main([*base, run_id.format(run_id=real_id)], out=io.StringIO()) == 1
    assert capsys.readouterr().err == message.format(dir=ledger.dir, path=ledger.path_for(ledger.today()),
                                                      run_id=real_id, host=processes.host())
    assert ledger.path_for(ledger.today()).read_bytes() == before


def test_a_live_process_keeps_its_reservation(tmp_path: Path) -> None:
    ledger, _ = _reserve(tmp_path, pid=os.getppid())
    assert ledger.release_abandoned() == []
    ledger, _ = _reserve(tmp_path / "b", pid=os.getpid())
    assert ledger.release_abandoned() == [] and ledger.read().notional_reserved == 800


def test_a_reused_pid_does_not_keep_a_reservation(tmp_path: Path) -> None:
    ledger, run_id = _reserve(tmp_path, pid=os.getppid())  # alive, but started before the reservation...
    path = ledger.path_for(ledger.today())
    data = json.loads(path.read_text())
    data["run_log"][0]["started_at"] = "2000-01-01T00:00:00+00:00"  # ...which is said to be older than it
    path.write_text(json.dumps(data))
    [released] = ledger.release_abandoned()
    assert released.run_id == run_id and ledger.read().notional_reserved == 0


def test_temp_files_of_killed_writers_are_removed_by_the_next_write(tmp_path: Path) -> None:
    ledger, _ = _reserve(tmp_path)
    folder = ledger.dir
    name = ledger.path_for(ledger.today()).name
    dead = folder / f".{name}.{processes.host()}.{_dead_pid()}.k1ll3d.tmp"
    live = folder / f".{name}.{processes.host()}.{os.getppid()}.wr1t1n.tmp"
    other_host = folder / f".{name}.desk-b.{_dead_pid()}.wr1t1n.tmp"
    old_style = folder / f".{name}.a8f3k2.tmp"
    for path in (dead, live, other_host, old_style):
        path.write_text("{")
    ledger.log_unspent("p", "n", "replay", 1, 1, 0, 0, "passed")
    assert sorted(p.name for p in folder.glob("*.tmp")) == sorted(p.name for p in (live, other_host, old_style))
