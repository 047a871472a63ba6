"""``peak-testnet init``: a new desk that replays green, from the package as installed, and
from a wheel in a venv of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
DESK_FILES = ["config/config.toml", "profiles/breakout_demo.yaml", "conftest.py", "pytest.ini", ".gitignore",
              "cassettes/breakout_demo.json", "cassettes/breakout_demo.baseline.yaml"]


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "PYTEST_", "PEAK_TESTNET_"))}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def init_and_replay(bin_dir: Path, where: Path) -> str:
    """What the README's quick start promises: init, then pytest replays green, and the
    desk's conftest does not stand in the way of -p no:peak_testnet. Returns what init said."""
    made = run([str(bin_dir / "peak-testnet"), "init", "desk"], where)
    assert made.returncode == 0, made.stdout + made.stderr
    desk = where / "desk"
    assert made.stdout.splitlines()[-1] == "next: cd desk && pytest    (replays breakout_demo from its cassette, offline)"
    assert all((desk / name).is_file() for name in DESK_FILES)
    replay = run([str(bin_dir / "python"), "-m", "pytest", "-p", "no:randomly"], desk)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "profiles/breakout_demo.yaml ." in replay.stdout
    assert "baselines: 1 matched" in replay.stdout and " 1 passed" in replay.stdout
    off = run([str(bin_dir / "python"), "-m", "pytest", "-p", "no:peak_testnet"], desk)
    assert off.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, off.stdout + off.stderr
    assert "INTERNALERROR" not in off.stdout + off.stderr
    return made.stdout


def test_init_makes_a_desk_that_replays_green(tmp_path: Path) -> None:
    said = init_and_replay(BIN, tmp_path)
    assert f"$ peak-testnet init desk\n{said}" in (ROOT / "README.md").read_text()  # the README's sample is real


def test_init_leaves_an_existing_desk_alone(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("# mine\n")
    done = run([str(BIN / "peak-testnet"), "init"], tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("peak-testnet: .: already holds config/config.toml; init writes a new desk into a folder "
                           "without them\n")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["config", "config.toml"]


@pytest.mark.skipif(os.environ.get("CI", "").lower() != "true",
                    reason="builds the wheel and installs it with its dependencies in a fresh venv (about 30 s and "
                           "the package index); CI runs it")
def test_the_wheel_alone_makes_a_desk_that_replays_green(tmp_path: Path) -> None:
    built = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)], ROOT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    installed = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    init_and_replay(venv / "bin", tmp_path)


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.S | re.M)


def test_the_readme_shows_the_conftest_init_writes() -> None:
    """A strategy author reads the file a desk gets, not a copy that drifted from it."""
    conftest = (ROOT / "pytest_peak_testnet" / "desk" / "new_desk" / "conftest.py").read_text()
    assert conftest in python_blocks((ROOT / "README.md").read_text())


def test_every_hook_the_readme_shows_is_optional() -> None:
    """Without optionalhook=True, -p no:peak_testnet stops at such a conftest ('unknown hook')."""
    readme = (ROOT / "README.md").read_text()
    hooks = [match for block in python_blocks(readme)
             for match in re.findall(r"^(.*)\n(?:async )?def (pytest_peak_testnet_\w+)", block, flags=re.M)]
    assert hooks and all(line.startswith("@pytest.hookimpl(optionalhook=True)") for line, _ in hooks), hooks
