"""Jurisdictions, their members, bodies and who sits on them, and dossiers, on a date as known
at a position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from projections.queries.pagination import Page, PageRequest, page_of
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


async def memberships(db: Db, jurisdiction: str, known_at: int | None = None
                      ) -> list[dict[str, Any]]:
    """Every membership the jurisdiction had as region or as member, over time, as known at
    `known_at`: a leaving not yet known leaves the membership open."""
    rows = await db.fetch(
        f"SELECT region, member, joined_on, CASE WHEN left_position <= $2 THEN left_on END"
        f" AS left_on FROM {SCHEMA}.memberships WHERE (region = $1 OR member = $1)"
        " AND recorded_position <= $2 ORDER BY joined_on, region, member",
        jurisdiction, known_at if known_at is not None else NEVER)
    return [dict(row) for row in rows]


NAMED_SEATS = 100
"""Seats a search by part of a holder's name finds at most."""


async def seats_held(db: Db, body: str | None = None, holder: str | None = None,
                     known_at: int | None = None, holder_named: str | None = None
                     ) -> list[dict[str, Any]]:
    """Every seat filled, of a body or by a holder (or by holders whose name holds
    `holder_named`, at most NAMED_SEATS), over time, as known at `known_at`: a seat's end not yet
    known leaves it open."""
    q = Query()
    known = q.param(known_at if known_at is not None else NEVER)
    q.where(f"recorded_position <= {known}")
    if body is not None:
        q.where("body = {}", body)
    if holder is not None:
        q.where("holder = {}", holder)
    if holder_named is not None:
        q.where("strpos(lower(holder), lower({})) > 0", holder_named)
    limit = f" LIMIT {NAMED_SEATS}" if holder_named is not None else ""
    rows = await db.fetch(
        f"SELECT body, seat, holder, political_group, valid_from,"
        f" CASE WHEN ended_position <= {known} THEN valid_until END AS valid_until"
        f" FROM {SCHEMA}.seats WHERE {q.sql} ORDER BY valid_from, body, seat{limit}", *q.args)
    return [dict(row) for row in rows]


