"""The object types of the API, made from the query layer's rows; each type with a global id
finds its object by it (`resolve_node`, for `node(id:)`). Descriptions carry the Dutch term where
there is one, so that clerks and frontend developers speak of the same thing."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import Base64

from api.schema.context import Context, ContextInfo, Moment, RecordLoader
from api.schema.inputs import named_enum
from api.schema.relay import After, Connection, First, GlobalId, Node, connection
from api.schema.transparency import Checkpoint, InclusionProof, inclusion_proofs, recent
from ledger.personal_data import SealedPersonalData
from projections.queries import audit, competences, structure
from projections.queries.pagination import MAX_PAGE, PageRequest, is_position

# The enums of the commands' choices: an answer uses the values its command took.
BodyKind = named_enum("BodyKind")
JurisdictionKind = named_enum("JurisdictionKind")
MajorityRule = named_enum("MajorityRule")
Outcome = named_enum("Outcome")
VoteCast = named_enum("VoteCast")


def refers_to(target: str, code: str, description: str, *, required: bool = False,
              many: bool = False) -> Any:
    """A field naming another record (a body, jurisdiction, competence, decision, grant,
    consultation or dossier) by the code held in the attribute `code` (a grant's by its key,
    competences.grant_key): the record itself, as it stood at the moment its parent
    is read at, through the request's loader of that kind (one query for all of an answer's
    records). A decision the asker may not see (unpublished) is null."""

    async def resolve(root: Any, info: ContextInfo) -> Any:
        kind = REFERABLE[target]
        loader = kind.loader(info.context)
        if many:
            rows = await loader.load_many([(each, root.moment) for each in getattr(root, code)])
            return [kind.of(row, root.moment) for row in rows if row is not None]
        named = getattr(root, code)
        row = await loader.load((named, root.moment)) if named is not None else None
        return kind.of(row, root.moment) if row is not None else None

    returned = f"list[{target}]" if many else target if required else f"{target} | None"
    resolve.__annotations__ = {"root": Any, "info": ContextInfo, "return": returned}
    return strawberry.field(resolver=resolve, description=description)


@strawberry.enum(description="Where a body got the competence from (the last link of its chain).")
class Via(Enum):
    ATTRIBUTION = strawberry.enum_value(
        "attribution", description="By law or regulation (attributie): the root of every chain.")
    DELEGATION = strawberry.enum_value(
        "delegation",
        description="By delegation (delegatie, Awb 10:13): exercised in the delegate's own name.")
    MANDATE = strawberry.enum_value(
        "mandate",
        description="By mandate (mandaat, Awb 10:1): decided in the mandator's name, who stays "
                    "competent.")
    SUBMANDATE = strawberry.enum_value(
        "submandate", description="By sub-mandate (ondermandaat): a mandate passed on where it allows that.")


@strawberry.enum(description="The status of a grant on the asked date.")
class GrantStatus(Enum):
    PENDING = strawberry.enum_value(
        "pending", description="Recorded; its validity starts after the asked date.")
    ACTIVE = strawberry.enum_value(
        "active", description="Valid on the asked date.")
    EXPIRED = strawberry.enum_value(
        "expired", description="Its validity ended by the asked date.")
    REVOKED = strawberry.enum_value(
        "revoked", description="Revoked (ingetrokken) by the asked date.")


@strawberry.enum(description="Where a decision (besluit) stands on the asked date: the last step "
                             "of its life known then.")
class DecisionStatus(Enum):
    REGISTERED = strawberry.enum_value(
        "registered", description="Recorded, but neither proposed nor taken.")
    PROPOSED = strawberry.enum_value(
        "proposed", description="Proposed (voorstel), not yet taken.")
    ADOPTED = strawberry.enum_value(
        "adopted", description="Adopted (aangenomen), not yet published.")
    REJECTED = strawberry.enum_value(
        "rejected", description="Rejected (verworpen).")
    PUBLISHED = strawberry.enum_value(
        "published", description="Published (bekendgemaakt), not yet in force.")
    IN_FORCE = strawberry.enum_value(
        "in_force", description="In force (in werking).")
    REPEALED = strawberry.enum_value(
        "repealed", description="Repealed (ingetrokken) by a later decision.")
    ANNULLED = strawberry.enum_value(
        "annulled", description="Annulled (vernietigd), e.g. by a court.")


@strawberry.enum(description="Where a commission (opdracht) stands on the asked date.")
class CommissionState(Enum):
    OPEN = strawberry.enum_value(
        "open", description="Issued, not yet due, fulfilled or withdrawn.")
    OVERDUE = strawberry.enum_value(
        "overdue", description="Past its due date, neither fulfilled nor withdrawn.")
    FULFILLED = strawberry.enum_value(
        "fulfilled", description="Fulfilled (uitgevoerd).")
    WITHDRAWN = strawberry.enum_value(
        "withdrawn", description="Withdrawn (ingetrokken) by the issuing body.")


@strawberry.type(description="One step of a legitimacy chain: the attribution (attributie) at the "
                             "root, then each delegation (delegatie), mandate (mandaat) or "
                             "sub-mandate (ondermandaat) used.")
class ChainLink:
    kind: Via = strawberry.field(description="Attribution, delegation, mandate or sub-mandate.")
    grantee = refers_to("Body", "grantee_code", "The body that received the competence.",
                        required=True)
    grantor = refers_to("Body", "grantor_code", "The body that granted it (none for an "
                                                "attribution by law).")
    grant: str | None = strawberry.field(
        description="The grant's code (none for an attribution).",
        deprecation_reason="Use `viaGrant`, the grant itself; its code is `viaGrant { code }`.")
    via_grant = refers_to("Grant", "grant_key",
                          "The grant (delegation, mandate or sub-mandate) this step passes "
                          "through, as it stood at the moment asked about; none for an "
                          "attribution.")
    legal_basis: str = strawberry.field(description="The law or regulation it rests on "
                                                    "(wettelijke grondslag).")
    source_decision = refers_to(
        "Decision", "source_decision_code",
        "The decision (besluit) by which the grant was made; null where the asker may not see "
        "it (unpublished).")
    framework_body = refers_to(
        "Body", "framework_body_code",
        "The body whose framework decision conditions the competence (kaderstelling).")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_until: date | None = strawberry.field(
        description="First day no longer valid (half-open period); none if open-ended.")
    grantee_code: strawberry.Private[str]
    grantor_code: strawberry.Private[str | None]
    grant_key: strawberry.Private[str | None]
    source_decision_code: strawberry.Private[str | None]
    framework_body_code: strawberry.Private[str | None]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(link: dict[str, Any], competence: str, jurisdiction: str, moment: Moment
           ) -> ChainLink:
        """A link of a chain of the holding (competence, jurisdiction): every grant of a chain
        is one of that holding's."""
        return ChainLink(
            kind=Via(link["kind"]), grantee_code=link["grantee"],
            grantor_code=link.get("grantor"), grant=link.get("grant"),
            grant_key=_grant_key(competence, jurisdiction, link.get("grant")),
            legal_basis=link["legal_basis"], source_decision_code=link.get("source_decision"),
            framework_body_code=link.get("framework_body"), valid_from=_day(link["valid_from"]),
            valid_until=_day(link.get("valid_until")), moment=moment)


