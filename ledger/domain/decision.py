"""Decisions (besluiten): proposed, taken with outcome and votes, published, in force, annulled,
corrected. The chain that made a decision legitimate is stored in the event that takes it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.domain.body import Body
from ledger.errors import RuleViolation
from ledger.personal_data import SealedPersonalData
from ledger.values import ChainLink, Document, Meta, Votes, check_reason, record_id

Outcome = Literal["adopted", "rejected"]


class Decision(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("decision", code)

    @event("Registered")
    def __init__(
        self,
        code: str,
        title: str,
        summary: str | None,
        competence: str,
        jurisdiction: str,
        subject: str | None,
        dossier: str | None,
        affected_jurisdictions: list[str],
        addressee: SealedPersonalData | None,
        meta: Meta,
    ) -> None:
        self.code = code
        self.title = title
        self.summary = summary
        self.competence = competence
        self.jurisdiction = jurisdiction
        self.subject = subject
        self.dossier = dossier
        self.affected_jurisdictions = affected_jurisdictions
        self.addressee = addressee
        self.proposed_by: str | None = None
        self.body: str | None = None
        self.taken_on: date | None = None
        self.outcome: Outcome | None = None
        self.chain: list[ChainLink] = []
        self.documents: list[Document] = []
        self.published_on: date | None = None
        self.publication: str | None = None
        self.in_force_from: date | None = None
        self.repealed_on: date | None = None
        self.annulled_on: date | None = None

    @property
    def is_taken(self) -> bool:
        return self.taken_on is not None

    def in_force_on(self, on: date) -> bool:
        return (
            self.in_force_from is not None
            and self.in_force_from <= on
            and (self.repealed_on is None or on < self.repealed_on)
            and (self.annulled_on is None)
        )

    # Commands ----------------------------------------------------------------------------

    def propose(self, by: Body, on: date | None, meta: Meta) -> None:
        self.check_not_taken()
        if self.proposed_by is not None:
            raise RuleViolation(f"Decision {self.code} was already proposed by {self.proposed_by}.",
                                code="ALREADY_PROPOSED", field="code")
        if on is not None:
            by.check_active_on(on, field="proposed_by")
        self._proposed(by=by.code, on=on, meta=meta)

    def take(
        self,
        body: Body,
        on: date,
        outcome: Outcome,
        *,
        votes: Votes | None,
        chain: list[ChainLink],
        cited_grant: str | None,
        cited_publication: str | None,
        framework_decision: str | None,
        consultation: str | None,
        views_received: list[str],
        documents: list[Document],
        meta: Meta,
    ) -> None:
        """The decision taken by `body`, by `chain`; the four references (the grant and the
        publication it cites, the framework decision, the consultation) are named, never
        positional, because one in the wrong place would be stored under the other's name."""
        self.check_not_taken()
        if votes is not None:
            check_votes_support_outcome(votes, outcome)
        self._taken(
            body=body.code,
            on=on,
            outcome=outcome,
            votes=votes,
            chain=chain,
            cited_grant=cited_grant,
            cited_publication=cited_publication,
            framework_decision=framework_decision,
            consultation=consultation,
            views_received=views_received,
            documents=documents,
            meta=meta,
        )

    def publish(self, on: date, publication: str, meta: Meta) -> None:
        self.check_adopted()
        if self.published_on is not None:
            raise RuleViolation(
                f"Decision {self.code} was already published on {self.published_on} in "
                f"{self.publication}; record a correction to change that.",
                code="ALREADY_PUBLISHED", field="code")
        self.check_not_before_taken(on)
        self._published(on=on, publication=publication, meta=meta)

    def enter_into_force(self, on: date, retroactive_from: date | None, meta: Meta) -> None:
        self.check_adopted()
        if self.published_on is None:
            raise RuleViolation(
                f"Decision {self.code} is not published; a decision enters into force only after "
                "it has been made known (Awb 3:40).", code="NOT_PUBLISHED", field="code")
        if self.in_force_from is not None:
            raise RuleViolation(f"Decision {self.code} is in force since {self.in_force_from}.",
                                code="ALREADY_IN_FORCE", field="code")
        if on < self.published_on:
            raise RuleViolation(
                f"Decision {self.code} was published on {self.published_on}; it cannot enter "
                f"into force before that, on {on}. Record the retroactive date instead.",
                code="BEFORE_PUBLICATION", field="on")
        if retroactive_from is not None and retroactive_from > on:
            raise RuleViolation("A retroactive date lies before the date of entry into force.",
                                code="EMPTY_PERIOD", field="retroactive_from")
        self._entered_into_force(on=on, retroactive_from=retroactive_from, meta=meta)

    def repeal(self, on: date, repealed_by: str, reason: str, meta: Meta) -> None:
        self.check_adopted()
        if self.repealed_on is not None:
            raise RuleViolation(f"Decision {self.code} was already repealed on {self.repealed_on}.",
                                code="ALREADY_REPEALED", field="code")
        self.check_not_before_taken(on)
        check_reason(reason)
        self._repealed(on=on, repealed_by=repealed_by, reason=reason, meta=meta)

    def annul(self, on: date, annulled_by: str, reason: str, meta: Meta) -> None:
        self.check_adopted()
        if self.annulled_on is not None:
            raise RuleViolation(f"Decision {self.code} was already annulled on {self.annulled_on}.",
                                code="ALREADY_ANNULLED", field="code")
        self.check_not_before_taken(on)
        check_reason(reason)
        self._annulled(on=on, annulled_by=annulled_by, reason=reason, meta=meta)

    def correct(
        self,
        title: str | None,
        summary: str | None,
        documents: list[Document] | None,
        reason: str,
        meta: Meta,
    ) -> None:
        check_reason(reason)
        if title is None and summary is None and documents is None:
            raise RuleViolation("A correction names at least one field it corrects.",
                                code="EMPTY_CORRECTION", field="title")
        self._corrected(title=title, summary=summary, documents=documents, reason=reason,
                        meta=meta)

    # Named checks ------------------------------------------------------------------------

    def check_not_taken(self) -> None:
        if self.is_taken:
            raise RuleViolation(
                f"Decision {self.code} was already taken on {self.taken_on} by {self.body}; "
                "nothing is edited: annul or correct it by a new event.",
                code="ALREADY_TAKEN", field="code")

    def check_adopted(self) -> None:
        if not self.is_taken or self.outcome != "adopted":
            raise RuleViolation(f"Decision {self.code} has not been adopted.",
                                code="NOT_ADOPTED", field="code")

    def check_not_before_taken(self, on: date) -> None:
        assert self.taken_on is not None
        if on < self.taken_on:
            raise RuleViolation(
                f"Decision {self.code} was taken on {self.taken_on}; {on} lies before that.",
                code="BEFORE_DECISION", field="on")

    def check_adopted_by(self, body: Body, by: date) -> None:
        """L6: a grant rests on an adopted, standing decision of its grantor, taken by the day
        the grant starts."""
        if not self.is_taken or self.outcome != "adopted" or self.annulled_on is not None:
            raise RuleViolation(
                f"Decision {self.code} is not an adopted decision; a grant rests on an adopted "
                "decision of its grantor.", code="SOURCE_DECISION_NOT_ADOPTED",
                field="source_decision")
        if self.body != body.code:
            raise RuleViolation(
                f"Decision {self.code} was taken by {self.body}, not by the grantor {body.name}.",
                code="SOURCE_DECISION_OTHER_BODY", field="source_decision")
        assert self.taken_on is not None
        if self.taken_on > by:
            raise RuleViolation(
                f"Decision {self.code} was taken on {self.taken_on}, after the grant would start "
                f"({by}); a grant cannot rest on a decision not yet taken.",
                code="SOURCE_DECISION_LATER", field="source_decision")

    # Events ------------------------------------------------------------------------------

    @event("Proposed")
    def _proposed(self, by: str, on: date | None, meta: Meta) -> None:
        self.proposed_by = by

    @event("Taken")
    def _taken(
        self,
        body: str,
        on: date,
        outcome: Outcome,
        votes: Votes | None,
        chain: list[ChainLink],
        cited_grant: str | None,
        cited_publication: str | None,
        framework_decision: str | None,
        consultation: str | None,
        views_received: list[str],
        documents: list[Document],
        meta: Meta,
    ) -> None:
        self.body = body
        self.taken_on = on
        self.outcome = outcome
        self.chain = chain
        self.documents = documents

    @event("Published")
    def _published(self, on: date, publication: str, meta: Meta) -> None:
        self.published_on = on
        self.publication = publication

    @event("EnteredIntoForce")
    def _entered_into_force(self, on: date, retroactive_from: date | None, meta: Meta) -> None:
        self.in_force_from = retroactive_from or on

    @event("Repealed")
    def _repealed(self, on: date, repealed_by: str, reason: str, meta: Meta) -> None:
        self.repealed_on = on

    @event("Annulled")
    def _annulled(self, on: date, annulled_by: str, reason: str, meta: Meta) -> None:
        self.annulled_on = on

    @event("Corrected")
    def _corrected(
        self,
        title: str | None,
        summary: str | None,
        documents: list[Document] | None,
        reason: str,
        meta: Meta,
    ) -> None:
        self.title = title if title is not None else self.title
        self.summary = summary if summary is not None else self.summary
        self.documents = documents if documents is not None else self.documents


