"""Command throughput: single decisions with the full legitimacy check, one commit each, from 1 or
more clients, next to a bare eventsourcing Application saving one aggregate with an event of the
same bytes per commit."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.metrics import Metric, Spread, measured
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.pipeline import CommandContext
from tests.world import competence_of_its_own, decision_under_mandate, world_commands


class Note(Aggregate):
    """The baseline's aggregate: one event carrying a payload of the measured size."""

    @event("Written")
    def write(self, payload: str) -> None:
        pass


class Baseline(Application[uuid.UUID]):
    name = "Baseline"


def decision(client: int, n: int) -> c.TakeDecision:
    command = decision_under_mandate(f"b-{client}-{n}", date(2010, 1, 1) + timedelta(days=n % 3000))
    return command.model_copy(update={"competence": f"taak-{client}"})


def in_parallel(actions: list[Callable[[], None]]) -> float:
    """Runs the actions in threads started together; returns the wall time."""
    start = threading.Barrier(len(actions) + 1)

    def run(action: Callable[[], None]) -> None:
        start.wait()
        action()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def command_throughput(url: str, clients: int, commands: int, rounds: int) -> Metric:
    # Each application serves one thread: one pooled connection each (it may overflow), so that
    # the 17 applications of 8 clients fit in a shared server's max_connections.
    env = eventsourcing_env(url) | {"POSTGRES_POOL_SIZE": "1"}
    setup = Ledger(env=env)
    ledgers = [Ledger(env=env) for _ in range(clients)]
    baselines = [Baseline(env=env | {"APPLICATION_RECORDER_TOPIC": ""}) for _ in range(clients)]
    try:
        for number, command in enumerate(world_commands()):
            setup.execute(command, CommandContext(f"world-{number}"))
        for client in range(clients):
            for number, command in enumerate(competence_of_its_own(f"taak-{client}")):
                setup.execute(command, CommandContext(f"client-{client}-{number}"))
        counter = iter(range(10**9))

        def ours(_: int) -> float:
            batch = {client: [next(counter) for _ in range(commands)] for client in range(clients)}
            elapsed = in_parallel([
                lambda client=client: [ledgers[client].execute(
                    decision(client, n), CommandContext(f"bench-{client}-{n}"))
                    for n in batch[client]]
                for client in range(clients)])
            return clients * commands / elapsed

        ours(0)  # warm up connections and caches
        rows = setup.store.chain_rows(after=setup.position() - 3)
        payload = "x" * sum(len(bytes(row["state"])) for row in rows)
        notes = [Note() for _ in range(clients)]
        for app, note in zip(baselines, notes, strict=True):
            app.save(note)

        def bare(_: int) -> float:
            def saves(client: int) -> None:
                for _ in range(commands):
                    notes[client].write(payload=payload)
                    baselines[client].save(notes[client])
            elapsed = in_parallel([lambda client=client: saves(client)
                                   for client in range(clients)])
            return clients * commands / elapsed

        return measured(f"command_throughput_{clients}", "commands/s", Spread.of(ours, rounds),
                        "bare eventsourcing save, same bytes, one commit each",
                        Spread.of(bare, rounds))
    finally:
        for app in [setup, *ledgers, *baselines]:
            app.close()