@strawberry.type(description="A body that may exercise a competence (bevoegdheid) for a "
                             "jurisdiction, the chain that makes it so, and for which period.")
class Competent:
    competence = refers_to("Competence", "competence_code", "The competence (bevoegdheid).",
                           required=True)
    jurisdiction = refers_to("Jurisdiction", "jurisdiction_code",
                             "The jurisdiction it is held for (gemeente, regio).", required=True)
    body = refers_to("Body", "body_code", "The body that may exercise it (bestuursorgaan).",
                     required=True)
    via: Via = strawberry.field(description="How the body got it: the last link of the chain.")
    subjects: list[str] | None = strawberry.field(
        description="The subjects it may decide on; none means the competence as a whole "
                    "(but for `excludedSubjects`).")
    excluded_subjects: list[str] = strawberry.field(
        description="With `subjects` none: subjects it may not decide on, because a delegation "
                    "limited to them passed them to another body.")
    valid_from: date = strawberry.field(description="First day this holds.")
    valid_until: date | None = strawberry.field(description="First day it no longer holds.")
    chain: list[ChainLink] = strawberry.field(description="From the attribution to this body.")
    competence_code: strawberry.Private[str]
    jurisdiction_code: strawberry.Private[str]
    body_code: strawberry.Private[str]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(found: competences.Competent, moment: Moment) -> Competent:
        entry = found.entry
        return Competent(competence_code=found.competence, jurisdiction_code=found.jurisdiction,
                         body_code=entry.body, via=Via(entry.via), subjects=entry.subjects,
                         excluded_subjects=entry.excluded_subjects,
                         valid_from=entry.valid_from, valid_until=entry.valid_until,
                         chain=[ChainLink.of(link, found.competence, found.jurisdiction, moment)
                                for link in entry.chain],
                         moment=moment)


@strawberry.type(description="A delegation (delegatie), mandate (mandaat) or sub-mandate "
                             "(ondermandaat) in the grant register (mandaatregister).")
class Grant(Node):
    code: str = strawberry.field(description="The grant's code, unique within its holding.")
    kind: Via = strawberry.field(description="Delegation, mandate or sub-mandate.")
    competence = refers_to("Competence", "competence_code", "The competence granted.",
                           required=True)
    jurisdiction = refers_to("Jurisdiction", "jurisdiction_code",
                             "The jurisdiction it is held for.", required=True)
    grantor = refers_to("Body", "grantor_code", "The granting body.", required=True)
    grantee = refers_to("Body", "grantee_code", "The receiving body.", required=True)
    legal_basis: str = strawberry.field(description="Its basis in law.")
    source_decision = refers_to("Decision", "source_decision_code",
                                "The grantor's decision making the grant; null where the asker "
                                "may not see it (unpublished).")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_until: date | None = strawberry.field(description="First day no longer valid.")
    scope: list[str] | None = strawberry.field(
        description="The subjects it covers; none means the competence as a whole.")
    allows_submandate: bool = strawberry.field(
        description="Whether the mandatee may pass it on (ondermandaat).")
    parent: str | None = strawberry.field(
        description="For a sub-mandate: the code of the mandate it passes on.",
        deprecation_reason="Use `parentMandate`, the mandate itself; its code is "
                           "`parentMandate { code }`.")
    parent_mandate = refers_to("Grant", "parent_key",
                               "For a sub-mandate (ondermandaat): the mandate it passes on, as "
                               "it stood at the moment asked about.")
    framework_body = refers_to("Body", "framework_body_code", "The body setting the framework.")
    status: GrantStatus = strawberry.field(description="Its status on the asked date.")
    revoked_on: date | None = strawberry.field(description="The day its revocation took effect.")
    revocation_reason: str | None = strawberry.field(description="Why it was revoked.")
    recorded_position: int = strawberry.field(
        description="The ledger position at which the grant was recorded.")
    competence_code: strawberry.Private[str]
    jurisdiction_code: strawberry.Private[str]
    grantor_code: strawberry.Private[str]
    grantee_code: strawberry.Private[str]
    source_decision_code: strawberry.Private[str]
    framework_body_code: strawberry.Private[str | None]
    parent_key: strawberry.Private[str | None]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Grant:
        return Grant(
            id=Grant.global_id(competences.grant_key(row["competence"], row["jurisdiction"],
                                                     row["code"])),
            code=row["code"], kind=Via(row["kind"]), competence_code=row["competence"],
            jurisdiction_code=row["jurisdiction"], grantor_code=row["grantor"],
            grantee_code=row["grantee"], legal_basis=row["legal_basis"],
            source_decision_code=row["source_decision"], valid_from=row["valid_from"],
            valid_until=row["valid_until"], scope=row["scope"],
            allows_submandate=row["allows_submandate"], parent=row["parent"],
            parent_key=_grant_key(row["competence"], row["jurisdiction"], row["parent"]),
            framework_body_code=row["framework_body"], status=GrantStatus(row["status"]),
            revoked_on=row["revoked_on"], revocation_reason=row["revocation_reason"],
            recorded_position=row["recorded_position"], moment=moment)

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.grants

    @classmethod
    async def find(cls, context: Context, competence: str, jurisdiction: str, code: str,
                   moment: Moment) -> Grant | None:
        row = await context.grants.load(
            (competences.grant_key(competence, jurisdiction, code), moment))
        return cls.of(row, moment) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Grant | None:
        # the key as `of` makes it: a grant's code is unique within its holding only
        return await cls.find(info.context, *competences.split_grant_key(id.key),
                              await info.context.moment())


