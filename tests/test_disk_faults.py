"""The file system says no: a full disk, a folder that is a file, a lock file that is a
folder, a cassettes folder that cannot be written. Each ends in one line naming the path
and the reason, never a traceback (whose frames would show what was being written: the
ledger's whole content).

A full disk is a real one: a 64 KiB tmpfs mounted for the test and filled up. Mounting
needs root (or CAP_SYS_ADMIN); without it those tests skip. A folder that cannot be written
is a file where the folder should be, which stops root as well as anyone (root ignores
permission bits).
"""

from __future__ import annotations

import errno
import http.client
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import plain_server

from conftest import ROOT, edit, write_profile
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

REPLAY = ("--testnet-profile", "quick_smoke", "--testnet-base-url", "http://127.0.0.1:9")
SECRET_OF_THE_LEDGER = '"run_log"'  # every ledger file holds it; a traceback of its write shows it


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system with no space left."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill up: {mounted.stderr.decode().strip()}")
    try:
        (disk / "folder").mkdir()
        with (disk / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield disk / "folder"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def on(project: pytest.Pytester, key: str, path: Path) -> None:
    edit(project.path / "config" / "config.toml", f'{key} = "{key_default(key)}"', f'{key} = "{path}"')


def key_default(key: str) -> str:
    return {"usage_base_dir": "test_results", "runs_base_dir": "test_runs"}[key]


def assert_one_line(result: pytest.RunResult, line: str) -> None:
    out = result.stdout.lines + result.stderr.lines
    assert [x for x in out if x.startswith(line)], (line, out)
    text = "\n".join(out)
    assert "Traceback" not in text and "INTERNALERROR" not in text and "\nE   " not in text
    assert SECRET_OF_THE_LEDGER not in text


@pytest.fixture
def replays(replay_project: pytest.Pytester) -> pytest.Pytester:
    return replay_project


def test_a_lock_file_that_is_a_folder_is_one_line_even_for_a_replay(replays: pytest.Pytester) -> None:
    (replays.path / "test_results" / "usage" / ".usage.lock").mkdir(parents=True)
    result = replays.runpytest(*REPLAY)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_one_line(result, f"ERROR: {replays.path}/test_results/usage/.usage.lock: Is a directory")


def test_a_results_folder_that_cannot_be_written_is_one_line(replays: pytest.Pytester) -> None:
    (replays.path / "test_results").write_text("a file where the folder should be\n")
    result = replays.runpytest(*REPLAY)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_one_line(result, f"ERROR: {replays.path}/test_results/usage: Not a directory")


def test_rerecording_into_a_cassettes_folder_that_cannot_be_written_is_one_line(project: pytest.Pytester) -> None:
    write_profile(project, "fresh", params={"fast": 2, "slow": 5})
    (project.path / "cassettes").write_text("a file where the folder should be\n")
    result = project.runpytest("--testnet-profile", "fresh", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(failed=1)
    assert_one_line(result, "NotADirectoryError: ")
    result.stdout.fnmatch_lines([f"NotADirectoryError: {project.path}/cassettes/fresh.json: Not a directory"])


def test_a_recording_whose_cassette_cannot_be_written_lets_go_of_the_connections(project: pytest.Pytester) -> None:
    """vcrpy unpatches http.client only after its save; a save that raised left every later
    request of the session (this process's, here) going through the failed cassette, and
    vcrpy's debug log printing each signed URL."""
    write_profile(project, "fresh", params={"fast": 2, "slow": 5})
    (project.path / "cassettes").write_text("a file where the folder should be\n")
    before = http.client.HTTPConnection
    result = project.runpytest("--testnet-profile", "fresh", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(failed=1)
    assert http.client.HTTPConnection is before


def test_a_replays_teardown_on_a_full_disk_is_one_line_without_the_ledger(replays: pytest.Pytester,
                                                                           full_disk: Path) -> None:
    on(replays, "usage_base_dir", full_disk)
    result = replays.runpytest(*REPLAY)
    result.assert_outcomes(passed=1, errors=1)
    assert_one_line(result, "OSError: ")
    result.stdout.fnmatch_lines([f"*OSError: *{full_disk}/usage/*: No space left on device"])


def test_a_full_run_log_folder_is_one_line(replays: pytest.Pytester, full_disk: Path) -> None:
    on(replays, "runs_base_dir", full_disk)
    result = replays.runpytest(*REPLAY)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*OSError: *{full_disk}/*: No space left on device"])
    assert_one_line(result, "OSError: ")


def test_reserving_on_a_full_disk_is_one_line(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                              kraken_simulator: Simulator, full_disk: Path) -> None:
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", DEFAULT_API_SECRET)
    on(project, "usage_base_dir", full_disk)
    shutil.copytree(ROOT / "cassettes", project.path / "cassettes")
    with plain_server(kraken_simulator.url) as url:  # an exchange, as far as the plugin can tell: a live run reserves
        result = project.runpytest("--testnet-profile", "quick_smoke", "--testnet-record-mode=all",
                                   "--testnet-base-url", url)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*OSError: *{full_disk}/usage/*: No space left on device"])
    assert_one_line(result, "OSError: ")
    assert not kraken_simulator.exchange.account.orders
