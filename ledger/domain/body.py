"""Bodies (bestuursorganen): established, renamed, abolished; seats held by persons over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import RuleViolation
from ledger.values import Interval, Meta, record_id

BodyKind = Literal[
    "council",
    "executive",
    "regional_council",
    "regional_board",
    "committee",
    "officeholder",
    "official",
]


@dataclass
class SeatTerm:
    holder: str
    group: str | None
    period: Interval


class Body(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("body", code)

    @event("Established")
    def __init__(
        self,
        code: str,
        name: str,
        kind: BodyKind,
        jurisdiction: str,
        jurisdiction_kind: str,
        established_on: date,
        subordinate_to: str | None,
        meta: Meta,
    ) -> None:
        self.code = code
        self.kind = kind
        self.jurisdiction = jurisdiction
        self.jurisdiction_kind = jurisdiction_kind
        self.established_on = established_on
        self.subordinate_to = subordinate_to
        self.names: list[tuple[date, str]] = [(established_on, name)]
        self.abolished_on: date | None = None
        self.successor: str | None = None
        self.seats: dict[str, list[SeatTerm]] = {}

    @property
    def is_regional(self) -> bool:
        return self.jurisdiction_kind == "region"

    @property
    def name(self) -> str:
        return self.names[-1][1]

    def name_on(self, on: date) -> str:
        current = self.names[0][1]
        for since, name in self.names:
            if since <= on:
                current = name
        return current

    def is_active_on(self, on: date) -> bool:
        return self.established_on <= on and (self.abolished_on is None or on < self.abolished_on)

    def is_subordinate_of(self, other: Body) -> bool:
        return self.kind == "official" or self.subordinate_to == other.code

    def check_active_on(self, on: date, field: str = "body") -> None:
        """L1: a body acts only between its establishment and its abolition."""
        if self.established_on > on:
            raise RuleViolation(
                f"{self.name} was established on {self.established_on}; it did not exist on {on}.",
                code="BODY_NOT_ACTIVE",
                field=field,
            )
        if self.abolished_on is not None and on >= self.abolished_on:
            raise RuleViolation(
                f"{self.name} was abolished on {self.abolished_on}; it could not act on {on}.",
                code="BODY_NOT_ACTIVE",
                field=field,
            )

    def rename(self, name: str, on: date, meta: Meta) -> None:
        self.check_active_on(on, field="on")
        if on < self.names[-1][0]:
            raise RuleViolation(
                f"{self.name} was last renamed on {self.names[-1][0]}; a renaming on {on} would "
                "rewrite that history. Record a correction instead.",
                code="OUT_OF_ORDER",
                field="on",
            )
        self._renamed(name=name, on=on, meta=meta)

    def abolish(self, on: date, reason: str, successor: str | None, meta: Meta) -> None:
        if self.abolished_on is not None:
            raise RuleViolation(
                f"{self.name} was already abolished on {self.abolished_on}; record a correction "
                "rather than a second abolition.", code="ALREADY_ABOLISHED", field="body")
        self.check_active_on(on, field="on")
        self._abolished(on=on, reason=reason, successor=successor, meta=meta)

    def fill_seat(self, seat: str, holder: str, group: str | None, on: date, meta: Meta) -> None:
        self.check_active_on(on, field="on")
        for term in self.seats.get(seat, []):
            if term.period.valid_until is None or term.period.valid_until > on:
                raise RuleViolation(
                    f"Seat '{seat}' of {self.name} is held by {term.holder} from "
                    f"{term.period.valid_from}; vacate it first.",
                    code="SEAT_OCCUPIED",
                    field="seat",
                )
        self._seat_filled(seat=seat, holder=holder, group=group, on=on, meta=meta)

    def vacate_seat(self, seat: str, on: date, reason: str, meta: Meta) -> None:
        term = self._open_term(seat)
        if term is None:
            raise RuleViolation(
                f"Seat '{seat}' of {self.name} is not held by anyone.",
                code="SEAT_VACANT",
                field="seat",
            )
        Interval(term.period.valid_from, on)  # refuses a vacancy before the appointment
        self._seat_vacated(seat=seat, on=on, reason=reason, meta=meta)

    def holders_on(self, on: date) -> dict[str, str]:
        return {
            seat: term.holder
            for seat, terms in self.seats.items()
            for term in terms
            if term.period.contains(on)
        }

    def _open_term(self, seat: str) -> SeatTerm | None:
        for term in self.seats.get(seat, []):
            if term.period.valid_until is None:
                return term
        return None

    @event("Renamed")
    def _renamed(self, name: str, on: date, meta: Meta) -> None:
        self.names.append((on, name))

    @event("Abolished")
    def _abolished(self, on: date, reason: str, successor: str | None, meta: Meta) -> None:
        self.abolished_on = on
        self.successor = successor

    @event("SeatFilled")
    def _seat_filled(self, seat: str, holder: str, group: str | None, on: date, meta: Meta) -> None:
        self.seats.setdefault(seat, []).append(SeatTerm(holder, group, Interval(on)))

    @event("SeatVacated")
    def _seat_vacated(self, seat: str, on: date, reason: str, meta: Meta) -> None:
        term = self._open_term(seat)
        assert term is not None
        term.period = Interval(term.period.valid_from, on)
