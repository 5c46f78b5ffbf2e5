"""A client that keeps asking `{ __typename }` of a server while it is attacked, from a thread
and a connection of its own, and keeps every latency: the figures say how the server held (p99),
and the tests assert only that it never stalled (every probe answered within STALL_SECONDS, a
generous bound: speed itself is measured in bench/, not asserted in tests)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

STALL_SECONDS = 5.0
INTERVAL_SECONDS = 0.01


class Probe:
    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.stalls: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=STALL_SECONDS) as client:
            while not self._stop.is_set():
                began = time.perf_counter()
                try:
                    response = client.post(self.url, json={"query": "{ __typename }"})
                except httpx.TransportError as error:
                    self.stalls.append(f"no answer within {STALL_SECONDS:g} s: {error!r}")
                    continue
                if response.status_code != 200:
                    self.stalls.append(f"{response.status_code}: {response.text[:200]}")
                self.latencies.append(time.perf_counter() - began)
                self._stop.wait(INTERVAL_SECONDS)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * STALL_SECONDS)

    def figures(self) -> dict[str, Any]:
        if len(self.latencies) < 2:
            return {"probes answered": len(self.latencies)}
        # inclusive: from the few probes of a short attack, the exclusive method that
        # bench.metrics.p99 uses would extrapolate beyond the slowest probe
        p99 = statistics.quantiles(self.latencies, n=100, method="inclusive")[98]
        return {"probes answered": len(self.latencies), "p99 ms": round(p99 * 1000, 1),
                "slowest ms": round(max(self.latencies) * 1000, 1)}


@contextmanager
def probing(url: str) -> Iterator[Probe]:
    """The probe runs for the block."""
    probe = Probe(url)
    probe.start()
    try:
        yield probe
    finally:
        probe.stop()
