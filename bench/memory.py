"""Peak resident memory of the API process under requests, and of the projection worker while it
projects the whole log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

import psutil
import psycopg

from bench.metrics import Metric, Spread, measured
from ledger.database import DATABASE_URL_VARIABLE
from projections.tracking import SCHEMA

SAMPLE_SECONDS = 0.02


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(args: list[str], url: str, work: Callable[[], None]) -> float:
    """Starts `bevoegd ARGS`, does the work while sampling its memory, stops it."""
    env = os.environ | {DATABASE_URL_VARIABLE: url}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = 0
    done = threading.Event()

    def sampler() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, watched.memory_info().rss)
            time.sleep(SAMPLE_SECONDS)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        work()
    finally:
        done.set()
        thread.join()
        process.terminate()
        process.wait(timeout=30)
    return peak / 1024 / 1024


def rss_api(url: str, requests: int) -> Metric:
    port = free_port()

    def load() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(requests):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5)

    rss = peak_rss_mb(["serve", "--port", str(port), "--no-projector"], url, load)
    return measured("rss_api_mb", "MB", Spread(rss, rss, rss))


def rss_worker(url: str) -> Metric:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE {SCHEMA}.tracking SET position = 0")
        conn.execute(f"DELETE FROM {SCHEMA}.ledger_info")
        head = conn.execute("SELECT coalesce(max(notification_id), 0) FROM bevoegd_events"
                            ).fetchone()[0]  # type: ignore[index]

        def caught_up() -> None:
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline:
                row = conn.execute(f"SELECT position FROM {SCHEMA}.tracking WHERE projection ="
                                   " 'ledger_info'").fetchone()
                if row is not None and row[0] >= head:
                    return
                time.sleep(0.1)

        rss = peak_rss_mb(["project"], url, caught_up)
    return measured("rss_worker_mb", "MB", Spread(rss, rss, rss))
