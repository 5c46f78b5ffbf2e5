"""The audit trail (every event with its metadata, in global order) and ledger info."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.application import EVENTS_TABLE
from ledger.store import PREVIOUS_HASH_SQL
from projections.queries.pagination import Page, PageRequest, page_of
from projections.queries.sql import Db, Query
from projections.tracking import SCHEMA


@dataclass(frozen=True)
class AuditFilter:
    position: int | None = None
    kind: str | None = None
    code: str | None = None
    actor: str | None = None
    command_id: str | None = None
    correlation_id: str | None = None
    event_types: tuple[str, ...] | None = None
    recorded_from: datetime | None = None
    recorded_until: datetime | None = None
    """Only events recorded in [recorded_from, recorded_until)."""
    published_only: bool = False
    """Leave out the events that belong to decisions not published (yet): what the public may
    see."""


async def audit_trail(db: Db, page: PageRequest, where: AuditFilter = AuditFilter()
                      ) -> Page[dict[str, Any]]:
    q = Query()
    for column in ("position", "kind", "code", "actor", "command_id", "correlation_id"):
        if (value := getattr(where, column)) is not None:
            q.where(f"audit_trail.{column} = {{}}", value)
    if where.event_types is not None:
        q.where("event_type = ANY({})", list(where.event_types))
    if where.recorded_from is not None:
        q.where("recorded_at >= {}", where.recorded_from)
    if where.recorded_until is not None:
        q.where("recorded_at < {}", where.recorded_until)
    if where.published_only:
        q.where(PUBLIC_EVENT)
    order = q.keyset(page, "event", "position")
    rows = await db.fetch(f"SELECT * FROM {SCHEMA}.audit_trail WHERE {q.sql}{order}", *q.args)
    return page_of(page, "event", [dict(row) for row in rows], lambda e: e["position"])


PUBLIC_EVENT = (f"(audit_trail.decision IS NULL OR EXISTS (SELECT FROM {SCHEMA}.decisions d"
           " WHERE d.code = audit_trail.decision AND d.published_position IS NOT NULL))")
"""An event the public may see: one of no decision, or of a decision published."""


HASHED_AT_MOST = 10
"""Events a hash's first digits find at most: enough to see that the digits were too few."""


def _beyond(prefix: bytes) -> bytes | None:
    """The first byte string of the prefix's length that no string starting with it reaches;
    None when every later string starts with it (all bytes 0xff)."""
    number = int.from_bytes(prefix, "big") + 1
    return number.to_bytes(len(prefix), "big") if number < 256 ** len(prefix) else None


async def by_event_hash(db: Db, prefix: bytes, published_only: bool) -> list[dict[str, Any]]:
    """The events whose chain hash starts with `prefix` (at most HASHED_AT_MOST), in position
    order; for the public, those it may see."""
    return await _at_positions(
        db, f"SELECT notification_id FROM {EVENTS_TABLE} WHERE event_hash >= $1"
            f" AND ($2::bytea IS NULL OR event_hash < $2) ORDER BY event_hash LIMIT {HASHED_AT_MOST}",
        (prefix, _beyond(prefix)), published_only)


async def at_positions(db: Db, positions: Sequence[int], published_only: bool
                       ) -> list[dict[str, Any]]:
    """The events at these positions, in order; for the public, those it may see."""
    return await _at_positions(db, "SELECT unnest($1::bigint[])", (list(positions),),
                               published_only)


async def _at_positions(db: Db, positions: str, arguments: tuple[Any, ...], published_only: bool
                        ) -> list[dict[str, Any]]:
    """The audit trail's rows at the positions the query `positions` selects, in order."""
    rows = await db.fetch(
        f"SELECT * FROM {SCHEMA}.audit_trail WHERE position = ANY(ARRAY({positions}))"
        f"{' AND ' + PUBLIC_EVENT if published_only else ''} ORDER BY position", *arguments)
    return [dict(row) for row in rows]


