"""Servers for tests and the benchmarks: a free port to start a process on, waiting, with a
deadline, until `bevoegd serve` answers, and an app served on a real socket in this process."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def still_running(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"`{' '.join(map(str, process.args))}` exited with {process.returncode}")


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, seconds: float = 60) -> None:
    """Until `bevoegd serve` answers /healthz on the port (or exits, or the time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        still_running(process)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def live(app: ASGIApp) -> Iterator[str]:
    """The app on a real socket (for clients that speak plain HTTP to a URL): its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()
