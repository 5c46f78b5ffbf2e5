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
from projections.rows import Row, RowSet, append

ATTRIBUTION_COLUMNS = (
    "competence", "jurisdiction", "body", "valid_from", "legal_basis", "valid_until",
    "framework_body", "recorded_position", "ended_on", "end_reason", "ended_position",
)
GRANT_COLUMNS = (
    "competence", "jurisdiction", "code", "kind", "grantor", "grantee", "legal_basis",
    "source_decision", "valid_from", "valid_until", "scope", "allows_submandate", "parent",
    "framework_body", "recorded_position", "revoked_on", "revocation_reason", "revoked_position",
)
EXERCISE_COLUMNS = (
    "decision", "competence", "jurisdiction", "subject", "body", "taken_on", "recorded_position",
    "legitimate", "verdict_position",
)
HOLDING = ("competence", "jurisdiction")
MAP_CHANGES = ("Attributed", "AttributionEnded", "GrantRecorded", "GrantRevoked")


class Competences:
    name = "competences"
    version = 2
    tables = ("competences", "holdings", "attributions", "grants", "competence_map", "exercises",
              "verdicts")

    def create_tables(self, schema: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {schema}.competences ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL,"
            " delegable boolean NOT NULL, mandatable boolean NOT NULL,"
            " recorded_position bigint NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {schema}.holdings ("
            " record_id uuid PRIMARY KEY, competence text NOT NULL, jurisdiction text NOT NULL,"
            " jurisdiction_kind text NOT NULL, recorded_position bigint NOT NULL,"
            " UNIQUE (jurisdiction, competence))",
            f"CREATE TABLE IF NOT EXISTS {schema}.attributions ("
            " competence text NOT NULL, jurisdiction text NOT NULL, body text NOT NULL,"
            " valid_from date NOT NULL, legal_basis text NOT NULL, valid_until date,"
            " framework_body text, recorded_position bigint NOT NULL, ended_on date,"
            " end_reason text, ended_position bigint,"
            " PRIMARY KEY (competence, jurisdiction, body, valid_from))",
            f"CREATE TABLE IF NOT EXISTS {schema}.grants ("
            " competence text NOT NULL, jurisdiction text NOT NULL, code text NOT NULL,"
            " kind text NOT NULL, grantor text NOT NULL, grantee text NOT NULL,"
            " legal_basis text NOT NULL, source_decision text NOT NULL, valid_from date NOT NULL,"
            " valid_until date, scope text[], allows_submandate boolean NOT NULL, parent text,"
            " framework_body text, recorded_position bigint NOT NULL, revoked_on date,"
            " revocation_reason text, revoked_position bigint,"
            " PRIMARY KEY (competence, jurisdiction, code))",
            f"CREATE TABLE IF NOT EXISTS {schema}.competence_map ("
            " competence text NOT NULL, jurisdiction text NOT NULL, body text NOT NULL,"
            " via text NOT NULL, chain jsonb NOT NULL, subjects text[], valid_from date NOT NULL,"
            " valid_until date, excluded_subjects text[] NOT NULL)",
            # redrawing a holding's map replaces its rows: needed while projecting
            f"CREATE INDEX IF NOT EXISTS competence_map_holding ON {schema}.competence_map"
            " (jurisdiction, competence, valid_from)",
            f"CREATE TABLE IF NOT EXISTS {schema}.exercises ("
            " decision text PRIMARY KEY, competence text NOT NULL, jurisdiction text NOT NULL,"
            " subject text, body text, taken_on date, recorded_position bigint,"
            " legitimate boolean, verdict_position bigint)",
            # applying a change to a holding re-checks its decisions: needed while projecting
            f"CREATE INDEX IF NOT EXISTS exercises_holding ON {schema}.exercises"
            " (competence, jurisdiction, taken_on)",
            f"CREATE TABLE IF NOT EXISTS {schema}.verdicts ("
            " decision text NOT NULL, position bigint NOT NULL, legitimate boolean NOT NULL,"
            " explanation text NOT NULL, PRIMARY KEY (decision, position))",
        ]

    def create_indexes(self, schema: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS competence_map_body ON {schema}.competence_map (body)",
            f"CREATE INDEX IF NOT EXISTS grants_grantee ON {schema}.grants (grantee)",
            f"CREATE INDEX IF NOT EXISTS grants_grantor ON {schema}.grants (grantor)",
            f"CREATE INDEX IF NOT EXISTS grants_jurisdiction ON {schema}.grants"
            " (jurisdiction, recorded_position)",
            f"CREATE INDEX IF NOT EXISTS grants_valid_until ON {schema}.grants (valid_until)",
        ]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        batch = _Batch(schema)
        await batch.load(conn, events)
        for event in events:
            batch.apply(event)
        await batch.save(conn)