@strawberry.type(description="A document referenced by title, address and SHA-256 of its "
                             "content; never copied into the ledger.")
class Document:
    title: str = strawberry.field(description="The document's title.")
    address: str = strawberry.field(description="Where it can be found (URL or archive reference).")
    sha256: str = strawberry.field(description="SHA-256 of its content, hex.")


@strawberry.type(description="How one member voted (stemming per lid).")
class MemberVote:
    member: str = strawberry.field(description="The member (an officeholder acting in office).")
    vote: VoteCast = strawberry.field(description="For, against or abstain.")
    group: str | None = strawberry.field(description="The member's political group (fractie).")
    weight: int = strawberry.field(description="The vote's weight (gewogen stemming).")


@strawberry.type(description="The votes at the grain they are known; unknown counts are null, "
                             "never zero.")
class Votes:
    majority_rule: MajorityRule = strawberry.field(
        description="Simple, two-thirds or unanimous.")
    votes_for: int | None = strawberry.field(description="Votes in favour (voor).")
    votes_against: int | None = strawberry.field(description="Votes against (tegen).")
    abstentions: int | None = strawberry.field(description="Abstentions (onthoudingen).")
    present: int | None = strawberry.field(description="Members present (aanwezig).")
    members: list[MemberVote] = strawberry.field(description="Per-member votes, where known.")


@strawberry.type(description="A decision's legitimacy verdict as known at the asked position.")
class Verdict:
    legitimate: bool = strawberry.field(
        description="Whether a chain reaches the deciding body on the decision date.")
    position: int = strawberry.field(description="The ledger position this verdict holds from.")
    explanation: str | None = strawberry.field(
        description="Why it turned, when a fact recorded later changed it.")
    differs_later: bool = strawberry.field(
        description="Whether later knowledge (after the asked position) changes this verdict.")


@strawberry.type(description="An event as the ledger stores it, with what its hash in the chain "
                             "covers (docs/verification.md): SHA-256 of `previousHash`, the "
                             "position, `recordId`, the version, `topic` and `state`.")
class StoredEvent:
    record_id: str = strawberry.field(
        description="The record's id: the UUID whose 16 bytes the hash covers.")
    topic: str = strawberry.field(description="The stored topic, e.g. "
                                              "`ledger.domain.decision:Decision.Taken`.")
    state: Base64 = strawberry.field(description="The stored state bytes (UTF-8 JSON), base64.")
    hash: str = strawberry.field(description="The event's hash in the chain, hex.")
    previous_hash: str = strawberry.field(
        description="The hash of the event before it in position order, hex (32 zero bytes "
                    "before the first event).")

    @staticmethod
    def of(row: dict[str, Any]) -> StoredEvent:
        return StoredEvent(record_id=str(row["originator_id"]), topic=row["topic"],
                           state=Base64(bytes(row["state"])),
                           hash=bytes(row["event_hash"]).hex(),
                           previous_hash=bytes(row["previous_hash"]).hex())


@strawberry.type(description="An event of the ledger with its metadata, in global order. "
                             "Metadata is shown to auditors and admins only.")
