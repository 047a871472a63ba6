"""Whole-file writes: a reader sees the old file or the new one, never half of either.

The temp file's name carries the writer's host and pid, so the next write of the same
file removes what a writer killed mid-way left behind, and never a live writer's file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .desk import processes


def atomic_write(path: Path, text: str, *, durable: bool = False) -> None:
    """Write to a temp file in the same folder, then rename it over ``path``.

    ``durable`` also fsyncs the file and the folder, so the new content survives a crash
    once this returns: the usage ledger needs that, a report can be written again.

    A ``path`` that is a symbolic link is written through it: the rename goes over the
    file it points to. Renaming over the link itself would replace it by a regular file,
    and the folder it pointed into (another volume, a shared folder) would silently stop
    getting the writes."""
    path = Path(os.path.realpath(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        # A file where the folder should be: say it as opening the file would, naming the file.
        raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
    remove_abandoned_temp_files(path)
    prefix = f".{path.name}.{processes.host()}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these files are for whoever reads the folder
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        raise named(exc, path) from None
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself
        finally:
            os.close(dir_fd)


def remove_abandoned_temp_files(path: Path) -> list[Path]:
    """Temp files of ``path`` whose writer, on this host, no longer runs. Names are matched
    by prefix and suffix: a glob pattern per file name compiled a regular expression on
    every write (several per session: each report file, the dashboard, the ledger)."""
    removed = []
    start = f".{path.name}."
    with os.scandir(path.parent) as entries:
        names = [e.name for e in entries if e.name.startswith(start) and e.name.endswith(".tmp")]
    for name in names:
        tmp = path.parent / name
        writer = name[len(start):-len(".tmp")].rsplit(".", 2)
        if len(writer) != 3 or writer[0] != processes.host() or not writer[1].isdigit():
            continue
        if not processes.alive(int(writer[1])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def named(exc: BaseException, path: Path) -> BaseException:
    """``exc``, naming ``path`` when it is a file-system error that names no file (a full
    disk answers a write with ENOSPC alone), so the one line a user sees says which file."""
    if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
        return OSError(exc.errno, exc.strerror, str(path))
    return exc
