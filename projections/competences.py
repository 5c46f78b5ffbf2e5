"""Competences: definitions, holdings, the grant register (mandaatregister: attributions,
delegations, mandates and sub-mandates with their periods and revocations), the competence map
as currently known, and the decisions taken under each holding with their legitimacy verdict.

A fact recorded late (a delegation imported years after the fact, say) can take the ground from
under a decision the ledger accepted earlier. Such a decision is never changed: a verdict row
marks, from the position of the late fact on, that the chain no longer reaches its body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from projections.competence_map import holding_as_known, map_entries, may_exercise
from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection, event_names
from projections.rows import Row
from projections.tables import Column, Index, Table

COMPETENCES = Table(
    "competences", key=("record_id",), unique=("code",), columns=(
        Column("record_id", "uuid"), Column("code", "text"), Column("title", "text"),
        Column("delegable", "boolean"), Column("mandatable", "boolean"),
        Column("recorded_position", "bigint")))
HOLDINGS = Table(
    "holdings", key=("record_id",), unique=("jurisdiction", "competence"), columns=(
        Column("record_id", "uuid"), Column("competence", "text"), Column("jurisdiction", "text"),
        Column("jurisdiction_kind", "text"), Column("recorded_position", "bigint")))
ATTRIBUTIONS = Table(
    "attributions", key=("competence", "jurisdiction", "body", "valid_from"), columns=(
        Column("competence", "text"), Column("jurisdiction", "text"), Column("body", "text"),
        Column("valid_from", "date"), Column("legal_basis", "text"),
        Column("valid_until", "date", nullable=True),
        Column("framework_body", "text", nullable=True), Column("recorded_position", "bigint"),
        Column("ended_on", "date", nullable=True), Column("end_reason", "text", nullable=True),
        Column("ended_position", "bigint", nullable=True)))
GRANTS = Table(
    "grants", key=("competence", "jurisdiction", "code"), columns=(
        Column("competence", "text"), Column("jurisdiction", "text"), Column("code", "text"),
        Column("kind", "text"), Column("grantor", "text"), Column("grantee", "text"),
        Column("legal_basis", "text"), Column("source_decision", "text"),
        Column("valid_from", "date"), Column("valid_until", "date", nullable=True),
        Column("scope", "text[]", nullable=True), Column("allows_submandate", "boolean"),
        Column("parent", "text", nullable=True), Column("framework_body", "text", nullable=True),
        Column("recorded_position", "bigint"), Column("revoked_on", "date", nullable=True),
        Column("revocation_reason", "text", nullable=True),
        Column("revoked_position", "bigint", nullable=True)),
    indexes=(Index("grantee", "grantee"), Index("grantor", "grantor"),
             Index("jurisdiction", "jurisdiction, recorded_position"),
             Index("valid_until", "valid_until")))
COMPETENCE_MAP = Table(
    "competence_map", columns=(
        Column("competence", "text"), Column("jurisdiction", "text"), Column("body", "text"),
        Column("via", "text"), Column("chain", "jsonb"),
        Column("subjects", "text[]", nullable=True), Column("valid_from", "date"),
        Column("valid_until", "date", nullable=True), Column("excluded_subjects", "text[]")),
    indexes=(
        # redrawing a holding's map replaces its rows
        Index("holding", "jurisdiction, competence, valid_from", while_projecting=True),
        Index("body", "body")))
EXERCISES = Table(
    "exercises", key=("decision",), columns=(
        Column("decision", "text"), Column("competence", "text"), Column("jurisdiction", "text"),
        Column("subject", "text", nullable=True), Column("body", "text", nullable=True),
        Column("taken_on", "date", nullable=True),
        Column("recorded_position", "bigint", nullable=True),
        Column("legitimate", "boolean", nullable=True),
        Column("verdict_position", "bigint", nullable=True)),
    indexes=(
        # applying a change to a holding re-checks its decisions
        Index("holding", "competence, jurisdiction, taken_on", while_projecting=True),))
VERDICTS = Table(
    "verdicts", key=("decision", "position"), columns=(
        Column("decision", "text"), Column("position", "bigint"), Column("legitimate", "boolean"),
        Column("explanation", "text")))
HOLDING = ("competence", "jurisdiction")
MAP_CHANGES = ("Attributed", "AttributionEnded", "GrantRecorded", "GrantRevoked")


class _Competences(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.holdings = HOLDINGS.rows(schema)
        self.attributions = ATTRIBUTIONS.rows(schema, group=HOLDING)
        self.grants = GRANTS.rows(schema, group=HOLDING)
        self.exercises = EXERCISES.rows(schema, group=HOLDING)
        self.competences: list[tuple[Any, ...]] = []
        self.verdicts: list[tuple[Any, ...]] = []
        self.redraw: set[tuple[str, str]] = set()

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The holdings whose map the batch changes, with their attributions, grants and the
        decisions the changes can touch; and the decisions it takes."""
        since: dict[UUID, date] = {}  # per holding, the earliest day a change in the batch affects
        for e in events:
            if e.record == "CompetenceHolding" and e.type in MAP_CHANGES:
                start = _affected(e)[0]
                since[e.record_id] = min(since.get(e.record_id, start), start)
        if since:
            await self._load_holdings(conn, since)
        taken = [e.data["decision"] for e in events if e.is_("CompetenceHolding", "Exercised")]
        if taken:
            await self.exercises.load(conn, "decision = ANY($1)", taken)

    async def _load_holdings(self, conn: asyncpg.Connection, since: dict[UUID, date]) -> None:
        await self.holdings.load(conn, "record_id = ANY($1)", list(since))
        stored = [(row["competence"], row["jurisdiction"], since[record_id])
                  for (record_id,), row in self.holdings.rows.items()]
        places = ([c for c, _, _ in stored], [j for _, j, _ in stored])
        holding_of = "(competence, jurisdiction) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        await self.attributions.load(conn, holding_of, *places)
        await self.grants.load(conn, holding_of, *places)
        # only the decisions a change can touch: those dated on or after it
        await self.exercises.load_query(
            conn, f"SELECT {', '.join('x.' + c for c in EXERCISES.column_names)}"
            f" FROM unnest($1::text[], $2::text[], $3::date[]) AS h(competence, jurisdiction,"
            f" since) JOIN {self.schema}.exercises x ON x.competence = h.competence"
            " AND x.jurisdiction = h.jurisdiction AND x.taken_on >= h.since",
            *places, [s for _, _, s in stored])

    def defined(self, e: LedgerEvent) -> None:
        d = e.data
        self.competences.append((e.record_id, d["code"], d["title"], d["delegable"],
                                 d["mandatable"], e.position))

    def decision_registered(self, e: LedgerEvent) -> None:
        d = e.data
        self.exercises.add(decision=d["code"], competence=d["competence"],
                           jurisdiction=d["jurisdiction"], subject=d["subject"])

    def opened(self, e: LedgerEvent) -> None:
        d = e.data
        self.holdings.add(record_id=e.record_id, competence=d["competence"],
                          jurisdiction=d["jurisdiction"], jurisdiction_kind=d["jurisdiction_kind"],
                          recorded_position=e.position)

    def exercised(self, e: LedgerEvent) -> None:
        d = e.data
        self.exercises.get(d["decision"]).update(
            body=d["body"], taken_on=d["on"], recorded_position=e.position, legitimate=True,
            verdict_position=e.position)

    def attributed(self, e: LedgerEvent) -> None:
        d = e.data
        place = self._place(e)
        self.attributions.add(**place, body=d["body"], valid_from=d["valid_from"],
                              legal_basis=d["legal_basis"], valid_until=d["valid_until"],
                              framework_body=d["framework_body"], recorded_position=e.position)
        self._map_changed(place, e)

    def attribution_ended(self, e: LedgerEvent) -> None:
        d = e.data
        place = self._place(e)
        for row in self.attributions.in_group(*place.values()):
            if row["body"] == d["body"] and row["valid_until"] is None and row["ended_on"] is None:
                row.update(ended_on=d["on"], end_reason=d["reason"], ended_position=e.position)
                self.attributions.mark(row)
        self._map_changed(place, e)

    def grant_recorded(self, e: LedgerEvent) -> None:
        place = self._place(e)
        self.grants.add(**place, **{c: e.data[c] for c in GRANTS.column_names if c in e.data},
                        recorded_position=e.position)
        self._map_changed(place, e)

    def grant_revoked(self, e: LedgerEvent) -> None:
        d = e.data
        place = self._place(e)
        self.grants.get(*place.values(), d["grant"]).update(
            revoked_on=d["on"], revocation_reason=d["reason"], revoked_position=e.position)
        self._map_changed(place, e)

    def _place(self, e: LedgerEvent) -> dict[str, str]:
        """The competence and jurisdiction of the holding the event belongs to."""
        holding = self.holdings.rows[(e.record_id,)]
        return {"competence": holding["competence"], "jurisdiction": holding["jurisdiction"]}

    def _map_changed(self, place: dict[str, str], e: LedgerEvent) -> None:
        self.redraw.add((place["competence"], place["jurisdiction"]))
        self._check_verdicts(place, _affected(e), e.position)

    def _check_verdicts(self, place: dict[str, str], affected: tuple[date, date | None],
                        at: int) -> None:
        """Re-checks the decisions of the holding dated in the affected period against what is
        now known, and marks those whose verdict turns."""
        start, end = affected
        decisions = [row for row in self.exercises.in_group(*place.values())
                     if row["body"] is not None and start <= row["taken_on"]
                     and (end is None or row["taken_on"] < end)]
        if not decisions:
            return
        attributions, grants = self._holding(place)
        for row in decisions:
            legitimate = may_exercise(attributions, grants, row["body"], row["taken_on"],
                                      row["subject"])
            if legitimate == row["legitimate"]:
                continue
            row.update(legitimate=legitimate, verdict_position=at)
            self.exercises.mark(row)
            self.verdicts.append((row["decision"], at, legitimate, _explain(row, legitimate, at)))

    def _holding(self, place: dict[str, str]) -> tuple[list[Any], list[Any]]:
        return holding_as_known(self.attributions.in_group(*place.values()),
                                self.grants.in_group(*place.values()))

    async def save(self, conn: asyncpg.Connection) -> None:
        await COMPETENCES.append(conn, self.schema, self.competences)
        for rows in (self.holdings, self.attributions, self.grants, self.exercises):
            await rows.save(conn)
        await VERDICTS.append(conn, self.schema, self.verdicts)
        if self.redraw:
            await self._redraw_maps(conn)

    async def _redraw_maps(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"DELETE FROM {self.schema}.competence_map WHERE (jurisdiction, competence) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            [j for _, j in self.redraw], [c for c, _ in self.redraw])
        entries: list[tuple[Any, ...]] = []
        for competence, jurisdiction in self.redraw:
            place = {"competence": competence, "jurisdiction": jurisdiction}
            entries.extend(
                (competence, jurisdiction, e.body, e.via, e.chain, e.subjects, e.valid_from,
                 e.valid_until, e.excluded_subjects)
                for e in map_entries(*self._holding(place)))
        await COMPETENCE_MAP.append(conn, self.schema, entries)


class Competences(DeclaredProjection[_Competences]):
    name = "competences"
    version = 2
    declared = (COMPETENCES, HOLDINGS, ATTRIBUTIONS, GRANTS, COMPETENCE_MAP, EXERCISES, VERDICTS)
    batch = _Competences
    handles = {
        ("Competence", "Defined"): _Competences.defined,
        ("Decision", "Registered"): _Competences.decision_registered,
        ("CompetenceHolding", "Opened"): _Competences.opened,
        ("CompetenceHolding", "Exercised"): _Competences.exercised,
        ("CompetenceHolding", "Attributed"): _Competences.attributed,
        ("CompetenceHolding", "AttributionEnded"): _Competences.attribution_ended,
        ("CompetenceHolding", "GrantRecorded"): _Competences.grant_recorded,
        ("CompetenceHolding", "GrantRevoked"): _Competences.grant_revoked,
    }
    ignores = event_names(
        Jurisdiction=("Established", "MemberJoined", "MemberLeft"),
        Body=("Established", "Renamed", "Abolished", "SeatFilled", "SeatVacated"),
        Decision=("Proposed", "Taken", "Published", "EnteredIntoForce", "Repealed", "Annulled",
                  "Corrected"),
        Commission=("Issued", "Accepted", "ProgressReported", "Fulfilled", "Withdrawn"),
        Consultation=("Opened", "ViewSubmitted", "Closed"),
        Dossier=("Opened",),
    )


def _affected(e: LedgerEvent) -> tuple[date, date | None]:
    """The valid period in which a change to a holding can change who may exercise it."""
    d = e.data
    if e.type in ("Attributed", "GrantRecorded"):
        return d["valid_from"], d["valid_until"]
    return d["on"], None  # an end or a revocation: from then on


def _explain(row: Row, legitimate: bool, at: int) -> str:
    subject = f" on '{row['subject']}'" if row["subject"] else ""
    if legitimate:
        return (f"As known at position {at}, a chain again reaches {row['body']} for "
                f"'{row['competence']}' of {row['jurisdiction']}{subject} on {row['taken_on']}.")
    return (f"As known at position {at}, no chain reaches {row['body']} for '{row['competence']}' "
            f"of {row['jurisdiction']}{subject} on {row['taken_on']}: a fact recorded later "
            "takes away the ground the decision was taken on.")
