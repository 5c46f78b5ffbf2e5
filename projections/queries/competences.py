"""Who may exercise what: the competence map, who is competent, and the grant register."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from projections.competence_map import MapEntry, holding_as_known, map_entries
from projections.errors import InvalidArgument
from projections.queries.pagination import Page, PageRequest, decode_cursor, page_of
from projections.queries.sql import NEVER, Db, Query
from projections.tracking import SCHEMA

GrantStatus = Literal["active", "pending", "expired", "revoked"]


@dataclass(frozen=True)
class Competent:
    """A body that may exercise a competence for a jurisdiction, and how."""

    competence: str
    jurisdiction: str
    entry: MapEntry


async def competence_map(db: Db, jurisdiction: str, on: date, known_at: int | None = None,
                         competence: str | None = None) -> list[Competent]:
    """Everyone who may exercise each competence of `jurisdiction` on `on`, with their chains."""
    q = Query()
    q.where("jurisdiction = {}", jurisdiction)
    if competence is not None:
        q.where("competence = {}", competence)
    if known_at is None:
        q.where("valid_from <= {} AND (valid_until IS NULL OR {} < valid_until)", on, on)
        rows = await db.fetch(
            f"SELECT competence, jurisdiction, body, via, chain, subjects, valid_from, valid_until,"
            f" excluded_subjects FROM {SCHEMA}.competence_map WHERE {q.sql}", *q.args)
        return sorted((Competent(row["competence"], row["jurisdiction"], MapEntry(
            row["body"], row["via"], row["chain"], row["subjects"], row["valid_from"],
            row["valid_until"], row["excluded_subjects"])) for row in rows), key=_map_key)
    q.where("recorded_position <= {}", known_at)
    attributions = await db.fetch(f"SELECT * FROM {SCHEMA}.attributions WHERE {q.sql}", *q.args)
    grants = await db.fetch(f"SELECT * FROM {SCHEMA}.grants WHERE {q.sql}", *q.args)
    by_holding: dict[str, tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    for row in attributions:
        by_holding[row["competence"]][0].append(row)
    for row in grants:
        by_holding[row["competence"]][1].append(row)
    found = [
        Competent(held, jurisdiction, entry)
        for held in sorted(by_holding)
        for entry in map_entries(*holding_as_known(*by_holding[held], known_at))
        if entry.valid_from <= on and (entry.valid_until is None or on < entry.valid_until)
    ]
    return sorted(found, key=_map_key)


async def who_is_competent(db: Db, competence: str, jurisdiction: str, on: date,
                           subject: str | None = None, known_at: int | None = None
                           ) -> list[Competent]:
    """The bodies that may decide on `subject` (or on the competence as a whole) on `on`."""
    return [c for c in await competence_map(db, jurisdiction, on, known_at, competence)
            if c.entry.covers(subject)]


def listed(found: list[Competent], page: PageRequest) -> Page[Competent]:
    """A page of a map already in memory (one jurisdiction's map is small). The cursor holds
    the entry's sort key, so it keeps its place when entries are added before or after it."""
    after = decode_cursor("map", page.after) if page.after is not None else None
    rest = [c for c in found if after is None or _map_key(c) > after]
    return page_of(page, "map", rest[:page.first + 1], _map_key)


def _map_key(c: Competent) -> str:
    e = c.entry
    return "|".join((c.competence, e.valid_from.isoformat(), e.body,
                     ",".join(link["grant"] or link["grantee"] for link in e.chain)))


CompetenceKind = Literal["local", "regional", "delegable", "mandatable"]

_KIND_SQL: dict[str, str] = {
    # local or regional by the jurisdictions it is held for (L7: local decisions stay local)
    "local": "holding_kinds @> ARRAY['municipality']",
    "regional": "holding_kinds @> ARRAY['region']",
    "delegable": "delegable",
    "mandatable": "mandatable",
}


def _competences_sql(known: str, where: str) -> str:
    return (f"SELECT * FROM (SELECT c.code, c.title, c.delegable, c.mandatable,"
            f" c.recorded_position, array(SELECT DISTINCT h.jurisdiction_kind"
            f"  FROM {SCHEMA}.holdings h WHERE h.competence = c.code"
            f"  AND h.recorded_position <= {known} ORDER BY 1) AS holding_kinds"
            f" FROM {SCHEMA}.competences c WHERE c.recorded_position <= {known}) AS c"
            f" WHERE {where}")


async def competences(db: Db, page: PageRequest, kind: CompetenceKind | None = None,
                      known_at: int | None = None) -> Page[dict[str, Any]]:
    """The competences (bevoegdheden) defined as known at `known_at`, of one kind if asked."""
    q = Query()
    known = q.param(known_at if known_at is not None else NEVER)
    if kind is not None:
        q.where(_KIND_SQL[kind])
    order = q.keyset(page, "competence", "recorded_position")
    rows = await db.fetch(_competences_sql(known, q.sql) + order, *q.args)
    return page_of(page, "competence", [_competence(row) for row in rows],
                   lambda c: c["recorded_position"])


async def competences_by_code(db: Db, codes: Sequence[str], known_at: int | None = None
                              ) -> dict[str, dict[str, Any]]:
    """The competences with these codes as known at `known_at`; one query for all of them."""
    q = Query()
    known = q.param(known_at if known_at is not None else NEVER)
    rows = await db.fetch(_competences_sql(known, f"code = ANY({q.param(list(codes))})"),
                          *q.args)
    return {row["code"]: _competence(row) for row in rows}


def _competence(row: Any) -> dict[str, Any]:
    """A competence with its kinds (CompetenceKind), in their declared order."""
    competence = dict(row)
    held = set(competence.pop("holding_kinds"))
    holds = {"local": "municipality" in held, "regional": "region" in held,
             "delegable": competence["delegable"], "mandatable": competence["mandatable"]}
    competence["kinds"] = [kind for kind in _KIND_SQL if holds[kind]]
    return competence


@dataclass(frozen=True)
class GrantFilter:
    jurisdiction: str | None = None
    competence: str | None = None
    grantor: str | None = None
    grantee: str | None = None
    kind: str | None = None
    code: str | None = None
    status: GrantStatus | None = None
    expiring_within_days: int | None = None
    """Only grants active on the date whose period ends within this many days after it."""


def grant_status_sql(on: str, known: str) -> str:
    """The status of a grant on date `on` as known at position `known` (SQL expressions)."""
    return (f"CASE WHEN revoked_position <= {known} AND revoked_on <= {on} THEN 'revoked'"
            f" WHEN valid_until <= {on} THEN 'expired'"
            f" WHEN valid_from > {on} THEN 'pending' ELSE 'active' END")


async def grants(db: Db, page: PageRequest, on: date, known_at: int | None = None,
                 where: GrantFilter = GrantFilter()) -> Page[dict[str, Any]]:
    """The grant register (mandaatregister): delegations, mandates and sub-mandates."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    status = grant_status_sql(on_, known)
    q.where(f"recorded_position <= {known}")
    for column in ("jurisdiction", "competence", "grantor", "grantee", "kind", "code"):
        if (value := getattr(where, column)) is not None:
            q.where(f"{column} = {{}}", value)
    if where.status is not None:
        q.where(f"{status} = {{}}", where.status)
    if where.expiring_within_days is not None:
        if where.expiring_within_days < 0:
            raise InvalidArgument("`expiring_within_days` cannot be negative.",
                                  field="expiring_within_days")
        q.where(f"{status} = 'active' AND least(valid_until, CASE WHEN revoked_position <= {known}"
                " THEN revoked_on END) <= {}", on + timedelta(days=where.expiring_within_days))
    order = q.keyset(page, "grant", "recorded_position")
    rows = await db.fetch(_grants_sql(status, known, q.sql) + order, *q.args)
    return page_of(page, "grant", [_grant(row) for row in rows], lambda g: g["recorded_position"])


def split_holding_code(code: str) -> tuple[str, str]:
    """The competence and jurisdiction of a holding's code, `competence@jurisdiction`, as the
    audit trail names a holding (codes hold neither @ nor /)."""
    competence, _, jurisdiction = code.partition("@")
    return competence, jurisdiction


def grant_key(competence: str, jurisdiction: str, code: str) -> str:
    """A grant's key, `competence@jurisdiction/code`: its code is unique within its holding
    only."""
    return f"{competence}@{jurisdiction}/{code}"


def split_grant_key(key: str) -> tuple[str, str, str]:
    """The competence, jurisdiction and code of a grant's key."""
    holding, _, code = key.partition("/")
    return *split_holding_code(holding), code


async def grants_by_key(db: Db, keys: Sequence[str], on: date, known_at: int | None = None
                        ) -> dict[str, dict[str, Any]]:
    """The grants with these keys (grant_key) on `on` as known at `known_at`; one query for
    all of them."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    held = [split_grant_key(key) for key in keys]
    q.where(f"recorded_position <= {known}")
    q.where("(competence, jurisdiction, code) IN"
            " (SELECT * FROM unnest({}::text[], {}::text[], {}::text[]))",
            *([grant[part] for grant in held] for part in range(3)))
    rows = await db.fetch(_grants_sql(grant_status_sql(on_, known), known, q.sql), *q.args)
    return {grant_key(row["competence"], row["jurisdiction"], row["code"]): _grant(row)
            for row in rows}


def _grants_sql(status: str, known: str, where: str) -> str:
    return (f"SELECT *, {status} AS status, CASE WHEN revoked_position <= {known}"
            f" THEN revoked_on END AS revoked_as_known FROM {SCHEMA}.grants WHERE {where}")


def _grant(row: Any) -> dict[str, Any]:
    grant = dict(row)
    grant["revoked_on"] = grant.pop("revoked_as_known")
    if grant["revoked_on"] is None:
        grant.update(revocation_reason=None, revoked_position=None)
    return grant
