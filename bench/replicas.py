"""Scale on replicas, in one cluster on this machine (tests/cluster.py: a primary, its streaming
hot standby, the projection worker, three `bevoegd serve` processes reading the standby, HAProxy):

- `standby_lag_p99`: under a steady write load of PEAK_MULTIPLE times the design peak (25
  events/s, shared/DESIGN.md), for `--seconds`: the time from each command's commit until the
  standby has replayed the primary's log as far as it stood just after that commit (the
  standby is polled every LAG_POLL_SECONDS, which bounds the resolution);
- `at_least_wait_p99`: in the same run, a client records a competence through the balancer
  and at once reads it back with `atLeast` (the read goes to the standby): the time of that
  read, next to the same read without `atLeast` once the first has answered;
- `read_<operation>_balanced_<n>`: after the load, the documented operation READ_OPERATION with
  new variables for every request (no answer from a cache) from the load generator of
  bench/graphql_read.py, through the balancer to 1, 2 and 3 processes, next to one process
  asked directly.

The write load is a generated national history (bench/generate.py): its first `--events` events
imported up front, the rest recorded one command a transaction at the steady rate. Run as
`python -m bench.replicas [--seconds 120] [--json FILE]`; not part of `python -m bench`, which
CI runs as a smoke test: this takes minutes and a load balancer (Debian's `haproxy`)."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import click
import httpx
import psycopg

from bench.generate import generate_commands
from bench.graphql_read import (
    COLD_PER_SECOND,
    DRAWS,
    WARM_UP_REQUESTS,
    Catalogue,
    Load,
    Server,
    distinct_variables,
    documented_operations,
    report_run,
)
from bench.machine import describe_machine
from bench.metrics import Metric, Spread, markdown, p99
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import DATABASE_NAME, eventsourcing_env
from ledger.importer import import_lines
from ledger.pipeline import CommandResult
from tests.cluster import Cluster, Process, cluster
from tests.graphql_client import camel, graphql_input, issue_token, mutation_document

DESIGN_PEAK = 25.0
"""Events a second at the national design peak (shared/DESIGN.md, "Scale")."""
PEAK_MULTIPLE = 3
LAG_POLL_SECONDS = 0.001
PROBE_PAUSE_SECONDS = 0.25
"""Between two own-write probes: they add about 4 events a second to the load."""
READ_OPERATION = "WhoIsCompetent"
PROCESSES = (1, 2, 3)
COMPETENCE = ("query($code: String!, $position: Int) "
              "{ competence(code: $code, atLeast: $position) { code } }")
ACTOR = "bench:replicas"
READY_SECONDS = 600.0
"""The most the projections may take to catch up with the imported history; not a timing."""


# The standby's lag ---------------------------------------------------------------------------


class ReplayClock:
    """Times commits on the primary until the standby has replayed them."""

    def __init__(self, primary_url: str, standby_url: str) -> None:
        self.primary = psycopg.connect(primary_url, autocommit=True)
        self.standby = psycopg.connect(standby_url, autocommit=True)
        self.pending: deque[tuple[float, int]] = deque()
        self.lags: list[float] = []
        self.lock = threading.Lock()

    def committed(self) -> None:
        """Called right after a commit: from now until the standby has the primary's log as
        far as it stands now."""
        at = time.perf_counter()
        position = _lsn(self.primary, "pg_current_wal_lsn()")
        with self.lock:
            self.pending.append((at, position))

    def follow(self, stop: threading.Event) -> None:
        while not (stop.is_set() and not self.pending):
            if self.pending:
                replayed = _lsn(self.standby, "pg_last_wal_replay_lsn()")
                now = time.perf_counter()
                with self.lock:
                    while self.pending and self.pending[0][1] <= replayed:
                        self.lags.append(now - self.pending.popleft()[0])
            time.sleep(LAG_POLL_SECONDS)

    def close(self) -> None:
        self.primary.close()
        self.standby.close()


def _lsn(conn: psycopg.Connection[Any], function: str) -> int:
    row = conn.execute(f"SELECT {function} - '0/0'::pg_lsn").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


@dataclass
class Steady:
    """What the steady load did."""

    events: int = 0
    commands: int = 0
    seconds: float = 0.0


def record_steadily(ledger: Ledger, lines: list[str], rate: float, seconds: float,
                    clock: ReplayClock, steady: Steady) -> None:
    """The commands one a transaction, held to `rate` events a second, for `seconds`."""
    first = ledger.position()
    began = time.perf_counter()
    for outcome in import_lines(ledger, iter(lines), actor=ACTOR,
                                correlation_id=str(uuid.uuid4()), batch_size=1):
        clock.committed()
        steady.commands += 1
        if isinstance(outcome.outcome, CommandResult):
            steady.events = outcome.outcome.position - first
        steady.seconds = time.perf_counter() - began
        if steady.seconds >= seconds:
            return
        time.sleep(max(0.0, began + steady.events / rate - time.perf_counter()))
    raise RuntimeError("The generated history ran out before the time was up.")


# Reading one's own writes through the standby --------------------------------------------------


@dataclass
class OwnWrites:
    waits: list[float] = field(default_factory=list)  # the read with atLeast
    plain: list[float] = field(default_factory=list)  # the same read without, afterwards
    missed: int = 0  # reads that answered without their write
    unanswered: list[str] = field(default_factory=list)  # the errors of reads that failed


def probe_own_writes(url: str, admin: str, stop: threading.Event, found: OwnWrites) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"},
                      timeout=30) as client:
        def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            answer = client.post("/graphql", json={"query": query, "variables": variables})
            answer.raise_for_status()
            return dict(answer.json())

        number = 0
        while not stop.is_set():
            code = f"bench-probe-{number}"
            number += 1
            command = c.DefineCompetence(code=code, title=f"Probe {number}", delegable=False,
                                         mandatable=False)
            written = post(mutation_document(command.name),
                           {"key": code, "input": graphql_input(command)})
            position = written["data"][camel(command.name)]["position"]
            began = time.perf_counter()
            read = post(COMPETENCE, {"code": code, "position": position})
            found.waits.append(time.perf_counter() - began)
            began = time.perf_counter()
            post(COMPETENCE, {"code": code, "position": None})
            found.plain.append(time.perf_counter() - began)
            if read.get("errors"):
                found.unanswered.append(str(read["errors"])[:200])
            elif read["data"]["competence"] != {"code": code}:
                found.missed += 1
            stop.wait(PROBE_PAUSE_SECONDS)


# Read throughput -----------------------------------------------------------------------------


def read_throughput(running: Cluster, seconds: float, rounds: int) -> list[Metric]:
    """Rounds of: one process asked directly, and the balancer over 1, 2 and 3 processes, in
    turns (forwards, then backwards), after each process has answered a few requests; each
    run with variables no other run sends."""
    operation = next(op for op in documented_operations() if op.name == READ_OPERATION)
    runs = rounds * (1 + len(PROCESSES))
    variables = distinct_variables(
        DRAWS[operation.name], Catalogue.read(running.write_url),
        WARM_UP_REQUESTS + runs * int(seconds * COLD_PER_SECOND), seed=2013)
    warm_up, variables = variables[:WARM_UP_REQUESTS], variables[WARM_UP_REQUESTS:]
    share = len(variables) // runs
    if share < 100:
        raise RuntimeError(f"Only {len(variables)} distinct variable sets for {operation.name}: "
                           "generate a larger history (--events).")
    slices = iter(variables[n * share:(n + 1) * share] for n in range(runs))
    loads: dict[str, list[Load]] = {}

    def server(process: Process) -> Server:
        return Server(process.popen, f"{process.url}/graphql", DATABASE_NAME, None)

    def load(figure: str, process: Process) -> None:
        ran = server(process).load(operation.path, next(slices), repeat=False,
                                   seconds=seconds, max_requests=share)
        report_run(figure, ran)
        loads.setdefault(figure, []).append(ran)

    def balanced(count: int) -> None:
        with running.balancer(running.apis[:count]) as balancer:
            load(f"read_{operation.name}_balanced_{count}", balancer)

    direct = f"read_{operation.name}_direct_1"
    arrangements = [lambda: load(direct, running.apis[0]),
                    *(partial(balanced, count) for count in PROCESSES)]
    for api in running.apis:
        server(api).load(operation.path, warm_up, repeat=False, seconds=seconds,
                         max_requests=len(warm_up))
    for number in range(rounds):
        print(f" read throughput, round {number + 1} of {rounds}", file=sys.stderr)
        for arrangement in arrangements if number % 2 == 0 else reversed(arrangements):
            arrangement()
    return throughput_metrics(loads, direct)


def throughput_metrics(loads: dict[str, list[Load]], direct: str) -> list[Metric]:
    """Each figure the median of its rounds, next to one process asked directly."""
    baseline = Spread.of_values([run.requests_per_second for run in loads[direct]])
    metrics = []
    for figure, ran in loads.items():
        ours = Spread.of_values([run.requests_per_second for run in ran])
        failed = sum(run.errors for run in ran)
        metrics.append(Metric(figure, round(ours.median, 1), "requests/s",
                              "one process asked directly", round(baseline.median, 1),
                              round(ours.low, 1), round(ours.high, 1),
                              f"FAILED: {failed} requests" if failed else None))
    return metrics


# The run -------------------------------------------------------------------------------------


def history(events: int, steady_events: int, seed: int) -> tuple[list[str], list[str]]:
    """A generated history of about `events` events to import up front, and the commands
    that follow it in the same history, enough for `steady_events` more."""
    lines = [json.dumps(line) for line in generate_commands(events + steady_events, seed)]
    split = len(lines) * events // (events + steady_events)
    return lines[:split], lines[split:]


def wait_until_projected(process: Process) -> None:
    """Until the projections on the standby have caught up with the ledger."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        answer = httpx.get(f"{process.url}/readyz", timeout=30).json()
        if answer.get("status") == "ready" and answer.get("lag") == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"The projections did not catch up: {answer}")
        time.sleep(1)