class LedgerEvent(Node):
    position: int = strawberry.field(description="The event's place in the ledger (global order).")
    record_kind: str = strawberry.field(description="The kind of record (decision, body, ...).")
    record_code: str = strawberry.field(description="The record's code.")
    version: int = strawberry.field(description="The event's number within its record.")
    type: str = strawberry.field(
        description="The record and event type, e.g. Decision.Taken or CompetenceHolding."
                    "GrantRevoked (as in `ledger.eventsByType`).")
    recorded_at: datetime | None = strawberry.field(
        description="When the ledger recorded it, UTC (auditors only).")
    actor: str | None = strawberry.field(description="Who recorded it (auditors only).")
    command_id: str | None = strawberry.field(
        description="The idempotency key of the command that recorded it (auditors only).")
    correlation_id: str | None = strawberry.field(description="The correlation id (auditors only).")
    reason: str | None = strawberry.field(description="The reason given for a revocation, end, "
                                                      "annulment, repeal, correction or withdrawal.")
    released_at: int | None = strawberry.field(
        default=None,
        description="In the public's `ledgerEvents`: the position of the publication that "
                    "released this event to the public, an event belonging to the decision "
                    "published (its own, or the exercise of its competence) recorded before "
                    "the publication; null for an event received in its place.")

    @strawberry.field(description="The record the event belongs to, as it stands today with "
                                  "everything known; null where the asker may not see it (a "
                                  "decision not published).")
    async def record(self, info: ContextInfo) -> LedgerRecord | None:
        moment = await info.context.moment()
        if self.record_kind == "holding":
            return Holding.of(self.record_code, moment)
        kind = RECORD_KINDS[self.record_kind]
        row = await kind.loader(info.context).load((self.record_code, moment))
        return kind.of(row, moment) if row is not None else None

    @strawberry.field(description="Its leaf's index in the transparency log's tree (from 0), "
                                  "where a proof of it starts; null until the tree holds it.")
    async def leaf_index(self, info: ContextInfo) -> int | None:
        return await info.context.leaf_indexes.load(self.position)

    @strawberry.field(description="The event as stored, with what its chain hash covers, so "
                                  "that the chain can be recomputed from the API alone "
                                  "(auditors only).")
    async def stored(self, info: ContextInfo) -> StoredEvent | None:
        if not info.context.principal.reads_everything:
            return None
        row = await info.context.stored_events.load(self.position)
        return StoredEvent.of(row) if row is not None else None

    @staticmethod
    def of(row: dict[str, Any], with_metadata: bool, *, released_at: int | None = None
           ) -> LedgerEvent:
        return LedgerEvent(released_at=released_at,
            id=LedgerEvent.global_id(str(row["position"])), position=row["position"],
            record_kind=row["kind"], record_code=row["code"], version=row["version"],
            type=row["event_type"],
            recorded_at=row["recorded_at"] if with_metadata else None,
            actor=row["actor"] if with_metadata else None,
            command_id=row["command_id"] if with_metadata else None,
            correlation_id=row["correlation_id"] if with_metadata else None,
            reason=row["reason"])

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> LedgerEvent | None:
        if not is_position(id.key):
            raise id.not_ours()
        context = info.context
        found = await audit.audit_trail(context.pool, PageRequest(1), audit.AuditFilter(
            position=int(id.key), published_only=context.published_only))
        return next((cls.of(row, context.principal.reads_everything) for row in found.items),
                    None)


@strawberry.type(description="A decision (besluit): taken by a body on a date under a competence, "
                             "with its legitimacy chain, votes and documents. Status and verdict "
                             "are as of the asked date and position.")
