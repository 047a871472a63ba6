"""pytest-peak-testnet: exchange-testnet trading sessions as planned, bounded pytest items."""

__version__ = "0.1.0"
