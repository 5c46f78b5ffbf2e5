"""Commissions (opdrachten: issued, accepted, progress, fulfilled or withdrawn, binding or not,
due dates) and consultations (zienswijzen: the councils asked, their deadline, the views received
and whether they came late)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection, event_names
from projections.tables import Column, Index, Table

COMMISSIONS = Table(
    "commissions", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("subject", "text"),
        Column("issued_by", "text"), Column("issued_to", "text"),
        Column("dossier", "text", nullable=True), Column("issued_on", "date"),
        Column("due_on", "date", nullable=True), Column("binding", "boolean"),
        Column("source_decision", "text", nullable=True), Column("recorded_position", "bigint"),
        Column("accepted_on", "date", nullable=True),
        Column("accepted_position", "bigint", nullable=True),
        Column("progress_reports", "integer"), Column("fulfilled_on", "date", nullable=True),
        Column("fulfilled_by_decision", "text", nullable=True),
        Column("fulfilled_position", "bigint", nullable=True),
        Column("withdrawn_on", "date", nullable=True),
        Column("withdrawal_reason", "text", nullable=True),
        Column("withdrawn_position", "bigint", nullable=True)),
    indexes=(Index("issued_by", "issued_by"), Index("issued_to", "issued_to"),
             Index("due_on", "due_on")))
COMMISSION_PROGRESS = Table(
    "commission_progress", key=("record_id", "position"), columns=(
        Column("record_id", "uuid"), Column("position", "bigint"), Column("reported_on", "date"),
        Column("note", "text")))
CONSULTATIONS = Table(
    "consultations", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("subject", "text"),
        Column("opened_by", "text"), Column("draft_decision", "text", nullable=True),
        Column("consulted", "text[]"), Column("opened_on", "date"), Column("respond_by", "date"),
        Column("recorded_position", "bigint"), Column("closed_on", "date", nullable=True),
        Column("views_at_closing", "text[]", nullable=True),
        Column("closed_position", "bigint", nullable=True)),
    indexes=(Index("respond_by", "respond_by"),))
CONSULTATION_VIEWS = Table(
    "consultation_views", key=("record_id", "council"), columns=(
        Column("record_id", "uuid"), Column("council", "text"), Column("submitted_on", "date"),
        Column("stance", "text"), Column("document", "jsonb", nullable=True),
        Column("late", "boolean"), Column("recorded_position", "bigint")))


class _Commissions(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.commissions = COMMISSIONS.rows(schema)
        self.consultations = CONSULTATIONS.rows(schema)
        self.progress: list[tuple[Any, ...]] = []
        self.views: list[tuple[Any, ...]] = []

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The commissions and consultations the batch goes on with."""
        known = [e.record_id for e in events
                 if e.record in ("Commission", "Consultation") and e.version > 1]
        if known:
            await self.commissions.load(conn, "record_id = ANY($1)", known)
            await self.consultations.load(conn, "record_id = ANY($1)", known)

    def issued(self, e: LedgerEvent) -> None:
        d = e.data
        self.commissions.add(
            record_id=e.record_id, code=d["code"], subject=d["subject"], issued_by=d["issued_by"],
            issued_to=d["issued_to"], dossier=d["dossier"], issued_on=d["issued_on"],
            due_on=d["due_on"], binding=d["binding"], source_decision=d["source_decision"],
            recorded_position=e.position, progress_reports=0)

    def accepted(self, e: LedgerEvent) -> None:
        self.commissions.get(e.record_id).update(accepted_on=e.data["on"],
                                                 accepted_position=e.position)

    def progress_reported(self, e: LedgerEvent) -> None:
        self.commissions.get(e.record_id)["progress_reports"] += 1
        self.progress.append((e.record_id, e.position, e.data["on"], e.data["note"]))

    def fulfilled(self, e: LedgerEvent) -> None:
        d = e.data
        self.commissions.get(e.record_id).update(
            fulfilled_on=d["on"], fulfilled_by_decision=d["decision"], fulfilled_position=e.position)

    def withdrawn(self, e: LedgerEvent) -> None:
        d = e.data
        self.commissions.get(e.record_id).update(
            withdrawn_on=d["on"], withdrawal_reason=d["reason"], withdrawn_position=e.position)

    def consultation_opened(self, e: LedgerEvent) -> None:
        d = e.data
        self.consultations.add(
            record_id=e.record_id, code=d["code"], subject=d["subject"], opened_by=d["opened_by"],
            draft_decision=d["draft_decision"], consulted=d["consulted"],
            opened_on=d["opened_on"], respond_by=d["respond_by"], recorded_position=e.position)

    def view_submitted(self, e: LedgerEvent) -> None:
        d = e.data
        self.views.append((e.record_id, d["council"], d["on"], d["position"], d["document"],
                           d["late"], e.position))

    def consultation_closed(self, e: LedgerEvent) -> None:
        d = e.data
        self.consultations.get(e.record_id).update(
            closed_on=d["on"], views_at_closing=d["views_received"], closed_position=e.position)

    async def save(self, conn: asyncpg.Connection) -> None:
        await self.commissions.save(conn)
        await self.consultations.save(conn)
        await COMMISSION_PROGRESS.append(conn, self.schema, self.progress)
        await CONSULTATION_VIEWS.append(conn, self.schema, self.views)


class Commissions(DeclaredProjection[_Commissions]):
    name = "commissions"
    version = 1
    declared = (COMMISSIONS, COMMISSION_PROGRESS, CONSULTATIONS, CONSULTATION_VIEWS)
    batch = _Commissions
    handles = {
        ("Commission", "Issued"): _Commissions.issued,
        ("Commission", "Accepted"): _Commissions.accepted,
        ("Commission", "ProgressReported"): _Commissions.progress_reported,
        ("Commission", "Fulfilled"): _Commissions.fulfilled,
        ("Commission", "Withdrawn"): _Commissions.withdrawn,
        ("Consultation", "Opened"): _Commissions.consultation_opened,
        ("Consultation", "ViewSubmitted"): _Commissions.view_submitted,
        ("Consultation", "Closed"): _Commissions.consultation_closed,
    }
    ignores = event_names(
        Jurisdiction=("Established", "MemberJoined", "MemberLeft"),
        Body=("Established", "Renamed", "Abolished", "SeatFilled", "SeatVacated"),
        Competence=("Defined",),
        CompetenceHolding=("Opened", "Attributed", "AttributionEnded", "GrantRecorded",
                           "GrantRevoked", "Exercised"),
        Decision=("Registered", "Proposed", "Taken", "Published", "EnteredIntoForce", "Repealed",
                  "Annulled", "Corrected"),
        Dossier=("Opened",),
    )