class Decision(Node):
    code: str = strawberry.field(description="The decision's code.")
    title: str = strawberry.field(description="Its title (as corrected, if corrected by then).")
    summary: str | None = strawberry.field(description="Its summary.")
    competence = refers_to("Competence", "competence_code", "The competence exercised.",
                           required=True)
    jurisdiction = refers_to("Jurisdiction", "jurisdiction_code",
                             "The jurisdiction it is taken for.", required=True)
    subject: str | None = strawberry.field(description="The subject within the competence.")
    dossier: str | None = strawberry.field(
        description="The code of the dossier (programma) it belongs to.",
        deprecation_reason="Use `inDossier`, the dossier itself; its code is "
                           "`inDossier { code }`.")
    in_dossier = refers_to("Dossier", "dossier", "The dossier (programma) it belongs to.")
    affected_jurisdictions = refers_to(
        "Jurisdiction", "affected_codes",
        "Other jurisdictions it affects (a regional decision's members).", many=True)
    status: DecisionStatus = strawberry.field(description="Its status on the asked date.")
    proposed_by = refers_to("Body", "proposed_by_code", "The body that proposed it.")
    proposed_on: date | None = strawberry.field(description="When it was proposed (if known).")
    body = refers_to("Body", "body_code", "The body that took it (bestuursorgaan); none until "
                                          "it is taken.")
    taken_on: date | None = strawberry.field(description="The decision date.")
    outcome: Outcome | None = strawberry.field(description="Adopted or rejected.")
    votes: Votes | None = strawberry.field(description="The votes, at the grain known.")
    chain: list[ChainLink] = strawberry.field(
        description="The legitimacy chain stored with the decision when it was taken.")
    cited_grant: str | None = strawberry.field(
        description="The code of the grant it relies on (Awb 10:19 requires citing it).",
        deprecation_reason="Use `reliesOnGrant`, the grant itself; its code is "
                           "`reliesOnGrant { code }`.")
    relies_on_grant = refers_to(
        "Grant", "cited_grant_key",
        "The grant (delegation, mandate or sub-mandate) it relies on and cites (Awb 10:19), as "
        "it stood at the moment asked about.")
    cited_publication: str | None = strawberry.field(
        description="Where the cited grant was published.")
    framework_decision = refers_to("Decision", "framework_decision_code",
                                   "The framework decision it fits (kaderbesluit).")
    consultation: str | None = strawberry.field(
        description="The code of the consultation it followed.",
        deprecation_reason="Use `followedConsultation`, the consultation itself; its code is "
                           "`followedConsultation { code }`.")
    followed_consultation = refers_to(
        "Consultation", "consultation",
        "The consultation (zienswijzeprocedure) it followed, with the views received by the "
        "asked date.")
    views_received: list[str] | None = strawberry.field(
        description="Councils whose views (zienswijzen) it took in.")
    documents: list[Document] = strawberry.field(description="Its documents.")
    published_on: date | None = strawberry.field(description="When it was published (bekendmaking).")
    publication: str | None = strawberry.field(description="Where it was published.")
    in_force_from: date | None = strawberry.field(
        description="From when it has legal effect (inwerkingtreding; may be retroactive).")
    repealed_on: date | None = strawberry.field(description="When it was repealed (ingetrokken).")
    repealed_by = refers_to("Decision", "repealed_by_code", "The decision repealing it.")
    annulled_on: date | None = strawberry.field(description="When it was annulled (vernietigd).")
    annulled_by: str | None = strawberry.field(description="Who annulled it (e.g. a court).")
    verdict: Verdict | None = strawberry.field(
        description="Its legitimacy verdict; none until it is taken.")
    recorded_position: int = strawberry.field(
        description="The ledger position at which it was first recorded.")
    competence_code: strawberry.Private[str]
    jurisdiction_code: strawberry.Private[str]
    affected_codes: strawberry.Private[list[str]]
    proposed_by_code: strawberry.Private[str | None]
    body_code: strawberry.Private[str | None]
    framework_decision_code: strawberry.Private[str | None]
    cited_grant_key: strawberry.Private[str | None]
    repealed_by_code: strawberry.Private[str | None]
    moment: strawberry.Private[Moment]
    sealed_addressee: strawberry.Private[SealedPersonalData | None] = None

    @strawberry.field(description="The private person it is addressed to (a beschikking's "
                                  "addressee), for auditors only; erased once forgotten.")
    async def addressee(self, info: ContextInfo) -> Addressee | None:
        if self.sealed_addressee is None or not info.context.principal.reads_everything:
            return None
        vault = info.context.ledger.vault
        data = await info.context.availability.in_thread(vault.unseal, self.sealed_addressee)
        return Addressee(person=self.sealed_addressee.person, erased=data is None,
                         name=(data or {}).get("name"), address=(data or {}).get("address"))

    @strawberry.field(description="Every event of this decision, in order (its history).")
    async def history(self, info: ContextInfo, first: First, after: After = None
                      ) -> Connection[LedgerEvent]:
        page = PageRequest(first, after)
        found = await info.context.decision_histories.load((self.code, page))
        metadata = info.context.principal.reads_everything
        return connection(found, page, lambda row: LedgerEvent.of(row, metadata))

    @strawberry.field(description="The inclusion proof of each of its events in the "
                                  "transparency log, against the latest signed checkpoint (the "
                                  "tree as it is for events not signed for yet).")
    async def proof(self, info: ContextInfo) -> list[InclusionProof]:
        # a decision has a handful of events (proposed, taken, published, corrected, ...)
        events = await audit.audit_trail(info.context.pool, PageRequest(MAX_PAGE),
                                         audit.AuditFilter(kind="decision", code=self.code))
        return await inclusion_proofs(info.context.pool, [e["position"] for e in events.items],
                                      None, tiles=info.context.tiles,
                                      published_only=info.context.published_only)

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Decision:
        return Decision(
            id=Decision.global_id(row["code"]), code=row["code"], title=row["title"],
            summary=row["summary"], competence_code=row["competence"],
            jurisdiction_code=row["jurisdiction"], subject=row["subject"], dossier=row["dossier"],
            affected_codes=row["affected_jurisdictions"],
            status=DecisionStatus(row["status"]), proposed_by_code=row["proposed_by"],
            proposed_on=row["proposed_on"], body_code=row["body"], taken_on=row["taken_on"],
            outcome=Outcome(row["outcome"]) if row["outcome"] else None,
            votes=_votes(row["votes"]) if row["votes"] else None,
            chain=[ChainLink.of(link, row["competence"], row["jurisdiction"], moment)
                   for link in row["chain"] or []],
            cited_grant=row["cited_grant"], cited_publication=row["cited_publication"],
            cited_grant_key=_grant_key(row["competence"], row["jurisdiction"],
                                       row["cited_grant"]),
            framework_decision_code=row["framework_decision"], consultation=row["consultation"],
            views_received=row["views_received"],
            documents=[Document(**d) for d in row["documents"] or []],
            published_on=row["published_on"], publication=row["publication"],
            in_force_from=row["in_force_from"], repealed_on=row["repealed_on"],
            repealed_by_code=row["repealed_by"], annulled_on=row["annulled_on"],
            annulled_by=row["annulled_by"],
            verdict=Verdict(legitimate=row["legitimate"], position=row["verdict_position"],
                            explanation=row["verdict_explanation"],
                            differs_later=row["verdict_differs_later"])
            if row["legitimate"] is not None else None,
            recorded_position=row["recorded_position"],
            sealed_addressee=SealedPersonalData(row["addressee_person"], row["addressee_sealed"])
            if row["addressee_person"] is not None else None, moment=moment)

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.decisions

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Decision | None:
        row = await context.decisions.load((code, moment))
        return cls.of(row, moment) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Decision | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="A commission (opdracht): one body asks another to do something by "
                             "a due date; it transfers no competence and is usually not binding.")
