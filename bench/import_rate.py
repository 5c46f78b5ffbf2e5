"""Import rate: a generated history through the real import path (batched) into an empty
database, next to eventsourcing's own batched save of the events it stored (the library's
PostgreSQL application recorder, 100 events a transaction), in the same round."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import conninfo_to_dict

from bench.metrics import Metric, Spread, measured
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.importer import import_lines
from tests.databases import fresh_database

BATCH = 500
LIBRARY_BATCH = 100


def import_history(url: str, history: Path) -> tuple[float, int]:
    """Imports the file; returns events/s and how many lines were refused unexpectedly."""
    ledger = Ledger(env=eventsourcing_env(url))
    unexpected = 0
    try:
        began = time.perf_counter()
        with history.open(encoding="utf-8") as lines:
            for outcome in import_lines(ledger, lines, actor="bench", correlation_id="bench",
                                        batch_size=BATCH):
                if isinstance(outcome.outcome, LedgerError) and not outcome.as_expected:
                    unexpected += 1
        elapsed = time.perf_counter() - began
        return ledger.position() / elapsed, unexpected
    finally:
        ledger.close()


def library_save_rate(url: str, batch_events: int = LIBRARY_BATCH) -> float:
    """The same stored events saved by eventsourcing's own PostgreSQL application recorder into
    a table of its own, `batch_events` to a transaction, as an application saving its
    aggregates would: no rules, no hash chain, no idempotency keys; events/s."""
    with psycopg.connect(url) as conn:
        stored = [StoredEvent(*row) for row in conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM bevoegd_events"
            " ORDER BY notification_id")]
    params = conninfo_to_dict(url)
    datastore = PostgresDatastore(str(params["dbname"]), str(params.get("host", "localhost")),
                                  str(params.get("port", 5432)), str(params.get("user", "")),
                                  str(params.get("password", "")))
    recorder = PostgresApplicationRecorder(datastore, events_table_name="bench_library_events")
    try:
        recorder.create_table()
        began = time.perf_counter()
        for start in range(0, len(stored), batch_events):
            recorder.insert_events(stored[start:start + batch_events])
        elapsed = time.perf_counter() - began
        with datastore.transaction(commit=True) as curs:
            curs.execute("DROP TABLE bench_library_events")
    finally:
        datastore.close()
    return len(stored) / elapsed


def one_round(url: str, history: Path) -> tuple[float, int, float]:
    """The import into an empty database, then the baseline over the rows it stored."""
    rate, unexpected = import_history(url, history)
    return rate, unexpected, library_save_rate(url)


def import_rate(server_url: str, history: Path, rounds: int, last: str) -> tuple[Metric, int]:
    """Imports the file `rounds` times, each time into an empty database of its own; the last
    time into `last`, which the later figures read. Returns the figure and the most lines
    refused unexpectedly in any round."""
    results: list[tuple[float, int, float]] = []
    for _ in range(rounds - 1):
        with fresh_database(server_url) as url:
            results.append(one_round(url, history))
    results.append(one_round(last, history))
    ours, unexpected, bare = zip(*results, strict=True)
    return measured("import_rate", "events/s", Spread.of_values(ours),
                    f"eventsourcing's own save of the same events, {LIBRARY_BATCH} a transaction",
                    Spread.of_values(bare)), max(unexpected)