async def bodies_by_code(db: Db, codes: Sequence[str], on: date, known_at: int | None = None
                         ) -> dict[str, dict[str, Any]]:
    """Bodies with their name and seats on `on` as known at `known_at`, and whether they
    existed then; one query for all of them."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    codes_ = q.param(list(codes))
    rows = await db.fetch(
        f"SELECT b.*, coalesce((SELECT n.name FROM {SCHEMA}.body_names n WHERE n.body = b.code"
        f"  AND n.valid_from <= {on_} AND n.recorded_position <= {known}"
        "  ORDER BY n.valid_from DESC, n.recorded_position DESC LIMIT 1),"
        # before its first name applies (before the body was established): the latest name known
        f" (SELECT n.name FROM {SCHEMA}.body_names n WHERE n.body = b.code"
        f"  AND n.recorded_position <= {known} ORDER BY n.recorded_position DESC LIMIT 1))"
        " AS name_on,"
        f" coalesce((SELECT jsonb_agg(jsonb_build_object('seat', s.seat, 'holder', s.holder,"
        "   'political_group', s.political_group, 'valid_from', s.valid_from, 'valid_until',"
        f"   CASE WHEN s.ended_position <= {known} THEN s.valid_until END) ORDER BY s.seat)"
        f"  FROM {SCHEMA}.seats s WHERE s.body = b.code AND s.valid_from <= {on_}"
        f"  AND s.recorded_position <= {known}"
        f"  AND NOT coalesce(s.ended_position <= {known} AND s.valid_until <= {on_}, false)),"
        "  '[]') AS seats_on"
        f" FROM {SCHEMA}.bodies b WHERE code = ANY({codes_}) AND recorded_position <= {known}",
        *q.args)
    known_limit = known_at if known_at is not None else NEVER
    found = {}
    for row in rows:
        body = dict(row)
        body["name"] = body.pop("name_on")
        body["seats"] = [_seat(seat) for seat in body.pop("seats_on")]
        if body["abolished_position"] is None or body["abolished_position"] > known_limit:
            body.update(abolished_on=None, abolition_reason=None, successor=None,
                        abolished_position=None)
        body["active"] = body["established_on"] <= on and (
            body["abolished_on"] is None or on < body["abolished_on"])
        found[body["code"]] = body
    return found


async def body(db: Db, code: str, on: date, known_at: int | None = None
               ) -> dict[str, Any] | None:
    return (await bodies_by_code(db, [code], on, known_at)).get(code)


async def jurisdictions(db: Db, page: PageRequest, kind: str | None = None,
                        known_at: int | None = None) -> Page[dict[str, Any]]:
    q = Query()
    q.where("recorded_position <= {}", known_at if known_at is not None else NEVER)
    if kind is not None:
        q.where("kind = {}", kind)
    order = q.keyset(page, "jurisdiction", "recorded_position")
    rows = await db.fetch(f"SELECT * FROM {SCHEMA}.jurisdictions WHERE {q.sql}{order}", *q.args)
    return page_of(page, "jurisdiction", [dict(row) for row in rows],
                   lambda j: j["recorded_position"])


async def jurisdiction(db: Db, code: str, known_at: int | None = None) -> dict[str, Any] | None:
    return (await jurisdictions_by_code(db, [code], known_at)).get(code)


async def jurisdictions_by_code(db: Db, codes: Sequence[str], known_at: int | None = None
                                ) -> dict[str, dict[str, Any]]:
    """The jurisdictions with these codes as known at `known_at`; one query for all of them."""
    rows = await db.fetch(
        f"SELECT * FROM {SCHEMA}.jurisdictions WHERE code = ANY($1) AND recorded_position <= $2",
        list(codes), known_at if known_at is not None else NEVER)
    return {row["code"]: dict(row) for row in rows}


async def dossiers(db: Db, page: PageRequest, known_at: int | None = None
                   ) -> Page[dict[str, Any]]:
    """The dossiers (programma's) opened as known at `known_at`, in the order they were."""
    q = Query()
    q.where("recorded_position <= {}", known_at if known_at is not None else NEVER)
    order = q.keyset(page, "dossier", "recorded_position")
    rows = await db.fetch(f"SELECT * FROM {SCHEMA}.dossiers WHERE {q.sql}{order}", *q.args)
    return page_of(page, "dossier", [dict(row) for row in rows], lambda d: d["recorded_position"])


async def dossiers_by_code(db: Db, codes: Sequence[str], known_at: int | None = None
                           ) -> dict[str, dict[str, Any]]:
    """The dossiers with these codes as known at `known_at`; one query for all of them."""
    rows = await db.fetch(
        f"SELECT * FROM {SCHEMA}.dossiers WHERE code = ANY($1) AND recorded_position <= $2",
        list(codes), known_at if known_at is not None else NEVER)
    return {row["code"]: dict(row) for row in rows}


async def bodies(db: Db, page: PageRequest, jurisdiction: str | None = None,
                 known_at: int | None = None) -> Page[dict[str, Any]]:
    q = Query()
    q.where("recorded_position <= {}", known_at if known_at is not None else NEVER)
    if jurisdiction is not None:
        q.where("jurisdiction = {}", jurisdiction)
    order = q.keyset(page, "body", "recorded_position")
    rows = await db.fetch(f"SELECT code, recorded_position FROM {SCHEMA}.bodies"
                          f" WHERE {q.sql}{order}", *q.args)
    return page_of(page, "body", [dict(row) for row in rows], lambda b: b["recorded_position"])


def _seat(seat: dict[str, Any]) -> dict[str, Any]:
    """A seat from JSON, its dates as dates again."""
    return seat | {key: date.fromisoformat(seat[key]) if seat[key] else None
                   for key in ("valid_from", "valid_until")}
