"""The arguments of the reads, each declared once with its description, so that a resolver's
signature only names them (`on: DecisionsOn = None, known_at: KnownAt = None`). The descriptions
are part of the schema (graphql/schema.graphql); an argument that means the same on several
fields is one type here. The pages' `first` and `after` are Relay's (api/schema/relay.py)."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from api.schema.types import CommissionState, CompetenceKind, DecisionStatus, GrantStatus, Via
from projections.errors import InvalidArgument
from projections.events import RECORD_KINDS

NAMES = "names"
"""The metadata key of an argument that names a record: its value is the record's kind."""
WAITS = "waits"
"""The metadata key of the argument a read waits for the projections by (`atLeast`)."""


def described(description: str) -> Any:
    return strawberry.argument(description=description)


def names(kind: str, description: str) -> Any:
    """An argument naming a record of this kind (a kind of ledger.values.record_id): a code the
    ledger does not know fails the field with UNKNOWN_REFERENCE (api/schema/references.py)."""
    return strawberry.argument(description=description, metadata={NAMES: kind})


# The moment asked about (api/schema/context.py: Context.moment) -------------------------------

KnownAt = Annotated[int | None, described(
    "Answer as the ledger knew it at this position (bitemporal: record time); not beyond the "
    "ledger's last event.")]
KnownAtTime = Annotated[datetime | None, described(
    "Answer as the ledger knew it at this moment: at the last position recorded at or before "
    "it (UTC if no offset is given). Instead of `knownAt`; auditors only, as recording times "
    "are metadata.")]
AtLeast = Annotated[int | None, strawberry.argument(description=(
    "Wait (up to 5 s) until the projections have applied this ledger position, e.g. the "
    "`position` a mutation returned: read your own writes."), metadata={WAITS: True})]
On = Annotated[date | None, described(
    "The date the answer is valid on (valid time); today if left out.")]
DateInQuestion = Annotated[date, described(
    "The date in question (valid time), e.g. a decision date.")]
BodiesOn = Annotated[date | None, described(
    "The date the bodies are shown as they stood on (name, seats, active); today if left out.")]
BodyOn = Annotated[date | None, described(
    "The date the body is shown as it stood on (name, seats, active); today if left out.")]
GrantsOn = Annotated[date | None, described(
    "The date the status is computed on; today if left out.")]
DecisionsOn = Annotated[date | None, described(
    "The date status and verdict are given for; today if left out.")]
CommissionsOn = Annotated[date | None, described(
    "The date the state is computed on; today if left out.")]
ConsultationsOn = Annotated[date | None, described(
    "The date openness and views received are given for; today if left out.")]

# Ids and codes --------------------------------------------------------------------------------

NodeId = Annotated[strawberry.ID, described("The object's global id (its `id` field).")]
JurisdictionCode = Annotated[str, names("jurisdiction", "The jurisdiction's code, e.g. `dordrecht`.")]
RegionCode = Annotated[str, names("jurisdiction",
    "The region's code (gemeenschappelijke regeling), e.g. `drechtsteden`.")]
BodyCode = Annotated[str, names("body", "The body's code (bestuursorgaan), e.g. `raad-dordrecht`.")]
DecisionCode = Annotated[str, names("decision", "The decision's code (besluit).")]

# Structure of government ----------------------------------------------------------------------

JurisdictionKind = Annotated[str | None, described(
    "Only jurisdictions of this kind: municipality, region, province or water_board.")]
BodiesOf = Annotated[str | None, names("jurisdiction", "Only the bodies of this jurisdiction.")]
SeatsOf = Annotated[str | None, names("body", "Only the seats of this body (bestuursorgaan).")]
HeldBy = Annotated[str | None, described(
    "Only the seats this holder held, named as the seats name them, e.g. `Wouter Kolff "
    "(burgemeester van Dordrecht)`.")]
HolderNamed = Annotated[str | None, described(
    "Only the seats of holders whose name holds these letters, in any case, e.g. `kolff`: at "
    "least 3 of them; at most 100 seats.")]

# Competences and grants -----------------------------------------------------------------------

MapOf = Annotated[str, names("jurisdiction", "The jurisdiction's code (gemeente, regio).")]
MapCompetence = Annotated[str | None, names("competence", "Only this competence (bevoegdheid).")]
CompetenceCode = Annotated[str, names(
    "competence", "The competence's code (bevoegdheid), e.g. `participatiewet-uitvoering`.")]
OfCompetenceKind = Annotated[CompetenceKind | None, described(
    "Only competences of this kind: local, regional, delegable or mandatable.")]
CompetenceAsked = Annotated[str, names("competence", "The competence's code (bevoegdheid).")]
HeldFor = Annotated[str, names("jurisdiction", "The jurisdiction it is held for.")]
SubjectAsked = Annotated[str | None, described(
    "The subject within the competence; grants limited in scope count only where they cover it.")]
GrantsHeldFor = Annotated[str | None, names("jurisdiction",
    "Only grants of competences held for this jurisdiction.")]
GrantsOf = Annotated[str | None, names("competence", "Only grants of this competence (bevoegdheid).")]
GrantedBy = Annotated[str | None, names("body", "Only grants by this body (delegans, mandaatgever).")]
GrantedTo = Annotated[str | None, names("body",
    "Only grants to this body (gedelegeerde, gemandateerde).")]
GrantKind = Annotated[Via | None, described("Only delegations, mandates or sub-mandates.")]
WithGrantStatus = Annotated[GrantStatus | None, described("Only grants with this status on `on`.")]
ExpiringWithinDays = Annotated[int | None, described(
    "Only grants that end within this many days after `on`, to renew mandates in time.")]

