"""Structure: jurisdictions and their members over time, bodies with their names, seats and
holders over time (composition), and dossiers. Every fact carries the ledger position at which
it became known, and every end the position at which the end became known (bitemporal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection, event_names
from projections.tables import Column, Index, Table

JURISDICTIONS = Table(
    "jurisdictions", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("name", "text"),
        Column("kind", "text"), Column("recorded_position", "bigint")))
MEMBERSHIPS = Table(
    "memberships", key=("region", "member", "joined_on"), columns=(
        Column("region", "text"), Column("member", "text"), Column("joined_on", "date"),
        Column("left_on", "date", nullable=True), Column("recorded_position", "bigint"),
        Column("left_position", "bigint", nullable=True)),
    indexes=(Index("member", "member"),))
BODIES = Table(
    "bodies", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("name", "text"),
        Column("kind", "text"), Column("jurisdiction", "text"),
        Column("jurisdiction_kind", "text"), Column("established_on", "date"),
        Column("subordinate_to", "text", nullable=True),
        Column("abolished_on", "date", nullable=True),
        Column("abolition_reason", "text", nullable=True),
        Column("successor", "text", nullable=True), Column("recorded_position", "bigint"),
        Column("abolished_position", "bigint", nullable=True)),
    indexes=(Index("jurisdiction", "jurisdiction"),))
BODY_NAMES = Table(
    "body_names", key=("body", "recorded_position"), columns=(
        Column("body", "text"), Column("valid_from", "date"), Column("name", "text"),
        Column("recorded_position", "bigint")))
SEATS = Table(
    "seats", key=("body", "seat", "valid_from"), columns=(
        Column("body", "text"), Column("seat", "text"), Column("valid_from", "date"),
        Column("holder", "text"), Column("political_group", "text", nullable=True),
        Column("valid_until", "date", nullable=True), Column("end_reason", "text", nullable=True),
        Column("recorded_position", "bigint"), Column("ended_position", "bigint", nullable=True)))
DOSSIERS = Table(
    "dossiers", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("title", "text"),
        Column("description", "text", nullable=True), Column("recorded_position", "bigint")))


class _Structure(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.jurisdictions = JURISDICTIONS.rows(schema)
        self.memberships = MEMBERSHIPS.rows(schema, group=("region", "member"))
        self.bodies = BODIES.rows(schema)
        self.seats = SEATS.rows(schema, group=("body", "seat"))
        self.names: list[tuple[Any, ...]] = []
        self.dossiers: list[tuple[Any, ...]] = []

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The jurisdictions and bodies the batch goes on with, their current members and seats."""
        ids = list({e.record_id for e in events
                    if e.record in ("Jurisdiction", "Body") and e.version > 1})
        if not ids:
            return
        await self.jurisdictions.load(conn, "record_id = ANY($1)", ids)
        await self.bodies.load(conn, "record_id = ANY($1)", ids)
        regions = [row["code"] for row in self.jurisdictions.rows.values()]
        await self.memberships.load(conn, "region = ANY($1) AND left_on IS NULL", regions)
        bodies = [row["code"] for row in self.bodies.rows.values()]
        await self.seats.load(conn, "body = ANY($1) AND valid_until IS NULL", bodies)

    def jurisdiction_established(self, e: LedgerEvent) -> None:
        d = e.data
        self.jurisdictions.add(record_id=e.record_id, code=d["code"], name=d["name"],
                               kind=d["kind"], recorded_position=e.position)

    def member_joined(self, e: LedgerEvent) -> None:
        d = e.data
        self.memberships.add(region=self.jurisdictions.rows[(e.record_id,)]["code"],
                             member=d["member"], joined_on=d["on"], recorded_position=e.position)

    def member_left(self, e: LedgerEvent) -> None:
        d = e.data
        region = self.jurisdictions.rows[(e.record_id,)]["code"]
        for row in self.memberships.in_group(region, d["member"]):
            if row["left_on"] is None:
                row.update(left_on=d["on"], left_position=e.position)
                self.memberships.mark(row)

    def body_established(self, e: LedgerEvent) -> None:
        d = e.data
        self.bodies.add(record_id=e.record_id, code=d["code"], name=d["name"], kind=d["kind"],
                        jurisdiction=d["jurisdiction"], jurisdiction_kind=d["jurisdiction_kind"],
                        established_on=d["established_on"], subordinate_to=d["subordinate_to"],
                        recorded_position=e.position)
        self.names.append((d["code"], d["established_on"], d["name"], e.position))

    def body_renamed(self, e: LedgerEvent) -> None:
        d = e.data
        body = self.bodies.get(e.record_id)
        body["name"] = d["name"]
        self.names.append((body["code"], d["on"], d["name"], e.position))

    def body_abolished(self, e: LedgerEvent) -> None:
        d = e.data
        self.bodies.get(e.record_id).update(abolished_on=d["on"], abolition_reason=d["reason"],
                                            successor=d["successor"], abolished_position=e.position)

    def seat_filled(self, e: LedgerEvent) -> None:
        d = e.data
        self.seats.add(body=self.bodies.rows[(e.record_id,)]["code"], seat=d["seat"],
                       valid_from=d["on"], holder=d["holder"], political_group=d["group"],
                       recorded_position=e.position)

    def seat_vacated(self, e: LedgerEvent) -> None:
        d = e.data
        body = self.bodies.rows[(e.record_id,)]["code"]
        for row in self.seats.in_group(body, d["seat"]):
            if row["valid_until"] is None:
                row.update(valid_until=d["on"], end_reason=d["reason"], ended_position=e.position)
                self.seats.mark(row)

    def dossier_opened(self, e: LedgerEvent) -> None:
        d = e.data
        self.dossiers.append((e.record_id, d["code"], d["title"], d["description"], e.position))

    async def save(self, conn: asyncpg.Connection) -> None:
        for rows in (self.jurisdictions, self.memberships, self.bodies, self.seats):
            await rows.save(conn)
        await BODY_NAMES.append(conn, self.schema, self.names)
        await DOSSIERS.append(conn, self.schema, self.dossiers)


class Structure(DeclaredProjection[_Structure]):
    name = "structure"
    version = 1
    declared = (JURISDICTIONS, MEMBERSHIPS, BODIES, BODY_NAMES, SEATS, DOSSIERS)
    batch = _Structure
    handles = {
        ("Jurisdiction", "Established"): _Structure.jurisdiction_established,
        ("Jurisdiction", "MemberJoined"): _Structure.member_joined,
        ("Jurisdiction", "MemberLeft"): _Structure.member_left,
        ("Body", "Established"): _Structure.body_established,
        ("Body", "Renamed"): _Structure.body_renamed,
        ("Body", "Abolished"): _Structure.body_abolished,
        ("Body", "SeatFilled"): _Structure.seat_filled,
        ("Body", "SeatVacated"): _Structure.seat_vacated,
        ("Dossier", "Opened"): _Structure.dossier_opened,
    }
    ignores = event_names(
        Competence=("Defined",),
        CompetenceHolding=("Opened", "Attributed", "AttributionEnded", "GrantRecorded",
                           "GrantRevoked", "Exercised"),
        Decision=("Registered", "Proposed", "Taken", "Published", "EnteredIntoForce", "Repealed",
                  "Annulled", "Corrected"),
        Commission=("Issued", "Accepted", "ProgressReported", "Fulfilled", "Withdrawn"),
        Consultation=("Opened", "ViewSubmitted", "Closed"),
    )
