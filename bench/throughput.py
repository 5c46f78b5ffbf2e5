"""Command throughput: single decisions with the full legitimacy check, one commit each, from 1 or
8 clients, next to a bare eventsourcing Application saving one aggregate with an event of the
same bytes per commit; and from 32 clients deciding under one competence holding, next to the 8
clients under holdings of their own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.metrics import Metric, interleaved, measured
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext
from tests.world import competence_of_its_own, decision_under_mandate, world_commands

CLIENTS = (1, 8)
CONTENDED = 32


class Note(Aggregate):
    """The baseline's aggregate: one event carrying a payload of the measured size."""

    @event("Written")
    def write(self, payload: str) -> None:
        pass


class Baseline(Application[uuid.UUID]):
    name = "Baseline"


def decision(competence: str, client: int, n: int) -> c.TakeDecision:
    command = decision_under_mandate(f"b-{client}-{n}", date(2010, 1, 1) + timedelta(days=n % 3000))
    return command.model_copy(update={"competence": competence})


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


class Deciders:
    """Clients taking decisions, each with an application of its own (a process, as it were:
    its own pool and caches); `shared` puts them all under one competence holding, otherwise
    each has a holding of its own. Counts the valid decisions refused."""

    def __init__(self, env: dict[str, str], clients: int, commands: int, shared: bool,
                 counter: Iterator[int]) -> None:
        self.ledgers = [Ledger(env=env) for _ in range(clients)]
        self.commands = commands
        self.competences = [f"taak-{0 if shared else client}" for client in range(clients)]
        self.counter = counter
        self.refused = 0

    def __call__(self, _: int) -> float:
        """One round: every client its commands, one commit each; commands/s."""
        batch = {client: [next(self.counter) for _ in range(self.commands)]
                 for client in range(len(self.ledgers))}

        def decide(client: int) -> None:
            for n in batch[client]:
                try:
                    self.ledgers[client].execute(decision(self.competences[client], client, n),
                                                 CommandContext(f"bench-{client}-{n}"))
                except LedgerError:
                    self.refused += 1

        elapsed = in_parallel([lambda client=client: decide(client)
                               for client in range(len(self.ledgers))])
        return len(self.ledgers) * self.commands / elapsed

    def close(self) -> None:
        while self.ledgers:
            self.ledgers.pop().close()


class BareSaves:
    """The baseline: clients saving one aggregate each with a bare eventsourcing Application, an
    event of `payload`'s size per commit."""

    def __init__(self, env: dict[str, str], clients: int, commands: int, payload: str) -> None:
        self.apps = [Baseline(env=env | {"APPLICATION_RECORDER_TOPIC": ""})
                     for _ in range(clients)]
        self.notes = [Note() for _ in range(clients)]
        self.commands = commands
        self.payload = payload
        for app, note in zip(self.apps, self.notes, strict=True):
            app.save(note)

    def __call__(self, _: int) -> float:
        def saves(client: int) -> None:
            for _ in range(self.commands):
                self.notes[client].write(payload=self.payload)
                self.apps[client].save(self.notes[client])
        elapsed = in_parallel([lambda client=client: saves(client)
                               for client in range(len(self.apps))])
        return len(self.apps) * self.commands / elapsed

    def close(self) -> None:
        for app in self.apps:
            app.close()


def command_throughput(url: str, commands: int, rounds: int) -> list[Metric]:
    """command_throughput_1 and _8 against bare saves of the same bytes, and
    command_throughput_contended (32 clients, one holding) against command_throughput_8, every
    figure's rounds interleaved with its baseline's (ours, baseline, ours, ...)."""
    # One pooled connection per application (it may overflow), so that the applications of
    # every figure fit in a shared server's max_connections; a busy server may take more than
    # the API's second to open some of them.
    env = eventsourcing_env(url) | {"POSTGRES_POOL_SIZE": "1", "POSTGRES_CONNECT_TIMEOUT": "10"}
    setup = Ledger(env=env)
    counter = iter(range(10**9))
    opened: list[Deciders] = []
    try:
        for number, command in enumerate(world_commands()):
            setup.execute(command, CommandContext(f"world-{number}"))
        for client in range(max(CLIENTS)):
            for number, command in enumerate(competence_of_its_own(f"taak-{client}")):
                setup.execute(command, CommandContext(f"client-{client}-{number}"))
        ours = {clients: Deciders(env, clients, commands, False, counter) for clients in CLIENTS}
        opened.extend(ours.values())
        ours[1](0)  # warm up connections and caches
        rows = setup.store.chain_rows(after=setup.position() - 3)
        payload = "x" * sum(len(bytes(row["state"])) for row in rows)
        metrics = []
        for clients in CLIENTS:
            bare = BareSaves(env, clients, commands, payload)
            try:
                mine, theirs = interleaved(ours[clients], bare, rounds)
            finally:
                bare.close()  # the connections, for the 32 clients
            metrics.append(measured(f"command_throughput_{clients}", "commands/s", mine,
                                    "bare eventsourcing save, same bytes, one commit each",
                                    theirs))
        ours[1].close()
        contended = Deciders(env, CONTENDED, commands, True, counter)
        opened.append(contended)
        contended(0)  # warm up its connections and caches
        contended.refused = 0
        mine, theirs = interleaved(contended, ours[8], rounds)
        metrics.append(measured(f"command_throughput_contended ({CONTENDED} clients, one holding,"
                                f" {contended.refused} valid decisions refused)", "commands/s",
                                mine, "command_throughput_8, same run", theirs))
        return metrics
    finally:
        for closing in opened:
            closing.close()
        setup.close()
