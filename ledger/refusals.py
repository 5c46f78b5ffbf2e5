"""Every code the ledger refuses a command with, the rule it enforces (L1–L12 of docs/architecture.md, or
"other" for record-keeping and lifecycle checks) and what it means. The codes are written as
literals where they are raised, so a search for one finds where it is given; the tests hold this
catalogue against those literals and against the README's table of rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    code: str
    rule: str
    meaning: str


CATALOGUE: tuple[Refusal, ...] = (
    # L1 the deciding body exists on the date
    Refusal("BODY_NOT_ACTIVE", "L1", "The body was not yet established or already abolished."),
    # L2 a chain of grants runs to the body on the date
    Refusal("NOT_COMPETENT", "L2", "No attribution, delegation or mandate reaches the body."),
    Refusal("NOT_ATTRIBUTED", "L2", "No body held the competence on the date."),
    Refusal("DELEGATION_EXPIRED", "L2", "The delegation relied on had run out by the date."),
    Refusal("DELEGATION_REVOKED", "L2", "The delegation relied on was revoked by the date."),
    Refusal("GRANT_NOT_YET_VALID", "L2", "The grant relied on starts after the date."),
    Refusal("OUTSIDE_GRANT_SCOPE", "L2", "The grant relied on does not cover the subject."),
    # L3 a delegator does not exercise what it delegated, nor gets it delegated back
    Refusal("DELEGATED_AWAY", "L3", "The body delegated the competence and may not exercise it."),
    Refusal("DELEGATION_CYCLE", "L3", "The grantee itself delegated the competence to the grantor."),
    Refusal("ALREADY_DELEGATED", "L3",
            "The grantor already delegated these subjects for an overlapping period."),
    # L4 delegation: delegable, legal basis, not to a subordinate
    Refusal("NOT_DELEGABLE", "L4", "The competence may not be delegated."),
    Refusal("MISSING_LEGAL_BASIS", "L4", "The attribution or grant cites no basis in law."),
    Refusal("SUBORDINATE_GRANTEE", "L4", "A delegation to a subordinate of the grantor."),
    Refusal("SELF_GRANT", "L4", "A body grants a competence to itself."),
    Refusal("GRANTOR_NOT_COMPETENT", "L4", "The grantor did not hold what it grants."),
    # L5 mandate: mandatable, competent mandator, sub-mandate only where allowed
    Refusal("NOT_MANDATABLE", "L5", "The competence may not be mandated."),
    Refusal("MANDATE_EXPIRED", "L5", "The mandate relied on had run out by the date."),
    Refusal("MANDATE_REVOKED", "L5", "The mandate relied on was revoked by the date."),
    Refusal("MANDATOR_NOT_COMPETENT", "L5", "The mandator no longer held the competence."),
    Refusal("SUBMANDATE_NOT_ALLOWED", "L5", "The parent grant does not allow sub-mandating."),
    # L6 a grant rests on an adopted decision of its grantor
    Refusal("SOURCE_DECISION_NOT_ADOPTED", "L6", "The grant rests on a decision not adopted."),
    Refusal("SOURCE_DECISION_OTHER_BODY", "L6", "The grant rests on another body's decision."),
    Refusal("SOURCE_DECISION_LATER", "L6", "The grant rests on a decision taken after it starts."),
    # L7 local decisions stay local
    Refusal("LOCAL_COMPETENCE", "L7", "A regional body decides a local competence ungranted."),
    # L9 nothing is edited: new events with a reason
    Refusal("REASON_REQUIRED", "L9", "A revocation, ending, annulment or correction says why."),
    Refusal("ALREADY_TAKEN", "L9", "The decision was already taken."),
    Refusal("ALREADY_REVOKED", "L9", "The grant was already revoked."),
    Refusal("ALREADY_ABOLISHED", "L9", "The body was already abolished."),
    Refusal("RELIED_ON_AFTER", "L9", "A decision relied on what would end before its date."),
    # L10 valid time is half-open and separate from record time
    Refusal("EMPTY_PERIOD", "L10", "The period ends on or before it starts."),
    # L11 a decision under a grant cites it and its publication
    Refusal("GRANT_NOT_CITED", "L11", "A decision under a grant does not cite it."),
    Refusal("CITED_GRANT_NOT_IN_CHAIN", "L11", "The cited grant is not the one relied on."),
    Refusal("GRANT_NOT_PUBLISHED", "L11", "The decision granting it was not published by then."),
    Refusal("PUBLICATION_MISMATCH", "L11", "The cited publication is not where it appeared."),
    # L12 conditional competence needs its framework decision
    Refusal("FRAMEWORK_REQUIRED", "L12", "A conditional competence names no framework decision."),
    Refusal("FRAMEWORK_INVALID", "L12", "The named framework decision does not carry it."),
    # Other: references, input, idempotency and concurrency
    Refusal("UNKNOWN_REFERENCE", "other", "The command names something the ledger does not know."),
    Refusal("ALREADY_EXISTS", "other", "Something is already recorded under that code."),
    Refusal("INVALID_COMMAND", "other", "The command is malformed."),
    Refusal("IDEMPOTENCY_KEY_REUSED", "other", "The key was used for a different command."),
    Refusal("CONFLICT", "other", "Concurrent writers kept changing the same records."),
    Refusal("PERSONAL_DATA_NOT_ACCEPTED", "other", "Personal data cannot be stored here."),
    # Other: lifecycles of jurisdictions, bodies, competences and decisions
    Refusal("MEMBER_NOT_A_MUNICIPALITY", "other", "Only municipalities join a region."),
    Refusal("ALREADY_MEMBER", "other", "The municipality is already a member of the region."),
    Refusal("NOT_A_MEMBER", "other", "The municipality is not a member of the region."),
    Refusal("NOT_A_REGION", "other", "The jurisdiction is not a region and has no members."),
    Refusal("OUT_OF_ORDER", "other", "A renaming dated before the body's last renaming."),
    Refusal("SEAT_OCCUPIED", "other", "The seat is held by someone else."),
    Refusal("SEAT_VACANT", "other", "The seat is held by no one."),
    Refusal("ALREADY_ATTRIBUTED", "other", "The competence is attributed for an overlapping period."),
    Refusal("ALREADY_PROPOSED", "other", "The decision was already proposed."),
    Refusal("ALREADY_PUBLISHED", "other", "The decision was already published."),
    Refusal("NOT_PUBLISHED", "other", "The decision is not published, so not yet in force."),
    Refusal("ALREADY_IN_FORCE", "other", "The decision is already in force."),
    Refusal("BEFORE_PUBLICATION", "other", "Entry into force dated before publication."),
    Refusal("ALREADY_REPEALED", "other", "The decision was already repealed."),
    Refusal("ALREADY_ANNULLED", "other", "The decision was already annulled."),
    Refusal("EMPTY_CORRECTION", "other", "A correction that corrects no field."),
    Refusal("NOT_ADOPTED", "other", "The decision was not adopted."),
    Refusal("BEFORE_DECISION", "other", "A date before the decision was taken."),
    Refusal("VOTES_INCONSISTENT", "other", "The recorded votes do not add up."),
    Refusal("VOTES_CONTRADICT_OUTCOME", "other", "The votes give another outcome than recorded."),
    # Other: commissions and consultations
    Refusal("INVALID_TRANSITION", "other", "The commission's status does not allow the step."),
    Refusal("BEFORE_ISSUE", "other", "A date before the commission was issued."),
    Refusal("NOT_CONSULTED", "other", "The council was not asked for its view."),
    Refusal("CONSULTATION_CLOSED", "other", "The consultation is closed."),
    Refusal("ALREADY_RECORDED", "other", "The council already gave its view."),
    Refusal("BEFORE_OPENING", "other", "A date before the consultation opened."),
)
