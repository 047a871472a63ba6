"""Subprocess runs and the throwaway projects they run in.

Every end-to-end figure is a fresh ``python -m pytest`` in a temp project, timed from the
outside and read back with ``os.wait4`` for its peak RSS. Bytecode caching is on (into a
temp ``PYTHONPYCACHEPREFIX``), as on a developer's machine, and a warm-up run fills it.

Each process loads this plugin and no other, as in a fresh venv with only the plugin
installed (issue 13 defines figure 1 there). A development venv also holds the pytest plugins
the project's own tests are checked against, and they load into every pytest process:
pytest-randomly alone imports NumPy, ~110 ms on the benchmark machine. That time lands on
both sides of a ratio and makes the plugin look cheaper than it is (figure 1 read 1.45x
there and 1.9x in a fresh venv, minutes apart).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a desk's repository holds that a run reads: copied from git's view of the repo.
PROJECT_PATHS = ("pyproject.toml", "conftest.py", "config", "profiles", "cassettes", "tests")

PROFILE = """\
strategy: {strategy}
symbol: BTC/EUR
timeframe: 1m
duration_minutes: {minutes}
max_notional: {notional}
max_trades: {trades}
params:
{params}
"""
#: How a run asks for pytest without this plugin; every other run loads it, as if installed.
PLUGIN_OFF = ("-p", "no:peak_testnet")
TRIVIAL_TEST = "def test_trivial():\n    pass\n"
PARAM_TESTS = """\
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_param(i):
    pass
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float
    output: str
    #: ``best``: each round's time, in round order (a round runs every job once, back to back).
    rounds: tuple[float, ...] = ()


class Runner:
    def __init__(self, work: Path) -> None:
        self.work = work
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only this plugin: see the module's docstring
        self.env = env

    @staticmethod
    def command(*args: str) -> list[str]:
        """``pytest`` with this plugin loaded unless ``args`` start with ``PLUGIN_OFF``."""
        plugin = () if args[:2] == PLUGIN_OFF else ("-p", "peak_testnet")
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin, *args]

    def pytest(self, cwd: Path, *args: str) -> Run:
        """One ``pytest`` run (``command``); a non-zero exit stops the benchmark with its output."""
        cmd = self.command(*args)
        with tempfile.TemporaryFile("w+") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read()
        if proc.returncode != 0:
            raise SystemExit(f"benchmark run failed ({proc.returncode}): {' '.join(cmd)} in {cwd}\n{text}")
        return Run(seconds, usage.ru_maxrss / 1024, text)

    def best(self, repeat: int, *jobs: tuple[Path, tuple[str, ...]], warm_up: bool = True) -> list[Run]:
        """Each job's fastest run (with the peak RSS seen over its runs): on a shared machine
        other work only ever adds time. Jobs alternate, so drift hits them all alike; each
        job's ``rounds`` pair its runs with the other jobs' runs of the same round."""
        if warm_up:
            self.warm_up(*jobs)
        runs: list[list[Run]] = [[] for _ in jobs]
        for _ in range(repeat):
            for i, (cwd, args) in enumerate(jobs):
                runs[i].append(self.pytest(cwd, *args))
        return [Run(min(r.seconds for r in job), max(r.max_rss_mb for r in job), job[-1].output,
                    tuple(r.seconds for r in job)) for job in runs]

    def warm_up(self, *jobs: tuple[Path, tuple[str, ...]]) -> None:
        """Each job once, to fill the bytecode caches and the page cache."""
        for cwd, args in jobs:
            self.pytest(cwd, *args)

    def instructions(self, *jobs: tuple[Path, tuple[str, ...]]) -> list[int] | None:
        """The instructions each job's pytest process executes, counted by valgrind's
        callgrind (~50x slower, so all jobs at once): the same count whatever else the machine
        is doing, where wall time moves by +-15 % here. ``None`` without valgrind."""
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            return None
        procs = [subprocess.Popen([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                   *self.command(*args)], cwd=cwd, env=self.env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for cwd, args in jobs]
        counts = []
        for proc, (cwd, args) in zip(procs, jobs, strict=True):
            _, err = proc.communicate()
            found = re.search(r"^==\d+== Collected : (\d+)$", err, re.MULTILINE)
            if proc.returncode != 0 or found is None:
                raise SystemExit(f"benchmark run under valgrind failed ({proc.returncode}): {args} in {cwd}\n{err}")
            counts.append(int(found.group(1)))
        return counts


def repo_copy(dest: Path) -> Path:
    """The repository's project files as they are on disk now (from a clone or an
    unpacked sdist alike: no git needed), without bytecode caches."""
    for top in PROJECT_PATHS:
        src = ROOT / top
        files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        for path in files:
            target = dest / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return dest


#: pytest's ``--durations`` prints two decimals, too coarse for a 20 ms replay; the project's
#: conftest appends each call phase's exact duration to this file instead.
DURATIONS_FILE = "call_durations.txt"
DURATIONS_CONFTEST = f"""\
def pytest_runtest_logreport(report):
    if report.when == "call":
        with open({DURATIONS_FILE!r}, "a", encoding="utf-8") as out:
            out.write(f"{{report.nodeid}} {{report.duration!r}}\\n")
"""


def bench_project(dest: Path, profiles: dict[str, str], durations: bool = False) -> Path:
    """A desk whose limits let a 24 h profile trade all day (a run that stopped at a limit
    would measure less than its duration); ``profiles`` maps name to YAML text.
    ``durations``: a conftest records each call phase's exact duration (``call_durations``)."""
    config = (ROOT / "config" / "config.toml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^(max_duration_minutes\s*=\s*)\d+", r"\g<1>1440", config)
    config = re.sub(r"(?m)^(max_notional_per_(?:run|day)\s*=\s*)[\d.]+", r"\g<1>10000000.0", config)
    config = re.sub(r"(?m)^(max_trades_per_(?:run|day)\s*=\s*)\d+", r"\g<1>1000000", config)
    config = re.sub(r"(?m)^max_(?:notional|trades)_per_day\s*=\s*\{.*\}\n", "", config)  # per-symbol caps
    config = config.split("[testnet_profiles.", 1)[0]  # only the generated profiles
    (dest / "config").mkdir(parents=True)
    (dest / "config" / "config.toml").write_text(config, encoding="utf-8")
    (dest / "profiles").mkdir()
    (dest / "cassettes").mkdir()
    for name, text in profiles.items():
        (dest / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
    if durations:
        (dest / "conftest.py").write_text(DURATIONS_CONFTEST, encoding="utf-8")
    return dest


def call_durations(project: Path, profile: str) -> list[float]:
    """Every recorded call-phase duration of ``profile``'s item, in run order."""
    lines = (project / DURATIONS_FILE).read_text(encoding="utf-8").splitlines()
    return [float(line.rsplit(" ", 1)[1]) for line in lines if line.split(" ", 1)[0].endswith(f"::{profile}")]


def ma_profile(minutes: int, fast: int = 5, slow: int = 20) -> str:
    """Room for a trade on every candle, so only the duration ends the run."""
    return PROFILE.format(strategy="ma_crossover", minutes=minutes, notional=f"{100.0 * minutes}", trades=minutes,
                          params=f"  fast: {fast}\n  slow: {slow}")


def pytest_project(dest: Path, text: str) -> Path:
    dest.mkdir(parents=True)
    (dest / "test_bench.py").write_text(text, encoding="utf-8")
    return dest
