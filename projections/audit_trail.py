"""Audit trail: every event of every record with its metadata, in global order, and the records
themselves (kind and code by id) so that an auditor can follow one record or one actor. Each
event names the decision it belongs to, if any, so that the public sees it only once that
decision is published."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection
from projections.tables import Column, Index, Table

RECORDS = Table(
    "records", key=("record_id",), columns=(
        Column("record_id", "uuid"), Column("kind", "text"), Column("code", "text"),
        Column("recorded_position", "bigint")),
    indexes=(Index("kind_code", "kind, code", unique=True),))
AUDIT_TRAIL = Table(
    "audit_trail", key=("position",), columns=(
        Column("position", "bigint"), Column("record_id", "uuid"), Column("kind", "text"),
        Column("code", "text"), Column("version", "integer"), Column("event_type", "text"),
        Column("recorded_at", "timestamptz"), Column("actor", "text"), Column("command_id", "text"),
        Column("correlation_id", "text"), Column("reason", "text", nullable=True),
        Column("decision", "text", nullable=True)),
    indexes=(Index("kind_code", "kind, code, position"), Index("actor", "actor, position"),
             Index("decision", "decision, position"),
             Index("command", "command_id"), Index("recorded_at", "recorded_at, position")))


def record_code(event: LedgerEvent) -> str:
    if event.record == "CompetenceHolding":
        return f"{event.data['competence']}@{event.data['jurisdiction']}"
    return event.data["code"]


def decision_of(event: LedgerEvent, code: str) -> str | None:
    """The decision an event belongs to (`code`: its record's): a decision's own events, and
    the exercise that taking it records on its competence's holding, which names it."""
    if event.record == "Decision":
        return code
    if event.is_("CompetenceHolding", "Exercised"):
        return str(event.data["decision"])
    return None


class _Trail(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.known: dict[UUID, tuple[str, str]] = {}  # kind and code by record
        self.records: list[tuple[Any, ...]] = []
        self.trail: list[tuple[Any, ...]] = []

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The kind and code of the records the batch goes on with (not those it creates)."""
        ids = {e.record_id for e in events} - {e.record_id for e in events if e.version == 1}
        if ids:
            rows = await conn.fetch(f"SELECT record_id, kind, code FROM {self.schema}.records"
                                    " WHERE record_id = ANY($1)", list(ids))
            self.known = {row["record_id"]: (row["kind"], row["code"]) for row in rows}

    def record(self, e: LedgerEvent) -> None:
        if e.version == 1:
            self.known[e.record_id] = (e.kind, record_code(e))
            self.records.append((e.record_id, *self.known[e.record_id], e.position))
        meta = e.data["meta"]
        kind, code = self.known[e.record_id]
        self.trail.append((e.position, e.record_id, kind, code, e.version,
                           f"{e.record}.{e.type}", meta["recorded_at"], meta["actor"],
                           meta["command_id"], meta["correlation_id"], e.data.get("reason"),
                           decision_of(e, code)))

    async def save(self, conn: asyncpg.Connection) -> None:
        await RECORDS.append(conn, self.schema, self.records)
        await AUDIT_TRAIL.append(conn, self.schema, self.trail)


class AuditTrail(DeclaredProjection[_Trail]):
    name = "audit_trail"
    version = 3
    declared = (RECORDS, AUDIT_TRAIL)
    batch = _Trail
    handles_every_event = _Trail.record
