"""Whether the process that left something behind (a reservation, a temp file) still runs.

Only a process on this host can be asked; a pid whose process started after the thing
it is said to have left behind has been reused by another program, so it counts as gone.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

PROC = Path("/proc")


@lru_cache(maxsize=1)
def host() -> str:
    return socket.gethostname()


def alive(pid: int, *, started_before: float | None = None) -> bool:
    """``pid`` runs on this host (a zombie does not count), and, on Linux, it started no
    later than ``started_before`` (unix seconds) when that is given."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    stat = _stat(pid)
    if stat is None:  # no /proc (not Linux), or it just ended
        return not PROC.exists()
    state, start = stat
    if state in ("Z", "X"):
        return False
    return started_before is None or start is None or start <= started_before + 1


def _stat(pid: int) -> tuple[str, float | None] | None:
    """``(state, start time in unix seconds)`` from ``/proc/<pid>/stat``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold blanks and parentheses
    return fields[0], _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK") if _boot_time() else None


@lru_cache(maxsize=1)
def _boot_time() -> float:
    try:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0
