"""The Query root: thin resolvers over the query layer in projections/queries/. Each asks the
context for the moment it reads at, calls the query layer and converts what it found; the
arguments and their descriptions are in api/schema/arguments.py."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.schema import transparency
from api.schema.arguments import (
    Actor,
    Affecting,
    AtLeast,
    Binding,
    BodiesOf,
    BodiesOn,
    BodyCode,
    BodyOn,
    CommandId,
    CommissionsOn,
    CompetenceAsked,
    CompetenceCode,
    ConsultationsOn,
    Consulted,
    CorrelatedBy,
    DateInQuestion,
    DecisionCode,
    DecisionsOn,
    DossierCode,
    EventHash,
    EventTypes,
    Exercising,
    ExpiringWithinDays,
    FromSize,
    GrantedBy,
    GrantedTo,
    GrantKind,
    GrantsHeldFor,
    GrantsOf,
    GrantsOn,
    HeldBy,
    HeldFor,
    HolderNamed,
    InCommissionState,
    IssuedBy,
    IssuedConcerning,
    IssuedTo,
    JurisdictionCode,
    JurisdictionKind,
    KnownAt,
    KnownAtTime,
    LatestFirst,
    MapCompetence,
    MapOf,
    MemberOf,
    NodeId,
    OfCompetenceKind,
    On,
    OpenedBy,
    OpenOnly,
    Position,
    RecordCode,
    RecordedFrom,
    RecordedLatestFirst,
    RecordedUntil,
    RecordKind,
    RegionCode,
    SearchText,
    SeatsOf,
    SubjectAsked,
    TakenBy,
    TakenFor,
    TakenFrom,
    TakenUntil,
    ToSize,
    TreeSize,
    WithDecisionStatus,
    WithGrantStatus,
    checked_record_kind,
    event_hash_prefix,
    event_types,
    given_leaf_hash,
)
from api.schema.context import ContextInfo, in_utc
from api.schema.errors import Forbidden
from api.schema.references import checks_references
from api.schema.relay import After, Connection, First, GlobalId, Node, connection
from api.schema.report import AccountabilityReport, accountability_report
from api.schema.transparency import ConsistencyProof, InclusionProof
from api.schema.types import (
    NODE_TYPES,
    Body,
    BodyDecisions,
    Commission,
    Competence,
    Competent,
    Consultation,
    Decision,
    Dossier,
    EventCount,
    Grant,
    Jurisdiction,
    LedgerEvent,
    LedgerInfo,
    Seat,
)
from projections.errors import InvalidArgument
from projections.queries import audit, commissions, competences, decisions, log, structure
from projections.queries.pagination import PageRequest
from projections.runner import all_projections

NODES: dict[str, type[Node]] = {node_type.__name__: node_type for node_type in NODE_TYPES}


def _value(choice: Enum | None) -> str | None:
    """What the query layer calls an enum's choice."""
    return choice.value if choice is not None else None


@checks_references
@strawberry.type(description="Reads of the competence map, registers and history. Every read "
                             "with a time takes a valid date and, optionally, `knownAt` (or "
                             "`knownAtTime`). An argument naming a record the ledger does not "
                             "know fails the field with UNKNOWN_REFERENCE.")
