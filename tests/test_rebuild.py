"""Rebuilding projections: the shadow build gives the tables the incremental build gives, reads
keep getting complete answers while it runs and while it swaps the tables in, the live runner
keeps projecting new events throughout, one rebuild runs at a time, and the CLI drives it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import psycopg
import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.application import Ledger
from projections.connection import connect_kwargs
from projections.queries.audit import AuditFilter, audit_trail, event_counts
from projections.queries.commissions import commissions, consultations
from projections.queries.competences import competence_map, grants, who_is_competent
from projections.queries.decisions import DecisionFilter, decision, decisions
from projections.queries.pagination import PageRequest
from projections.queries.structure import bodies, body, jurisdiction, members_on
from projections.rebuild import SHADOW, RebuildInProgress, connections_needed, rebuild
from projections.runner import Runner, all_projections
from projections.tracking import SCHEMA
from projections.waiting import wait_for
from tests.ledger_setup import build_world, import_demo
from tests.read_models import (
    assert_every_event_once,
    assert_same_read_models,
    import_history,
    pool_on,
    read_models,
    write_fresh_event,
)

pytestmark = pytest.mark.database

DEADLINE = 30.0  # seconds a bounded wait may take before the test fails; never a measurement
SLOW_BATCH = 50  # a rebuild in many small batches, so that there is time to act during it


# The ledger side ------------------------------------------------------------------------------


# Pools, runners, waiting ----------------------------------------------------------------------


async def project_incrementally(pool: asyncpg.Pool, batch_size: int) -> None:
    runner = Runner(pool, all_projections(), batch_size=batch_size)
    await runner.setup()
    while await runner.catch_up() > 0:
        pass


@asynccontextmanager
async def live_runner(pool: asyncpg.Pool) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(Runner(pool, all_projections()).run(stop))
    try:
        yield task
    finally:
        stop.set()
        await task


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"within {DEADLINE:g} s: {what}"
        await asyncio.sleep(0.02)


async def waiting_on_locks(pool: asyncpg.Pool, query_prefix: str = "") -> int:
    """Sessions of this database waiting for a lock, running a query that starts so."""
    return int(await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE $1 || '%'", query_prefix))


# Holding a rebuild at a known point -----------------------------------------------------------


@dataclass
class RunningRebuild:
    task: asyncio.Task[int]
    progress: list[tuple[int, int]]


@asynccontextmanager
async def rebuilding(database_url: str, batch_size: int = SLOW_BATCH
                     ) -> AsyncIterator[RunningRebuild]:
    """A rebuild in the background, on a pool of its own as in `bevoegd projections rebuild`;
    cancelled on the way out if the test left it running."""
    progress: list[tuple[int, int]] = []
    async with pool_on(database_url, connections_needed(len(all_projections()))) as pool:
        task = asyncio.create_task(rebuild(
            pool, all_projections(), lambda at, head: progress.append((at, head)), batch_size))
        try:
            yield RunningRebuild(task, progress)
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def rebuild_paused(database_url: str, running: RunningRebuild
                         ) -> AsyncIterator[asyncpg.Connection]:
    """Holds the running rebuild in its replay: once it has applied a batch, a lock on one of its
    shadow tables stops its next one. The rebuild cannot finish without that table, so what
    happens inside this block happens during the rebuild, however fast the machine."""
    await eventually(lambda: _has_progressed(running), "the rebuild applies a batch")
    conn = await asyncpg.connect(**connect_kwargs(database_url))
    try:
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {SHADOW}.audit_trail IN ACCESS EXCLUSIVE MODE")
            assert not running.task.done()
            yield conn
    finally:
        await conn.close()


async def _has_progressed(running: RunningRebuild) -> bool:
    if running.task.done():
        running.task.result()  # a failed rebuild says why at once
    return bool(running.progress)


# Comparing read models ------------------------------------------------------------------------


# Read answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subjects:
    """Records of the history to ask about, picked once the projections hold it."""

    decision: str
    body: str
    jurisdiction: str
    region: str
    competence: str
    actor: str
    half: int  # a ledger position halfway, for as-known-at reads


async def pick_subjects(pool: asyncpg.Pool) -> Subjects:
    taken = await pool.fetchrow(
        f"SELECT code, body, jurisdiction, competence FROM {SCHEMA}.decisions"
        " WHERE taken_position IS NOT NULL ORDER BY recorded_position DESC LIMIT 1")
    region = await pool.fetchval(
        f"SELECT region FROM {SCHEMA}.memberships GROUP BY region ORDER BY count(*) DESC LIMIT 1")
    actor = await pool.fetchval(f"SELECT actor FROM {SCHEMA}.audit_trail ORDER BY position LIMIT 1")
    head = await pool.fetchval(f"SELECT max(position) FROM {SCHEMA}.audit_trail")
    return Subjects(taken["code"], taken["body"], taken["jurisdiction"], region,
                    taken["competence"], actor, head // 2)


ON = date(2015, 6, 1)


def reads(s: Subjects) -> dict[str, Callable[[asyncpg.Pool], Awaitable[Any]]]:
    """The query layer's reads, over every projection; each returns a comparable answer."""
    page = PageRequest(first=100)
    return {
        "audit_trail": lambda db: audit_trail(db, PageRequest(first=100, newest_first=True)),
        "audit_by_actor": lambda db: audit_trail(db, page, AuditFilter(actor=s.actor)),
        "event_counts": event_counts,
        "decisions": lambda db: decisions(db, page, ON),
        "decisions_as_known": lambda db: decisions(db, page, ON, known_at=s.half),
        "decisions_of_body": lambda db: decisions(db, page, ON, where=DecisionFilter(body=s.body)),
        "decision": lambda db: decision(db, s.decision, ON),
        "competence_map": lambda db: competence_map(db, s.jurisdiction, ON),
        "competence_map_as_known": lambda db: competence_map(db, s.jurisdiction, ON, s.half),
        "who_is_competent": lambda db: who_is_competent(db, s.competence, s.jurisdiction, ON),
        "grants": lambda db: grants(db, page, ON),
        "commissions": lambda db: commissions(db, page, ON),
        "consultations": lambda db: consultations(db, page, ON),
        "members_on": lambda db: members_on(db, s.region, ON),
        "body": lambda db: body(db, s.body, ON),
        "bodies": lambda db: bodies(db, page, jurisdiction=s.jurisdiction),
        "jurisdiction": lambda db: jurisdiction(db, s.jurisdiction),
    }


