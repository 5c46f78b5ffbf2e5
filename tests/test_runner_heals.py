"""The read side heals itself: a projection runner whose connections are killed in the middle of
a batch, or whose database is unreachable for a while, keeps running, takes its locks anew and
ends with the same tables as a rebuild; it reports its failure while it lasts (in memory for
/readyz, in the tracking table for `bevoegd projections status`) and logs it once. /readyz
answers 503 while a projection stands still behind the log, and the watch waking `atLeast`
readers listens again after its connection dies."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
import psycopg
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from api.cli import main
from ledger.application import Ledger
from projections.connection import connect_kwargs
from projections.events import LedgerEvent
from projections.rebuild import rebuild
from projections.runner import CATCH_UP_BATCH, STALL_SECONDS, Runner, all_projections
from projections.tracking import SCHEMA
from projections.waiting import CHANNELS, ProjectionWatch
from tests.ledger_setup import build_world
from tests.read_models import (
    assert_every_event_once,
    assert_same_read_models,
    import_history,
    pool_on,
    read_models,
    write_fresh_event,
)
from tests.tcp_proxy import TcpProxy
from tests.test_projection_crash import copy_waits, hold_second_batch, positions
from tests.test_projection_runner import (
    DEADLINE,
    caught_up,
    eventually,
    live_runner,
    lock_holders,
)

pytestmark = pytest.mark.database

HISTORY_EVENTS = 11_000  # three of the runner's batches: the kill lands in the second
NAMES = [p.name for p in all_projections()]  # in the order the API and the CLI list them


# Sessions and what the runner left in the tracking table --------------------------------------


async def backends(conn: asyncpg.Connection) -> set[int]:
    """The server processes of this database's sessions, but the asking one's."""
    rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()")
    return {row["pid"] for row in rows}


async def terminate(conn: asyncpg.Connection, pids: set[int]) -> None:
    assert pids
    await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(pids))


async def recorded_failures(pool: asyncpg.Pool) -> set[tuple[str | None, Any]]:
    """The distinct (last_error, last_error_at) of the projections' tracking rows."""
    rows = await pool.fetch(f"SELECT last_error, last_error_at FROM {SCHEMA}.tracking")
    assert len(rows) == len(NAMES)
    return {(row["last_error"], row["last_error_at"]) for row in rows}


async def one_leader(conn: asyncpg.Connection) -> int:
    """The one session holding every projection's lock."""
    holders = await lock_holders(conn)
    assert list(holders.values()) == [len(NAMES)], holders
    return next(iter(holders))


def logged_by(logger: str, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.INFO]


def assert_outage_logged_once(logged: list[logging.LogRecord]) -> None:
    """Two lines, when it began and when it ended, and no traceback: an outage is not a bug."""
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)] * 2, \
        [r.getMessage() for r in logged]
    assert "failed" in logged[0].getMessage() and "works again" in logged[1].getMessage()


async def assert_same_as_rebuilt(database_url: str) -> None:
    """Every event once, and the tables a rebuild from scratch gives."""
    async with pool_on(database_url) as pool, pool.acquire() as conn:
        await assert_every_event_once(conn)
        projected = await read_models(conn)
        await rebuild(pool, all_projections())
        assert_same_read_models(projected, await read_models(conn))


# Killed in the middle of a batch --------------------------------------------------------------


async def test_a_runner_whose_connections_are_killed_mid_batch_leads_again_and_carries_on(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="projections.runner")
    head = import_history(ledger, HISTORY_EVENTS)
    assert head > 2 * CATCH_UP_BATCH
    # One connection for the probe, so that every session that comes after is the runner's.
    async with pool_on(database_url, max_size=1) as probe:
        await Runner(probe, all_projections()).setup()
        admin = await asyncpg.connect(**connect_kwargs(database_url))
        blocker = await hold_second_batch(database_url, probe)
        before = await backends(admin)
        try:
            async with pool_on(database_url) as pool, live_runner(pool) as live:
                try:
                    await eventually(lambda: copy_waits(probe), "the runner waits in batch two")
                    assert await positions(probe) == {CATCH_UP_BATCH}
                    first_leader = await one_leader(admin)
                    killed = await backends(admin) - before
                    await terminate(admin, killed)

                    # It is back in the same batch, on new sessions, holding the locks again (the
                    # test's transaction holds the batch), and has noted its failure for others.
                    await eventually(lambda: copy_waits(probe, but_in=killed),
                                     "the runner is back in batch two")
                    assert not live.task.done()
                    await eventually(lambda: _failure_recorded(probe), "the failure is recorded")
                    failure = live.runner.health.failure
                    assert failure is not None
                    assert await recorded_failures(probe) == {(failure.error, failure.at)}
                    assert await one_leader(admin) not in killed | {first_leader}

                    await blocker.execute("ROLLBACK")
                    await eventually(lambda: caught_up(probe), "the runner catches up")
                    await eventually(lambda: _failure_cleared(probe), "the failure is cleared")
                    assert live.runner.health.failure is None
                    assert await positions(probe) == {head}
                    await one_leader(admin)
                finally:  # before the runner halts: it may be waiting on this transaction
                    await blocker.close()
            # halting re-raises whatever made the task end
        finally:
            await admin.close()
    assert_outage_logged_once(logged_by("projections.runner", caplog))
    await assert_same_as_rebuilt(database_url)


