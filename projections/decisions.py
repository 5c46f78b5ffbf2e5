"""Decision register: every decision with its status over time, the legitimacy chain it was
taken on, the grant it cited, its framework, the jurisdictions it affects, votes and documents;
searchable in Dutch (PostgreSQL's `dutch` text search configuration) on title and summary.

Each step carries the ledger position at which it became known, so the status can be read as
known at any position. A correction keeps what it replaced in `decision_corrections`."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.events import LedgerEvent
from projections.rows import RowSet, append

COLUMNS = (
    "record_id", "code", "title", "summary", "competence", "jurisdiction", "subject", "dossier",
    "affected_jurisdictions", "recorded_position",
    "proposed_by", "proposed_on", "proposed_position",
    "body", "taken_on", "outcome", "votes", "chain", "cited_grant", "cited_publication",
    "framework_decision", "consultation", "views_received", "documents", "taken_position",
    "published_on", "publication", "published_position",
    "in_force_from", "in_force_position",
    "repealed_on", "repealed_by", "repeal_reason", "repealed_position",
    "annulled_on", "annulled_by", "annulment_reason", "annulled_position",
)


SEARCH_VECTOR = "to_tsvector('dutch', title || ' ' || coalesce(summary, ''))"
"""What Dutch full-text search matches against (the index is on this expression)."""


AFFECTS = "(affected_jurisdictions || jurisdiction)"
"""The jurisdictions a decision affects: its own and those it names (the index is on this)."""


class Decisions:
    name = "decisions"
    version = 2
    tables = ("decisions", "decision_corrections")

    def create_tables(self, schema: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {schema}.decisions ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL,"
            " summary text, competence text NOT NULL, jurisdiction text NOT NULL, subject text,"
            " dossier text, affected_jurisdictions text[] NOT NULL,"
            " recorded_position bigint NOT NULL,"
            " proposed_by text, proposed_on date, proposed_position bigint,"
            " body text, taken_on date, outcome text, votes jsonb, chain jsonb, cited_grant text,"
            " cited_publication text, framework_decision text, consultation text,"
            " views_received text[], documents jsonb, taken_position bigint,"
            " published_on date, publication text, published_position bigint,"
            " in_force_from date, in_force_position bigint,"
            " repealed_on date, repealed_by text, repeal_reason text, repealed_position bigint,"
            " annulled_on date, annulled_by text, annulment_reason text, annulled_position bigint)",
            f"CREATE TABLE IF NOT EXISTS {schema}.decision_corrections ("
            " record_id uuid NOT NULL, position bigint NOT NULL, reason text NOT NULL,"
            " title_before text NOT NULL, summary_before text, documents_before jsonb,"
            " PRIMARY KEY (record_id, position))",
        ]

    def create_indexes(self, schema: str) -> list[str]:
        return [
            # an index on the expression, not a stored column: computed once per title, not
            # again on every later step of the decision
            f"CREATE INDEX IF NOT EXISTS decisions_search ON {schema}.decisions"
            f" USING gin ({SEARCH_VECTOR})",
            f"CREATE INDEX IF NOT EXISTS decisions_body ON {schema}.decisions (body, recorded_position)",
            f"CREATE INDEX IF NOT EXISTS decisions_holding ON {schema}.decisions"
            " (competence, jurisdiction, recorded_position)",
            f"CREATE INDEX IF NOT EXISTS decisions_jurisdiction ON {schema}.decisions"
            " (jurisdiction, recorded_position)",
            f"CREATE INDEX IF NOT EXISTS decisions_affecting ON {schema}.decisions"
            f" USING gin ({AFFECTS})",
            f"CREATE INDEX IF NOT EXISTS decisions_taken_on ON {schema}.decisions (taken_on)",
        ]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        decisions = RowSet(schema, "decisions", ["record_id"], COLUMNS)
        known = {e.record_id for e in events if e.record == "Decision" and e.version > 1}
        if known:
            await decisions.load(conn, "record_id = ANY($1)", list(known))
        corrections: list[tuple[object, ...]] = []
        for e in events:
            if e.record != "Decision":
                continue
            d, at = e.data, e.position
            if e.type == "Registered":
                decisions.add(
                    record_id=e.record_id, code=d["code"], title=d["title"], summary=d["summary"],
                    competence=d["competence"], jurisdiction=d["jurisdiction"],
                    subject=d["subject"], dossier=d["dossier"],
                    affected_jurisdictions=d["affected_jurisdictions"], recorded_position=at)
                continue
            row = decisions.get(e.record_id)
            if e.type == "Proposed":
                row.update(proposed_by=d["by"], proposed_on=d["on"], proposed_position=at)
            elif e.type == "Taken":
                row.update(
                    body=d["body"], taken_on=d["on"], outcome=d["outcome"], votes=d["votes"],
                    chain=d["chain"], cited_grant=d["cited_grant"],
                    cited_publication=d["cited_publication"],
                    framework_decision=d["framework_decision"], consultation=d["consultation"],
                    views_received=d["views_received"], documents=d["documents"],
                    taken_position=at)
            elif e.type == "Published":
                row.update(published_on=d["on"], publication=d["publication"],
                           published_position=at)
            elif e.type == "EnteredIntoForce":
                row.update(in_force_from=d["retroactive_from"] or d["on"], in_force_position=at)
            elif e.type == "Repealed":
                row.update(repealed_on=d["on"], repealed_by=d["repealed_by"],
                           repeal_reason=d["reason"], repealed_position=at)
            elif e.type == "Annulled":
                row.update(annulled_on=d["on"], annulled_by=d["annulled_by"],
                           annulment_reason=d["reason"], annulled_position=at)
            elif e.type == "Corrected":
                corrections.append((e.record_id, at, d["reason"], row["title"], row["summary"],
                                    row["documents"]))
                for field in ("title", "summary", "documents"):
                    if d[field] is not None:
                        row[field] = d[field]
        await decisions.save(conn)
        await append(conn, schema, "decision_corrections",
                     ("record_id", "position", "reason", "title_before", "summary_before",
                      "documents_before"), corrections)