class Commission(Node):
    code: str = strawberry.field(description="The commission's code.")
    subject: str = strawberry.field(description="What is asked.")
    issued_by = refers_to("Body", "issued_by_code", "The body that issued it (opdrachtgever).",
                          required=True)
    issued_to = refers_to("Body", "issued_to_code", "The body it is issued to (opdrachtnemer).",
                          required=True)
    dossier: str | None = strawberry.field(
        description="The code of the dossier it belongs to.",
        deprecation_reason="Use `inDossier`, the dossier itself; its code is "
                           "`inDossier { code }`.")
    in_dossier = refers_to("Dossier", "dossier", "The dossier (programma) it belongs to.")
    issued_on: date = strawberry.field(description="When it was issued.")
    due_on: date | None = strawberry.field(description="When it is due (if a date was set).")
    binding: bool = strawberry.field(description="Whether it binds the receiving body.")
    source_decision = refers_to("Decision", "source_decision_code", "The decision issuing it.")
    state: CommissionState = strawberry.field(description="Its state on the asked date.")
    accepted_on: date | None = strawberry.field(description="When it was accepted.")
    progress_reports: int = strawberry.field(description="Progress reports received by then.")
    fulfilled_on: date | None = strawberry.field(description="When it was fulfilled.")
    fulfilled_by_decision = refers_to("Decision", "fulfilled_by_code",
                                      "The decision fulfilling it.")
    withdrawn_on: date | None = strawberry.field(description="When it was withdrawn.")
    withdrawal_reason: str | None = strawberry.field(description="Why it was withdrawn.")
    issued_by_code: strawberry.Private[str]
    issued_to_code: strawberry.Private[str]
    source_decision_code: strawberry.Private[str | None]
    fulfilled_by_code: strawberry.Private[str | None]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Commission:
        return Commission(
            id=Commission.global_id(row["code"]), code=row["code"], subject=row["subject"],
            issued_by_code=row["issued_by"], issued_to_code=row["issued_to"],
            dossier=row["dossier"], moment=moment,
            issued_on=row["issued_on"], due_on=row["due_on"], binding=row["binding"],
            source_decision_code=row["source_decision"], state=CommissionState(row["state"]),
            accepted_on=row["accepted_on"], progress_reports=row["progress_reports"],
            fulfilled_on=row["fulfilled_on"], fulfilled_by_code=row["fulfilled_by_decision"],
            withdrawn_on=row["withdrawn_on"], withdrawal_reason=row["withdrawal_reason"])

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.commissions

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Commission | None:
        row = await context.commissions.load((code, moment))
        return cls.of(row, moment) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Commission | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="A council's view (zienswijze) in a consultation.")
class View:
    council = refers_to("Body", "council_code", "The council (raad) that gave it.", required=True)
    submitted_on: date = strawberry.field(description="When it was given.")
    stance: str = strawberry.field(description="What it says, in short.")
    late: bool = strawberry.field(description="Whether it came after the deadline.")
    document: Document | None = strawberry.field(description="The view's document.")
    council_code: strawberry.Private[str]
    moment: strawberry.Private[Moment]


@strawberry.type(description="A consultation (zienswijzeprocedure): a regional body asks the "
                             "member councils for their views on a draft before a deadline.")
class Consultation(Node):
    code: str = strawberry.field(description="The consultation's code.")
    subject: str = strawberry.field(description="What the councils are consulted on.")
    opened_by = refers_to("Body", "opened_by_code", "The body asking.", required=True)
    draft_decision = refers_to("Decision", "draft_decision_code",
                               "The draft decision concerned.")
    consulted = refers_to("Body", "consulted_codes", "The councils (raden) asked.", many=True)
    opened_on: date = strawberry.field(description="When it opened.")
    respond_by: date = strawberry.field(description="The deadline for views.")
    closed: bool = strawberry.field(description="Whether it was closed by the asked date.")
    closed_on: date | None = strawberry.field(description="When it closed.")
    views: list[View] = strawberry.field(description="The views received by the asked date.")
    not_responded = refers_to("Body", "not_responded_codes",
                              "Councils that gave no view by then.", many=True)
    opened_by_code: strawberry.Private[str]
    draft_decision_code: strawberry.Private[str | None]
    consulted_codes: strawberry.Private[list[str]]
    not_responded_codes: strawberry.Private[list[str]]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Consultation:
        return Consultation(
            id=Consultation.global_id(row["code"]), code=row["code"], subject=row["subject"],
            opened_by_code=row["opened_by"], draft_decision_code=row["draft_decision"],
            consulted_codes=row["consulted"], opened_on=row["opened_on"],
            respond_by=row["respond_by"], closed=row["closed"], closed_on=row["closed_on"],
            views=[View(council_code=v["council"], submitted_on=_day(v["submitted_on"]),
                        stance=v["stance"], late=v["late"],
                        document=Document(**v["document"]) if v["document"] else None,
                        moment=moment)
                   for v in row["views"]],
            not_responded_codes=row["not_responded"], moment=moment)

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.consultations

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Consultation | None:
        row = await context.consultations.load((code, moment))
        return cls.of(row, moment) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Consultation | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="A dossier (programma): a theme grouping decisions and commissions, "
                             "such as a regional strategic agenda.")
class Dossier(Node):
    code: str = strawberry.field(description="The dossier's code.")
    title: str = strawberry.field(description="Its title.")
    description: str | None = strawberry.field(description="What it is about.")

    @staticmethod
    def of(row: dict[str, Any], moment: Moment | None = None) -> Dossier:
        # a dossier has no valid time and names no other record: the moment is not needed
        return Dossier(id=Dossier.global_id(row["code"]), code=row["code"], title=row["title"],
                       description=row["description"])

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.dossiers

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Dossier | None:
        row = await context.dossiers.load((code, moment))
        return cls.of(row) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Dossier | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="A seat (zetel, portefeuille) of a body and who holds it.")
