"""The ``kraken_simulator`` fixture: a fresh simulator per test, so no state leaks between tests.

Simulator options come from indirect parametrization::

    @pytest.mark.parametrize("kraken_simulator", [{"seed": 7, "tier": "starter"}], indirect=True)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Simulator


@pytest.fixture
def kraken_simulator(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    with Simulator(**getattr(request, "param", {})) as sim:
        yield sim
