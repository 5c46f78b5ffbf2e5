"""Audit trail: every event of every record with its metadata, in global order, and the records
themselves (kind and code by id) so that an auditor can follow one record or one actor."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from projections.events import LedgerEvent


def record_code(event: LedgerEvent) -> str:
    if event.record == "CompetenceHolding":
        return f"{event.data['competence']}@{event.data['jurisdiction']}"
    return event.data["code"]


class AuditTrail:
    name = "audit_trail"
    version = 2
    tables = ("records", "audit_trail")

    def create_tables(self, schema: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {schema}.records ("
            " record_id uuid PRIMARY KEY, kind text NOT NULL, code text NOT NULL,"
            " recorded_position bigint NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {schema}.audit_trail ("
            " position bigint PRIMARY KEY, record_id uuid NOT NULL, kind text NOT NULL,"
            " code text NOT NULL, version integer NOT NULL, event_type text NOT NULL,"
            " recorded_at timestamptz NOT NULL, actor text NOT NULL, command_id text NOT NULL,"
            " correlation_id text NOT NULL, reason text)",
        ]

    def create_indexes(self, schema: str) -> list[str]:
        return [
            f"CREATE UNIQUE INDEX IF NOT EXISTS records_kind_code ON {schema}.records (kind, code)",
            f"CREATE INDEX IF NOT EXISTS audit_trail_kind_code ON {schema}.audit_trail"
            " (kind, code, position)",
            f"CREATE INDEX IF NOT EXISTS audit_trail_actor ON {schema}.audit_trail"
            " (actor, position)",
            f"CREATE INDEX IF NOT EXISTS audit_trail_command ON {schema}.audit_trail (command_id)",
        ]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        new = {e.record_id: (e.kind, record_code(e), e.position) for e in events if e.version == 1}
        known = await self._known(conn, schema, {e.record_id for e in events} - new.keys())
        known.update({record_id: (kind, code) for record_id, (kind, code, _) in new.items()})
        if new:
            await conn.copy_records_to_table(
                "records", schema_name=schema,
                records=[(record_id, *fields) for record_id, fields in new.items()])
        await conn.copy_records_to_table("audit_trail", schema_name=schema, records=[
            (e.position, e.record_id, *known[e.record_id], e.version, f"{e.record}.{e.type}",
             meta["recorded_at"], meta["actor"], meta["command_id"], meta["correlation_id"],
             e.data.get("reason"))
            for e in events for meta in (e.data["meta"],)
        ])

    @staticmethod
    async def _known(conn: asyncpg.Connection, schema: str, ids: set[UUID]
                     ) -> dict[UUID, tuple[str, str]]:
        if not ids:
            return {}
        rows = await conn.fetch(
            f"SELECT record_id, kind, code FROM {schema}.records WHERE record_id = ANY($1)",
            list(ids))
        return {row["record_id"]: (row["kind"], row["code"]) for row in rows}