class Seat:
    seat: str = strawberry.field(description="The seat, e.g. chair or a portfolio.")
    holder: str = strawberry.field(description="Who holds it (an officeholder, public).")
    group: str | None = strawberry.field(description="The holder's political group (fractie).")
    valid_from: date = strawberry.field(description="Since when.")
    valid_until: date | None = strawberry.field(description="Until when, if it ended.")
    body = refers_to("Body", "body_code", "The body the seat belongs to.", required=True)
    body_code: strawberry.Private[str]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Seat:
        return Seat(seat=row["seat"], holder=row["holder"], group=row["political_group"],
                    valid_from=row["valid_from"], valid_until=row["valid_until"],
                    body_code=row["body"], moment=moment)


@strawberry.type(description="A body (bestuursorgaan) as it stood on the asked date.")
class Body(Node):
    code: str = strawberry.field(description="The body's code.")
    name: str = strawberry.field(description="Its name on the asked date.")
    kind: BodyKind = strawberry.field(description="Council (raad), executive (college), ...")
    jurisdiction = refers_to("Jurisdiction", "jurisdiction_code",
                             "The jurisdiction it belongs to.", required=True)
    established_on: date = strawberry.field(description="When it was established (ingesteld).")
    abolished_on: date | None = strawberry.field(description="When it was abolished (opgeheven).")
    successor = refers_to("Body", "successor_code", "The body that took over from it.")
    subordinate_to = refers_to("Body", "subordinate_to_code", "The body it is subordinate to.")
    active: bool = strawberry.field(description="Whether it existed on the asked date.")
    seats: list[Seat] = strawberry.field(description="Its seats and holders on the asked date.")
    jurisdiction_code: strawberry.Private[str]
    successor_code: strawberry.Private[str | None]
    subordinate_to_code: strawberry.Private[str | None]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment) -> Body:
        return Body(
            id=Body.global_id(row["code"]), code=row["code"], name=row["name"],
            kind=BodyKind(row["kind"]), jurisdiction_code=row["jurisdiction"],
            established_on=row["established_on"], abolished_on=row["abolished_on"],
            successor_code=row["successor"], subordinate_to_code=row["subordinate_to"],
            active=row["active"], moment=moment,
            seats=[Seat.of(seat | {"body": row["code"]}, moment) for seat in row["seats"]])

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.bodies

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Body | None:
        row = await context.bodies.load((code, moment))
        return cls.of(row, moment) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Body | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="A jurisdiction: a municipality (gemeente), a region "
                             "(gemeenschappelijke regeling), a province or a water board.")
class Jurisdiction(Node):
    code: str = strawberry.field(description="The jurisdiction's code.")
    name: str = strawberry.field(description="Its name.")
    kind: JurisdictionKind = strawberry.field(
        description="Municipality, region, province or water board.")

    @strawberry.field(description="Its memberships over time: the regions a municipality "
                                  "joined, or the members a region had, each with its dates.")
    async def memberships(self, info: ContextInfo) -> list[Membership]:
        context = info.context
        moment = await context.moment()
        found = await structure.memberships(context.pool, self.code, moment.known_at)
        codes = list({code for m in found for code in (m["region"], m["member"])})
        rows = await context.jurisdictions.load_many([(code, moment) for code in codes])
        named = {row["code"]: Jurisdiction.of(row) for row in rows if row is not None}
        return [Membership(region=named[m["region"]], member=named[m["member"]],
                           joined_on=m["joined_on"], left_on=m["left_on"]) for m in found]

    @staticmethod
    def of(row: dict[str, Any], moment: Moment | None = None) -> Jurisdiction:
        # a jurisdiction has no valid time and names no other record: the moment is not needed
        return Jurisdiction(id=Jurisdiction.global_id(row["code"]), code=row["code"],
                            name=row["name"], kind=JurisdictionKind(row["kind"]))

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.jurisdictions

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Jurisdiction | None:
        row = await context.jurisdictions.load((code, moment))
        return cls.of(row) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Jurisdiction | None:
        return await cls.find(info.context, id.key, await info.context.moment())


@strawberry.type(description="What the ledger records of one body's decisions: how many it "
                             "took, and over which period.")
class BodyDecisions:
    body = refers_to("Body", "body_code", "The body (bestuursorgaan).", required=True)
    decisions: int = strawberry.field(description="How many decisions it took.")
    first_taken_on: date = strawberry.field(description="The date of its first decision.")
    last_taken_on: date = strawberry.field(description="The date of its last decision.")
    body_code: strawberry.Private[str]
    moment: strawberry.Private[Moment]


@strawberry.type(description="A municipality's membership of a region (gemeenschappelijke "
                             "regeling) for a period: from joining (toetreding) to leaving "
                             "(uittreding).")
class Membership:
    region: Jurisdiction = strawberry.field(description="The region.")
    member: Jurisdiction = strawberry.field(description="The member municipality.")
    joined_on: date = strawberry.field(description="The first day it was a member.")
    left_on: date | None = strawberry.field(
        description="The first day it was no longer a member; none while it is one.")


@strawberry.enum(description="What kind of competence (bevoegdheid) it is.")
class CompetenceKind(Enum):
    LOCAL = strawberry.enum_value(
        "local", description="Held for a municipality (gemeente): local decisions stay local.")
    REGIONAL = strawberry.enum_value(
        "regional", description="Held for a region (gemeenschappelijke regeling).")
    DELEGABLE = strawberry.enum_value(
        "delegable", description="May be delegated (delegatie, Awb 10:13).")
    MANDATABLE = strawberry.enum_value(
        "mandatable", description="May be mandated (mandaat, Awb 10:1).")


@strawberry.type(description="A competence (bevoegdheid): a power over a subject, held for "
                             "jurisdictions, as known at the asked position.")