async def answers(pool: asyncpg.Pool, subjects: Subjects) -> dict[str, Any]:
    """Every read at once, each on a connection of its own, as concurrent clients would."""
    asked = reads(subjects)
    found = await asyncio.gather(*(read(pool) for read in asked.values()))
    return dict(zip(asked, found, strict=True))


def assert_same_answers(found: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, answer in expected.items():
        assert found[name] == answer, f"{name} differs from its answer before the rebuild"


# The rebuild's result -------------------------------------------------------------------------


def load(ledger: Ledger, history: str) -> int:
    """The world of the benchmarks; the demo's story (late facts turning verdicts, an
    abolition); or a generated country."""
    if history == "world":
        build_world(ledger)
    elif history == "demo":
        refused = [o for o in import_demo(ledger) if not o.as_expected]
        assert refused == []
    else:
        import_history(ledger)
    return ledger.position()


@pytest.mark.parametrize(("history", "batch_size"),
                         [("world", 1), ("demo", 3), ("generated", 97)])
async def test_a_rebuild_gives_the_tables_of_the_incremental_build(
    ledger: Ledger, database_url: str, history: str, batch_size: int
) -> None:
    head = load(ledger, history)
    async with pool_on(database_url) as pool:
        # small batches: records are revisited across batch borders, unlike in the rebuild
        await project_incrementally(pool, batch_size)
        incremental = await read_models(pool)
        assert sum(map(len, incremental.values())) > head  # the comparison compares something

        progress: list[tuple[int, int]] = []
        swapped_at = await rebuild(pool, all_projections(),
                                   lambda at, end: progress.append((at, end)))
        assert swapped_at == head
        assert_same_read_models(await read_models(pool), incremental)
        assert [at for at, _ in progress] == sorted({at for at, _ in progress})
        assert progress[-1] == (head, head)
        assert await pool.fetchval(f"SELECT to_regnamespace('{SHADOW}')") is None  # cleaned up
        positions = await pool.fetch(f"SELECT position FROM {SCHEMA}.tracking")
        assert {row["position"] for row in positions} == {head}


async def test_a_rebuild_shared_out_over_processes_gives_the_same_tables(
    ledger: Ledger, database_url: str
) -> None:
    head = import_history(ledger)
    async with pool_on(database_url) as pool:
        await project_incrementally(pool, 97)
        incremental = await read_models(pool)
        assert await rebuild(pool, all_projections(), processes=3,
                             database_url=database_url) == head
        assert_same_read_models(await read_models(pool), incremental)


async def test_rebuilding_one_projection_leaves_the_others_alone(
    ledger: Ledger, database_url: str
) -> None:
    import_history(ledger)
    async with pool_on(database_url) as pool:
        await project_incrementally(pool, 500)
        before = await read_models(pool)
        untouched = await pool.fetchval(f"SELECT '{SCHEMA}.audit_trail'::regclass::oid")
        decisions_projection = [p for p in all_projections() if p.name == "decisions"]
        await rebuild(pool, decisions_projection)
        assert_same_read_models(await read_models(pool), before)
        assert await pool.fetchval(f"SELECT '{SCHEMA}.audit_trail'::regclass::oid") == untouched


# Reads during a rebuild -----------------------------------------------------------------------


async def test_reads_during_a_rebuild_return_complete_answers(
    ledger: Ledger, database_url: str
) -> None:
    import_history(ledger)
    async with pool_on(database_url, max_size=40) as pool:
        await project_incrementally(pool, 5000)
        subjects = await pick_subjects(pool)
        expected = await answers(pool, subjects)
        async with pool.acquire() as holder, rebuilding(database_url) as running:
            # An earlier reader still busy with the last table the swap replaces keeps the swap
            # waiting at its end, holding every other table: reads asked meanwhile must wait
            # for the new tables rather than fail or find them empty.
            holding = holder.transaction()
            await holding.start()
            await holder.execute(f"SELECT FROM {SCHEMA}.dossiers LIMIT 1")
            reading = Reading(pool, subjects)
            async with rebuild_paused(database_url, running):
                # reading stops before the swap starts: a read racing the swap's first steps
                # is the business of the test after this one
                during_replay = await reading.stop()
            await eventually(lambda: _more_than(waiting_on_locks(pool, "DROP TABLE"), 0),
                             "the swap waits for the earlier reader")
            during_swap = asyncio.create_task(answers(pool, subjects))
            await eventually(lambda: _more_than(waiting_on_locks(pool, "SELECT"), 0),
                             "reads wait for the swap")
            await holding.commit()
            await running.task
        for found in [*during_replay, await during_swap, await answers(pool, subjects)]:
            assert_same_answers(found, expected)


class Reading:
    """Rounds of every read, one after the other, until stopped; paced, lest a busy reader
    starve the rebuild it reads alongside."""

    def __init__(self, pool: asyncpg.Pool, subjects: Subjects) -> None:
        self.stopping = asyncio.Event()
        self.rounds: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read(pool, subjects))

    async def _read(self, pool: asyncpg.Pool, subjects: Subjects) -> None:
        while not self.stopping.is_set() or not self.rounds:
            self.rounds.append(await answers(pool, subjects))
            await asyncio.sleep(0.05)

    async def stop(self) -> list[dict[str, Any]]:
        self.stopping.set()
        await self.task
        return self.rounds


