"""Scale figures, apart from `python -m bench` so that CI's smoke run stays short:
`python -m bench.scale --json FILE`.

- leader_takeover (s): two `bevoegd project` workers with signing keys, one leading; kill -9 of
  the leader under steady writes (about the national design peak) until the spare has committed
  its first batch, round after round, each time with a new spare. The baseline is the standby's
  poll interval (projections/runner.py POLL_SECONDS): the most a spare waits before it asks for
  the locks again, which the takeover cannot beat.
- subscriber_fanout_cpu_N (ms per event): the CPU time of one `bevoegd serve` process per event
  with N public subscribers over WebSocket (graphql-transport-ws), next to one subscriber: what
  each new event costs the process for its subscribers (one read of the shared tail, then the
  GraphQL result and the send per subscriber).
- subscriber_fanout_latency_N (ms): from the write's commit to the last of N subscribers
  receiving the event (through the projection worker and the shared tail), the median of the
  events, next to one subscriber.

The subscribers' clients run in this process, on the same machine as the server: the figures
are an upper bound of what the server needs."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
import psutil
import websockets

from bench.graphql_read import serving
from bench.machine import describe_machine
from bench.metrics import Metric, Spread, markdown, measured
from ledger.application import Ledger
from ledger.database import eventsourcing_env, open_database
from ledger.transparency.keys import SIGNING_KEY_VARIABLE
from ledger.transparency.note import Signer
from projections.runner import POLL_SECONDS
from tests.databases import fresh_database
from tests.read_models import import_history, pool_on, write_fresh_event
from tests.reliability.handover import (
    SteadyWrites,
    kill_the_leader,
    last_signed_with,
    leads,
    standing_by,
    start_worker,
)
from tests.reliability.processes import Bevoegd, until

ORIGIN = "bench.bevoegd.example/log"
SUBSCRIBERS = (10, 100, 1000)
EVENTS = 50
"""Events per round of the fan-out figures, written one at a time."""
CONNECT_AT_ONCE = 100
WAIT_SECONDS = 120.0
"""The most an event may take to reach every subscriber before the run fails."""
SUBSCRIPTION = "subscription($after: Int!) { ledgerEvents(after: $after) { position type } }"


# Leader takeover ------------------------------------------------------------------------------


async def _takeovers(url: str, ledger: Ledger, rounds: int, folder: Path) -> list[float]:
    """Seconds from each kill of the leading worker to the spare's first applied batch."""

    keys = [Signer.generate(ORIGIN) for _ in range(rounds + 1)]

    def worker(n: int) -> Bevoegd:
        return start_worker(url, folder / f"worker-{n}.log",
                            {SIGNING_KEY_VARIABLE: keys[n].text()})

    workers = [worker(0)]
    took: list[float] = []
    async with pool_on(url) as pool, pool.acquire() as conn:
        try:
            leader = await leads(conn, since=0)
            async with SteadyWrites(ledger):
                for n in range(1, rounds + 1):
                    workers.append(worker(n))
                    await until(lambda pid=leader: standing_by(conn, pid),
                                f"worker {n} to stand by")
                    await until(lambda key=keys[n - 1]: last_signed_with(conn, key),
                                f"worker {n - 1} to sign")
                    leader, seconds = await kill_the_leader(conn, workers[n - 1])
                    took.append(seconds)
        except Exception:
            for n, running in enumerate(workers):
                click.echo(f"worker {n}:\n{running.output(3000)}", err=True)
            raise
        finally:
            for running in workers:
                if running.alive:
                    running.stop()
    return took


def leader_takeover(url: str, ledger: Ledger, rounds: int) -> Metric:
    with tempfile.TemporaryDirectory() as folder:
        took = asyncio.run(_takeovers(url, ledger, rounds, Path(folder)))
    return measured("leader_takeover", "s", Spread.of_values(took),
                    "the standby's poll interval", Spread.of_values([POLL_SECONDS]), digits=2)


# Subscriber fan-out ---------------------------------------------------------------------------


class Subscribers:
    """N WebSocket connections, each with one ledgerEvents subscription, counting who received
    which position."""

    def __init__(self, url: str, n: int, after: int) -> None:
        self.url = url
        self.n = n
        self.after = after
        self.received: dict[int, int] = defaultdict(int)
        self.everyone: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._sockets: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Subscribers:
        for first in range(0, self.n, CONNECT_AT_ONCE):
            await asyncio.gather(*(self._connect() for _ in range(first, min(
                first + CONNECT_AT_ONCE, self.n))))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(socket.close() for socket in self._sockets))

    async def _connect(self) -> None:
        socket = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"],
                                          max_queue=None, ping_interval=None)
        self._sockets.append(socket)
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": SUBSCRIPTION, "variables": {"after": self.after}}}))
        self._tasks.append(asyncio.create_task(self._receive(socket)))

    async def _receive(self, socket: Any) -> None:
        async for message in socket:
            answer = json.loads(message)
            assert answer["type"] == "next", answer
            position = answer["payload"]["data"]["ledgerEvents"]["position"]
            self.received[position] += 1
            if self.received[position] == self.n:
                self.everyone[position].set()