class Competence(Node):
    code: str = strawberry.field(description="The competence's code.")
    title: str = strawberry.field(description="What it is a power over.")
    delegable: bool = strawberry.field(description="Whether it may be delegated (delegatie).")
    mandatable: bool = strawberry.field(description="Whether it may be mandated (mandaat).")
    kinds: list[CompetenceKind] = strawberry.field(
        description="Its kinds: local and regional by the jurisdictions it is held for, "
                    "delegable, mandatable.")

    @staticmethod
    def of(row: dict[str, Any], moment: Moment | None = None) -> Competence:
        return Competence(id=Competence.global_id(row["code"]), code=row["code"],
                          title=row["title"], delegable=row["delegable"],
                          mandatable=row["mandatable"],
                          kinds=[CompetenceKind(kind) for kind in row["kinds"]])

    @staticmethod
    def loader(context: Context) -> RecordLoader:
        return context.competences

    @classmethod
    async def find(cls, context: Context, code: str, moment: Moment) -> Competence | None:
        row = await context.competences.load((code, moment))
        return cls.of(row) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Competence | None:
        return await cls.find(info.context, id.key, await info.context.moment())


REFERABLE: dict[str, type[Body | Competence | Consultation | Decision | Dossier | Grant
                          | Jurisdiction]] = {
    "Body": Body, "Competence": Competence, "Consultation": Consultation, "Decision": Decision,
    "Dossier": Dossier, "Grant": Grant, "Jurisdiction": Jurisdiction}
"""The records a field may name, by type name (`refers_to`)."""


@strawberry.type(description="A competence held for a jurisdiction (bevoegdheid van een gemeente "
                             "of regio): the record its attributions, grants and exercises are "
                             "recorded on.")
class Holding:
    code: str = strawberry.field(description="Its code, `competence@jurisdiction`.")
    competence = refers_to("Competence", "competence_code", "The competence held.",
                           required=True)
    jurisdiction = refers_to("Jurisdiction", "jurisdiction_code", "The jurisdiction it is held "
                                                                  "for.", required=True)
    competence_code: strawberry.Private[str]
    jurisdiction_code: strawberry.Private[str]
    moment: strawberry.Private[Moment]

    @staticmethod
    def of(code: str, moment: Moment) -> Holding:
        competence, jurisdiction = competences.split_holding_code(code)
        return Holding(code=code, competence_code=competence, jurisdiction_code=jurisdiction,
                       moment=moment)


LedgerRecord = Annotated[
    Body | Commission | Competence | Consultation | Decision | Dossier | Holding | Jurisdiction,
    strawberry.union("LedgerRecord", description="A record of the ledger, as an event names it.")]

RECORD_KINDS: dict[str, type[Body | Commission | Competence | Consultation | Decision | Dossier
                             | Jurisdiction]] = {
    "body": Body, "commission": Commission, "competence": Competence,
    "consultation": Consultation, "decision": Decision, "dossier": Dossier,
    "jurisdiction": Jurisdiction}
"""The records an event may belong to, by the audit trail's kind of record (but holdings)."""


@strawberry.type(description="A private person a decision is addressed to. Their data is "
                             "sealed with a key of their own; once they are forgotten the key "
                             "is gone and the data erased, while every hash still holds.")
class Addressee:
    person: str = strawberry.field(description="The person's reference, never their name.")
    erased: bool = strawberry.field(description="Whether the person was forgotten.")
    name: str | None = strawberry.field(description="Their name; null once erased.")
    address: str | None = strawberry.field(description="Their address; null once erased.")


@strawberry.type(description="How many events of one type the ledger holds.")
class EventCount:
    type: str = strawberry.field(description="Record and event type, e.g. Decision.Taken.")
    events: int = strawberry.field(description="How many.")


@strawberry.type(description="Where the ledger and its projections stand.")
class LedgerInfo:
    position: int = strawberry.field(description="The position of the ledger's last event.")
    projected_position: int = strawberry.field(
        description="The position every projection has applied: reads are complete up to here.")
    events_by_type: list[EventCount] = strawberry.field(description="Events per type.")
    checkpoint: Checkpoint | None = strawberry.field(
        description="The latest signed checkpoint of the transparency log; null until one is "
                    "signed (the server signs when a signing key is configured).")

    @strawberry.field(description="The latest signed checkpoints, newest first: the log's "
                                  "history of signed trees, each to hold the next one to.")
    async def checkpoints(self, info: ContextInfo, first: First = 20) -> list[Checkpoint]:
        return await recent(info.context.pool, first)


@strawberry.type(description="A refusal of a command: the rule's code, an explanation a clerk "
                             "understands, and the input field it concerns.")
class UserError:
    code: str = strawberry.field(description="A stable code, e.g. NOT_COMPETENT.")
    message: str = strawberry.field(description="What is wrong and why.")
    field: str | None = strawberry.field(description="The input field concerned, if one.")


NODE_TYPES: tuple[type[Node], ...] = (Body, Commission, Competence, Consultation, Decision,
                                      Dossier, Grant, Jurisdiction, LedgerEvent)
"""Every type with a global id, which `node(id:)` finds it by."""


def _votes(votes: dict[str, Any]) -> Votes:
    return Votes(**(votes | {
        "majority_rule": MajorityRule(votes["majority_rule"]),
        "members": [MemberVote(**(m | {"vote": VoteCast(m["vote"])})) for m in votes["members"]]}))


def _grant_key(competence: str, jurisdiction: str, code: str | None) -> str | None:
    """The key of a grant of the holding (competence, jurisdiction) named by its code, if one."""
    return competences.grant_key(competence, jurisdiction, code) if code is not None else None


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value

