"""Kraken's history listings (TradesHistory, ClosedOrders): newest first, 50 to a page.

``start`` is exclusive and ``end`` inclusive, each a unix time or the txid of an entry in
the listing. The simulated clock stands still between steps, so many entries share one
time; each is therefore sorted by ``(time, position)``, which makes a txid bound exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .wire import Reject

#: Kraken returns at most this many entries per history call; ``ofs`` pages through the rest.
PAGE = 50

Key = tuple[float, float]


def _bound(form: Mapping[str, str], name: str, keys: Mapping[str, Key]) -> Key | None:
    """A txid stands for its own entry; a unix time for the instant after every entry at it."""
    value = form.get(name)
    if not value:
        return None
    if value in keys:
        return keys[value]
    try:
        return (float(value), math.inf)
    except ValueError:
        raise Reject(f"EGeneral:Invalid arguments:{name}") from None


def _offset(form: Mapping[str, str]) -> int:
    try:
        ofs = int(form.get("ofs") or 0)
    except ValueError:
        ofs = -1
    if ofs < 0:
        raise Reject("EGeneral:Invalid arguments:ofs")
    return ofs


def page(entries: Sequence[tuple[str, float]], form: Mapping[str, str]) -> tuple[list[str], int]:
    """The txids of one page of ``entries`` (``(txid, time)``, oldest first) and how many
    lie within the bounds in all, Kraken's ``count``."""
    keys = {txid: (time, position) for position, (txid, time) in enumerate(entries)}
    start, end, ofs = _bound(form, "start", keys), _bound(form, "end", keys), _offset(form)
    within = [txid for txid, key in keys.items() if (start is None or key > start) and (end is None or key <= end)]
    newest_first = sorted(within, key=keys.__getitem__, reverse=True)
    return newest_first[ofs:ofs + PAGE], len(newest_first)
