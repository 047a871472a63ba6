"""Hooks a conftest or plugin can implement to extend pytest-peak-testnet."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_peak_testnet_strategies() -> Any:
    """Return strategy classes (subclasses of ``pytest_peak_testnet.strategies.Strategy``)
    to add to the built-in ones; each is known by its ``name``. Strategies can also be
    published as entry points in the group ``pytest_peak_testnet.strategies``."""
