"""The decision register: filters, Dutch full-text search, status and verdict as known at a
position, and one decision in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from projections.decisions import AFFECTS, SEARCH_VECTOR
from projections.queries.pagination import Page, PageRequest, page_of
from projections.queries.sql import NEVER, Db, Query
from projections.tracking import SCHEMA

DecisionStatus = Literal["registered", "proposed", "adopted", "rejected", "published", "in_force",
                         "repealed", "annulled"]


def decision_status_sql(on: str, known: str) -> str:
    """A decision's status on date `on` as known at position `known` (SQL expressions): the
    last step of its life that was both known and dated on or before `on`."""
    return (
        f"CASE WHEN annulled_position <= {known} AND annulled_on <= {on} THEN 'annulled'"
        f" WHEN repealed_position <= {known} AND repealed_on <= {on} THEN 'repealed'"
        f" WHEN in_force_position <= {known} AND in_force_from <= {on} THEN 'in_force'"
        f" WHEN published_position <= {known} AND published_on <= {on} THEN 'published'"
        f" WHEN taken_position <= {known} AND taken_on <= {on} THEN outcome"
        f" WHEN proposed_position <= {known} AND coalesce(proposed_on <= {on}, true)"
        "  THEN 'proposed' ELSE 'registered' END")


def _as_known_sql(known: str) -> str:
    """What a correction replaced, where it came after `known`; and the verdict then."""
    return (
        f"(SELECT row(c.title_before, c.summary_before, c.documents_before)"
        f"  FROM {SCHEMA}.decision_corrections c"
        f"  WHERE c.record_id = d.record_id AND c.position > {known}"
        "  ORDER BY c.position LIMIT 1) AS before_correction,"
        f" (SELECT row(v.legitimate, v.position, v.explanation) FROM {SCHEMA}.verdicts v"
        f"  WHERE v.decision = d.code AND v.position <= {known}"
        "  ORDER BY v.position DESC LIMIT 1) AS verdict,"
        f" EXISTS (SELECT FROM {SCHEMA}.verdicts v WHERE v.decision = d.code"
        f"  AND v.position > {known}) AS verdict_differs_later")


def _taken_while_member_sql(known: str) -> str:
    """A decision taken for a region on a day the municipality `{}` was a member of it."""
    return (f"taken_position <= {known} AND EXISTS (SELECT FROM {SCHEMA}.memberships m"
            " WHERE m.region = d.jurisdiction AND m.member = {}"
            f" AND m.recorded_position <= {known} AND m.joined_on <= d.taken_on"
            f" AND NOT coalesce(m.left_position <= {known} AND m.left_on <= d.taken_on, false))")


@dataclass(frozen=True)
class DecisionFilter:
    body: str | None = None
    competence: str | None = None
    jurisdiction: str | None = None
    affecting: str | None = None
    """A jurisdiction the decision affects (its own, or one of those it names)."""
    member_of: str | None = None
    """A municipality: only decisions of the regions it was a member of on their decision date,
    as known at the position (what the region decided while it was a member)."""
    taken_from: date | None = None
    taken_until: date | None = None
    """Taken in [taken_from, taken_until)."""
    status: DecisionStatus | None = None
    text: str | None = None
    """Words to find in title and summary, in Dutch (web search syntax: "quotes", or, -not)."""
    published_only: bool = False
    """Only decisions published as known at the position: what the public may see."""
    own_bodies: tuple[str, ...] = ()
    """With `published_only`, also the unpublished decisions these bodies proposed or took."""


def _named_records(q: Query, where: DecisionFilter, known: str) -> None:
    """The filter's conditions on the body, competence and jurisdictions."""
    for column in ("body", "competence", "jurisdiction"):
        if (value := getattr(where, column)) is not None:
            q.where(f"d.{column} = {{}}", value)
    if where.body is not None:
        q.where(f"taken_position <= {known}")
    for value, condition in ((where.affecting, f"{AFFECTS} @> ARRAY[{{}}]::text[]"),
                             (where.member_of, _taken_while_member_sql(known))):
        if value is not None:
            q.where(condition, value)


