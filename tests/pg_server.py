"""A throwaway PostgreSQL server on loopback for the portability tests.

Uses Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<version>/bin``).
The server refuses to run as root, so under root the data directory belongs to
the ``postgres`` system user and the commands run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def find_pg_bin() -> Path | None:
    """The newest installed PostgreSQL bin directory, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    base_dir: Path
    port: int
    user: str = "clv"
    database: str = "clv"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def _run(self, args: list[str]) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}"
            )

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            # pytest's temporary folders are private to root; the server runs
            # as `postgres` and needs a folder of its own.
            self.base_dir = Path(tempfile.mkdtemp(prefix="clv-pg-"))
            shutil.chown(self.base_dir, "postgres", "postgres")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._run(
            ["initdb", "-D", str(self.data_dir), "-U", self.user, "--auth=trust", "-E", "UTF8"]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base_dir} -c fsync=off"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-o",
                options,
                "-l",
                str(self.base_dir / "server.log"),
                "-w",
                "start",
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        self._run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database]
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def connection_kwargs(self) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "user": self.user, "dbname": self.database}

    @property
    def env(self) -> dict[str, str]:
        return {
            "CLV_TARGET": "postgres",
            "CLV_PG_HOST": "127.0.0.1",
            "CLV_PG_PORT": str(self.port),
            "CLV_PG_USER": self.user,
            "CLV_PG_PASSWORD": "",
            "CLV_PG_DATABASE": self.database,
        }
