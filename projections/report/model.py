"""One municipality, one period, as known at one ledger position: the decisions taken for it (by
the regions it was a member of while it was one, and by its own bodies), the grants that moved,
the commissions and consultations, and where to check it all. Read through the query layer; the
shape is the report's JSON form (api/report/render.py writes it as is)."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypeVar

from ledger.application import EVENTS_TABLE
from projections.checkpoints import CHECKPOINTS_TABLE, checkpoint_until
from projections.errors import InvalidArgument, ReadError
from projections.queries import commissions as commission_queries
from projections.queries import competences, decisions, structure
from projections.queries.audit import ledger_head, projected_position
from projections.queries.pagination import MAX_PAGE, Page, PageRequest
from projections.queries.sql import Db
from projections.runner import all_projections
from projections.tracking import SCHEMA

EXPIRING_DAYS = 90
"""Grants ending within this many days after the period are listed as expiring."""
MAX_PERIOD_DAYS = 366 * 5
"""The longest period one report covers: a report is read by a council, and made in bounded time."""
T = TypeVar("T")


class UnknownJurisdiction(ReadError):
    code = "UNKNOWN_JURISDICTION"


@dataclass(frozen=True)
class Period:
    """From and to, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidArgument(f"The period starts ({self.start}) after it ends ({self.end}).",
                                  field="from")
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise InvalidArgument(f"A report covers at most {MAX_PERIOD_DAYS} days.", field="to")

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    @property
    def months(self) -> list[str]:
        """Every month the period touches, as YYYY-MM."""
        found, day = [], self.start.replace(day=1)
        while day <= self.end:
            found.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return found


