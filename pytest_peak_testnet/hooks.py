"""Hooks a conftest or plugin can implement to extend pytest-peak-testnet.

Mark implementations ``@pytest.hookimpl(optionalhook=True)``, as pytest-xdist asks for its
hooks: these specs exist only while the plugin is loaded, and pytest refuses a conftest that
implements an unknown hook, so without the mark ``pytest -p no:peak_testnet`` would stop at
the desk's conftest with an INTERNALERROR."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_peak_testnet_strategies() -> Any:
    """Return strategy classes (subclasses of ``pytest_peak_testnet.strategies.Strategy``)
    to add to the built-in ones; each is known by its ``name``. Strategies can also be
    published as entry points in the group ``pytest_peak_testnet.strategies``."""


@pytest.hookspec
def pytest_peak_testnet_report_sections(config: pytest.Config, report: Any) -> Any:
    """Return ``(title, markdown)`` pairs to append to the testnet report as sections (they
    go into its JSON too). ``report`` is the report's data as built so far, to read from.
    Called once per session, on the xdist controller (or the only process)."""
