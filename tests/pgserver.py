"""A real PostgreSQL server in a temp folder on a free port, for the tests and the benchmark.

Debian's ``postgresql`` package puts ``initdb`` and ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin``. initdb refuses to run as root, so as root the server
runs as the ``postgres`` user the package creates (``runuser``), in a folder given to it.
Clients connect over TCP on 127.0.0.1 as the superuser ``postgres`` with trust auth: the
server lives as long as the test session and only this machine reaches it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's newest version folder."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    def __init__(self, bindir: Path, fsync: bool = False) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="peak-testnet-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.fsync = fsync
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, text=True, cwd=self.folder)

    def start(self) -> PostgresServer:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")
        try:
            self.ctl("start")
        except subprocess.CalledProcessError:
            log = self.folder / "server.log"
            raise RuntimeError(f"PostgreSQL did not start: {log.read_text() if log.exists() else 'no log'}") from None
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def ctl_command(self, action: str) -> tuple[list[str], Path]:
        """``pg_ctl`` restarting, stopping or starting this server (a restart or a stop cuts
        every connection), and the folder to run it in: for tests whose ledger goes away."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{self.folder}' "
                   f"-c max_connections=60 -c fsync={'on' if self.fsync else 'off'}")
        how = {"start": ["-o", options], "stop": ["-m", "fast"], "restart": ["-o", options, "-m", "fast"]}[action]
        return [*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                *how, "-w", "-t", "60", action], self.folder

    def ctl(self, action: str) -> None:
        command, folder = self.ctl_command(action)
        subprocess.run(command, check=True, capture_output=True, cwd=folder)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"ledger_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)
