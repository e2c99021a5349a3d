"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl on a temporary folder, loopback, a free port.

Nothing mocks PostgreSQL: the tests talk to a real server started here and stopped at the end.
initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (Debian's
package creates it; `nobody` otherwise) and every server command runs through `runuser`.

Where no PostgreSQL is installed, `require()` skips the test with how to run it, except under
CI=true, where the same condition fails the run.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

HOW_TO = ("PostgreSQL is not installed (no initdb/pg_ctl found in /usr/lib/postgresql/*/bin or on PATH): "
          "the replica tests need a real server; install it (Debian/Ubuntu: `apt-get install postgresql`, "
          "which .ci/run does) and run pytest again")


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: the newest /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def require() -> Path:
    """The PostgreSQL bin folder, or skip (fail under CI=true) saying how to get one."""
    where = bin_dir()
    if where is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(HOW_TO + " [CI=true: a skipped PostgreSQL test is a failure]", pytrace=False)
        pytest.skip(HOW_TO)
    return where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One PostgreSQL server on 127.0.0.1:<port> with trust authentication, data in a temp folder."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="factbot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user: str | None = None
        self.running = False
        try:
            self._create()
        except BaseException:  # initdb or the start failed: nothing left behind
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _create(self) -> None:
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.root, entry.pw_uid, entry.pw_gid)
                break
            else:
                raise RuntimeError("running as root, and neither a postgres nor a nobody user exists for initdb")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "factbot", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self.start()

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / tool), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.root,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{log}")
        return result

    @property
    def admin_url(self) -> str:
        return f"postgresql://factbot@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://factbot@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='{self.root}'"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
            self.running = False

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_accepting(self, timeout: float = 20) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class StallingProxy:
    """A loopback TCP proxy in front of PostgreSQL that can stall: while stalled it accepts
    connections and forwards nothing (as a network that drops packets), and the connections open
    when it stalled stop forwarding too. recover() closes every connection that saw the stall
    (their clients reconnect) and forwards again."""

    def __init__(self, target_port: int):
        import threading

        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.stalled = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="stalling-proxy", daemon=True)
        self._acceptor.start()

    def url(self, database_url: str) -> str:
        return database_url.replace(f":{self.target_port}/", f":{self.port}/")

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.stalled.is_set():
                continue  # accepted, never answered
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.append(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.stalled.is_set() and not self._closed:  # held, never forwarded
                    time.sleep(0.05)
                    if src.fileno() == -1:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stall(self) -> None:
        self.stalled.set()

    def recover(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.stalled.clear()

    def close(self) -> None:
        self._closed = True
        try:  # wakes the accept() blocked in the other thread (close() alone does not)
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.recover()
        self._acceptor.join(timeout=5)
        assert not self._acceptor.is_alive(), "the proxy's accept loop did not stop"