async def public_events(db: Db, page: PageRequest, event_types: tuple[str, ...] | None = None
                        ) -> Page[dict[str, Any]]:
    """The events the public receives in their place, in ledger order: all but those belonging
    to a decision recorded before it was published (received at its publication, `released_by`)
    or while it is not. Each has its decision's `published_position` (None for events of no
    decision); a publication comes whatever its type, for what it releases."""
    q = Query()
    q.where("(a.decision IS NULL OR d.published_position <= a.position)")
    if event_types is not None:
        q.where("(a.event_type = ANY({}) OR d.published_position = a.position)", list(event_types))
    order = q.keyset(page, "event", "a.position")
    rows = await db.fetch(
        f"SELECT a.*, d.published_position FROM {SCHEMA}.audit_trail a"
        f" LEFT JOIN {SCHEMA}.decisions d ON d.code = a.decision"
        f" WHERE {q.sql}{order}", *q.args)
    return page_of(page, "event", [dict(row) for row in rows], lambda e: e["position"])


async def released_by(db: Db, code: str, publication: int, after: int = 0,
                      event_types: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The events belonging to a decision recorded before its publication (and after `after`),
    in ledger order: the public receives them at the publication."""
    q = Query()
    q.where("decision = {} AND position > {} AND position < {}", code, after, publication)
    if event_types is not None:
        q.where("event_type = ANY({})", list(event_types))
    rows = await db.fetch(
        f"SELECT * FROM {SCHEMA}.audit_trail WHERE {q.sql} ORDER BY position", *q.args)
    return [dict(row) for row in rows]


async def releasing_publication(db: Db, position: int) -> int | None:
    """The position of the publication at which the public received the event at `position`,
    if that event belongs to a decision and was recorded before its publication; None
    otherwise."""
    found = await db.fetchval(
        f"SELECT d.published_position FROM {SCHEMA}.audit_trail a"
        f" JOIN {SCHEMA}.decisions d ON d.code = a.decision"
        " WHERE a.position = $1 AND d.published_position > a.position",
        position)
    return None if found is None else int(found)


async def histories(db: Db, kind: str, codes: list[str], page: PageRequest
                    ) -> dict[str, Page[dict[str, Any]]]:
    """The same page of the event history of several records, in one query."""
    q = Query()
    q.where("kind = {} AND code = ANY({})", kind, codes)
    order = q.ordered(page, "event", "position")
    rows = await db.fetch(
        f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY code{order}) AS nth"
        f" FROM {SCHEMA}.audit_trail WHERE {q.sql}) AS e"
        f" WHERE nth <= {page.first + 1}{order}", *q.args)
    by_code: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
    for row in rows:
        event = dict(row)
        del event["nth"]
        by_code[event["code"]].append(event)
    return {code: page_of(page, "event", events, lambda e: e["position"])
            for code, events in by_code.items()}


async def stored_events(db: Db, positions: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The events at these positions as the ledger stores them, with what each one's chain hash
    covers (ledger/store.py): record id, version, topic, state bytes, and the hash before it."""
    rows = await db.fetch(
        "SELECT notification_id AS position, originator_id, originator_version, topic, state,"
        f" event_hash, {PREVIOUS_HASH_SQL.format(table=EVENTS_TABLE)} AS previous_hash"
        f" FROM {EVENTS_TABLE} e WHERE notification_id = ANY($1)", list(positions))
    return {row["position"]: dict(row) for row in rows}


async def event_counts(db: Db) -> dict[str, int]:
    rows = await db.fetch(f"SELECT event_type, events FROM {SCHEMA}.ledger_info")
    return {row["event_type"]: row["events"] for row in rows}


async def ledger_head(db: Db) -> int:
    """The position of the ledger's last event."""
    return int(await db.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"))


async def recorded_by(db: Db, moment: datetime) -> int:
    """The last position recorded at or before `moment` (0: none was), by the audit trail's
    recording times."""
    return int(await db.fetchval(
        f"SELECT coalesce(max(position), 0) FROM {SCHEMA}.audit_trail WHERE recorded_at <= $1",
        moment))


async def projected_position(db: Db, projections: list[str]) -> int:
    """The position all these projections have reached: reads are complete up to here."""
    return int(await db.fetchval(
        f"SELECT coalesce(min(position), 0) FROM {SCHEMA}.tracking WHERE projection = ANY($1)",
        projections))
