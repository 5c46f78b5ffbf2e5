"""Servers started as processes, for tests and the benchmarks: a free port to start one on,
and waiting, with a deadline, until `bevoegd serve` answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


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