def check_votes_support_outcome(votes: Votes, outcome: Outcome) -> None:
    """Votes are kept so the outcome can be recomputed; a record that contradicts itself is refused."""
    tally = {"for": 0, "against": 0, "abstain": 0}
    for member in votes.members:
        tally[member.vote] += member.weight
    counts = {"for": votes.votes_for, "against": votes.votes_against,
              "abstain": votes.abstentions}
    members = [member.member for member in votes.members]
    if len(set(members)) != len(members):
        raise RuleViolation("A member appears more than once among the member votes.",
                            code="VOTES_INCONSISTENT", field="votes")
    cast = sum(count for count in counts.values() if count is not None)
    if votes.present is not None and not votes.members and cast > votes.present:
        raise RuleViolation(
            f"{cast} votes are recorded, but only {votes.present} members were present.",
            code="VOTES_INCONSISTENT", field="votes")
    if votes.members:
        for side, count in counts.items():
            if count is not None and count != tally[side]:
                raise RuleViolation(
                    f"The member votes add up to {tally[side]} '{side}', but the count says "
                    f"{count}.", code="VOTES_INCONSISTENT", field="votes")
        counts = {side: counts[side] if counts[side] is not None else tally[side]
                  for side in counts}
    in_favour, against = counts["for"], counts["against"]
    if in_favour is None or against is None:
        return  # unknown counts: the outcome stands as recorded
    carried = {
        "simple": in_favour > against,
        "two_thirds": in_favour * 3 >= 2 * (in_favour + against) and in_favour > 0,
        "unanimous": against == 0 and in_favour > 0,
    }[votes.majority_rule]
    if carried != (outcome == "adopted"):
        raise RuleViolation(
            f"With {in_favour} for and {against} against under the {votes.majority_rule} "
            f"majority rule, the proposal is {'carried' if carried else 'lost'}, but the outcome "
            f"is recorded as {outcome}.", code="VOTES_CONTRADICT_OUTCOME", field="outcome")
