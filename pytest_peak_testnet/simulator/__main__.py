"""``python -m pytest_peak_testnet.simulator``: see ``exchange.simulator.__main__``."""

from ..exchange.simulator.__main__ import main

main()