@dataclass(frozen=True)
class Membership:
    region: str
    joined_on: date
    left_on: date | None

    def holds(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


@dataclass(frozen=True)
class DecisionEntry:
    code: str
    title: str
    body: str
    jurisdiction: str
    taken_on: date
    competence: str
    outcome: str
    status: str
    """On the last day of the period, as known at the report's position."""
    capacity: str
    """How the body held the competence: the kind of the chain's last link (attribution,
    delegation, mandate, submandate)."""
    legal_basis: str | None
    chain: list[dict[str, Any]]
    position: int
    """The ledger position of the event that recorded the decision as taken."""
    published: bool
    annulled: dict[str, Any] | None
    repealed: dict[str, Any] | None
    corrections: list[dict[str, Any]]
    legitimate: bool | None
    verdict_explanation: str | None
    verdict_differs_later: bool


@dataclass(frozen=True)
class GrantEntry:
    code: str
    kind: str
    competence: str
    jurisdiction: str
    grantor: str
    grantee: str
    legal_basis: str
    valid_from: date
    valid_until: date | None
    revoked_on: date | None
    revocation_reason: str | None
    events: list[str]
    """What happened to it in the period: started, ended, revoked, expiring."""


@dataclass(frozen=True)
class CommissionEntry:
    code: str
    subject: str
    issued_by: str
    issued_to: str
    issued_on: date
    due_on: date | None
    binding: bool
    state: str
    """open, overdue, fulfilled or withdrawn on the last day of the period."""
    progress_reports: int
    fulfilled_by_decision: str | None
    withdrawal_reason: str | None
    position: int


@dataclass(frozen=True)
class ConsultationEntry:
    code: str
    subject: str
    opened_by: str
    opened_on: date
    respond_by: date
    council: str
    view_given_on: date | None
    in_time: bool | None
    """Whether the council's view came by the deadline; None if it gave none."""
    stance: str | None
    draft_decision: str | None
    considered_by: str | None
    """The decision that names the council's view as received."""
    position: int


@dataclass(frozen=True)
class MatrixCell:
    competence: str
    body: str
    capacity: str
    decisions: int


@dataclass(frozen=True)
class Verification:
    position: int
    """The ledger position the report was cut at: everything known then, nothing after."""
    checkpoint_size: int | None
    checkpoint_root_hash: str | None
    """Base64, as in the checkpoint."""
    checkpoint_note: str | None
    """The signed checkpoint (C2SP signed note) of the latest tree within the position."""
    chain_head: str | None
    """The hash chain's head at the position (hex), for checking without a checkpoint."""


@dataclass(frozen=True)
class Summary:
    regional_decisions: int
    local_decisions: int
    competences: list[str]
    annulled: int
    repealed: int
    corrected: int
    flagged: int
    """Taken on a chain that does not hold, or whose verdict differs under later knowledge."""
    commissions_open: int
    commissions_overdue: int
    consultations_awaiting: int
    """Consultations of the period to which the council has given no view."""


@dataclass(frozen=True)
class Report:
    jurisdiction: str
    jurisdiction_name: str
    period: Period
    issued_on: date
    view: str
    """public (published decisions only) or auditor (everything)."""
    memberships: list[Membership]
    summary: Summary
    regional_decisions: list[DecisionEntry]
    local_decisions: list[DecisionEntry]
    grants: list[GrantEntry]
    commissions: list[CommissionEntry]
    consultations: list[ConsultationEntry]
    competence_matrix: list[MatrixCell]
    timeline: list[dict[str, Any]]
    """Per month of the period: decisions taken, local and regional."""
    commissions_by_state: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    """The name of every body, competence and jurisdiction the report mentions, by code."""
    verification: Verification | None = None


async def accountability_report(db: Db, jurisdiction: str, period: Period, *,
                                known_at: int | None = None, published_only: bool = True,
                                issued_on: date | None = None) -> Report:
    """The report on `jurisdiction` (a municipality) for `period`, as known at `known_at` (the
    position the projections reached if None); the public view unless `published_only` is
    False."""
    position = await _position(db, known_at)
    municipality = await structure.jurisdiction(db, jurisdiction, position)
    if municipality is None or municipality["kind"] != "municipality":
        raise UnknownJurisdiction(
            f"No municipality '{jurisdiction}' is known at position {position} (the read models'"
            " position unless asked otherwise).", field="jurisdiction")
    memberships = await _memberships(db, jurisdiction, period, position)
    on = period.end
    regional = [d for m in memberships for d in await _decisions(
        db, period, position, published_only, decisions.DecisionFilter(jurisdiction=m.region))
        if m.holds(d["taken_on"])]
    local = await _decisions(db, period, position, published_only,
                             decisions.DecisionFilter(jurisdiction=jurisdiction))
    corrections = await _corrections(db, [d["record_id"] for d in regional + local], position)
    regional_entries = [_decision(d, corrections) for d in regional]
    local_entries = [_decision(d, corrections) for d in local]
    body_codes = await _bodies_of(db, [jurisdiction, *(m.region for m in memberships)], position)
    grants = await _grants(db, [jurisdiction, *(m.region for m in memberships)], period, position)
    commissions = await _commissions(db, set(body_codes), period, position)
    councils = [code for code, body in (await structure.bodies_by_code(
        db, body_codes, on, position)).items()
        if body["kind"] == "council" and body["jurisdiction"] == jurisdiction]
    consultations = await _consultations(db, councils, period, position, published_only)
    everything = regional_entries + local_entries
    report = Report(
        jurisdiction=jurisdiction, jurisdiction_name=municipality["name"], period=period,
        issued_on=issued_on or date.today(), view="public" if published_only else "auditor",
        memberships=memberships,
        summary=_summary(regional_entries, local_entries, commissions, consultations),
        regional_decisions=regional_entries, local_decisions=local_entries, grants=grants,
        commissions=commissions, consultations=consultations,
        competence_matrix=_matrix(everything),
        timeline=_timeline(period, local_entries, regional_entries),
        commissions_by_state=dict(Counter(c.state for c in commissions)),
        verification=await _verification(db, position))
    return replace(report, names=await _names(db, report, position))


async def _position(db: Db, known_at: int | None) -> int:
    """The position asked for, which the projections must have reached."""
    projected = await projected_position(db, [p.name for p in all_projections()])
    if known_at is None:
        return projected
    if known_at < 0:
        raise InvalidArgument("`known_at` is a ledger position, 0 or more.", field="known_at")
    if known_at > projected:
        head = await ledger_head(db)
        raise InvalidArgument(
            f"Position {known_at} is not known yet: the ledger is at {head}, its read models at "
            f"{projected}.", field="known_at")
    return known_at


async def all_pages(read: Callable[[PageRequest], Awaitable[Page[T]]]) -> list[T]:
    """Every item of a paged read, page after page."""
    found: list[T] = []
    after = None
    while True:
        page = await read(PageRequest(MAX_PAGE, after))
        found.extend(page.items)
        if not page.has_next_page:
            return found
        after = page.end_cursor


async def _memberships(db: Db, municipality: str, period: Period, position: int
                       ) -> list[Membership]:
    """The regions the municipality was a member of at some day of the period."""
    rows = await db.fetch(
        f"SELECT region, joined_on, CASE WHEN left_position <= $2 THEN left_on END AS left_on"
        f" FROM {SCHEMA}.memberships WHERE member = $1 AND recorded_position <= $2"
        " ORDER BY joined_on, region", municipality, position)
    return [Membership(row["region"], row["joined_on"], row["left_on"]) for row in rows
            if row["joined_on"] <= period.end
            and (row["left_on"] is None or period.start < row["left_on"])]


async def _decisions(db: Db, period: Period, position: int, published_only: bool,
                     where: decisions.DecisionFilter) -> list[dict[str, Any]]:
    """Decisions taken in the period (refused commands never became decisions)."""
    where = replace(where, taken_from=period.start, taken_until=period.end + timedelta(days=1),
                    published_only=published_only)
    found = await all_pages(lambda page: decisions.decisions(db, page, period.end, position, where))
    return sorted(found, key=lambda d: (d["taken_on"], d["code"]))


async def _corrections(db: Db, record_ids: list[Any], position: int
                       ) -> dict[Any, list[dict[str, Any]]]:
    rows = await db.fetch(
        f"SELECT record_id, position, reason FROM {SCHEMA}.decision_corrections"
        " WHERE record_id = ANY($1) AND position <= $2 ORDER BY position", record_ids, position)
    found: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["record_id"], []).append(
            {"position": row["position"], "reason": row["reason"]})
    return found


