"""The projections drawn anew from the events and compared with the live ones, table by table, row
by row. The log is replayed as a rebuild replays it (projections/rebuild.py), into the tables of a
scratch schema, up to where the live projections stood at the start; then, in one transaction
that holds the projections' tracking rows (so that the live runner waits, as during a rebuild's
swap), the scratch tables catch up to each live projection's position and are compared with the
live tables. The scratch schema is dropped afterwards; nothing live is written."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from projections.events import read_events
from projections.health import describe
from projections.projection import Projection
from projections.rebuild import REBUILD_BATCH, Progress, create_schema, replay
from projections.tracking import SCHEMA
from projections.verification.findings import Difference, Findings

SCRATCH = f"{SCHEMA}_verify"
COMPARE_MEMORY = "64MB"  # work_mem of the comparisons, which sort or hash whole tables
SHOWN = 48  # characters of a value shown in a difference
T = TypeVar("T")


class VerificationInProgress(RuntimeError):
    pass


@dataclass(frozen=True)
class ReadModelFindings:
    position: int | None  # where the live projections were compared; None: none are set up
    tables: int


async def check_read_models(pool: asyncpg.Pool, projections: Sequence[Projection],
                            findings: Findings, progress: Progress | None = None,
                            batch_size: int = REBUILD_BATCH) -> ReadModelFindings:
    projections = sorted(projections, key=lambda p: p.name)  # the runner's locking order
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _verify_key()):
            raise VerificationInProgress("Another process is verifying the projections now; try "
                                         "again later.")
        try:
            if await conn.fetchval("SELECT to_regclass($1) IS NULL", f"{SCHEMA}.tracking"):
                return ReadModelFindings(None, 0)  # the read side was never set up
            start = min((position for position, _ in (await _tracked(conn, projections, False)
                                                      ).values()), default=0)
            await create_schema(conn, projections, SCRATCH)
            if start > 0:
                start = await _replayed(replay(pool, projections, SCRATCH, start, batch_size,
                                               progress))
            async with conn.transaction():
                held = await _tracked(conn, projections, True)
                await _replayed(_catch_up(conn, projections, start, held, batch_size))
                await conn.execute(f"SET LOCAL work_mem = '{COMPARE_MEMORY}'")
                tables = 0
                for projection in projections:
                    if _drawn_as_now(projection, held.get(projection.name), findings):
                        for table in projection.tables:
                            tables += 1
                            await _compare(conn, table, findings)
            return ReadModelFindings(max((p for p, _ in held.values()), default=0), tables)
        except CannotReplay as error:
            findings.add(Difference("projection", f"the events as stored cannot be replayed "
                                    f"into the projections, which the live ones were: {error}"))
            return ReadModelFindings(start, 0)
        finally:
            await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
            await conn.execute("SELECT pg_advisory_unlock($1)", _verify_key())


class CannotReplay(Exception):
    """An event the projections cannot apply: the live ones applied the event as it was."""


async def _replayed(work: Awaitable[T]) -> T:
    """What the replay returns; any error but a lost connection is CannotReplay."""
    try:
        return await work
    except Exception as error:
        cause = error
        while isinstance(cause, ExceptionGroup):  # from the replay's tasks
            cause = cause.exceptions[0]
        if isinstance(cause, OSError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
            raise
        raise CannotReplay(describe(cause)) from error


async def _tracked(conn: asyncpg.Connection, projections: Sequence[Projection], hold: bool
                   ) -> dict[str, tuple[int, int]]:
    """The position and version of each projection that has a tracking row; held, if asked,
    until the transaction ends (the runner then waits before its next batch)."""
    tracked = {}
    for projection in projections:
        row = await conn.fetchrow(f"SELECT position, version FROM {SCHEMA}.tracking"
                                  f" WHERE projection = $1{' FOR SHARE' if hold else ''}",
                                  projection.name)
        if row is not None:
            tracked[projection.name] = (row["position"], row["version"])
    return tracked


def _drawn_as_now(projection: Projection, tracked: tuple[int, int] | None,
                  findings: Findings) -> bool:
    """Whether the live projection was drawn by this version of it: only then can its tables be
    compared with a replay's."""
    if tracked is not None and tracked[1] == projection.version:
        return True
    drawn = "was never projected here" if tracked is None else f"is of version {tracked[1]}"
    findings.add(Difference("projection", f"{projection.name} {drawn}; this Bevoegd draws "
                            f"version {projection.version} (rebuild it)", table=projection.name))
    return False


