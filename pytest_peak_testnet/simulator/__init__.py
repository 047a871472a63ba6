"""``pytest_peak_testnet.simulator`` and ``python -m pytest_peak_testnet.simulator``, the
documented paths of the simulator: the package lives in ``exchange.simulator``."""

from ..exchange.simulator import *  # noqa: F403
from ..exchange.simulator import __all__ as __all__
