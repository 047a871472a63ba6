"""The cyclic garbage collector paused while the plugin builds many objects that all stay
alive (a parsed cassette, its own modules being imported, the report being rendered).

Such a burst makes Python run collections that find nothing to free, yet each full one
rescans pytest's whole heap: 20-25 ms apiece in a pytest process on the 2-core machine the
benchmarks ran on. Collecting is only postponed: whatever the burst left as garbage is
found by the next collection after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