async def _failure_recorded(pool: asyncpg.Pool) -> bool:
    return all(error is not None for error, _ in await recorded_failures(pool))


async def _failure_cleared(pool: asyncpg.Pool) -> bool:
    return await recorded_failures(pool) == {(None, None)}


# A batch refused, as `bevoegd projections status` shows it ----------------------------------


async def test_projections_status_shows_a_failing_runner_until_its_batches_commit_again(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(ledger)
    monkeypatch.setenv("BEVOEGD_DATABASE_URL", database_url)
    async with pool_on(database_url) as pool, pool_on(database_url) as probe, \
            live_runner(pool) as live:
        await eventually(lambda: caught_up(probe), "the runner catches up")
        # Every batch with events now fails (and is rolled back): a table is not where it was.
        await probe.execute(f"ALTER TABLE {SCHEMA}.ledger_info RENAME TO ledger_info_away")
        await asyncio.to_thread(write_fresh_event, ledger)
        await eventually(lambda: _failure_recorded(probe), "the failure is recorded")
        failure = live.runner.health.failure
        assert failure is not None and "ledger_info" in failure.error

        text = await _cli("projections", "status")
        assert f"Runner failing ({', '.join(NAMES)}), last at " in text
        assert text.rstrip().endswith(failure.error)
        found = json.loads(await _cli("projections", "status", "--json"))
        assert {(s["lag"], s["last_error"]) for s in found} == {(1, failure.error)}
        assert {s["state"] for s in found} <= {"advancing", "stalled"}

        await probe.execute(f"ALTER TABLE {SCHEMA}.ledger_info_away RENAME TO ledger_info")
        await eventually(lambda: caught_up(probe), "the runner catches up again")
        await eventually(lambda: _failure_cleared(probe), "the failure is cleared")
        assert live.runner.health.failure is None
        text = await _cli("projections", "status")
        assert "failing" not in text
        found = json.loads(await _cli("projections", "status", "--json"))
        assert {(s["state"], s["last_error"], s["last_error_at"]) for s in found} == {
            ("current", None, None)}


class Faulty:
    """A projection with a bug that is there until it is fixed."""

    name = "faulty"
    version = 1
    tables: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.fixed = False

    def create_tables(self, schema: str) -> list[str]:
        return []

    def create_indexes(self, schema: str) -> list[str]:
        return []

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        if not self.fixed:
            raise KeyError(events[0].type)


async def test_a_bug_in_a_projection_is_logged_with_its_traceback_once_and_retried(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="projections.runner")
    build_world(ledger)
    faulty = Faulty()
    async with pool_on(database_url) as pool:
        runner = Runner(pool, [*all_projections(), faulty])
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await eventually(lambda: _retried(runner, 3), "the runner keeps trying")
            assert runner.health.failure is not None
            assert runner.health.failure.error.startswith("KeyError: ")
            assert await positions_of(pool) == {0}  # every batch was rolled back
            faulty.fixed = True
            await eventually(lambda: _at(pool, ledger.position()), "the runner catches up")
            assert runner.health.failure is None
        finally:
            stop.set()
            await task
    logged = logged_by("projections.runner", caplog)
    assert [(r.levelname, r.exc_info is not None) for r in logged] == [
        ("ERROR", True), ("WARNING", False)], [r.getMessage() for r in logged]


async def positions_of(pool: asyncpg.Pool) -> set[int]:
    return {row["position"] for row in await pool.fetch(f"SELECT position FROM {SCHEMA}.tracking")}


async def _at(pool: asyncpg.Pool, head: int) -> bool:
    return await positions_of(pool) == {head}


async def _cli(*args: str) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


# The database unreachable ---------------------------------------------------------------------


async def test_a_runner_rides_out_the_database_being_unreachable(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="projections.runner")
    head = import_history(ledger)
    with TcpProxy(database_url) as proxy:
        async with pool_on(database_url) as probe, probe.acquire() as admin, \
                pool_on(proxy.url) as pool:
            await Runner(probe, all_projections()).setup()  # the tracking rows to watch
            async with live_runner(pool, batch_size=100) as live:
                await eventually(lambda: _mid_catch_up(probe, head), "the runner is catching up")
                await asyncio.to_thread(proxy.cut)
                await eventually(lambda: _retried(live.runner, 3), "the runner keeps trying")
                assert not live.task.done()
                assert await lock_holders(admin) == {}  # its session is gone, and its locks
                assert max(await positions(probe)) < head

                await asyncio.to_thread(proxy.restore)
                await eventually(lambda: caught_up(probe), "the runner catches up")
                assert live.runner.health.failure is None
                await one_leader(admin)
                assert await recorded_failures(probe) == {(None, None)}
    assert_outage_logged_once(logged_by("projections.runner", caplog))
    await assert_same_as_rebuilt(database_url)


async def _mid_catch_up(pool: asyncpg.Pool, head: int) -> bool:
    return all(0 < position < head for position in await positions(pool))


async def _retried(runner: Runner, attempts: int) -> bool:
    return runner.health.failure is not None and runner.health.failure.attempts >= attempts


# /readyz --------------------------------------------------------------------------------------


def readyz_until(client: TestClient, holds: Callable[[dict[str, Any]], bool], what: str
                 ) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + DEADLINE + STALL_SECONDS
    while True:
        answer = client.get("/readyz")
        if holds(body := answer.json()):
            return answer.status_code, body
        assert time.monotonic() < deadline, f"/readyz never {what}: {answer.status_code} {body}"
        time.sleep(0.1)


def test_readyz_answers_503_while_the_projections_stand_still_behind_the_log(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    head = ledger.position()
    with TestClient(create_app(database_url, run_projector=False)) as client:
        # Nobody projects: the log is ahead and the positions do not move.
        status, body = readyz_until(client, lambda b: b.get("status") == "stalled", "stalled")
        assert status == 503
        assert body["stalled"] == NAMES and body["lag"] == head

        asyncio.run(_project_everything(database_url))  # a runner elsewhere catches up
        status, body = readyz_until(client, lambda b: b.get("status") != "stalled", "moved on")
        assert (status, body["status"], body["lag"]) == (200, "ready", 0)


async def _project_everything(database_url: str) -> None:
    async with pool_on(database_url) as pool:
        runner = Runner(pool, all_projections())
        while await runner.catch_up() > 0:
            pass


@contextmanager
def holding_tracking_row(database_url: str, projection: str) -> Iterator[Callable[[], None]]:
    """Holds a projection's tracking row in a transaction until the function given is called:
    a runner wanting the row waits, in the API for its statement time limit, and fails."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"SELECT 1 FROM {SCHEMA}.tracking WHERE projection = %s FOR UPDATE",
                     [projection])
        yield conn.rollback


def test_readyz_answers_503_while_the_runner_of_the_process_fails_and_200_once_it_recovers(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    with TestClient(create_app(database_url)) as client:
        status, body = readyz_until(client, lambda b: b.get("lag") == 0, "caught up")
        assert (status, body["status"]) == (200, "ready")
        with holding_tracking_row(database_url, "decisions") as release:
            write_fresh_event(ledger)
            status, body = readyz_until(client, lambda b: b.get("status") == "failing", "failing")
            assert status == 503 and body["lag"] == 1
            assert body["error"].startswith("TimeoutError") and body["since"]
            release()
            status, body = readyz_until(client, lambda b: b.get("lag") == 0, "caught up again")
        assert (status, body["status"]) == (200, "ready")


# The watch of projected positions -------------------------------------------------------------


async def test_the_projection_watch_listens_again_after_its_connection_dies(
    ledger: Ledger, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="projections.waiting")
    build_world(ledger)
    async with pool_on(database_url) as pool, pool_on(database_url) as probe, \
            probe.acquire() as admin, live_runner(pool):
        await eventually(lambda: caught_up(probe), "the runner catches up")
        watch = ProjectionWatch(probe)
        await watch.start()
        try:
            (listener,) = await _watch_listeners(admin)
            await terminate(admin, {listener})
            await eventually(lambda: _listening_again(watch, admin, listener),
                             "it listens again")
            seen = watch.generation
            position = await asyncio.to_thread(write_fresh_event, ledger)
            # Only a notification moves the generation now: the runner projects the write.
            await eventually(lambda: _moved(watch, seen), "a notification arrives")
            assert await watch.wait_for(position, timeout=DEADLINE) >= position
        finally:
            await watch.stop()
        assert await _watch_listeners(admin) == set()
    assert_outage_logged_once(logged_by("projections.waiting", caplog))


async def _watch_listeners(conn: asyncpg.Connection) -> set[int]:
    """The sessions whose last statement was a LISTEN on one of the watch's channels."""
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND query LIKE ANY($1)", [f"LISTEN %{channel}%" for channel in CHANNELS])
    return {row["pid"] for row in rows}


async def _listening_again(watch: ProjectionWatch, conn: asyncpg.Connection, dead: int) -> bool:
    """A new session listens, and the watch knows it (and has moved its generation for what it
    may have missed meanwhile)."""
    return len(await _watch_listeners(conn) - {dead}) == 1 and watch.health.failure is None


async def _moved(watch: ProjectionWatch, seen: int) -> bool:
    return watch.generation > seen