class Query:
    @strawberry.field(description="Where the ledger and its projections stand.")
    async def ledger(self, info: ContextInfo) -> LedgerInfo:
        pool = info.context.pool
        counts = await audit.event_counts(pool)
        return LedgerInfo(
            position=await audit.ledger_head(pool),
            projected_position=await audit.projected_position(
                pool, [p.name for p in all_projections()]),
            events_by_type=[EventCount(type=t, events=n) for t, n in sorted(counts.items())],
            checkpoint=await transparency.latest(pool))

    @strawberry.field(description="The proof that the event at `position` is in the "
                                  "transparency log (RFC 9162), for a signed tree.")
    async def inclusion_proof(self, info: ContextInfo, position: Position,
                              tree_size: TreeSize = None) -> InclusionProof:
        (proof,) = await transparency.inclusion_proofs(
            info.context.pool, [position], tree_size, tiles=info.context.tiles,
            published_only=info.context.published_only)
        return proof

    @strawberry.field(description="The proof that the log's tree of size `from` is a prefix of "
                                  "the tree of size `to`: nothing in it was rewritten.")
    async def consistency_proof(self, info: ContextInfo, from_: FromSize,
                                to: ToSize = None) -> ConsistencyProof:
        return await transparency.consistency_proof(info.context.pool, from_, to,
                                                    tiles=info.context.tiles)

    accountability_report: AccountabilityReport = strawberry.field(
        resolver=accountability_report, description=(
            "The accountability report (verantwoordingsrapportage) to a municipality's council "
            "for a period, as JSON-like objects; the public gets published decisions only."))

    @strawberry.field(description="Any object by its global id (Relay).")
    async def node(self, info: ContextInfo, id: NodeId) -> Node | None:
        global_id = GlobalId.parse(id)
        node_type = NODES.get(global_id.type_name)
        if node_type is None:
            raise global_id.not_ours()
        return await node_type.resolve_node(info, global_id)

    @strawberry.field(description="Jurisdictions: municipalities (gemeenten), regions, provinces "
                                  "and water boards.")
    async def jurisdictions(self, info: ContextInfo, first: First, after: After = None,
                            kind: JurisdictionKind = None, known_at: KnownAt = None,
                            known_at_time: KnownAtTime = None,
                            at_least: AtLeast = None) -> Connection[Jurisdiction]:
        page = PageRequest(first, after)
        moment = await info.context.moment(known_at=known_at, at_least=at_least,
                                            known_at_time=known_at_time)
        found = await structure.jurisdictions(info.context.pool, page, kind, moment.known_at)
        return connection(found, page, Jurisdiction.of)

    @strawberry.field(description="One jurisdiction by its code.")
    async def jurisdiction(self, info: ContextInfo, code: JurisdictionCode) -> Jurisdiction | None:
        return await Jurisdiction.find(info.context, code, await info.context.moment())

    @strawberry.field(description="The competences (bevoegdheden) that can be named, of one "
                                  "kind if asked.")
    async def competences(self, info: ContextInfo, first: First, after: After = None,
                          kind: OfCompetenceKind = None, known_at: KnownAt = None,
                          known_at_time: KnownAtTime = None,
                          at_least: AtLeast = None) -> Connection[Competence]:
        page = PageRequest(first, after)
        moment = await info.context.moment(known_at=known_at, at_least=at_least,
                                           known_at_time=known_at_time)
        found = await competences.competences(info.context.pool, page, _value(kind),
                                              moment.known_at)
        return connection(found, page, Competence.of)

    @strawberry.field(description="One competence (bevoegdheid) by its code.")
    async def competence(self, info: ContextInfo, code: CompetenceCode, known_at: KnownAt = None,
                         known_at_time: KnownAtTime = None,
                         at_least: AtLeast = None) -> Competence | None:
        moment = await info.context.moment(known_at=known_at, at_least=at_least,
                                           known_at_time=known_at_time)
        return await Competence.find(info.context, code, moment)

    @strawberry.field(description="The dossiers (programma's): the themes that group decisions "
                                  "and commissions.")
    async def dossiers(self, info: ContextInfo, first: First, after: After = None,
                       known_at: KnownAt = None, known_at_time: KnownAtTime = None,
                       at_least: AtLeast = None) -> Connection[Dossier]:
        page = PageRequest(first, after)
        moment = await info.context.moment(known_at=known_at, at_least=at_least,
                                           known_at_time=known_at_time)
        found = await structure.dossiers(info.context.pool, page, moment.known_at)
        return connection(found, page, Dossier.of)

    @strawberry.field(description="One dossier (programma) by its code.")
    async def dossier(self, info: ContextInfo, code: DossierCode) -> Dossier | None:
        return await Dossier.find(info.context, code, await info.context.moment())

    @strawberry.field(description="The members of a region on a date.")
    async def members(self, info: ContextInfo, region: RegionCode, on: On = None,
                      known_at: KnownAt = None, known_at_time: KnownAtTime = None,
                      at_least: AtLeast = None) -> list[Jurisdiction]:
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        codes = await structure.members_on(info.context.pool, region, moment.on, moment.known_at)
        rows = await info.context.jurisdictions.load_many([(code, moment) for code in codes])
        return [Jurisdiction.of(row) for row in rows if row is not None]

    @strawberry.field(description="Seats (zetels, portefeuilles) and who held them over time, "
                                  "of one body or of one holder.")
    async def seats(self, info: ContextInfo, body: SeatsOf = None, holder: HeldBy = None,
                    holder_named: HolderNamed = None, known_at: KnownAt = None,
                    known_at_time: KnownAtTime = None, at_least: AtLeast = None) -> list[Seat]:
        if body is None and holder is None and holder_named is None:
            raise InvalidArgument("Name a body, a holder or part of a holder's name.",
                                  field="body")
        if holder_named is not None and len(holder_named.strip()) < 3:
            raise InvalidArgument("`holderNamed` takes at least 3 letters.", field="holderNamed")
        moment = await info.context.moment(known_at=known_at, at_least=at_least,
                                           known_at_time=known_at_time)
        found = await structure.seats_held(info.context.pool, body, holder, moment.known_at,
                                           holder_named and holder_named.strip())
        return [Seat.of(row, moment) for row in found]

    @strawberry.field(description="Per body, how many decisions it took and its first and last "
                                  "decision date: what the ledger covers.")
    async def decisions_per_body(self, info: ContextInfo, known_at: KnownAt = None,
                                 known_at_time: KnownAtTime = None,
                                 at_least: AtLeast = None) -> list[BodyDecisions]:
        context = info.context
        moment = await context.moment(known_at=known_at, at_least=at_least,
                                      known_at_time=known_at_time)
        found = await decisions.decisions_per_body(context.pool, moment.known_at,
                                                   context.published_only, context.own_bodies)
        return [BodyDecisions(body_code=row["body"], decisions=row["decisions"],
                              first_taken_on=row["first_taken_on"],
                              last_taken_on=row["last_taken_on"], moment=moment)
                for row in found]

    @strawberry.field(description="Bodies (bestuursorganen), as they stood on a date.")
    async def bodies(self, info: ContextInfo, first: First, after: After = None,
                     jurisdiction: BodiesOf = None, on: BodiesOn = None, known_at: KnownAt = None,
                     known_at_time: KnownAtTime = None,
                     at_least: AtLeast = None) -> Connection[Body]:
        page = PageRequest(first, after)
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await structure.bodies(info.context.pool, page, jurisdiction, moment.known_at)
        loaded = await info.context.bodies.load_many([(row["code"], moment) for row in found.items])
        by_code = {row["code"]: row for row in loaded if row is not None}
        return connection(found, page, lambda row: Body.of(by_code[row["code"]], moment))

    @strawberry.field(description="One body by its code, as it stood on a date.")
    async def body(self, info: ContextInfo, code: BodyCode, on: BodyOn = None,
                   known_at: KnownAt = None, known_at_time: KnownAtTime = None) -> Body | None:
        moment = await info.context.moment(on, known_at, known_at_time=known_at_time)
        return await Body.find(info.context, code, moment)

    @strawberry.field(description="The competence map (bevoegdhedenkaart) of a jurisdiction: for "
                                  "every competence, who may exercise it on `on` and through which "
                                  "chain.")
    async def competence_map(self, info: ContextInfo, jurisdiction: MapOf, first: First,
                             after: After = None, on: On = None, competence: MapCompetence = None,
                             known_at: KnownAt = None, known_at_time: KnownAtTime = None,
                             at_least: AtLeast = None) -> Connection[Competent]:
        page = PageRequest(first, after)
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await competences.competence_map(info.context.pool, jurisdiction, moment.on,
                                                 moment.known_at, competence)
        return connection(competences.listed(found, page), page,
                          lambda found: Competent.of(found, moment))

    @strawberry.field(description="Who may decide on a competence (or one subject of it) for a "
                                  "jurisdiction on a date, each with the chain that makes it so.")
    async def who_is_competent(self, info: ContextInfo, competence: CompetenceAsked,
                               jurisdiction: HeldFor, on: DateInQuestion,
                               subject: SubjectAsked = None, known_at: KnownAt = None,
                               known_at_time: KnownAtTime = None,
                               at_least: AtLeast = None) -> list[Competent]:
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await competences.who_is_competent(info.context.pool, competence, jurisdiction,
                                                   moment.on, subject, moment.known_at)
        return [Competent.of(c, moment) for c in found]

    @strawberry.field(description="The grant register (mandaatregister): delegations, mandates "
                                  "and sub-mandates with their status on a date.")
    async def grants(self, info: ContextInfo, first: First, after: After = None,
                     on: GrantsOn = None, known_at: KnownAt = None,
                     known_at_time: KnownAtTime = None,
                     jurisdiction: GrantsHeldFor = None, competence: GrantsOf = None,
                     grantor: GrantedBy = None, grantee: GrantedTo = None, kind: GrantKind = None,
                     status: WithGrantStatus = None, expiring_within_days: ExpiringWithinDays = None,
                     at_least: AtLeast = None) -> Connection[Grant]:
        page = PageRequest(first, after)
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await competences.grants(
            info.context.pool, page, moment.on, moment.known_at, competences.GrantFilter(
                jurisdiction=jurisdiction, competence=competence, grantor=grantor,
                grantee=grantee, kind=_value(kind), status=_value(status),
                expiring_within_days=expiring_within_days))
        return connection(found, page, lambda row: Grant.of(row, moment))

    @strawberry.field(description="The decision register (besluitenregister), filtered; `text` "
                                  "searches title and summary in Dutch.")
    async def decisions(self, info: ContextInfo, first: First, after: After = None,
                        on: DecisionsOn = None, known_at: KnownAt = None,
                        known_at_time: KnownAtTime = None, body: TakenBy = None,
                        competence: Exercising = None, jurisdiction: TakenFor = None,
                        affecting: Affecting = None, member_of: MemberOf = None,
                        taken_from: TakenFrom = None,
                        taken_until: TakenUntil = None, status: WithDecisionStatus = None,
                        text: SearchText = None, newest_first: RecordedLatestFirst = False,
                        at_least: AtLeast = None) -> Connection[Decision]:
        page = PageRequest(first, after, newest_first)
        context = info.context
        moment = await context.moment(on, known_at, at_least, known_at_time)
        found = await decisions.decisions(
            context.pool, page, moment.on, moment.known_at, decisions.DecisionFilter(
                body=body, competence=competence, jurisdiction=jurisdiction,
                affecting=affecting, member_of=member_of, taken_from=taken_from,
                taken_until=taken_until,
                status=_value(status), text=text,
                published_only=context.published_only, own_bodies=context.own_bodies))
        return connection(found, page, lambda row: Decision.of(row, moment))

    @strawberry.field(description="One decision with its legitimacy chain, verdict and history.")
    async def decision(self, info: ContextInfo, code: DecisionCode, on: DecisionsOn = None,
                       known_at: KnownAt = None, known_at_time: KnownAtTime = None,
                       at_least: AtLeast = None) -> Decision | None:
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        return await Decision.find(info.context, code, moment)

    @strawberry.field(description="Commissions (opdrachten): open, overdue, fulfilled or "
                                  "withdrawn on a date.")
    async def commissions(self, info: ContextInfo, first: First, after: After = None,
                          on: CommissionsOn = None, known_at: KnownAt = None,
                          known_at_time: KnownAtTime = None,
                          state: InCommissionState = None, issued_by: IssuedBy = None,
                          issued_to: IssuedTo = None, binding: Binding = None,
                          concerning: IssuedConcerning = None,
                          at_least: AtLeast = None) -> Connection[Commission]:
        page = PageRequest(first, after)
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await commissions.commissions(
            info.context.pool, page, moment.on, moment.known_at, commissions.CommissionFilter(
                state=_value(state), issued_by=issued_by, issued_to=issued_to, binding=binding,
                concerning=concerning))
        return connection(found, page, lambda row: Commission.of(row, moment))

    @strawberry.field(description="Consultations (zienswijzeprocedures) with the views received.")
    async def consultations(self, info: ContextInfo, first: First, after: After = None,
                            on: ConsultationsOn = None, known_at: KnownAt = None,
                            known_at_time: KnownAtTime = None,
                            open_only: OpenOnly = False, opened_by: OpenedBy = None,
                            consulted: Consulted = None,
                            at_least: AtLeast = None) -> Connection[Consultation]:
        page = PageRequest(first, after)
        moment = await info.context.moment(on, known_at, at_least, known_at_time)
        found = await commissions.consultations(
            info.context.pool, page, moment.on, moment.known_at, commissions.ConsultationFilter(
                open_only=open_only, opened_by=opened_by, consulted=consulted))
        return connection(found, page, lambda row: Consultation.of(row, moment))

    @strawberry.field(description="The events whose chain hash starts with `hash` (at most "
                                  "10), or whose leaf in the transparency log has that hash, in "
                                  "ledger order: an auditor holding a hash finds its event. The "
                                  "public finds the events it may see.")
    async def ledger_events_by_hash(self, info: ContextInfo, hash: EventHash
                                    ) -> list[LedgerEvent]:
        context = info.context
        if (leaf := given_leaf_hash(hash)) is not None:
            found = await audit.at_positions(context.pool, await log.leaf_positions(
                context.pool, leaf), context.published_only)
        else:
            found = await audit.by_event_hash(context.pool, event_hash_prefix(hash),
                                              context.published_only)
        return [LedgerEvent.of(row, context.principal.reads_everything) for row in found]

    @strawberry.field(description="The audit trail: every event with its metadata, in global "
                                  "order. Metadata and unpublished decisions for auditors only.")
    async def audit_trail(self, info: ContextInfo, first: First, after: After = None,
                          record_kind: RecordKind = None, record_code: RecordCode = None,
                          actor: Actor = None, command_id: CommandId = None,
                          correlation_id: CorrelatedBy = None, types: EventTypes = None,
                          recorded_from: RecordedFrom = None, recorded_until: RecordedUntil = None,
                          newest_first: LatestFirst = False,
                          at_least: AtLeast = None) -> Connection[LedgerEvent]:
        context = info.context
        await context.caught_up(at_least)
        if not context.principal.reads_everything and any(
                (actor, command_id, correlation_id, recorded_from, recorded_until)):
            raise Forbidden("Only auditors may look events up by their metadata.")
        if checked_record_kind(record_kind) is not None and record_code is not None:
            await context.check_references({"recordCode": (record_kind, record_code)})
        page = PageRequest(first, after, newest_first)
        found = await audit.audit_trail(context.pool, page, audit.AuditFilter(
            kind=record_kind, code=record_code, actor=actor, command_id=command_id,
            correlation_id=correlation_id, event_types=event_types(types),
            recorded_from=in_utc(recorded_from), recorded_until=in_utc(recorded_until),
            published_only=context.published_only))
        return connection(found, page,
                          lambda row: LedgerEvent.of(row, context.principal.reads_everything))
