"""Decision register: every decision with its status over time, the legitimacy chain it was
taken on, the grant it cited, its framework, the jurisdictions it affects, votes and documents;
searchable in Dutch (PostgreSQL's `dutch` text search configuration) on title and summary.

Each step carries the ledger position at which it became known, so the status can be read as
known at any position. A correction keeps what it replaced in `decision_corrections`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection, event_names
from projections.tables import Column, Index, Table

SEARCH_VECTOR = "to_tsvector('dutch', title || ' ' || coalesce(summary, ''))"
"""What Dutch full-text search matches against (the index is on this expression)."""


AFFECTS = "(affected_jurisdictions || jurisdiction)"
"""The jurisdictions a decision affects: its own and those it names (the index is on this)."""

DECISIONS = Table(
    "decisions", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("title", "text"),
        Column("summary", "text", nullable=True), Column("competence", "text"),
        Column("jurisdiction", "text"), Column("subject", "text", nullable=True),
        Column("dossier", "text", nullable=True), Column("affected_jurisdictions", "text[]"),
        Column("recorded_position", "bigint"),
        # proposed
        Column("proposed_by", "text", nullable=True), Column("proposed_on", "date", nullable=True),
        Column("proposed_position", "bigint", nullable=True),
        # taken
        Column("body", "text", nullable=True), Column("taken_on", "date", nullable=True),
        Column("outcome", "text", nullable=True), Column("votes", "jsonb", nullable=True),
        Column("chain", "jsonb", nullable=True), Column("cited_grant", "text", nullable=True),
        Column("cited_publication", "text", nullable=True),
        Column("framework_decision", "text", nullable=True),
        Column("consultation", "text", nullable=True),
        Column("views_received", "text[]", nullable=True),
        Column("documents", "jsonb", nullable=True),
        Column("taken_position", "bigint", nullable=True),
        # published, in force
        Column("published_on", "date", nullable=True),
        Column("publication", "text", nullable=True),
        Column("published_position", "bigint", nullable=True),
        Column("in_force_from", "date", nullable=True),
        Column("in_force_position", "bigint", nullable=True),
        # repealed, annulled
        Column("repealed_on", "date", nullable=True), Column("repealed_by", "text", nullable=True),
        Column("repeal_reason", "text", nullable=True),
        Column("repealed_position", "bigint", nullable=True),
        Column("annulled_on", "date", nullable=True), Column("annulled_by", "text", nullable=True),
        Column("annulment_reason", "text", nullable=True),
        Column("annulled_position", "bigint", nullable=True),
        # the private person addressed, sealed (ledger/vault.py): readable while the vault
        # keeps the person's key
        Column("addressee_person", "text", nullable=True),
        Column("addressee_sealed", "text", nullable=True)),
    indexes=(
        # an index on the expression, not a stored column: computed once per title, not
        # again on every later step of the decision
        Index("search", SEARCH_VECTOR, using="gin"),
        Index("body", "body, recorded_position"),
        Index("holding", "competence, jurisdiction, recorded_position"),
        Index("jurisdiction", "jurisdiction, recorded_position"),
        Index("affecting", AFFECTS, using="gin"),
        Index("taken_on", "taken_on")))
CORRECTIONS = Table(
    "decision_corrections", key=("record_id", "position"), columns=(
        Column("record_id", "uuid"), Column("position", "bigint"), Column("reason", "text"),
        Column("title_before", "text"), Column("summary_before", "text", nullable=True),
        Column("documents_before", "jsonb", nullable=True)))


class _Register(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.decisions = DECISIONS.rows(schema)
        self.corrections: list[tuple[Any, ...]] = []

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The decisions the batch goes on with."""
        known = {e.record_id for e in events if e.record == "Decision" and e.version > 1}
        if known:
            await self.decisions.load(conn, "record_id = ANY($1)", list(known))

    def registered(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.add(
            record_id=e.record_id, code=d["code"], title=d["title"], summary=d["summary"],
            competence=d["competence"], jurisdiction=d["jurisdiction"], subject=d["subject"],
            dossier=d["dossier"], affected_jurisdictions=d["affected_jurisdictions"],
            addressee_person=(d.get("addressee") or {}).get("person"),
            addressee_sealed=(d.get("addressee") or {}).get("sealed"),
            recorded_position=e.position)

    def proposed(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(proposed_by=d["by"], proposed_on=d["on"],
                                               proposed_position=e.position)

    def taken(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(
            body=d["body"], taken_on=d["on"], outcome=d["outcome"], votes=d["votes"],
            chain=d["chain"], cited_grant=d["cited_grant"],
            cited_publication=d["cited_publication"], framework_decision=d["framework_decision"],
            consultation=d["consultation"], views_received=d["views_received"],
            documents=d["documents"], taken_position=e.position)

    def published(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(published_on=d["on"], publication=d["publication"],
                                               published_position=e.position)

    def entered_into_force(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(in_force_from=d["retroactive_from"] or d["on"],
                                               in_force_position=e.position)

    def repealed(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(repealed_on=d["on"], repealed_by=d["repealed_by"],
                                               repeal_reason=d["reason"],
                                               repealed_position=e.position)

    def annulled(self, e: LedgerEvent) -> None:
        d = e.data
        self.decisions.get(e.record_id).update(annulled_on=d["on"], annulled_by=d["annulled_by"],
                                               annulment_reason=d["reason"],
                                               annulled_position=e.position)

    def corrected(self, e: LedgerEvent) -> None:
        d = e.data
        row = self.decisions.get(e.record_id)
        self.corrections.append((e.record_id, e.position, d["reason"], row["title"],
                                 row["summary"], row["documents"]))
        for field in ("title", "summary", "documents"):
            if d[field] is not None:
                row[field] = d[field]

    async def save(self, conn: asyncpg.Connection) -> None:
        await self.decisions.save(conn)
        await CORRECTIONS.append(conn, self.schema, self.corrections)


class Decisions(DeclaredProjection[_Register]):
    name = "decisions"
    version = 3
    declared = (DECISIONS, CORRECTIONS)
    batch = _Register
    handles = {
        ("Decision", "Registered"): _Register.registered,
        ("Decision", "Proposed"): _Register.proposed,
        ("Decision", "Taken"): _Register.taken,
        ("Decision", "Published"): _Register.published,
        ("Decision", "EnteredIntoForce"): _Register.entered_into_force,
        ("Decision", "Repealed"): _Register.repealed,
        ("Decision", "Annulled"): _Register.annulled,
        ("Decision", "Corrected"): _Register.corrected,
    }
    ignores = event_names(
        Jurisdiction=("Established", "MemberJoined", "MemberLeft"),
        Body=("Established", "Renamed", "Abolished", "SeatFilled", "SeatVacated"),
        Competence=("Defined",),
        CompetenceHolding=("Opened", "Attributed", "AttributionEnded", "GrantRecorded",
                           "GrantRevoked", "Exercised"),
        Commission=("Issued", "Accepted", "ProgressReported", "Fulfilled", "Withdrawn"),
        Consultation=("Opened", "ViewSubmitted", "Closed"),
        Dossier=("Opened",),
    )