def _decision(d: dict[str, Any], corrections: dict[Any, list[dict[str, Any]]]) -> DecisionEntry:
    chain = d["chain"] or []
    return DecisionEntry(
        code=d["code"], title=d["title"], body=d["body"], jurisdiction=d["jurisdiction"],
        taken_on=d["taken_on"], competence=d["competence"], outcome=d["outcome"],
        status=d["status"], capacity=chain[-1]["kind"] if chain else "attribution",
        legal_basis=chain[0]["legal_basis"] if chain else None, chain=chain,
        position=d["taken_position"], published=d["published_position"] is not None,
        annulled=None if d["annulled_position"] is None else {
            "on": d["annulled_on"], "by": d["annulled_by"], "reason": d["annulment_reason"]},
        repealed=None if d["repealed_position"] is None else {
            "on": d["repealed_on"], "by": d["repealed_by"], "reason": d["repeal_reason"]},
        corrections=corrections.get(d["record_id"], []), legitimate=d["legitimate"],
        verdict_explanation=d["verdict_explanation"],
        verdict_differs_later=d["verdict_differs_later"])


async def _bodies_of(db: Db, jurisdictions: list[str], position: int) -> list[str]:
    found: list[str] = []
    for code in jurisdictions:
        found += [b["code"] for b in await all_pages(
            lambda page, code=code: structure.bodies(db, page, code, position))]
    return found


async def _grants(db: Db, jurisdictions: list[str], period: Period, position: int
                  ) -> list[GrantEntry]:
    """Grants that started, ended or were revoked in the period, or end within EXPIRING_DAYS
    after it."""
    horizon = period.end + timedelta(days=EXPIRING_DAYS)
    found = []
    for code in jurisdictions:
        rows = await all_pages(lambda page, code=code: competences.grants(
            db, page, period.end, position, competences.GrantFilter(jurisdiction=code)))
        for g in rows:
            ends = min((day for day in (g["valid_until"], g["revoked_on"]) if day), default=None)
            events = [name for name, happened in (
                ("started", period.holds(g["valid_from"])),
                ("ended", g["revoked_on"] is None and period.holds(g["valid_until"])),
                ("revoked", period.holds(g["revoked_on"])),
                ("expiring", g["status"] == "active" and ends is not None
                 and period.end < ends <= horizon)) if happened]
            if events:
                found.append(GrantEntry(
                    g["code"], g["kind"], g["competence"], g["jurisdiction"], g["grantor"],
                    g["grantee"], g["legal_basis"], g["valid_from"], g["valid_until"],
                    g["revoked_on"], g["revocation_reason"], events))
    return sorted(found, key=lambda g: (g.valid_from, g.code))


async def _commissions(db: Db, bodies: set[str], period: Period, position: int
                       ) -> list[CommissionEntry]:
    """Commissions given by or to the bodies, issued by the period's end and not finished
    before it began."""
    rows = await all_pages(lambda page: commission_queries.commissions(
        db, page, period.end, position))
    found = []
    for c in rows:
        finished = c["fulfilled_on"] or c["withdrawn_on"]
        if (c["issued_by"] in bodies or c["issued_to"] in bodies) and not (
                finished is not None and finished < period.start):
            found.append(CommissionEntry(
                c["code"], c["subject"], c["issued_by"], c["issued_to"], c["issued_on"],
                c["due_on"], c["binding"], c["state"], c["progress_reports"],
                c["fulfilled_by_decision"], c["withdrawal_reason"], c["recorded_position"]))
    return sorted(found, key=lambda c: (c.issued_on, c.code))