async def _catch_up(conn: asyncpg.Connection, projections: Sequence[Projection], start: int,
                    held: dict[str, tuple[int, int]], batch_size: int) -> None:
    """Applies the events after `start` to each scratch projection, up to its live position."""
    ends = {name: position for name, (position, _) in held.items()}
    if any(end < start for end in ends.values()):
        raise VerificationInProgress("A projection was reset while it was being verified; "
                                     "verify again.")
    position, last = start, max(ends.values(), default=start)
    while position < last and (events := await read_events(conn, position, batch_size,
                                                           until=last)):
        for projection in projections:
            todo = [e for e in events if e.position <= ends.get(projection.name, start)]
            if todo:
                await projection.apply(conn, SCRATCH, todo)
        position = events[-1].position


async def _compare(conn: asyncpg.Connection, table: str, findings: Findings) -> None:
    """The first row, in the order of the table's key, that is only live or only replayed."""
    scratch = f"{SCRATCH}.{table}"
    columns = [row["attname"] for row in await conn.fetch(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum", scratch)]
    key = await conn.fetchval(
        "SELECT array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))"
        " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey::int2[]) WHERE i.indrelid = $1::regclass AND i.indisprimary",
        scratch) or columns
    if await conn.fetchval("SELECT to_regclass($1) IS NULL", f"{SCHEMA}.{table}"):
        findings.add(Difference("projection", f"{table}: the live table is missing", table=table))
        return
    listed = ", ".join(f'"{column}"' for column in columns)
    order = ", ".join(f'"{column}"' for column in key)
    live, replayed = (f"SELECT {listed} FROM {schema}.{table}" for schema in (SCHEMA, SCRATCH))
    try:
        async with conn.transaction():  # a savepoint: a live table of another shape fails alone
            rows = await conn.fetch(
                f"(SELECT 'live' AS _side, * FROM ({live} EXCEPT ALL {replayed}) AS l)"
                f" UNION ALL (SELECT 'events', * FROM ({replayed} EXCEPT ALL {live}) AS r)"
                f" ORDER BY {order}, _side LIMIT 2")
    except (asyncpg.UndefinedColumnError, asyncpg.DatatypeMismatchError) as error:
        findings.add(Difference("projection", f"{table}: the live table has other columns than "
                                f"the projection draws ({error})", table=table))
        return
    if rows:
        findings.add(_row_difference(table, columns, key, [dict(row) for row in rows]))


def _row_difference(table: str, columns: list[str], key: list[str],
                    rows: list[dict[str, Any]]) -> Difference:
    """Rows sort by key and then side ("events" before "live"): two of one key are one row that
    differs, one alone is a row only one side has."""
    first = rows[0]
    named = ", ".join(f"{column}={_shown(first[column])}" for column in key)
    if len(rows) == 2 and all(rows[1][column] == first[column] for column in key):
        replayed, live = rows
        changed = [column for column in columns if live[column] != replayed[column]]
        what = f"{table}: the row ({named}) differs from the one the events give" + (
            f" in {', '.join(changed)}: {_compared(live[changed[0]], replayed[changed[0]])}"
            if changed else "")
    elif first["_side"] == "live":
        what = f"{table}: the live row ({named}) is not one the events give"
    else:
        what = f"{table}: the row ({named}) that the events give is missing"
    return Difference("projection", what, position=_position(first), table=table)


def _position(row: dict[str, Any]) -> int | None:
    """The ledger position a row carries: its `position`, or else its first `..._position`."""
    named = [row.get("position")] + [value for column, value in row.items()
                                     if column.endswith("_position")]
    return next((value for value in named if value is not None), None)


def _compared(live: Any, replayed: Any) -> str:
    if isinstance(live, bytes) and isinstance(replayed, bytes):  # hashes: where they part
        at = next((i for i, (a, b) in enumerate(zip(live, replayed, strict=False)) if a != b),
                  min(len(live), len(replayed)))
        live, replayed = live[at:], replayed[at:]
        return f"from byte {at} on, live {_shown(live)}, from the events {_shown(replayed)}"
    return f"live {_shown(live)}, from the events {_shown(replayed)}"


def _shown(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes) else repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _verify_key() -> int:
    """One verification at a time: they share the scratch schema."""
    return zlib.crc32(b"bevoegd-verify")
