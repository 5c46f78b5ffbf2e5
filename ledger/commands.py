"""The typed inputs of every command the ledger accepts (the same shapes in Python, JSON Lines
import and, later, GraphQL mutations). Validation here catches malformed input; the rules in the
domain catch illegitimate input."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from ledger.domain.body import BodyKind
from ledger.domain.decision import Outcome
from ledger.domain.jurisdiction import JurisdictionKind
from ledger.values import Document, MemberVote, Votes

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""Characters PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode (lone surrogates)."""


def storable(text: str) -> str:
    if UNSTORABLE.search(text):
        raise ValueError("the text contains a NUL character or a lone surrogate, which cannot "
                         "be stored")
    return text


Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,119}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
                 AfterValidator(storable)]
Day = Annotated[date, Field(ge=date(1800, 1, 1), le=date(2199, 12, 31))]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str]
    creates: ClassVar[str | None] = None  # the kind of record a command with a `code` opens


class DocumentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Text
    address: Annotated[str, StringConstraints(min_length=1, max_length=2000),
                       AfterValidator(storable)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

    def value(self) -> Document:
        return Document(self.title, self.address, self.sha256)


class MemberVoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    member: Text
    vote: Literal["for", "against", "abstain"]
    group: Text | None = None
    weight: Annotated[int, Field(ge=1, le=1000)] = 1


class VotesInput(BaseModel):
    """Counts left out are unknown, not zero."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    majority_rule: Literal["simple", "two_thirds", "unanimous"] = "simple"
    votes_for: Annotated[int, Field(ge=0)] | None = None
    votes_against: Annotated[int, Field(ge=0)] | None = None
    abstentions: Annotated[int, Field(ge=0)] | None = None
    present: Annotated[int, Field(ge=0)] | None = None
    members: list[MemberVoteInput] = []

    def value(self) -> Votes:
        return Votes(
            majority_rule=self.majority_rule,
            votes_for=self.votes_for,
            votes_against=self.votes_against,
            abstentions=self.abstentions,
            present=self.present,
            members=tuple(MemberVote(m.member, m.vote, m.group, m.weight) for m in self.members),
        )


class ValidPeriod(BaseModel):
    valid_from: Day
    valid_until: Day | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> ValidPeriod:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must lie after valid_from (periods are [from, until))")
        return self


# Jurisdictions and bodies -------------------------------------------------------------------


class EstablishJurisdiction(Command):
    name = "establish_jurisdiction"
    creates = "jurisdiction"
    code: Code
    title: Text
    kind: JurisdictionKind


class AdmitMember(Command):
    name = "admit_member"
    region: Code
    member: Code
    on: Day


class ReleaseMember(Command):
    name = "release_member"
    region: Code
    member: Code
    on: Day


class EstablishBody(Command):
    name = "establish_body"
    creates = "body"
    code: Code
    title: Text
    kind: BodyKind
    jurisdiction: Code
    established_on: Day
    subordinate_to: Code | None = None


class RenameBody(Command):
    name = "rename_body"
    body: Code
    title: Text
    on: Day


class AbolishBody(Command):
    name = "abolish_body"
    body: Code
    on: Day
    reason: Text
    successor: Code | None = None


class FillSeat(Command):
    name = "fill_seat"
    body: Code
    seat: Text
    holder: Text
    group: Text | None = None
    on: Day


class VacateSeat(Command):
    name = "vacate_seat"
    body: Code
    seat: Text
    on: Day
    reason: Text


# Competences and grants ---------------------------------------------------------------------


class DefineCompetence(Command):
    name = "define_competence"
    creates = "competence"
    code: Code
    title: Text
    delegable: bool
    mandatable: bool


class AttributeCompetence(Command, ValidPeriod):
    name = "attribute_competence"
    competence: Code
    jurisdiction: Code
    body: Code
    legal_basis: Text
    framework_body: Code | None = None


class EndAttribution(Command):
    name = "end_attribution"
    competence: Code
    jurisdiction: Code
    body: Code
    on: Day
    reason: Text


class GrantInput(ValidPeriod):
    """What every grant names: the holding, the parties, its basis and the decision behind it."""

    competence: Code
    jurisdiction: Code
    code: Code
    grantor: Code
    grantee: Code
    legal_basis: Text
    source_decision: Code
    scope: list[Text] | None = None
    framework_body: Code | None = None


class GrantDelegation(Command, GrantInput):
    name = "grant_delegation"


class GrantMandate(Command, GrantInput):
    """A mandate; with `parent`, a sub-mandate of that mandate."""

    name = "grant_mandate"
    allows_submandate: bool = False
    parent: Code | None = None


class RevokeGrant(Command):
    name = "revoke_grant"
    competence: Code
    jurisdiction: Code
    grant: Code
    on: Day
    reason: Text


# Dossiers and decisions ---------------------------------------------------------------------


class OpenDossier(Command):
    name = "open_dossier"
    creates = "dossier"
    code: Code
    title: Text
    description: Text | None = None


class PrivatePersonInput(BaseModel):
    """A private person a decision is addressed to; sealed before it reaches any event."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    person: Code
    name: Text
    address: Text | None = None


class DecisionSubject(BaseModel):
    """What a decision is about; given when the decision is first recorded."""

    title: Text | None = None
    summary: Text | None = None
    competence: Code | None = None
    jurisdiction: Code | None = None
    subject: Text | None = None
    dossier: Code | None = None
    affected_jurisdictions: list[Code] = []
    addressee: PrivatePersonInput | None = None


class ProposeDecision(Command, DecisionSubject):
    name = "propose_decision"
    creates = "decision"
    code: Code
    proposed_by: Code
    proposed_on: Day | None = None


class TakeDecision(Command, DecisionSubject):
    name = "take_decision"
    creates = "decision"
    code: Code
    body: Code
    taken_on: Day
    outcome: Outcome
    votes: VotesInput | None = None
    cited_grant: Code | None = None
    cited_publication: Text | None = None
    framework_decision: Code | None = None
    consultation: Code | None = None
    commission: Code | None = None
    documents: list[DocumentInput] = []


class PublishDecision(Command):
    name = "publish_decision"
    decision: Code
    on: Day
    publication: Text


class BringIntoForce(Command):
    name = "bring_into_force"
    decision: Code
    on: Day
    retroactive_from: Day | None = None


class RepealDecision(Command):
    name = "repeal_decision"
    decision: Code
    on: Day
    repealed_by: Code
    reason: Text


class AnnulDecision(Command):
    name = "annul_decision"
    decision: Code
    on: Day
    annulled_by: Text
    reason: Text


class CorrectDecision(Command):
    name = "correct_decision"
    decision: Code
    reason: Text
    title: Text | None = None
    summary: Text | None = None
    documents: list[DocumentInput] | None = None


# Commissions and consultations --------------------------------------------------------------


class IssueCommission(Command):
    name = "issue_commission"
    creates = "commission"
    code: Code
    subject: Text
    issued_by: Code
    issued_to: Code
    issued_on: Day
    due_on: Day | None = None
    binding: bool
    dossier: Code | None = None
    source_decision: Code | None = None


class AcceptCommission(Command):
    name = "accept_commission"
    commission: Code
    on: Day


class ReportCommissionProgress(Command):
    name = "report_commission_progress"
    commission: Code
    on: Day
    note: Text


class FulfilCommission(Command):
    name = "fulfil_commission"
    commission: Code
    on: Day
    decision: Code | None = None


class WithdrawCommission(Command):
    name = "withdraw_commission"
    commission: Code
    on: Day
    reason: Text


class OpenConsultation(Command):
    name = "open_consultation"
    creates = "consultation"
    code: Code
    subject: Text
    opened_by: Code
    draft_decision: Code | None = None
    consulted: Annotated[list[Code], Field(min_length=1)]
    opened_on: Day
    respond_by: Day


class SubmitView(Command):
    name = "submit_view"
    consultation: Code
    council: Code
    on: Day
    position: Text
    document: DocumentInput | None = None


class CloseConsultation(Command):
    name = "close_consultation"
    consultation: Code
    on: Day


COMMANDS: dict[str, type[Command]] = {
    cls.name: cls for cls in Command.__subclasses__() if "name" in cls.__dict__
}
