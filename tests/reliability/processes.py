"""Bevoegd's own processes for the reliability suite: `bevoegd serve`, `project` and `import`
started as a deployment starts them (a process of their own, configured by environment, output to
a log), and stopped the hard way, with SIGKILL, as a crash or the OOM killer stops them."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from ledger.database import DATABASE_URL_VARIABLE
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0
"""The most a process may take to start, catch up or stop before the test fails; a deadline,
never a measurement."""


class Bevoegd:
    """One `bevoegd ARGS` process on a database, its output appended to `log`, configured by
    the test's environment and `environ` (a signing key, say)."""

    def __init__(self, args: list[str], database_url: str, log: Path,
                 environ: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.log = log
        env = {**os.environ, **(environ or {}), DATABASE_URL_VARIABLE: database_url}
        with log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT,
                                            env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no handler runs, no transaction is finished, no connection is closed."""
        assert self.alive, f"`bevoegd {' '.join(self.args)}` ended before the kill:\n{self.output()}"
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=DEADLINE) == -signal.SIGKILL

    def stop(self) -> int:
        """SIGTERM, the process's own graceful stop; returns its exit code."""
        if self.alive:
            self.process.terminate()
        return self.process.wait(timeout=DEADLINE)

    def wait(self) -> int:
        return self.process.wait(timeout=DEADLINE)

    def output(self, characters: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def running(args: list[str], database_url: str, log: Path) -> Iterator[Bevoegd]:
    """The process for the block; killed on the way out if the test left it running."""
    process = Bevoegd(args, database_url, log)
    try:
        yield process
    finally:
        if process.alive:
            process.process.kill()
            process.process.wait()


class Server:
    """`bevoegd serve --production` on a port of its own that stays the same across restarts,
    so that clients keep their URL while the process under it is killed and started again."""

    def __init__(self, database_url: str, log: Path, *args: str) -> None:
        self.database_url = database_url
        self.log = log
        self.args = list(args)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.graphql = f"{self.base}/graphql"
        self.process: Bevoegd | None = None

    def start(self) -> None:
        """Starts the server and waits until it answers /healthz."""
        assert self.process is None or not self.process.alive
        self.process = Bevoegd(["serve", "--production", "--port", str(self.port), *self.args],
                               self.database_url, self.log)
        eventually(self._healthy, "the server answers /healthz")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def close(self) -> None:
        if self.process is not None and self.process.alive:
            self.process.process.kill()
            self.process.process.wait()

    def _healthy(self) -> bool:
        assert self.process is not None
        assert self.process.alive, f"the server exited:\n{self.process.output()}"
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


@contextmanager
def serving(database_url: str, log: Path, *args: str) -> Iterator[Server]:
    server = Server(database_url, log, *args)
    server.start()
    try:
        yield server
    finally:
        server.close()


def eventually(condition: Callable[[], bool], what: str, seconds: float = DEADLINE) -> None:
    """Polls until `condition` holds; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        time.sleep(0.05)


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str,
                seconds: float = DEADLINE) -> None:
    """`eventually` inside an event loop, for a condition that may have to await its answer:
    the loop's other tasks run while it waits."""
    deadline = time.monotonic() + seconds
    while not await _value(condition()):
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        await asyncio.sleep(0.02)


async def _value(answer: bool | Awaitable[bool]) -> bool:
    return await answer if inspect.isawaitable(answer) else answer