async def _more_than(count: Awaitable[int], least: int) -> bool:
    return await count > least


async def test_a_read_across_two_projections_while_the_swap_runs_is_answered(
    ledger: Ledger, database_url: str
) -> None:
    """The decision register reads `decisions` and then `verdicts` (of the competences
    projection) in one statement; the swap replaces `verdicts` first and `decisions` after. A
    read that takes `decisions` in between must neither deadlock nor make the rebuild fail."""
    build_world(ledger)
    async with pool_on(database_url) as pool:
        await project_incrementally(pool, 5000)
        code = await pool.fetchval(f"SELECT code FROM {SCHEMA}.decisions LIMIT 1")
        expected = await decision(pool, code, ON)
        async with pool.acquire() as holder, rebuilding(database_url, batch_size=1) as running:
            # Something still reading the new `verdicts` holds the swap right after it took the
            # old one, so that the read surely starts inside that window.
            holding = holder.transaction()
            await holding.start()
            await eventually(lambda: _has_progressed(running), "the rebuild applies a batch")
            await holder.execute(f"SELECT FROM {SHADOW}.verdicts LIMIT 1")
            await eventually(lambda: _more_than(waiting_on_locks(pool, "ALTER TABLE"), 0),
                             "the swap waits to move the new verdicts in")
            read = asyncio.create_task(decision(pool, code, ON))
            await eventually(lambda: _more_than(waiting_on_locks(pool, "SELECT"), 0),
                             "the read waits for the swap")
            await holding.commit()
            answer, rebuilt = await asyncio.gather(read, running.task, return_exceptions=True)
        assert not isinstance(answer, BaseException), f"the read failed: {answer!r}"
        assert not isinstance(rebuilt, BaseException), f"the rebuild failed: {rebuilt!r}"
        assert (answer, rebuilt) == (expected, ledger.position())


# The live runner during a rebuild -------------------------------------------------------------