def milliseconds(values: list[float]) -> tuple[float, float]:
    """p50 and p99, in ms."""
    return (round(statistics.median(values) * 1000, 1), round(p99(values) * 1000, 1))


def steady_load(running: Cluster, ledger: Ledger, lines: list[str], rate: float, seconds: float
                ) -> tuple[list[float], Steady, OwnWrites]:
    """The standby's lag of every command recorded at `rate` events a second, with a client
    reading its own writes through the balancer meanwhile."""
    admin = issue_token(running.write_url, "admin", name=ACTOR)
    clock = ReplayClock(running.write_url, running.read_url)
    steady, own = Steady(), OwnWrites()
    stop = threading.Event()
    print(f" {rate:g} events/s for {seconds:g} s ...", file=sys.stderr)
    try:
        with running.balancer(running.apis) as balancer:
            helpers = [threading.Thread(target=clock.follow, args=(stop,)),
                       threading.Thread(target=probe_own_writes,
                                        args=(balancer.url, admin, stop, own))]
            for helper in helpers:
                helper.start()
            try:
                record_steadily(ledger, lines, rate, seconds, clock, steady)
            finally:
                stop.set()
                for helper in helpers:
                    helper.join()
    finally:
        clock.close()
    return clock.lags, steady, own


def measure(events: int, seconds: float, read_seconds: float, rounds: int, seed: int
            ) -> tuple[dict[str, Any], dict[str, Any], list[Metric]]:
    rate = DESIGN_PEAK * PEAK_MULTIPLE
    upfront, steady_lines = history(events, int(rate * seconds * 1.5), seed)
    with cluster() as running:
        machine = describe_machine(running.write_url)
        print(f" importing {len(upfront)} commands ...", file=sys.stderr)
        ledger = Ledger(env=eventsourcing_env(running.write_url))
        try:
            for _ in import_lines(ledger, iter(upfront), actor=ACTOR,
                                  correlation_id=str(uuid.uuid4())):
                pass
            for _ in PROCESSES:
                running.start_api()
            running.start_worker()
            wait_until_projected(running.apis[0])
            lags, steady, own = steady_load(running, ledger, steady_lines, rate, seconds)
            metrics = read_throughput(running, read_seconds, rounds)
        finally:
            ledger.close()
    lag, wait, plain = milliseconds(lags), milliseconds(own.waits), milliseconds(own.plain)
    load = {"events_per_second": round(steady.events / steady.seconds, 1),
            "target_events_per_second": rate, "seconds": round(steady.seconds, 1),
            "commands": steady.commands, "lag_samples": len(lags),
            "own_write_probes": len(own.waits), "own_writes_not_read": own.missed,
            "own_write_reads_failed": len(own.unanswered), "failures": own.unanswered[:3],
            "standby_lag_p50_ms": lag[0], "at_least_wait_p50_ms": wait[0]}
    return machine, load, [
        Metric("standby_lag_p99", lag[1], "ms", "p50", lag[0]),
        Metric("at_least_wait_p99", wait[1], "ms", "the same read without atLeast, p99",
               plain[1], missing=f"FAILED: {own.missed} reads did not show their write, "
               f"{len(own.unanswered)} failed" if own.missed or own.unanswered else None),
        *metrics]


