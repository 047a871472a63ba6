"""``pytest_peak_testnet.strategies``, the documented path for writing a strategy: the module
lives in ``trading.strategies``."""

from .trading.strategies import BUILTIN_STRATEGIES, NoParams, Signal, Strategy, make_strategy

__all__ = ["BUILTIN_STRATEGIES", "NoParams", "Signal", "Strategy", "make_strategy"]