async def _fanout_round(graphql_url: str, server_pid: int, ledger: Ledger, n: int
                        ) -> tuple[float, float]:
    """CPU ms of the server per event, and the median ms to the last subscriber's receipt."""
    server = psutil.Process(server_pid)
    url = graphql_url.replace("http://", "ws://")
    async with Subscribers(url, n, after=ledger.position()) as subscribers:
        # one event first: once everyone has it, everyone has joined the shared tail
        position = await asyncio.to_thread(write_fresh_event, ledger)
        await asyncio.wait_for(subscribers.everyone[position].wait(), WAIT_SECONDS)
        cpu_before = sum(server.cpu_times()[:2])
        latencies = []
        for _ in range(EVENTS):
            position = await asyncio.to_thread(write_fresh_event, ledger)
            committed = time.perf_counter()
            await asyncio.wait_for(subscribers.everyone[position].wait(), WAIT_SECONDS)
            latencies.append((time.perf_counter() - committed) * 1000)
        cpu = (sum(server.cpu_times()[:2]) - cpu_before) * 1000 / EVENTS
    return cpu, statistics.median(latencies)


def _fanout_rounds(graphql_url: str, server_pid: int, ledger: Ledger, rounds: int,
                   cpu: dict[int, list[float]], latency: dict[int, list[float]]) -> None:
    for _ in range(rounds):
        for n in (1, *SUBSCRIBERS):
            click.echo(f"  {n} subscribers ...", err=True)
            used, took = asyncio.run(_fanout_round(graphql_url, server_pid, ledger, n))
            cpu[n].append(used)
            latency[n].append(took)


async def _projected(url: str, position: int) -> None:
    """Waits until the worker leads and has projected `position` (each batch moves every
    projection to its last event)."""
    async with pool_on(url) as pool, pool.acquire() as conn:
        await leads(conn, since=position - 1)


def subscriber_fanout(url: str, ledger: Ledger, rounds: int) -> list[Metric]:
    """Each count's rounds interleaved with the single subscriber's, on one server."""
    cpu: dict[int, list[float]] = defaultdict(list)
    latency: dict[int, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        worker = start_worker(url, Path(folder) / "worker.log")
        try:
            asyncio.run(_projected(url, ledger.position()))
            with serving(url, None) as server:
                _fanout_rounds(server.url, server.process.pid, ledger, rounds, cpu, latency)
        finally:
            worker.stop()
    one = "1 subscriber, same server"

    return [metric for n in SUBSCRIBERS for metric in (
        measured(f"subscriber_fanout_cpu_{n}", "ms/event", Spread.of_values(cpu[n]), one,
                 Spread.of_values(cpu[1]), digits=2),
        measured(f"subscriber_fanout_latency_{n}", "ms", Spread.of_values(latency[n]), one,
                 Spread.of_values(latency[1]), digits=1))]


# The harness ----------------------------------------------------------------------------------


@click.command()
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1),
              help="Rounds per figure; the median is reported with min and max.")
@click.option("--history", default=3000, show_default=True, type=click.IntRange(1000),
              help="Events of the generated history the figures start from.")
@click.option("--json", "json_file", type=click.File("w"), default=None,
              help="Write the machine and the figures as JSON to this file.")
def main(rounds: int, history: int, json_file: Any) -> None:
    """Measure leader takeover and subscriber fan-out, each next to its baseline."""
    metrics: list[Metric] = []
    with open_database() as database, fresh_database(database.url) as url:
        machine = describe_machine(url)
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            click.echo(f"importing {history} events ...", err=True)
            import_history(ledger, history)
            click.echo("leader_takeover ...", err=True)
            metrics.append(leader_takeover(url, ledger, rounds))
            click.echo("subscriber_fanout_cpu_N, _latency_N ...", err=True)
            metrics.extend(subscriber_fanout(url, ledger, rounds))
        finally:
            ledger.close()
    click.echo(f"machine: {json.dumps(machine)}")
    click.echo(markdown(metrics))
    if json_file is not None:
        json.dump({"machine": machine, "history": history,
                   "metrics": [m.as_json() for m in metrics]}, json_file, indent=2)


if __name__ == "__main__":
    main()