async def _consultations(db: Db, councils: list[str], period: Period, position: int,
                         published_only: bool) -> list[ConsultationEntry]:
    """The consultations of the councils opened in the period or with their deadline in it."""
    found = []
    for council in councils:
        rows = await all_pages(lambda page, council=council: commission_queries.consultations(
            db, page, period.end, position, commission_queries.ConsultationFilter(
                consulted=council)))
        for c in rows:
            if not (period.holds(c["opened_on"]) or period.holds(c["respond_by"])):
                continue
            view = next((v for v in c["views"] if v["council"] == council), None)
            draft = c["draft_decision"] and await decisions.decision(
                db, c["draft_decision"], period.end, position, published_only)
            considered = draft and council in (draft["views_received"] or [])
            found.append(ConsultationEntry(
                c["code"], c["subject"], c["opened_by"], c["opened_on"], c["respond_by"],
                council, date.fromisoformat(view["submitted_on"]) if view else None,
                (not view["late"]) if view else None, view["stance"] if view else None,
                c["draft_decision"], draft["code"] if considered else None,
                c["recorded_position"]))
    return sorted(found, key=lambda c: (c.respond_by, c.code))


def _summary(regional: list[DecisionEntry], local: list[DecisionEntry],
             commissions: list[CommissionEntry], consultations: list[ConsultationEntry]
             ) -> Summary:
    every = regional + local
    return Summary(
        regional_decisions=len(regional), local_decisions=len(local),
        competences=sorted({d.competence for d in regional}),
        annulled=sum(d.annulled is not None for d in every),
        repealed=sum(d.repealed is not None for d in every),
        corrected=sum(bool(d.corrections) for d in every),
        flagged=sum(d.legitimate is False or d.verdict_differs_later for d in every),
        commissions_open=sum(c.state in ("open", "overdue") for c in commissions),
        commissions_overdue=sum(c.state == "overdue" for c in commissions),
        consultations_awaiting=sum(c.view_given_on is None for c in consultations))


def _matrix(every: list[DecisionEntry]) -> list[MatrixCell]:
    counted = Counter((d.competence, d.body, d.capacity) for d in every)
    return [MatrixCell(*key, count) for key, count in sorted(counted.items())]


def _timeline(period: Period, local: list[DecisionEntry], regional: list[DecisionEntry]
              ) -> list[dict[str, Any]]:
    local_months = Counter(f"{d.taken_on:%Y-%m}" for d in local)
    regional_months = Counter(f"{d.taken_on:%Y-%m}" for d in regional)
    return [{"month": month, "local": local_months[month], "regional": regional_months[month]}
            for month in period.months]


async def _verification(db: Db, position: int) -> Verification:
    """The signed checkpoint and the chain's head; a ledger that never signed has no table of
    checkpoints, and a report only reads."""
    signing = await db.fetchval("SELECT to_regclass($1) IS NOT NULL", CHECKPOINTS_TABLE)
    checkpoint = await checkpoint_until(db, position) if signing else None
    head = await db.fetchval(
        f"SELECT event_hash FROM {EVENTS_TABLE} WHERE notification_id <= $1"
        " ORDER BY notification_id DESC LIMIT 1", position)
    return Verification(
        position=position,
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_root_hash=base64.b64encode(checkpoint.root_hash).decode() if checkpoint else None,
        checkpoint_note=checkpoint.note if checkpoint else None,
        chain_head=head.hex() if head else None)


async def _names(db: Db, report: Report, position: int) -> dict[str, str]:
    bodies = {d.body for d in report.regional_decisions + report.local_decisions}
    bodies |= {link["grantee"] for d in report.regional_decisions + report.local_decisions
               for link in d.chain} | {link["grantor"] for d in report.regional_decisions
                                       + report.local_decisions for link in d.chain
                                       if link.get("grantor")}
    bodies |= {g.grantor for g in report.grants} | {g.grantee for g in report.grants}
    bodies |= {c.issued_by for c in report.commissions} | {c.issued_to for c in report.commissions}
    bodies |= {c.council for c in report.consultations} | {c.opened_by for c in report.consultations}
    names = {code: body["name"] for code, body in (await structure.bodies_by_code(
        db, sorted(bodies), report.period.end, position)).items()}
    rows = await db.fetch(
        f"SELECT code, title AS name FROM {SCHEMA}.competences WHERE recorded_position <= $1"
        f" UNION ALL SELECT code, name FROM {SCHEMA}.jurisdictions WHERE recorded_position <= $1",
        position)
    return {row["code"]: row["name"] for row in rows} | names