@click.command()
@click.option("--events", default=20_000, show_default=True,
              help="Size of the history imported before the steady load.")
@click.option("--seconds", default=120.0, show_default=True, type=click.FloatRange(5),
              help="How long the steady write load runs.")
@click.option("--read-seconds", default=10.0, show_default=True, type=click.FloatRange(1),
              help="How long each read throughput run lasts.")
@click.option("--rounds", default=2, show_default=True, type=click.IntRange(1),
              help="Rounds of the read throughput runs (the figure is their median).")
@click.option("--seed", default=2013, show_default=True, help="Seed of the generated history.")
@click.option("--json", "json_file", type=click.File("w"), default=None,
              help="Also write the figures as JSON.")
def main(events: int, seconds: float, read_seconds: float, rounds: int, seed: int,
         json_file: Any) -> None:
    """Measure the standby's lag, reading one's own writes through it, and read throughput
    behind a load balancer."""
    machine, load, metrics = measure(events, seconds, read_seconds, rounds, seed)
    click.echo(f"machine: {json.dumps(machine)}")
    click.echo(f"load: {json.dumps(load)}")
    click.echo(markdown(metrics))
    if json_file is not None:
        json.dump({"machine": machine, "events": events, "load": load,
                   "metrics": [m.as_json() for m in metrics]}, json_file, indent=2)


if __name__ == "__main__":
    main()
