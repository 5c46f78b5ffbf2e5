"""Peak resident memory of the API process under requests, and of the projection worker while it
projects the whole log."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable

import psutil
import psycopg

from bench.metrics import Metric, Spread, measured
from ledger.application import EVENTS_TABLE
from ledger.database import DATABASE_URL_VARIABLE
from projections.runner import all_projections
from projections.tracking import SCHEMA
from tests.servers import free_port, still_running, wait_until_healthy

SAMPLE_SECONDS = 0.02
WORKER_HOURS = 1


def peak_rss_mb(args: list[str], url: str, work: Callable[[subprocess.Popen[bytes]], None]
                ) -> float:
    """Starts `bevoegd ARGS`, does the work while sampling its memory, stops it."""
    env = os.environ | {DATABASE_URL_VARIABLE: url}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env,
                                   stdout=subprocess.DEVNULL, stderr=errors)
        watched = psutil.Process(process.pid)
        peak = 0
        done = threading.Event()

        def sampler() -> None:
            nonlocal peak
            while not done.is_set():
                try:
                    peak = max(peak, watched.memory_info().rss)
                except psutil.NoSuchProcess:
                    return  # the work notices and says why
                time.sleep(SAMPLE_SECONDS)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        try:
            work(process)
        except Exception:
            errors.seek(0)
            sys.stderr.write(errors.read()[-4000:].decode(errors="replace"))
            raise
        finally:
            done.set()
            thread.join()
            process.terminate()
            process.wait(timeout=30)
    return peak / 1024 / 1024


def rss_api(url: str, requests: int) -> Metric:
    port = free_port()

    def load(process: subprocess.Popen[bytes]) -> None:
        wait_until_healthy(process, port)
        for _ in range(requests):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5)

    rss = peak_rss_mb(["serve", "--port", str(port), "--no-projector"], url, load)
    return measured("rss_api_mb", "MB", Spread(rss, rss, rss))


def rss_worker(url: str) -> Metric:
    """The worker projecting the whole log into every projection, from nothing."""
    names = [p.name for p in all_projections()]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")  # the worker sets it up anew
        head = conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
                            ).fetchone()[0]  # type: ignore[index]

        def caught_up(process: subprocess.Popen[bytes]) -> None:
            deadline = time.monotonic() + WORKER_HOURS * 3600
            while time.monotonic() < deadline:
                still_running(process)
                if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.tracking",)
                                ).fetchone()[0] is not None:  # type: ignore[index]
                    reached, tracked = conn.execute(
                        f"SELECT coalesce(min(position), 0), count(*) FROM {SCHEMA}.tracking"
                        " WHERE projection = ANY(%s)", (names,)).fetchone()  # type: ignore[misc]
                    if tracked == len(names) and reached >= head:
                        return
                time.sleep(0.1)
            raise TimeoutError(f"The worker did not project {head} events in {WORKER_HOURS} h.")

        rss = peak_rss_mb(["project"], url, caught_up)
    return measured("rss_worker_mb", "MB", Spread(rss, rss, rss))
