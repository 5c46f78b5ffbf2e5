"""Value objects shared by the aggregates: metadata, valid time, documents, votes, chain links."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.errors import RuleViolation

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:bevoegd:ledger")


@lru_cache(maxsize=100_000)  # a command derives the ids of the records it names several times
def record_id(kind: str, code: str) -> UUID:
    """Aggregates are addressed by their human code; the id is derived so imports stay idempotent."""
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{code}")


def check_reason(reason: str) -> None:
    """L9: whatever revokes, ends, annuls or corrects says why."""
    if not reason.strip():
        raise RuleViolation(
            "A revocation, annulment or correction states its reason.",
            code="REASON_REQUIRED",
            field="reason",
        )


@dataclass(frozen=True)
class Meta:
    """Who recorded an event, when, and in answer to which command (not part of valid time)."""

    recorded_at: datetime
    actor: str
    command_id: str
    correlation_id: str


@dataclass(frozen=True)
class Interval:
    """Valid time, half-open: [valid_from, valid_until); an open end is None."""

    valid_from: date
    valid_until: date | None = None

    def __post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise RuleViolation(
                f"The period ends ({self.valid_until}) on or before it starts ({self.valid_from}).",
                code="EMPTY_PERIOD",
                field="valid_until",
            )

    def contains(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)


@dataclass(frozen=True)
class Document:
    """A document referenced by title, address and SHA-256 of its content, never copied in."""

    title: str
    address: str
    sha256: str


@dataclass(frozen=True)
class MemberVote:
    member: str
    vote: Literal["for", "against", "abstain"]
    group: str | None = None
    weight: int = 1


@dataclass(frozen=True)
class Votes:
    """Votes at the grain known: counts (None = unknown), per-member votes where known, the rule."""

    majority_rule: Literal["simple", "two_thirds", "unanimous"] = "simple"
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    present: int | None = None
    members: tuple[MemberVote, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))  # JSON gives back a list


@dataclass(frozen=True)
class ChainLink:
    """One step of a legitimacy chain: the attribution at the root, then each grant used."""

    kind: Literal["attribution", "delegation", "mandate", "submandate"]
    grantee: str
    legal_basis: str
    valid_from: date
    valid_until: date | None
    grant: str | None = None
    grantor: str | None = None
    source_decision: str | None = None
    framework_body: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            f.name: value.isoformat() if isinstance(value, date) else value
            for f in fields(self)
            for value in (getattr(self, f.name),)
        }