# Decisions ------------------------------------------------------------------------------------

TakenBy = Annotated[str | None, names("body", "Only decisions taken by this body.")]
Exercising = Annotated[str | None, names("competence", "Only decisions exercising this competence.")]
TakenFor = Annotated[str | None, names("jurisdiction", "Only decisions taken for this jurisdiction.")]
Affecting = Annotated[str | None, names("jurisdiction",
    "Only decisions affecting this jurisdiction, e.g. what the region decided for one member.")]
MemberOf = Annotated[str | None, names("jurisdiction",
    "Only decisions of the regions this municipality was a member of, taken while it was one.")]
TakenFrom = Annotated[date | None, described("Only decisions taken on or after this date.")]
TakenUntil = Annotated[date | None, described(
    "Only decisions taken before this date (half-open period).")]
WithDecisionStatus = Annotated[DecisionStatus | None, described(
    "Only decisions with this status on `on`.")]
SearchText = Annotated[str | None, described(
    "Full-text search in Dutch over title and summary, e.g. `begroting`.")]
RecordedLatestFirst = Annotated[bool, described("Most recently recorded first.")]

# Dossiers, commissions and consultations ------------------------------------------------------

DossierCode = Annotated[str, names("dossier", "The dossier's code (programma), e.g. `programmering`.")]

InCommissionState = Annotated[CommissionState | None, described(
    "Only commissions in this state on `on`.")]
IssuedBy = Annotated[str | None, names("body", "Only commissions issued by this body (opdrachtgever).")]
IssuedTo = Annotated[str | None, names("body", "Only commissions issued to this body (opdrachtnemer).")]
IssuedConcerning = Annotated[str | None, names("jurisdiction",
    "Only commissions issued by a body of this jurisdiction, or of a region while it was a "
    "member of it.")]
Binding = Annotated[bool | None, described("Only binding (true) or non-binding (false) commissions.")]
OpenOnly = Annotated[bool, described("Only consultations still open on `on`.")]
OpenedBy = Annotated[str | None, names("body", "Only consultations opened by this body.")]
Consulted = Annotated[str | None, names("body", "Only consultations that asked this council (raad).")]

# Events ---------------------------------------------------------------------------------------

EventTypes = Annotated[list[str] | None, described(
    "Only events of these types, e.g. Decision.Taken.")]


def event_types(types: list[str] | None) -> tuple[str, ...] | None:
    """`types` as the audit trail's filter takes it."""
    return tuple(types) if types is not None else None


RecordKind = Annotated[str | None, described(
    "Only events of this kind of record: jurisdiction, body, competence, holding, decision, "
    "dossier, commission or consultation.")]


def checked_record_kind(kind: str | None) -> str | None:
    """`recordKind`, one of the kinds of record, or a clear error."""
    if kind is not None and kind not in RECORD_KINDS.values():
        raise InvalidArgument(f"`recordKind` is one of {', '.join(sorted(RECORD_KINDS.values()))}.",
                              field="recordKind")
    return kind


EventHash = Annotated[str, described(
    "An event's chain hash in hex, as `bevoegd history` and `LedgerEvent.stored.hash` show it, "
    "or its first digits (at least 8); or the hash of its leaf in the transparency log, whole, in "
    "base64, as `InclusionProof.leafHash` and the log's tiles give it.")]
EVENT_HASH = re.compile(r"(?:[0-9a-f]{2}){4,32}")
LEAF_HASH = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
"""A SHA-256 hash in base64: 43 characters, the last of which carries four bits, and the padding."""


def given_leaf_hash(text: str) -> bytes | None:
    """The leaf hash `hash` gives, if it is one."""
    return base64.b64decode(text) if LEAF_HASH.fullmatch(text) else None


def event_hash_prefix(text: str) -> bytes:
    """The first bytes of a chain hash `hash` gives, or a clear error."""
    if EVENT_HASH.fullmatch(text.lower()) is None:
        raise InvalidArgument("`hash` is an event's chain hash in hex, or its first digits (an "
                              "even number of them, 8 to 64), or a leaf hash in base64 (44 "
                              "characters).", field="hash")
    return bytes.fromhex(text)


RecordCode = Annotated[str | None, described(
    "Only events of the record with this code (with `recordKind`).")]
Actor = Annotated[str | None, described("Only events recorded by this actor (auditors only).")]
CommandId = Annotated[str | None, described(
    "Only events of the command with this idempotency key (auditors only).")]
CorrelatedBy = Annotated[str | None, described(
    "Only events with this correlation id (auditors only).")]
RecordedFrom = Annotated[datetime | None, described(
    "Only events recorded at or after this moment (UTC if no offset is given; auditors only).")]
RecordedUntil = Annotated[datetime | None, described(
    "Only events recorded before this moment (half-open period; auditors only).")]
LatestFirst = Annotated[bool, described("The latest events first.")]
SeenUpTo = Annotated[int, described(
    "The last position seen: only events after it are sent (0: from the start).")]

# The transparency log -------------------------------------------------------------------------

Position = Annotated[int, described("The event's ledger position.")]
TreeSize = Annotated[int | None, described(
    "The size of the tree to prove it in; the latest signed checkpoint's if left out.")]
FromSize = Annotated[int, strawberry.argument(
    name="from", description="The size of the earlier tree (1 or more).")]
ToSize = Annotated[int | None, strawberry.argument(
    name="to", description="The size of the later tree; the latest signed checkpoint's if left "
                           "out.")]
