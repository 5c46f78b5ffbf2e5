"""Commissions (opdrachten: issued, accepted, progress, fulfilled or withdrawn, binding or not,
due dates) and consultations (zienswijzen: the councils asked, their deadline, the views received
and whether they came late)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.events import LedgerEvent
from projections.rows import RowSet, append

COMMISSION_COLUMNS = (
    "record_id", "code", "subject", "issued_by", "issued_to", "dossier", "issued_on", "due_on",
    "binding", "source_decision", "recorded_position", "accepted_on", "accepted_position",
    "progress_reports", "fulfilled_on", "fulfilled_by_decision", "fulfilled_position",
    "withdrawn_on", "withdrawal_reason", "withdrawn_position",
)
CONSULTATION_COLUMNS = (
    "record_id", "code", "subject", "opened_by", "draft_decision", "consulted", "opened_on",
    "respond_by", "recorded_position", "closed_on", "views_at_closing", "closed_position",
)


class Commissions:
    name = "commissions"
    version = 1
    tables = ("commissions", "commission_progress", "consultations", "consultation_views")

    def create_tables(self, schema: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {schema}.commissions ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, subject text NOT NULL,"
            " issued_by text NOT NULL, issued_to text NOT NULL, dossier text,"
            " issued_on date NOT NULL, due_on date, binding boolean NOT NULL,"
            " source_decision text, recorded_position bigint NOT NULL,"
            " accepted_on date, accepted_position bigint, progress_reports integer NOT NULL,"
            " fulfilled_on date, fulfilled_by_decision text, fulfilled_position bigint,"
            " withdrawn_on date, withdrawal_reason text, withdrawn_position bigint)",
            f"CREATE TABLE IF NOT EXISTS {schema}.commission_progress ("
            " record_id uuid NOT NULL, position bigint NOT NULL, reported_on date NOT NULL,"
            " note text NOT NULL, PRIMARY KEY (record_id, position))",
            f"CREATE TABLE IF NOT EXISTS {schema}.consultations ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, subject text NOT NULL,"
            " opened_by text NOT NULL, draft_decision text, consulted text[] NOT NULL,"
            " opened_on date NOT NULL, respond_by date NOT NULL,"
            " recorded_position bigint NOT NULL, closed_on date, views_at_closing text[],"
            " closed_position bigint)",
            f"CREATE TABLE IF NOT EXISTS {schema}.consultation_views ("
            " record_id uuid NOT NULL, council text NOT NULL, submitted_on date NOT NULL,"
            " stance text NOT NULL, document jsonb, late boolean NOT NULL,"
            " recorded_position bigint NOT NULL, PRIMARY KEY (record_id, council))",
        ]

    def create_indexes(self, schema: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS commissions_issued_by ON {schema}.commissions (issued_by)",
            f"CREATE INDEX IF NOT EXISTS commissions_issued_to ON {schema}.commissions (issued_to)",
            f"CREATE INDEX IF NOT EXISTS commissions_due_on ON {schema}.commissions (due_on)",
            f"CREATE INDEX IF NOT EXISTS consultations_respond_by ON {schema}.consultations"
            " (respond_by)",
        ]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        commissions = RowSet(schema, "commissions", ["record_id"], COMMISSION_COLUMNS)
        consultations = RowSet(schema, "consultations", ["record_id"], CONSULTATION_COLUMNS)
        known = [e.record_id for e in events
                 if e.record in ("Commission", "Consultation") and e.version > 1]
        if known:
            await commissions.load(conn, "record_id = ANY($1)", known)
            await consultations.load(conn, "record_id = ANY($1)", known)
        progress: list[tuple[object, ...]] = []
        views: list[tuple[object, ...]] = []
        for e in events:
            if e.record not in ("Commission", "Consultation"):
                continue
            d, at = e.data, e.position
            if e.is_("Commission", "Issued"):
                commissions.add(
                    record_id=e.record_id, code=d["code"], subject=d["subject"],
                    issued_by=d["issued_by"], issued_to=d["issued_to"], dossier=d["dossier"],
                    issued_on=d["issued_on"], due_on=d["due_on"], binding=d["binding"],
                    source_decision=d["source_decision"], recorded_position=at,
                    progress_reports=0)
            elif e.is_("Commission", "Accepted"):
                commissions.get(e.record_id).update(accepted_on=d["on"], accepted_position=at)
            elif e.is_("Commission", "ProgressReported"):
                commissions.get(e.record_id)["progress_reports"] += 1
                progress.append((e.record_id, at, d["on"], d["note"]))
            elif e.is_("Commission", "Fulfilled"):
                commissions.get(e.record_id).update(
                    fulfilled_on=d["on"], fulfilled_by_decision=d["decision"],
                    fulfilled_position=at)
            elif e.is_("Commission", "Withdrawn"):
                commissions.get(e.record_id).update(
                    withdrawn_on=d["on"], withdrawal_reason=d["reason"], withdrawn_position=at)
            elif e.is_("Consultation", "Opened"):
                consultations.add(
                    record_id=e.record_id, code=d["code"], subject=d["subject"],
                    opened_by=d["opened_by"], draft_decision=d["draft_decision"],
                    consulted=d["consulted"], opened_on=d["opened_on"],
                    respond_by=d["respond_by"], recorded_position=at)
            elif e.is_("Consultation", "ViewSubmitted"):
                views.append((e.record_id, d["council"], d["on"], d["position"], d["document"],
                              d["late"], at))
            elif e.is_("Consultation", "Closed"):
                consultations.get(e.record_id).update(
                    closed_on=d["on"], views_at_closing=d["views_received"], closed_position=at)
        await commissions.save(conn)
        await consultations.save(conn)
        await append(conn, schema, "commission_progress",
                     ("record_id", "position", "reported_on", "note"), progress)
        await append(conn, schema, "consultation_views",
                     ("record_id", "council", "submitted_on", "stance", "document", "late",
                      "recorded_position"), views)