async def decisions(db: Db, page: PageRequest, on: date, known_at: int | None = None,
                    where: DecisionFilter = DecisionFilter()) -> Page[dict[str, Any]]:
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    status = decision_status_sql(on_, known)
    q.where(f"recorded_position <= {known}")
    _named_records(q, where, known)
    if where.taken_from is not None:
        q.where(f"taken_on >= {{}} AND taken_position <= {known}", where.taken_from)
    if where.taken_until is not None:
        q.where(f"taken_on < {{}} AND taken_position <= {known}", where.taken_until)
    if where.status is not None:
        q.where(f"{status} = {{}}", where.status)
    if where.text is not None:
        q.where(f"{SEARCH_VECTOR} @@ websearch_to_tsquery('dutch', {{}})", where.text)
    if where.published_only:
        q.where(published_or_own(known), list(where.own_bodies), list(where.own_bodies))
    order = q.keyset(page, "decision", "recorded_position")
    rows = await db.fetch(
        f"SELECT d.*, {status} AS status, {_as_known_sql(known)}"
        f" FROM {SCHEMA}.decisions d WHERE {q.sql}{order}", *q.args)
    return page_of(page, "decision", [_as_known(row, known_at) for row in rows],
                   lambda d: d["recorded_position"])


async def decision(db: Db, code: str, on: date, known_at: int | None = None,
                   published_only: bool = False, own_bodies: tuple[str, ...] = ()
                   ) -> dict[str, Any] | None:
    """One decision as known at `known_at`, with its corrections and verdicts."""
    found = await decisions_by_code(db, [code], on, known_at, published_only, own_bodies)
    return found.get(code)


async def decisions_by_code(db: Db, codes: Sequence[str], on: date,
                            known_at: int | None = None, published_only: bool = False,
                            own_bodies: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """The decisions with these codes as known at `known_at` (those the asker may see, with
    `published_only`), with their corrections and verdicts; one query for all of them."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    q.where("code = ANY({})", list(codes))
    q.where(f"recorded_position <= {known}")
    if published_only:
        q.where(published_or_own(known), list(own_bodies), list(own_bodies))
    rows = await db.fetch(
        f"SELECT d.*, {decision_status_sql(on_, known)} AS status, {_as_known_sql(known)}"
        f" FROM {SCHEMA}.decisions d WHERE {q.sql}", *q.args)
    return {row["code"]: _as_known(row, known_at) for row in rows}


async def decisions_per_body(db: Db, known_at: int | None = None, published_only: bool = False,
                             own_bodies: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per body, the decisions it took as known at `known_at` (those the asker may see, with
    `published_only`): how many, and the first and last decision date; one query."""
    q = Query()
    known = q.param(known_at if known_at is not None else NEVER)
    q.where(f"taken_position <= {known}")
    if published_only:
        q.where(published_or_own(known), list(own_bodies), list(own_bodies))
    rows = await db.fetch(
        "SELECT body, count(*) AS decisions, min(taken_on) AS first_taken_on,"
        f" max(taken_on) AS last_taken_on FROM {SCHEMA}.decisions d WHERE {q.sql}"
        " GROUP BY body ORDER BY body", *q.args)
    return [dict(row) for row in rows]


def published_or_own(known: str) -> str:
    """The condition on a decision `d` that the public sees it as known at `known`, or a clerk
    of one of the bodies given twice as parameters ({})."""
    return (f"(published_position <= {known} OR d.body = ANY({{}})"
            " OR d.proposed_by = ANY({}))")


_STEPS = {
    "proposed_position": ("proposed_by", "proposed_on"),
    "taken_position": ("body", "taken_on", "outcome", "votes", "chain", "cited_grant",
                       "cited_publication", "framework_decision", "consultation",
                       "views_received", "documents"),
    "published_position": ("published_on", "publication"),
    "in_force_position": ("in_force_from",),
    "repealed_position": ("repealed_on", "repealed_by", "repeal_reason"),
    "annulled_position": ("annulled_on", "annulled_by", "annulment_reason"),
}


def _as_known(row: Any, known_at: int | None) -> dict[str, Any]:
    decision = dict(row)
    for step, fields in _STEPS.items():
        if known_at is not None and (decision[step] is None or decision[step] > known_at):
            decision.update(dict.fromkeys((step, *fields)))
    before = decision.pop("before_correction")
    if before is not None:
        decision["title"], decision["summary"], decision["documents"] = before
    verdict = decision.pop("verdict")
    taken = decision["taken_position"] is not None
    decision["legitimate"] = verdict[0] if verdict is not None else (True if taken else None)
    decision["verdict_position"] = verdict[1] if verdict is not None else decision["taken_position"]
    decision["verdict_explanation"] = verdict[2] if verdict is not None else None
    return decision
