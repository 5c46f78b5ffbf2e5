"""Jurisdictions: municipalities, regions (with members over time), provinces, water boards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import RuleViolation
from ledger.values import Interval, Meta, record_id

JurisdictionKind = Literal["municipality", "region", "province", "water_board"]


@dataclass
class Membership:
    member: str
    period: Interval


class Jurisdiction(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("jurisdiction", code)

    @event("Established")
    def __init__(self, code: str, name: str, kind: JurisdictionKind, meta: Meta) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.memberships: list[Membership] = []

    def members_on(self, on: date) -> list[str]:
        return [m.member for m in self.memberships if m.period.contains(on)]

    def admit_member(self, member: Jurisdiction, on: date, meta: Meta) -> None:
        self.check_is_region()
        if member.kind != "municipality":
            raise RuleViolation(
                f"{member.name} is a {member.kind}; only municipalities join a region.",
                code="MEMBER_NOT_A_MUNICIPALITY",
                field="member",
            )
        for m in self.memberships:
            if m.member == member.code and (m.period.valid_until is None or m.period.valid_until > on):
                raise RuleViolation(
                    f"{member.name} is already a member of {self.name} from {m.period.valid_from}.",
                    code="ALREADY_MEMBER",
                    field="member",
                )
        self._member_joined(member=member.code, on=on, meta=meta)

    def release_member(self, member: str, on: date, meta: Meta) -> None:
        self.check_is_region()
        current = self._open_membership(member)
        if current is None:
            raise RuleViolation(
                f"{member} is not a member of {self.name}, so it cannot leave.",
                code="NOT_A_MEMBER",
                field="member",
            )
        Interval(current.period.valid_from, on)  # refuses a departure before the joining
        self._member_left(member=member, on=on, meta=meta)

    def check_is_region(self) -> None:
        if self.kind != "region":
            raise RuleViolation(
                f"{self.name} is a {self.kind}, not a region: it has no members.",
                code="NOT_A_REGION",
                field="region",
            )

    def _open_membership(self, member: str) -> Membership | None:
        for m in self.memberships:
            if m.member == member and m.period.valid_until is None:
                return m
        return None

    @event("MemberJoined")
    def _member_joined(self, member: str, on: date, meta: Meta) -> None:
        self.memberships.append(Membership(member, Interval(on)))

    @event("MemberLeft")
    def _member_left(self, member: str, on: date, meta: Meta) -> None:
        current = self._open_membership(member)
        assert current is not None
        current.period = Interval(current.period.valid_from, on)