class _Batch:
    """One batch of the competences projection: the rows it touches, changed in memory."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.holdings = RowSet(schema, "holdings", ["record_id"], [
            "record_id", "competence", "jurisdiction", "jurisdiction_kind", "recorded_position"])
        self.attributions = RowSet(schema, "attributions",
                                   ["competence", "jurisdiction", "body", "valid_from"],
                                   ATTRIBUTION_COLUMNS, group=HOLDING)
        self.grants = RowSet(schema, "grants", ["competence", "jurisdiction", "code"],
                             GRANT_COLUMNS, group=HOLDING)
        self.exercises = RowSet(schema, "exercises", ["decision"], EXERCISE_COLUMNS,
                                group=HOLDING)
        self.competences: list[tuple[Any, ...]] = []
        self.verdicts: list[tuple[Any, ...]] = []
        self.redraw: set[tuple[str, str]] = set()

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        since: dict[UUID, date] = {}  # per holding, the earliest day a change in the batch affects
        for e in events:
            if e.record == "CompetenceHolding" and e.type in MAP_CHANGES:
                start = _affected(e)[0]
                since[e.record_id] = min(since.get(e.record_id, start), start)
        if since:
            await self.holdings.load(conn, "record_id = ANY($1)", list(since))
            stored = [(row["competence"], row["jurisdiction"], since[record_id])
                      for (record_id,), row in self.holdings.rows.items()]
            places = ([c for c, _, _ in stored], [j for _, j, _ in stored])
            holding_of = ("(competence, jurisdiction) IN"
                          " (SELECT * FROM unnest($1::text[], $2::text[]))")
            await self.attributions.load(conn, holding_of, *places)
            await self.grants.load(conn, holding_of, *places)
            # only the decisions a change can touch: those dated on or after it
            await self.exercises.load_query(
                conn, f"SELECT {', '.join('x.' + c for c in EXERCISE_COLUMNS)}"
                f" FROM unnest($1::text[], $2::text[], $3::date[]) AS h(competence, jurisdiction,"
                f" since) JOIN {self.schema}.exercises x ON x.competence = h.competence"
                " AND x.jurisdiction = h.jurisdiction AND x.taken_on >= h.since",
                *places, [s for _, _, s in stored])
        taken = [e.data["decision"] for e in events if e.is_("CompetenceHolding", "Exercised")]
        if taken:
            await self.exercises.load(conn, "decision = ANY($1)", taken)

    def apply(self, e: LedgerEvent) -> None:
        d, at = e.data, e.position
        if e.is_("Competence", "Defined"):
            self.competences.append((e.record_id, d["code"], d["title"], d["delegable"],
                                     d["mandatable"], at))
        elif e.is_("Decision", "Registered"):
            self.exercises.add(decision=d["code"], competence=d["competence"],
                               jurisdiction=d["jurisdiction"], subject=d["subject"])
        elif e.record != "CompetenceHolding":
            return
        elif e.type == "Opened":
            self.holdings.add(record_id=e.record_id, competence=d["competence"],
                              jurisdiction=d["jurisdiction"],
                              jurisdiction_kind=d["jurisdiction_kind"], recorded_position=at)
        elif e.type == "Exercised":
            self.exercises.get(d["decision"]).update(
                body=d["body"], taken_on=d["on"], recorded_position=at, legitimate=True,
                verdict_position=at)
        else:
            self._change_map(e)

    def _change_map(self, e: LedgerEvent) -> None:
        d, at = e.data, e.position
        holding = self.holdings.rows[(e.record_id,)]
        place = {"competence": holding["competence"], "jurisdiction": holding["jurisdiction"]}
        if e.type == "Attributed":
            self.attributions.add(**place, body=d["body"], valid_from=d["valid_from"],
                                  legal_basis=d["legal_basis"], valid_until=d["valid_until"],
                                  framework_body=d["framework_body"], recorded_position=at)
        elif e.type == "AttributionEnded":
            for row in self.attributions.in_group(*place.values()):
                if row["body"] == d["body"] and row["valid_until"] is None and row["ended_on"] is None:
                    row.update(ended_on=d["on"], end_reason=d["reason"], ended_position=at)
                    self.attributions.mark(row)
        elif e.type == "GrantRecorded":
            self.grants.add(**place, **{c: d[c] for c in GRANT_COLUMNS if c in d},
                            recorded_position=at)
        else:  # GrantRevoked
            self.grants.get(*place.values(), d["grant"]).update(
                revoked_on=d["on"], revocation_reason=d["reason"], revoked_position=at)
        self.redraw.add((place["competence"], place["jurisdiction"]))
        self._check_verdicts(place, _affected(e), at)

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
        schema = self.schema
        await append(conn, schema, "competences",
                     ("record_id", "code", "title", "delegable", "mandatable",
                      "recorded_position"), self.competences)
        for rows in (self.holdings, self.attributions, self.grants, self.exercises):
            await rows.save(conn)
        await append(conn, schema, "verdicts",
                     ("decision", "position", "legitimate", "explanation"), self.verdicts)
        if not self.redraw:
            return
        await conn.execute(
            f"DELETE FROM {schema}.competence_map WHERE (jurisdiction, competence) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            [j for _, j in self.redraw], [c for c, _ in self.redraw])
        entries: list[tuple[Any, ...]] = []
        for competence, jurisdiction in self.redraw:
            place = {"competence": competence, "jurisdiction": jurisdiction}
            entries.extend(
                (competence, jurisdiction, e.body, e.via, e.chain, e.subjects, e.valid_from,
                 e.valid_until, e.excluded_subjects)
                for e in map_entries(*self._holding(place)))
        await append(conn, schema, "competence_map",
                     ("competence", "jurisdiction", "body", "via", "chain", "subjects",
                      "valid_from", "valid_until", "excluded_subjects"), entries)


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


