"""Jurisdictions, their members, bodies and who sits on them, on a date as known at a position."""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.queries.sql import NEVER, Db, Query
from projections.tracking import SCHEMA


async def members_on(db: Db, region: str, on: date, known_at: int | None = None) -> list[str]:
    q = Query()
    known = q.param(known_at if known_at is not None else NEVER)
    q.where(f"region = {{}} AND joined_on <= {{}} AND recorded_position <= {known}", region, on)
    q.where(f"NOT coalesce(left_position <= {known} AND left_on <= {{}}, false)", on)
    rows = await db.fetch(
        f"SELECT member FROM {SCHEMA}.memberships WHERE {q.sql} ORDER BY member", *q.args)
    return [row["member"] for row in rows]


async def body(db: Db, code: str, on: date, known_at: int | None = None
               ) -> dict[str, Any] | None:
    """A body with its name and seats on `on`, and whether it existed then."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    code_ = q.param(code)
    row = await db.fetchrow(
        f"SELECT b.*, (SELECT n.name FROM {SCHEMA}.body_names n WHERE n.body = b.code"
        f"  AND n.valid_from <= {on_} AND n.recorded_position <= {known}"
        "  ORDER BY n.valid_from DESC, n.recorded_position DESC LIMIT 1) AS name_on"
        f" FROM {SCHEMA}.bodies b WHERE code = {code_} AND recorded_position <= {known}", *q.args)
    if row is None:
        return None
    found = dict(row)
    found["name"] = found.pop("name_on") or found["name"]
    known_limit = known_at if known_at is not None else NEVER
    if found["abolished_position"] is None or found["abolished_position"] > known_limit:
        found.update(abolished_on=None, abolition_reason=None, successor=None,
                     abolished_position=None)
    found["active"] = found["established_on"] <= on and (
        found["abolished_on"] is None or on < found["abolished_on"])
    found["seats"] = [dict(seat) for seat in await db.fetch(
        f"SELECT seat, holder, political_group, valid_from,"
        f" CASE WHEN ended_position <= {known} THEN valid_until END AS valid_until"
        f" FROM {SCHEMA}.seats WHERE body = {code_} AND valid_from <= {on_}"
        f" AND recorded_position <= {known}"
        f" AND NOT coalesce(ended_position <= {known} AND valid_until <= {on_}, false)"
        " ORDER BY seat", *q.args)]
    return found


async def bodies_of(db: Db, jurisdiction: str, known_at: int | None = None) -> list[str]:
    rows = await db.fetch(
        f"SELECT code FROM {SCHEMA}.bodies WHERE jurisdiction = $1 AND recorded_position <= $2"
        " ORDER BY code", jurisdiction, known_at if known_at is not None else NEVER)
    return [row["code"] for row in rows]
