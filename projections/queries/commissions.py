"""Commissions (open, overdue, fulfilled, withdrawn) and consultations with the views received."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from projections.queries.pagination import Page, PageRequest, page_of
from projections.queries.sql import NEVER, Db, Query
from projections.tracking import SCHEMA

CommissionState = Literal["open", "overdue", "fulfilled", "withdrawn"]


def commission_state_sql(on: str, known: str) -> str:
    """Open is issued and neither fulfilled nor withdrawn; overdue is open past its due date."""
    return (f"CASE WHEN withdrawn_position <= {known} AND withdrawn_on <= {on} THEN 'withdrawn'"
            f" WHEN fulfilled_position <= {known} AND fulfilled_on <= {on} THEN 'fulfilled'"
            f" WHEN due_on < {on} THEN 'overdue' ELSE 'open' END")


@dataclass(frozen=True)
class CommissionFilter:
    code: str | None = None
    state: CommissionState | None = None
    issued_by: str | None = None
    issued_to: str | None = None
    binding: bool | None = None
    dossier: str | None = None
    concerning: str | None = None
    """A jurisdiction: only commissions its own bodies issued, or the bodies of a region it was
    a member of on the day of issue."""


def _concerning_sql(known: str) -> str:
    """The issuing body `c.issued_by` belongs to the jurisdiction `{0}`, or to a region that
    jurisdiction was a member of on the day of issue."""
    return (f"EXISTS (SELECT FROM {SCHEMA}.bodies b WHERE b.code = c.issued_by"
            " AND (b.jurisdiction = {0} OR EXISTS (SELECT FROM "
            f"{SCHEMA}.memberships m WHERE m.region = b.jurisdiction AND m.member = {{0}}"
            f" AND m.recorded_position <= {known} AND m.joined_on <= c.issued_on"
            f" AND NOT coalesce(m.left_position <= {known} AND m.left_on <= c.issued_on,"
            " false))))")


async def commissions(db: Db, page: PageRequest, on: date, known_at: int | None = None,
                      where: CommissionFilter = CommissionFilter()) -> Page[dict[str, Any]]:
    """Commissions issued on or before `on`, as known at `known_at`."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    state = commission_state_sql(on_, known)
    q.where(f"recorded_position <= {known} AND issued_on <= {on_}")
    for column in ("code", "issued_by", "issued_to", "binding", "dossier"):
        if (value := getattr(where, column)) is not None:
            q.where(f"{column} = {{}}", value)
    if where.state is not None:
        q.where(f"{state} = {{}}", where.state)
    if where.concerning is not None:
        q.where(_concerning_sql(known), where.concerning)
    order = q.keyset(page, "commission", "recorded_position")
    rows = await db.fetch(_commissions_sql(on_, known, q.sql) + order, *q.args)
    return page_of(page, "commission", [_commission(row, known_at) for row in rows],
                   lambda c: c["recorded_position"])


async def commissions_by_code(db: Db, codes: Sequence[str], on: date,
                              known_at: int | None = None) -> dict[str, dict[str, Any]]:
    """The commissions with these codes as known at `known_at`, in their state on `on` (also
    one issued after `on`); one query for all of them."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    q.where(f"recorded_position <= {known} AND code = ANY({{}})", list(codes))
    rows = await db.fetch(_commissions_sql(on_, known, q.sql), *q.args)
    return {row["code"]: _commission(row, known_at) for row in rows}


def _commissions_sql(on: str, known: str, where: str) -> str:
    return (f"SELECT *, {commission_state_sql(on, known)} AS state,"
            f" (SELECT count(*) FROM {SCHEMA}.commission_progress p"
            f"  WHERE p.record_id = c.record_id AND p.position <= {known}"
            f"  AND p.reported_on <= {on}) AS progress_known"
            f" FROM {SCHEMA}.commissions c WHERE {where}")


def _commission(row: Any, known_at: int | None) -> dict[str, Any]:
    commission = dict(row)
    commission["progress_reports"] = commission.pop("progress_known")
    for step, fields in (("accepted_position", ("accepted_on",)),
                         ("fulfilled_position", ("fulfilled_on", "fulfilled_by_decision")),
                         ("withdrawn_position", ("withdrawn_on", "withdrawal_reason"))):
        if known_at is not None and (commission[step] is None or commission[step] > known_at):
            commission.update(dict.fromkeys((step, *fields)))
    return commission


@dataclass(frozen=True)
class ConsultationFilter:
    code: str | None = None
    open_only: bool = False
    opened_by: str | None = None
    consulted: str | None = None


async def consultations(db: Db, page: PageRequest, on: date, known_at: int | None = None,
                        where: ConsultationFilter = ConsultationFilter()
                        ) -> Page[dict[str, Any]]:
    """Consultations opened on or before `on`, each with the views received by then."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    closed = f"(closed_position <= {known} AND closed_on <= {on_})"
    q.where(f"recorded_position <= {known} AND opened_on <= {on_}")
    if where.open_only:
        q.where(f"NOT coalesce({closed}, false)")
    if where.code is not None:
        q.where("code = {}", where.code)
    if where.opened_by is not None:
        q.where("opened_by = {}", where.opened_by)
    if where.consulted is not None:
        q.where("{} = ANY(consulted)", where.consulted)
    order = q.keyset(page, "consultation", "recorded_position")
    rows = await db.fetch(_consultations_sql(on_, known, q.sql) + order, *q.args)
    return page_of(page, "consultation", [_consultation(row) for row in rows],
                   lambda c: c["recorded_position"])


async def consultations_by_code(db: Db, codes: Sequence[str], on: date,
                                known_at: int | None = None) -> dict[str, dict[str, Any]]:
    """The consultations with these codes as known at `known_at`, each with the views received
    by `on` (also one opened after `on`, which then has none); one query for all of them."""
    q = Query()
    on_, known = q.param(on), q.param(known_at if known_at is not None else NEVER)
    q.where(f"recorded_position <= {known} AND code = ANY({{}})", list(codes))
    rows = await db.fetch(_consultations_sql(on_, known, q.sql), *q.args)
    return {row["code"]: _consultation(row) for row in rows}


def _consultations_sql(on: str, known: str, where: str) -> str:
    closed = f"(closed_position <= {known} AND closed_on <= {on})"
    return (
        f"SELECT c.*, coalesce({closed}, false) AS closed,"
        f" coalesce((SELECT jsonb_agg(jsonb_build_object('council', v.council,"
        "   'submitted_on', v.submitted_on, 'stance', v.stance, 'late', v.late,"
        "   'document', v.document) ORDER BY v.submitted_on, v.council)"
        f"  FROM {SCHEMA}.consultation_views v WHERE v.record_id = c.record_id"
        f"  AND v.recorded_position <= {known} AND v.submitted_on <= {on}), '[]') AS views"
        f" FROM {SCHEMA}.consultations c WHERE {where}")


def _consultation(row: Any) -> dict[str, Any]:
    consultation = dict(row)
    if not consultation["closed"]:
        consultation.update(closed_on=None, views_at_closing=None, closed_position=None)
    responded = {view["council"] for view in consultation["views"]}
    consultation["not_responded"] = [c for c in consultation["consulted"] if c not in responded]
    return consultation
