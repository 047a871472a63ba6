"""``pytest_peak_testnet.kraken``, the documented path of the Kraken client: the module lives
in ``exchange.kraken``."""

from .exchange.kraken.client import *  # noqa: F403
from .exchange.kraken.client import __all__ as __all__
