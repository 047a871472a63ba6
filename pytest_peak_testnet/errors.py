"""Errors a user fixes by editing a file: each renders as one line naming where and what.

They are plain exceptions (not ``pytest.UsageError``) so the library parts work outside
pytest; the plugin turns them into usage errors at its boundary.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4096)
def display(path: Path, root: Path) -> str:
    """``path`` as a user wrote it: relative to the rootdir when it is inside. Cached: each
    profile item asks for its file's name three times (location, report, record), for
    each of what may be thousands of profiles."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def os_problem(exc: OSError) -> str:
    """One line for a file-system failure (a full disk, a folder that is a file, no
    permission): the path and the system's reason. Never the traceback, whose frames hold
    what was being written (a ledger's whole content)."""
    where = exc.filename if exc.filename is not None else None
    return f"{where}: {exc.strerror}" if where is not None and exc.strerror else str(exc)


class InputError(Exception):
    """Bad user input: ``<where>: <what>``, in one line."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Survives pickling across xdist's process boundary with its fields intact.
        return (type(self), (self.where, self.message))


class ConfigError(InputError):
    """A problem in the TOML configuration."""


class ProfileError(InputError):
    """A problem in a profile (YAML file or ``[testnet_profiles.NAME]`` table)."""
