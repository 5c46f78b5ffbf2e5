"""Structure: jurisdictions and their members over time, bodies with their names, seats and
holders over time (composition), and dossiers. Every fact carries the ledger position at which
it became known, and every end the position at which the end became known (bitemporal)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.events import LedgerEvent
from projections.rows import RowSet, append

STRUCTURE_RECORDS = frozenset({"Jurisdiction", "Body", "Dossier"})


class Structure:
    name = "structure"
    version = 1
    tables = ("jurisdictions", "memberships", "bodies", "body_names", "seats", "dossiers")

    def create_tables(self, schema: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {schema}.jurisdictions ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL,"
            " kind text NOT NULL, recorded_position bigint NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {schema}.memberships ("
            " region text NOT NULL, member text NOT NULL, joined_on date NOT NULL,"
            " left_on date, recorded_position bigint NOT NULL, left_position bigint,"
            " PRIMARY KEY (region, member, joined_on))",
            f"CREATE TABLE IF NOT EXISTS {schema}.bodies ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL,"
            " kind text NOT NULL, jurisdiction text NOT NULL, jurisdiction_kind text NOT NULL,"
            " established_on date NOT NULL, subordinate_to text, abolished_on date,"
            " abolition_reason text, successor text, recorded_position bigint NOT NULL,"
            " abolished_position bigint)",
            f"CREATE TABLE IF NOT EXISTS {schema}.body_names ("
            " body text NOT NULL, valid_from date NOT NULL, name text NOT NULL,"
            " recorded_position bigint NOT NULL, PRIMARY KEY (body, recorded_position))",
            f"CREATE TABLE IF NOT EXISTS {schema}.seats ("
            " body text NOT NULL, seat text NOT NULL, valid_from date NOT NULL,"
            " holder text NOT NULL, political_group text, valid_until date, end_reason text,"
            " recorded_position bigint NOT NULL, ended_position bigint,"
            " PRIMARY KEY (body, seat, valid_from))",
            f"CREATE TABLE IF NOT EXISTS {schema}.dossiers ("
            " record_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL,"
            " description text, recorded_position bigint NOT NULL)",
        ]

    def create_indexes(self, schema: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS memberships_member ON {schema}.memberships (member)",
            f"CREATE INDEX IF NOT EXISTS bodies_jurisdiction ON {schema}.bodies (jurisdiction)",
        ]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        jurisdictions = RowSet(schema, "jurisdictions", ["record_id"],
                               ["record_id", "code", "name", "kind", "recorded_position"])
        memberships = RowSet(schema, "memberships", ["region", "member", "joined_on"],
                             ["region", "member", "joined_on", "left_on", "recorded_position",
                              "left_position"], group=["region", "member"])
        bodies = RowSet(schema, "bodies", ["record_id"], [
            "record_id", "code", "name", "kind", "jurisdiction", "jurisdiction_kind",
            "established_on", "subordinate_to", "abolished_on", "abolition_reason", "successor",
            "recorded_position", "abolished_position"])
        seats = RowSet(schema, "seats", ["body", "seat", "valid_from"], [
            "body", "seat", "valid_from", "holder", "political_group", "valid_until",
            "end_reason", "recorded_position", "ended_position"], group=["body", "seat"])
        ids = {e.record_id for e in events if e.record in ("Jurisdiction", "Body") and e.version > 1}
        if ids:
            await jurisdictions.load(conn, "record_id = ANY($1)", list(ids))
            await bodies.load(conn, "record_id = ANY($1)", list(ids))
            regions = [row["code"] for row in jurisdictions.rows.values()]
            await memberships.load(conn, "region = ANY($1) AND left_on IS NULL", regions)
            body_codes = [row["code"] for row in bodies.rows.values()]
            await seats.load(conn, "body = ANY($1) AND valid_until IS NULL", body_codes)
        names: list[tuple[object, ...]] = []
        dossiers: list[tuple[object, ...]] = []
        for e in events:
            if e.record not in STRUCTURE_RECORDS:
                continue
            d, at = e.data, e.position
            if e.is_("Jurisdiction", "Established"):
                jurisdictions.add(record_id=e.record_id, code=d["code"], name=d["name"],
                                  kind=d["kind"], recorded_position=at)
            elif e.is_("Jurisdiction", "MemberJoined"):
                region = jurisdictions.rows[(e.record_id,)]["code"]
                memberships.add(region=region, member=d["member"], joined_on=d["on"],
                                recorded_position=at)
            elif e.is_("Jurisdiction", "MemberLeft"):
                region = jurisdictions.rows[(e.record_id,)]["code"]
                for row in memberships.in_group(region, d["member"]):
                    if row["left_on"] is None:
                        row.update(left_on=d["on"], left_position=at)
                        memberships.mark(row)
            elif e.is_("Body", "Established"):
                bodies.add(record_id=e.record_id, code=d["code"], name=d["name"], kind=d["kind"],
                           jurisdiction=d["jurisdiction"],
                           jurisdiction_kind=d["jurisdiction_kind"],
                           established_on=d["established_on"],
                           subordinate_to=d["subordinate_to"], recorded_position=at)
                names.append((d["code"], d["established_on"], d["name"], at))
            elif e.is_("Body", "Renamed"):
                body = bodies.get(e.record_id)
                body["name"] = d["name"]
                names.append((body["code"], d["on"], d["name"], at))
            elif e.is_("Body", "Abolished"):
                bodies.get(e.record_id).update(abolished_on=d["on"], abolition_reason=d["reason"],
                                               successor=d["successor"], abolished_position=at)
            elif e.is_("Body", "SeatFilled"):
                seats.add(body=bodies.rows[(e.record_id,)]["code"], seat=d["seat"],
                          valid_from=d["on"], holder=d["holder"], political_group=d["group"],
                          recorded_position=at)
            elif e.is_("Body", "SeatVacated"):
                body = bodies.rows[(e.record_id,)]["code"]
                for row in seats.in_group(body, d["seat"]):
                    if row["valid_until"] is None:
                        row.update(valid_until=d["on"], end_reason=d["reason"],
                                   ended_position=at)
                        seats.mark(row)
            elif e.is_("Dossier", "Opened"):
                dossiers.append((e.record_id, d["code"], d["title"], d["description"], at))
        for rows in (jurisdictions, memberships, bodies, seats):
            await rows.save(conn)
        await append(conn, schema, "body_names",
                     ("body", "valid_from", "name", "recorded_position"), names)
        await append(conn, schema, "dossiers",
                     ("record_id", "code", "title", "description", "recorded_position"), dossiers)
