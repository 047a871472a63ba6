"""``pytest_peak_testnet.strategies``, the documented path for writing a strategy: the base
class, the candle it is given, and the range helpers for its ``Params`` fields. The modules
live in ``trading`` and ``desk.schema``."""

from .desk.schema import fraction, non_negative, positive
from .trading.market import Candle
from .trading.strategies import BUILTIN_STRATEGIES, NoParams, Signal, Strategy, make_strategy

__all__ = ["BUILTIN_STRATEGIES", "Candle", "NoParams", "Signal", "Strategy", "fraction", "make_strategy",
           "non_negative", "positive"]
