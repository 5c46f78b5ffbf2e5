"""Command rate: single decisions with the full legitimacy check, one commit each, next to a bare
eventsourcing Application saving one aggregate with an event of the same size per commit.

    python -m bench.command_rate [--commands N] [--rounds R] [--json FILE]

Runs on a fresh database of the embedded server, or of BEVOEGD_DATABASE_URL's server."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import click
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from bench.machine import describe_machine
from ledger import commands as c
from ledger.application import CommandContext, Ledger
from ledger.database import eventsourcing_env, open_database
from tests.ledger_setup import world_commands


class Note(Aggregate):
    """The baseline's aggregate: one event carrying a payload of the measured size."""

    @event("Written")
    def write(self, payload: str) -> None:
        pass


class Baseline(Application[uuid.UUID]):
    name = "Baseline"


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"bevoegd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def measure_decisions(ledger: Ledger, commands: int, offset: int) -> float:
    """Commands per second for `commands` single decisions under a delegated mandate."""
    started = time.perf_counter()
    for i in range(offset, offset + commands):
        ledger.take_decision(
            c.TakeDecision(code=f"beschikking-{i}", title="Beschikking", competence="participatiewet",
                           jurisdiction="dordrecht", body="directeur-sdd",
                           taken_on=date(2010, 1, 1) + timedelta(days=i % 3000), outcome="adopted",
                           cited_grant="mandaat-sdd", cited_publication="Staatscourant 2006, 70"),
            CommandContext(f"bench-{i}", actor="bench"))
    return commands / (time.perf_counter() - started)


def measure_baseline(app: Baseline, commands: int, payload: str) -> float:
    """Saves per second of one aggregate with one event of the payload's size, one commit each."""
    note = Note()
    app.save(note)
    started = time.perf_counter()
    for _ in range(commands):
        note.write(payload=payload)
        app.save(note)
    return commands / (time.perf_counter() - started)


def decision_event_bytes(ledger: Ledger) -> int:
    """Bytes one decision command stores (its Registered, Taken and Exercised events)."""
    rows = ledger.store.chain_rows(after=max(ledger.position() - 3, 0))
    return sum(len(bytes(row["state"])) for row in rows)


def rounds_of(measure: Callable[[int], float], rounds: int) -> dict[str, float]:
    values = [measure(r) for r in range(rounds)]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


@click.command()
@click.option("--commands", default=500, show_default=True, type=click.IntRange(10),
              help="Commands per round.")
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1))
@click.option("--json", "json_file", type=click.File("w"), default=None,
              help="Also write the figures as JSON to this file.")
def main(commands: int, rounds: int, json_file: Any) -> None:
    """Measure the command rate of single decisions against a bare eventsourcing save."""
    with open_database() as database, fresh_database(database.url) as url:
        ledger = Ledger(env=eventsourcing_env(url))
        baseline = Baseline(env=eventsourcing_env(url) | {"APPLICATION_RECORDER_TOPIC": ""})
        try:
            for number, command in enumerate(world_commands()):
                ledger.execute(command, CommandContext(f"world-{number}"))
            measure_decisions(ledger, 20, 10_000_000)  # warm up connections and caches
            payload = "x" * decision_event_bytes(ledger)
            ours = rounds_of(lambda r: measure_decisions(ledger, commands, r * commands), rounds)
            bare = rounds_of(lambda r: measure_baseline(baseline, commands, payload), rounds)
            machine = describe_machine(url)
        finally:
            ledger.close()
            baseline.close()
    metric = {
        "name": "command_throughput_1",
        "value": round(ours["median"], 1),
        "min": round(ours["min"], 1),
        "max": round(ours["max"], 1),
        "unit": "commands/s",
        "baseline_name": "bare eventsourcing save, same event bytes, one commit each",
        "baseline": round(bare["median"], 1),
        "ratio": round(ours["median"] / bare["median"], 3),
    }
    report = {"machine": machine, "metrics": [metric]}
    click.echo(f"machine: {machine}")
    click.echo("| name | value | min | max | baseline | ratio |")
    click.echo("|---|---|---|---|---|---|")
    click.echo(f"| {metric['name']} | {metric['value']} {metric['unit']} | {metric['min']} | "
               f"{metric['max']} | {metric['baseline']} | {metric['ratio']} |")
    if json_file is not None:
        json.dump(report, json_file, indent=2)


if __name__ == "__main__":
    main()
