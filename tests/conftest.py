"""A pytester project laid out like a desk's repo: config/, profiles/, the test config.

Inner runs keep collection order (``-p no:randomly``): the tests read their output in order.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pgserver import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install chromium); CI installs it in .ci/run")


@pytest.fixture(scope="session", autouse=True)
def _one_copy_of_the_lazily_imported_stacks() -> None:
    """The plugin imports vcrpy and requests only when a profile runs, and psycopg only when
    a ledger URL is set. pytester's in-process runs put sys.modules back as they found it
    after each run, so modules first imported inside one would be imported afresh by the
    next, and classes from the two imports would no longer match: requests' cookie jars, or
    psycopg's OperationalError raised by its C extension (which is not imported afresh) but
    caught as the new import's class, so a lost connection escaped the ledger's handler.
    Importing them before the first test keeps one copy for the whole test session. A
    fixture, not an import at the top: this conftest is loaded by every pytest run in the
    repo, profile runs too, and they must not pay for these."""
    import pytest_peak_testnet.cassettes.recording
    import pytest_peak_testnet.desk.ledger_pg  # noqa: F401


#: Fixtures the plugin provides: a run with ``-p no:peak_testnet`` has none of them.
PLUGIN_FIXTURES = frozenset({"kraken_simulator", "testnet_config", "testnet_usage", "testnet_limits"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-p no:peak_testnet`` the tests that use the plugin's fixtures skip, saying
    why, instead of erroring on a fixture that is not there; the rest run as usual."""
    if config.pluginmanager.has_plugin("peak_testnet"):
        return
    off = pytest.mark.skip(reason="uses the plugin's fixtures, and -p no:peak_testnet turned the plugin off")
    for item in items:
        if PLUGIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(off)


def missing_modules(*names: str, extra: str) -> str | None:
    """Which of these modules cannot be imported, and the extra that installs them; None when all can."""
    import importlib.util

    absent = [name for name in names if importlib.util.find_spec(name) is None]
    return f"{', '.join(absent)} not installed (pip install -e \".[{extra}]\")" if absent else None


def require(purpose: str, missing: str | None, *, module_level: bool = False) -> None:
    """Skip what needs an optional tool that is missing, except in CI (CI=true): CI installs
    every tool, so there a missing one fails instead of quietly testing less."""
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must {purpose}, but {missing}", pytrace=False)
    pytest.skip(f"cannot {purpose}: {missing}", allow_module_level=module_level)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (one per xdist worker). Outside CI, tests
    that need it skip when the server binaries or psycopg are missing; in CI (CI=true) they
    must run, so a missing one fails them."""
    from pgserver import PostgresServer, bin_dir

    missing = missing_modules("psycopg", extra="postgres")
    if bin_dir() is None:
        missing = "PostgreSQL's initdb and pg_ctl were not found (apt-get install postgresql)"
    require("test the PostgreSQL ledger", missing)
    server = PostgresServer(bin_dir() or Path()).start()
    yield server
    server.stop()


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The shipped profiles and ``config/config.test.toml`` as ``config/config.toml``; the
    JSON ledger even where PEAK_TESTNET_LEDGER_URL is set (a test sets it to use PostgreSQL)."""
    monkeypatch.delenv("PEAK_TESTNET_LEDGER_URL", raising=False)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n")
    (pytester.path / "config").mkdir()
    shutil.copy(ROOT / "config" / "config.test.toml", pytester.path / "config" / "config.toml")
    shutil.copytree(ROOT / "profiles", pytester.path / "profiles")
    return pytester


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the file with ``new``. An ``old`` that is not there fails
    the test: a ``str.replace`` that matches nothing would leave the file as it was, and the
    test would go on checking the shipped config instead of the edited one."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} has no {old!r} to edit"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def ledger_runs(root: Path) -> list[dict[str, Any]]:
    """Every run record in the JSON ledger under ``root``, day by day, as the file holds it."""
    days = sorted((root / "test_results" / "usage").glob("usage_*.json"))
    return [run for day in days for run in json.loads(day.read_text(encoding="utf-8"))["run_log"]]


def write_run(runs: Path, name: str, events: list[dict[str, Any]]) -> Path:
    """A run folder ``runs/name`` whose log holds ``events`` (written again if it exists)."""
    folder = runs / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return folder


def write_profile(pytester: pytest.Pytester, name: str, **fields: object) -> Path:
    """A YAML profile with sensible defaults, overridden by ``fields``."""
    import yaml

    body = {"strategy": "ma_crossover", "symbol": "BTC/EUR", "timeframe": "1m", "duration_minutes": 30,
            "max_notional": 100.0, "max_trades": 5, **fields}
    path = pytester.path / "profiles" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.errlines if line.startswith("ERROR:")]


@pytest.fixture
def replay_project(project: pytest.Pytester) -> pytest.Pytester:
    """``project`` plus the shipped cassettes and baselines: every shipped profile replays
    offline. The test config defines no TOML profile, so ``eth_scalp_toml``'s baseline is
    left out: in a run of every profile it would be a baseline no profile uses."""
    shutil.copytree(ROOT / "cassettes", project.path / "cassettes", ignore=_baselines_of_other_desks)
    return project


def _baselines_of_other_desks(folder: str, names: list[str]) -> list[str]:
    return [name for name in names
            if name.endswith(".baseline.yaml") and not (ROOT / "profiles" / name.replace(".baseline", "")).exists()]


def run_events(pytester: pytest.Pytester, event: str) -> list[dict[str, object]]:
    """Every ``event`` line of every run log under test_runs/, oldest run first (in the
    order ``peak-testnet monitor`` lists runs)."""
    import json

    from pytest_peak_testnet.reporting.monitor import run_dirs
    from pytest_peak_testnet.reporting.runlog import EVENTS_FILE

    lines = []
    for run in run_dirs(pytester.path / "test_runs"):
        lines += [json.loads(line) for line in (run / EVENTS_FILE).read_text().splitlines()]
    return [line for line in lines if line["event"] == event]
