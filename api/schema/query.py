"""The Query root: thin resolvers over the query layer in projections/queries/."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from api.schema.relay import Connection, Node, connection, parse_global_id
from api.schema.types import (
    Body,
    Commission,
    CommissionState,
    Competent,
    Consultation,
    Decision,
    DecisionStatus,
    EventCount,
    Grant,
    GrantStatus,
    Jurisdiction,
    LedgerEvent,
    LedgerInfo,
    Via,
)
from projections.errors import InvalidArgument
from projections.queries import audit, commissions, competences, decisions, structure
from projections.queries.pagination import PageRequest
from projections.runner import all_projections

READ_WAIT_SECONDS = 5.0
"""How long a read with `atLeast` waits for the projections before it gives up."""

AT_LEAST = "Wait (up to 5 s) until the projections have applied this ledger position, e.g. the " \
           "`position` a mutation returned: read your own writes."
KNOWN_AT = "Answer as the ledger knew it at this position (bitemporal: record time)."
ON = "The date the answer is valid on (valid time); today if left out."


async def _ready(info: Info, at_least: int | None) -> None:
    if at_least is not None:
        await info.context.watch.wait_for(_position(at_least, "atLeast"), READ_WAIT_SECONDS)


def _position(value: int | None, field: str) -> int | None:
    if value is not None and value < 0:
        raise InvalidArgument(f"`{field}` is a ledger position, 0 or more.", field=field)
    return value


@strawberry.type(description="Reads of the competence map, registers and history. Every read "
                             "with a time takes a valid date and, optionally, `knownAt`.")
class Query:
    @strawberry.field(description="Where the ledger and its projections stand.")
    async def ledger(self, info: Info) -> LedgerInfo:
        pool = info.context.pool
        counts = await audit.event_counts(pool)
        return LedgerInfo(
            position=await audit.ledger_head(pool),
            projected_position=await audit.projected_position(
                pool, [p.name for p in all_projections()]),
            events_by_type=[EventCount(type=t, events=n) for t, n in sorted(counts.items())])

    @strawberry.field(description="Any object by its global id (Relay).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = parse_global_id(id)
        today = date.today()
        if type_name == "Decision":
            return await Query.decision(self, info, key)
        if type_name == "Body":
            return await Query.body(self, info, key)
        if type_name == "Jurisdiction":
            return await Query.jurisdiction(self, info, key)
        if type_name == "Grant":
            holding, _, code = key.partition("/")
            competence, _, jurisdiction = holding.partition("@")
            page = await competences.grants(
                info.context.pool, PageRequest(1), today,
                where=competences.GrantFilter(jurisdiction=jurisdiction, competence=competence,
                                              code=code))
            return Grant.of(page.items[0]) if page.items else None
        if type_name == "LedgerEvent" and key.isdigit():
            page = await audit.audit_trail(
                info.context.pool, PageRequest(1),
                audit.AuditFilter(position=int(key),
                                  published_only=not info.context.principal.reads_everything))
            metadata = info.context.principal.reads_everything
            return LedgerEvent.of(page.items[0], metadata) if page.items else None
        if type_name in ("Commission", "Consultation"):
            return None  # listed through their connections; no single lookup yet
        raise InvalidArgument(f"'{id}' is not an id of this API.", field="id")

    @strawberry.field(description="Jurisdictions: municipalities (gemeenten), regions, provinces "
                                  "and water boards.")
    async def jurisdictions(self, info: Info, first: int, after: str | None = None,
                            kind: str | None = None, known_at: int | None = None,
                            at_least: int | None = None) -> Connection[Jurisdiction]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await structure.jurisdictions(info.context.pool, page, kind,
                                              _position(known_at, "knownAt"))
        return connection(found, page, Jurisdiction.of)

    @strawberry.field(description="One jurisdiction by its code.")
    async def jurisdiction(self, info: Info, code: str) -> Jurisdiction | None:
        row = await structure.jurisdiction(info.context.pool, code)
        return Jurisdiction.of(row) if row is not None else None

    @strawberry.field(description="The members of a region on a date.")
    async def members(self, info: Info, region: str, on: date | None = None,
                      known_at: int | None = None, at_least: int | None = None) -> list[str]:
        await _ready(info, at_least)
        return await structure.members_on(info.context.pool, region, on or date.today(),
                                          _position(known_at, "knownAt"))

    @strawberry.field(description="Bodies (bestuursorganen), as they stood on a date.")
    async def bodies(self, info: Info, first: int, after: str | None = None,
                     jurisdiction: str | None = None,
                     on: date | None = None, known_at: int | None = None,
                     at_least: int | None = None) -> Connection[Body]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        known = _position(known_at, "knownAt")
        day = on or date.today()
        found = await structure.bodies(info.context.pool, page, jurisdiction, known)
        loaded = await info.context.bodies.load_many(
            [(row["code"], day, known) for row in found.items])
        by_code = {row["code"]: row for row in loaded if row is not None}
        return connection(found, page, lambda row: Body.of(by_code[row["code"]]))

    @strawberry.field(description="One body by its code, as it stood on a date.")
    async def body(self, info: Info, code: str, on: date | None = None,
                   known_at: int | None = None) -> Body | None:
        row = await info.context.bodies.load((code, on or date.today(),
                                              _position(known_at, "knownAt")))
        return Body.of(row) if row is not None else None

    @strawberry.field(description="The competence map (bevoegdhedenkaart) of a jurisdiction: for "
                                  "every competence, who may exercise it on `validAt` and through "
                                  "which chain.")
    async def competence_map(self, info: Info, jurisdiction: str, valid_at: date,
                             first: int, after: str | None = None,
                             competence: str | None = None, known_at: int | None = None,
                             at_least: int | None = None) -> Connection[Competent]:
        await _ready(info, at_least)
        found = await competences.competence_map(info.context.pool, jurisdiction, valid_at,
                                                 _position(known_at, "knownAt"), competence)
        page = PageRequest(first, after)
        return connection(competences.listed(found, page), page,
                          lambda c: Competent.of(c.competence, c.jurisdiction, c.entry))

    @strawberry.field(description="Who may decide on a competence (or one subject of it) for a "
                                  "jurisdiction on a date, each with the chain that makes it so.")
    async def who_is_competent(self, info: Info, competence: str, jurisdiction: str, on: date,
                               subject: str | None = None, known_at: int | None = None,
                               at_least: int | None = None) -> list[Competent]:
        await _ready(info, at_least)
        found = await competences.who_is_competent(info.context.pool, competence, jurisdiction,
                                                   on, subject, _position(known_at, "knownAt"))
        return [Competent.of(c.competence, c.jurisdiction, c.entry) for c in found]

    @strawberry.field(description="The grant register (mandaatregister): delegations, mandates "
                                  "and sub-mandates with their status on a date.")
    async def grants(self, info: Info, first: int, after: str | None = None,
                     on: date | None = None, known_at: int | None = None,
                     jurisdiction: str | None = None, competence: str | None = None,
                     grantor: str | None = None, grantee: str | None = None,
                     kind: Via | None = None, status: GrantStatus | None = None,
                     expiring_within_days: int | None = None,
                     at_least: int | None = None) -> Connection[Grant]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await competences.grants(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            competences.GrantFilter(
                jurisdiction=jurisdiction, competence=competence, grantor=grantor,
                grantee=grantee, kind=kind.value if kind else None,
                status=status.value if status else None,
                expiring_within_days=expiring_within_days))
        return connection(found, page, Grant.of)

    @strawberry.field(description="The decision register (besluitenregister), filtered; `text` "
                                  "searches title and summary in Dutch.")
    async def decisions(self, info: Info, first: int, after: str | None = None,
                        on: date | None = None, known_at: int | None = None,
                        body: str | None = None, competence: str | None = None,
                        jurisdiction: str | None = None, affecting: str | None = None,
                        taken_from: date | None = None, taken_until: date | None = None,
                        status: DecisionStatus | None = None, text: str | None = None,
                        newest_first: bool = False,
                        at_least: int | None = None) -> Connection[Decision]:
        await _ready(info, at_least)
        page = PageRequest(first, after, newest_first)
        found = await decisions.decisions(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            decisions.DecisionFilter(
                body=body, competence=competence, jurisdiction=jurisdiction,
                affecting=affecting, taken_from=taken_from, taken_until=taken_until,
                status=status.value if status else None, text=text,
                published_only=not info.context.principal.reads_everything))
        return connection(found, page, Decision.of)

    @strawberry.field(description="One decision with its legitimacy chain, verdict and history.")
    async def decision(self, info: Info, code: str, on: date | None = None,
                       known_at: int | None = None, at_least: int | None = None
                       ) -> Decision | None:
        await _ready(info, at_least)
        row = await decisions.decision(
            info.context.pool, code, on or date.today(), _position(known_at, "knownAt"),
            published_only=not info.context.principal.reads_everything)
        return Decision.of(row) if row is not None else None

    @strawberry.field(description="Commissions (opdrachten): open, overdue, fulfilled or "
                                  "withdrawn on a date.")
    async def commissions(self, info: Info, first: int, after: str | None = None,
                          on: date | None = None, known_at: int | None = None,
                          state: CommissionState | None = None, issued_by: str | None = None,
                          issued_to: str | None = None, binding: bool | None = None,
                          at_least: int | None = None) -> Connection[Commission]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await commissions.commissions(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            commissions.CommissionFilter(state=state.value if state else None,
                                         issued_by=issued_by, issued_to=issued_to,
                                         binding=binding))
        return connection(found, page, Commission.of)

    @strawberry.field(description="Consultations (zienswijzeprocedures) with the views received.")
    async def consultations(self, info: Info, first: int, after: str | None = None,
                            on: date | None = None, known_at: int | None = None,
                            open_only: bool = False, opened_by: str | None = None,
                            consulted: str | None = None,
                            at_least: int | None = None) -> Connection[Consultation]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await commissions.consultations(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            commissions.ConsultationFilter(open_only=open_only, opened_by=opened_by,
                                           consulted=consulted))
        return connection(found, page, Consultation.of)

    @strawberry.field(description="The audit trail: every event with its metadata, in global "
                                  "order. Metadata and unpublished decisions for auditors only.")
    async def audit_trail(self, info: Info, first: int, after: str | None = None,
                          record_kind: str | None = None, record_code: str | None = None,
                          actor: str | None = None, command_id: str | None = None,
                          correlation_id: str | None = None, types: list[str] | None = None,
                          newest_first: bool = False,
                          at_least: int | None = None) -> Connection[LedgerEvent]:
        await _ready(info, at_least)
        principal = info.context.principal
        page = PageRequest(first, after, newest_first)
        found = await audit.audit_trail(info.context.pool, page, audit.AuditFilter(
            kind=record_kind, code=record_code, actor=actor, command_id=command_id,
            correlation_id=correlation_id,
            event_types=tuple(types) if types is not None else None,
            published_only=not principal.reads_everything))
        return connection(found, page,
                          lambda row: LedgerEvent.of(row, principal.reads_everything))
