"""The Query root: thin resolvers over the query layer in projections/queries/."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from api.schema.errors import Forbidden
from api.schema.relay import After, Connection, First, Node, connection, parse_global_id
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
from projections.queries.pagination import PageRequest, is_position
from projections.runner import all_projections

READ_WAIT_SECONDS = 5.0
"""How long a read with `atLeast` waits for the projections before it gives up."""

AT_LEAST = "Wait (up to 5 s) until the projections have applied this ledger position, e.g. the " \
           "`position` a mutation returned: read your own writes."
KNOWN_AT = "Answer as the ledger knew it at this position (bitemporal: record time)."
ON = "The date the answer is valid on (valid time); today if left out."


KnownAt = Annotated[int | None, strawberry.argument(description=KNOWN_AT)]
AtLeast = Annotated[int | None, strawberry.argument(description=AT_LEAST)]
On = Annotated[date | None, strawberry.argument(description=ON)]


def described(description: str) -> Any:
    return strawberry.argument(description=description)


async def _ready(info: Info, at_least: int | None) -> None:
    if at_least is None:
        return
    if _position(at_least, "atLeast") > await audit.ledger_head(info.context.pool):
        raise InvalidArgument(f"Position {at_least} is beyond the ledger's last event: it will "
                              "not be reached by waiting.", field="atLeast")
    await info.context.watch.wait_for(at_least, READ_WAIT_SECONDS)


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
    async def node(self, info: Info, id: Annotated[strawberry.ID, described(
        "The object's global id (its `id` field)."
    )]) -> Node | None:
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
        if type_name == "LedgerEvent" and is_position(key):
            page = await audit.audit_trail(
                info.context.pool, PageRequest(1),
                audit.AuditFilter(position=int(key),
                                  published_only=not info.context.principal.reads_everything))
            metadata = info.context.principal.reads_everything
            return LedgerEvent.of(page.items[0], metadata) if page.items else None
        if type_name == "Commission":
            found = await commissions.commissions(info.context.pool, PageRequest(1), today,
                                                  where=commissions.CommissionFilter(code=key))
            return Commission.of(found.items[0]) if found.items else None
        if type_name == "Consultation":
            found = await commissions.consultations(
                info.context.pool, PageRequest(1), today,
                where=commissions.ConsultationFilter(code=key))
            return Consultation.of(found.items[0]) if found.items else None
        raise InvalidArgument(f"'{id}' is not an id of this API.", field="id")

    @strawberry.field(description="Jurisdictions: municipalities (gemeenten), regions, provinces "
                                  "and water boards.")
    async def jurisdictions(self, info: Info, first: First, after: After = None,
                            kind: Annotated[str | None, described(
                                "Only jurisdictions of this kind: municipality, region, province or "
                                "water_board."
                            )] = None, known_at: KnownAt = None,
                            at_least: AtLeast = None) -> Connection[Jurisdiction]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await structure.jurisdictions(info.context.pool, page, kind,
                                              _position(known_at, "knownAt"))
        return connection(found, page, Jurisdiction.of)

    @strawberry.field(description="One jurisdiction by its code.")
    async def jurisdiction(self, info: Info, code: Annotated[str, described(
        "The jurisdiction's code, e.g. `dordrecht`."
    )]) -> Jurisdiction | None:
        row = await structure.jurisdiction(info.context.pool, code)
        return Jurisdiction.of(row) if row is not None else None

    @strawberry.field(description="The members of a region on a date.")
    async def members(self, info: Info, region: Annotated[str, described(
        "The region's code (gemeenschappelijke regeling), e.g. `drechtsteden`."
    )],
                      on: On = None,
                      known_at: KnownAt = None, at_least: AtLeast = None) -> list[str]:
        await _ready(info, at_least)
        return await structure.members_on(info.context.pool, region, on or date.today(),
                                          _position(known_at, "knownAt"))

    @strawberry.field(description="Bodies (bestuursorganen), as they stood on a date.")
    async def bodies(self, info: Info, first: First, after: After = None,
                     jurisdiction: Annotated[str | None, described(
                         "Only the bodies of this jurisdiction."
                     )] = None,
                     on: Annotated[date | None, described(
                         "The date the bodies are shown as they stood on (name, seats, active); today if "
                         "left out."
                     )] = None, known_at: KnownAt = None,
                     at_least: AtLeast = None) -> Connection[Body]:
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
    async def body(self, info: Info, code: Annotated[str, described(
        "The body's code (bestuursorgaan), e.g. `raad-dordrecht`."
    )],
                   on: Annotated[date | None, described(
                       "The date the body is shown as it stood on (name, seats, active); today if left out."
                   )] = None,
                   known_at: KnownAt = None) -> Body | None:
        row = await info.context.bodies.load((code, on or date.today(),
                                              _position(known_at, "knownAt")))
        return Body.of(row) if row is not None else None

    @strawberry.field(description="The competence map (bevoegdhedenkaart) of a jurisdiction: for "
                                  "every competence, who may exercise it on `validAt` and through "
                                  "which chain.")
    async def competence_map(self, info: Info,
                             jurisdiction: Annotated[str, described(
                                 "The jurisdiction's code (gemeente, regio)."
                             )],
                             valid_at: Annotated[date, described(
                                 "The date the map is valid on (valid time)."
                             )],
                             first: First, after: After = None,
                             competence: Annotated[str | None, described(
                                 "Only this competence (bevoegdheid)."
                             )] = None,
                             known_at: KnownAt = None,
                             at_least: AtLeast = None) -> Connection[Competent]:
        await _ready(info, at_least)
        found = await competences.competence_map(info.context.pool, jurisdiction, valid_at,
                                                 _position(known_at, "knownAt"), competence)
        page = PageRequest(first, after)
        return connection(competences.listed(found, page), page,
                          lambda c: Competent.of(c.competence, c.jurisdiction, c.entry))

    @strawberry.field(description="Who may decide on a competence (or one subject of it) for a "
                                  "jurisdiction on a date, each with the chain that makes it so.")
    async def who_is_competent(
            self, info: Info, competence: Annotated[str, described("The competence's code (bevoegdheid).")],
            jurisdiction: Annotated[str, described("The jurisdiction it is held for.")],
            on: Annotated[date, described("The date in question (valid time), e.g. a decision date.")],
            subject: Annotated[str | None, described(
                "The subject within the competence; grants limited in scope count only where they cover it."
            )] = None, known_at: KnownAt = None,
                               at_least: AtLeast = None) -> list[Competent]:
        await _ready(info, at_least)
        found = await competences.who_is_competent(info.context.pool, competence, jurisdiction,
                                                   on, subject, _position(known_at, "knownAt"))
        return [Competent.of(c.competence, c.jurisdiction, c.entry) for c in found]

    @strawberry.field(description="The grant register (mandaatregister): delegations, mandates "
                                  "and sub-mandates with their status on a date.")
    async def grants(self, info: Info, first: First, after: After = None,
                     on: Annotated[date | None, described(
                         "The date the status is computed on; today if left out."
                     )] = None,
                     known_at: KnownAt = None,
                     jurisdiction: Annotated[str | None, described(
                         "Only grants of competences held for this jurisdiction."
                     )] = None,
                     competence: Annotated[str | None, described(
                         "Only grants of this competence (bevoegdheid)."
                     )] = None,
                     grantor: Annotated[str | None, described(
                         "Only grants by this body (delegans, mandaatgever)."
                     )] = None,
                     grantee: Annotated[str | None, described(
                         "Only grants to this body (gedelegeerde, gemandateerde)."
                     )] = None,
                     kind: Annotated[Via | None, described(
                         "Only delegations, mandates or sub-mandates."
                     )] = None,
                     status: Annotated[GrantStatus | None, described(
                         "Only grants with this status on `on`."
                     )] = None,
                     expiring_within_days: Annotated[int | None, described(
                         "Only grants that end within this many days after `on`, to renew mandates in time."
                     )] = None,
                     at_least: AtLeast = None) -> Connection[Grant]:
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
    async def decisions(self, info: Info, first: First, after: After = None,
                        on: Annotated[date | None, described(
                            "The date status and verdict are given for; today if left out."
                        )] = None,
                        known_at: KnownAt = None,
                        body: Annotated[str | None, described("Only decisions taken by this body.")] = None,
                        competence: Annotated[str | None, described(
                            "Only decisions exercising this competence."
                        )] = None,
                        jurisdiction: Annotated[str | None, described(
                            "Only decisions taken for this jurisdiction."
                        )] = None,
                        affecting: Annotated[str | None, described(
                            "Only decisions affecting this jurisdiction, e.g. what the region decided for "
                            "one member."
                        )] = None,
                        taken_from: Annotated[date | None, described(
                            "Only decisions taken on or after this date."
                        )] = None,
                        taken_until: Annotated[date | None, described(
                            "Only decisions taken before this date (half-open period)."
                        )] = None,
                        status: Annotated[DecisionStatus | None, described(
                            "Only decisions with this status on `on`."
                        )] = None,
                        text: Annotated[str | None, described(
                            "Full-text search in Dutch over title and summary, e.g. `begroting`."
                        )] = None,
                        newest_first: Annotated[bool, described("Most recently recorded first.")] = False,
                        at_least: AtLeast = None) -> Connection[Decision]:
        await _ready(info, at_least)
        page = PageRequest(first, after, newest_first)
        found = await decisions.decisions(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            decisions.DecisionFilter(
                body=body, competence=competence, jurisdiction=jurisdiction,
                affecting=affecting, taken_from=taken_from, taken_until=taken_until,
                status=status.value if status else None, text=text,
                published_only=not info.context.principal.reads_everything,
                own_bodies=tuple(sorted(info.context.principal.bodies))))
        return connection(found, page, Decision.of)

    @strawberry.field(description="One decision with its legitimacy chain, verdict and history.")
    async def decision(self, info: Info, code: Annotated[str, described("The decision's code (besluit).")],
                       on: Annotated[date | None, described(
                           "The date status and verdict are given for; today if left out."
                       )] = None,
                       known_at: KnownAt = None, at_least: AtLeast = None
                       ) -> Decision | None:
        await _ready(info, at_least)
        row = await decisions.decision(
            info.context.pool, code, on or date.today(), _position(known_at, "knownAt"),
            published_only=not info.context.principal.reads_everything,
            own_bodies=tuple(sorted(info.context.principal.bodies)))
        return Decision.of(row) if row is not None else None

    @strawberry.field(description="Commissions (opdrachten): open, overdue, fulfilled or "
                                  "withdrawn on a date.")
    async def commissions(self, info: Info, first: First, after: After = None,
                          on: Annotated[date | None, described(
                              "The date the state is computed on; today if left out."
                          )] = None,
                          known_at: KnownAt = None,
                          state: Annotated[CommissionState | None, described(
                              "Only commissions in this state on `on`."
                          )] = None,
                          issued_by: Annotated[str | None, described(
                              "Only commissions issued by this body (opdrachtgever)."
                          )] = None,
                          issued_to: Annotated[str | None, described(
                              "Only commissions issued to this body (opdrachtnemer)."
                          )] = None,
                          binding: Annotated[bool | None, described(
                              "Only binding (true) or non-binding (false) commissions."
                          )] = None,
                          at_least: AtLeast = None) -> Connection[Commission]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await commissions.commissions(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            commissions.CommissionFilter(state=state.value if state else None,
                                         issued_by=issued_by, issued_to=issued_to,
                                         binding=binding))
        return connection(found, page, Commission.of)

    @strawberry.field(description="Consultations (zienswijzeprocedures) with the views received.")
    async def consultations(self, info: Info, first: First, after: After = None,
                            on: Annotated[date | None, described(
                                "The date openness and views received are given for; today if left out."
                            )] = None,
                            known_at: KnownAt = None,
                            open_only: Annotated[bool, described(
                                "Only consultations still open on `on`."
                            )] = False,
                            opened_by: Annotated[str | None, described(
                                "Only consultations opened by this body."
                            )] = None,
                            consulted: Annotated[str | None, described(
                                "Only consultations that asked this council (raad)."
                            )] = None,
                            at_least: AtLeast = None) -> Connection[Consultation]:
        await _ready(info, at_least)
        page = PageRequest(first, after)
        found = await commissions.consultations(
            info.context.pool, page, on or date.today(), _position(known_at, "knownAt"),
            commissions.ConsultationFilter(open_only=open_only, opened_by=opened_by,
                                           consulted=consulted))
        return connection(found, page, Consultation.of)

    @strawberry.field(description="The audit trail: every event with its metadata, in global "
                                  "order. Metadata and unpublished decisions for auditors only.")
    async def audit_trail(self, info: Info, first: First, after: After = None,
                          record_kind: Annotated[str | None, described(
                              "Only events of this kind of record: jurisdiction, body, competence, holding, "
                              "decision, dossier, commission or consultation."
                          )] = None,
                          record_code: Annotated[str | None, described(
                              "Only events of the record with this code (with `recordKind`)."
                          )] = None,
                          actor: Annotated[str | None, described(
                              "Only events recorded by this actor (auditors only)."
                          )] = None,
                          command_id: Annotated[str | None, described(
                              "Only events of the command with this idempotency key (auditors only)."
                          )] = None,
                          correlation_id: Annotated[str | None, described(
                              "Only events with this correlation id (auditors only)."
                          )] = None,
                          types: Annotated[list[str] | None, described(
                              "Only events of these types, e.g. Decision.Taken."
                          )] = None,
                          newest_first: Annotated[bool, described("The latest events first.")] = False,
                          at_least: AtLeast = None) -> Connection[LedgerEvent]:
        await _ready(info, at_least)
        principal = info.context.principal
        if not principal.reads_everything and (actor or command_id or correlation_id):
            raise Forbidden("Only auditors may look events up by their metadata.")
        page = PageRequest(first, after, newest_first)
        found = await audit.audit_trail(info.context.pool, page, audit.AuditFilter(
            kind=record_kind, code=record_code, actor=actor, command_id=command_id,
            correlation_id=correlation_id,
            event_types=tuple(types) if types is not None else None,
            published_only=not principal.reads_everything))
        return connection(found, page,
                          lambda row: LedgerEvent.of(row, principal.reads_everything))