async def test_the_live_runner_keeps_projecting_during_and_after_a_rebuild(
    ledger: Ledger, database_url: str
) -> None:
    import_history(ledger)
    async with pool_on(database_url) as pool:
        await Runner(pool, all_projections()).setup()  # tracking rows to watch from the start
    async with pool_on(database_url) as pool, live_runner(pool) as runner:
        await eventually(lambda: _all_at(pool, ledger.position()), "the runner catches up")
        async with rebuilding(database_url) as running:
            async with rebuild_paused(database_url, running):
                for _ in range(3):
                    position = await asyncio.to_thread(write_fresh_event, ledger)
                    assert await wait_for(pool, position, timeout=DEADLINE) >= position
            # a write racing the end of the rebuild, then one surely after it
            racing = asyncio.create_task(asyncio.to_thread(write_fresh_event, ledger))
            await running.task
            await racing
        position = await asyncio.to_thread(write_fresh_event, ledger)
        assert await wait_for(pool, position, timeout=DEADLINE) >= position
        await eventually(lambda: _all_at(pool, ledger.position()), "the runner catches up")
        assert not runner.done()
        await assert_every_event_once(pool)
        incremental = await read_models(pool)
    async with pool_on(database_url) as pool:
        await rebuild(pool, all_projections())
        assert_same_read_models(await read_models(pool), incremental)


async def _all_at(pool: asyncpg.Pool, position: int) -> bool:
    rows = await pool.fetch(f"SELECT position FROM {SCHEMA}.tracking")
    return len(rows) == len(all_projections()) and {r["position"] for r in rows} == {position}


# One rebuild at a time ------------------------------------------------------------------------


async def test_a_second_rebuild_is_refused_while_one_runs(
    ledger: Ledger, database_url: str
) -> None:
    head = import_history(ledger)
    async with pool_on(database_url) as pool:
        await project_incrementally(pool, 5000)
        async with rebuilding(database_url) as running:
            async with rebuild_paused(database_url, running):
                with pytest.raises(RebuildInProgress):
                    await rebuild(pool, all_projections())
            assert await running.task == head  # the refusal did not disturb the first one
        assert await rebuild(pool, all_projections()) == head  # and the lock was let go


# The command line -----------------------------------------------------------------------------


def status_by_name(cli: CliRunner) -> dict[str, dict[str, Any]]:
    result = cli.invoke(main, ["projections", "status", "--json"])
    assert result.exit_code == 0, result.output
    return {s["projection"]: s for s in json.loads(result.stdout)}


def test_the_cli_rebuilds_projections_and_reports_their_status(
    cli: CliRunner, ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    head = ledger.position()
    names = [p.name for p in all_projections()]
    before = status_by_name(cli)
    assert sorted(before) == sorted(names)
    assert {(s["position"], s["head"], s["lag"]) for s in before.values()} == {(0, head, head)}
    # events wait and no runner ever projected them: the worker's health check fails
    assert cli.invoke(main, ["projections", "status", "--check"]).exit_code == 1

    rebuilt = cli.invoke(main, ["projections", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"Rebuilt {', '.join(names)} up to position {head}." in rebuilt.stdout
    after = status_by_name(cli)
    assert {(s["position"], s["lag"]) for s in after.values()} == {(head, 0)}
    assert cli.invoke(main, ["projections", "status", "--check"]).exit_code == 0
    with psycopg.connect(database_url) as conn:
        positions = conn.execute(f"SELECT position FROM {SCHEMA}.audit_trail ORDER BY position")
        assert [row[0] for row in positions] == list(range(1, head + 1))

    write_fresh_event(ledger)
    one = cli.invoke(main, ["projections", "rebuild", "decisions"])
    assert one.exit_code == 0, one.output
    assert f"Rebuilt decisions up to position {head + 1}." in one.stdout
    lags = {name: s["lag"] for name, s in status_by_name(cli).items()}
    assert lags == {name: 0 if name == "decisions" else 1 for name in names}

    text = cli.invoke(main, ["projections", "status"])
    assert text.exit_code == 0, text.output
    rows = {line.split()[0]: line.split() for line in text.stdout.splitlines()[1:]}
    assert sorted(rows) == sorted(names)
    assert rows["decisions"][1:3] == [str(head + 1), "0"]
    assert rows["audit_trail"][1:3] == [str(head), "1"]


def test_rebuilding_an_unknown_projection_is_a_usage_error(cli: CliRunner, ledger: Ledger) -> None:
    build_world(ledger)
    result = cli.invoke(main, ["projections", "rebuild", "geen-projectie"])
    assert result.exit_code == 2
    assert "geen-projectie" in result.output
    assert all(p.name in result.output for p in all_projections())
