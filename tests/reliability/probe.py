"""A client that keeps asking `{ __typename }` of a server while it is attacked, from a process
of its own (in the test's process it would wait for the interpreter lock whenever hypothesis
generates inputs, and count that wait as the server's), and keeps every latency: the figures say
how the server held (p99), and the tests assert only that it never stalled (every probe answered
within STALL_SECONDS, a generous bound: speed itself is measured in bench/, not asserted in tests).

The probe process writes one line per probe to a file the test reads: the latency in seconds, or
`stall` and what went wrong."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

STALL_SECONDS = 5.0
INTERVAL_SECONDS = 0.01


class Probe:
    def __init__(self, url: str, record: Path) -> None:
        self.url = url
        self.record = record
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped_with: list[str] | None = None  # the record as it was when the probe stopped

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.probe", self.url, str(self.record)],
            cwd=Path(__file__).resolve().parents[2])
        self._wait_for_first_answer()

    def _wait_for_first_answer(self) -> None:
        """The attack starts once the probe is asking, not while its process is still starting."""
        deadline = time.monotonic() + STALL_SECONDS
        while not self._lines():
            if time.monotonic() > deadline or not self.running:
                raise RuntimeError(f"the probe got no answer from {self.url}")
            time.sleep(INTERVAL_SECONDS)

    @property
    def running(self) -> bool:
        """Whether the probe is still asking: a probe that died would report no stalls."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=2 * STALL_SECONDS)
        self._stopped_with = self._lines()

    def _lines(self) -> list[str]:
        if self._stopped_with is not None:
            return self._stopped_with
        text = self.record.read_text() if self.record.exists() else ""
        return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]

    @property
    def latencies(self) -> list[float]:
        return [float(line) for line in self._lines() if not line.startswith("stall")]

    @property
    def stalls(self) -> list[str]:
        return [line.removeprefix("stall ") for line in self._lines() if line.startswith("stall")]

    def figures(self) -> dict[str, Any]:
        latencies = self.latencies
        if len(latencies) < 2:
            return {"probes answered": len(latencies)}
        # inclusive: from the few probes of a short attack, the exclusive method that
        # bench.metrics.p99 uses would extrapolate beyond the slowest probe
        p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
        return {"probes answered": len(latencies), "p99 ms": round(p99 * 1000, 1),
                "slowest ms": round(max(latencies) * 1000, 1)}


@contextmanager
def probing(url: str) -> Iterator[Probe]:
    """The probe runs for the block."""
    with tempfile.TemporaryDirectory(prefix="probe-") as folder:
        probe = Probe(url, Path(folder) / "probes.txt")
        probe.start()
        try:
            yield probe
        finally:
            probe.stop()


def probe_until_terminated(url: str, record: Path) -> None:
    with httpx.Client(timeout=STALL_SECONDS) as client, record.open("a", buffering=1) as out:
        while True:
            began = time.perf_counter()
            try:
                response = client.post(url, json={"query": "{ __typename }"})
            except httpx.TransportError as error:
                out.write(f"stall no answer within {STALL_SECONDS:g} s: {error!r}\n")
                continue
            if response.status_code != 200:
                out.write(f"stall {response.status_code}: {response.text[:200]!r}\n")
            out.write(f"{time.perf_counter() - began:.6f}\n")
            time.sleep(INTERVAL_SECONDS)


if __name__ == "__main__":
    probe_until_terminated(sys.argv[1], Path(sys.argv[2]))
