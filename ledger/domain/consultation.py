"""Consultations (zienswijzen, Wgr): a regional body asks member councils for their views on a
draft decision before a deadline; the final decision records which views it received."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import RuleViolation
from ledger.values import Document, Meta, record_id


class Consultation(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("consultation", code)

    @event("Opened")
    def __init__(
        self,
        code: str,
        subject: str,
        opened_by: str,
        draft_decision: str | None,
        consulted: list[str],
        opened_on: date,
        respond_by: date,
        meta: Meta,
    ) -> None:
        self.code = code
        self.subject = subject
        self.opened_by = opened_by
        self.draft_decision = draft_decision
        self.consulted = consulted
        self.opened_on = opened_on
        self.respond_by = respond_by
        self.views: dict[str, date] = {}
        self.closed_on: date | None = None

    def views_received_by(self, on: date) -> list[str]:
        return sorted(council for council, received in self.views.items() if received <= on)

    def check_open_by(self, on: date) -> None:
        """A decision can only take in a consultation that had begun by its date."""
        if on < self.opened_on:
            raise RuleViolation(
                f"Consultation {self.code} opened on {self.opened_on}, after {on}; a decision of "
                f"{on} cannot have taken in its views.", code="BEFORE_OPENING", field="consultation")

    def submit_view(
        self, council: str, on: date, position: str, document: Document | None, meta: Meta
    ) -> None:
        if council not in self.consulted:
            raise RuleViolation(f"{council} was not asked for its view in consultation {self.code}.",
                                code="NOT_CONSULTED", field="council")
        if self.closed_on is not None:
            raise RuleViolation(f"Consultation {self.code} was closed on {self.closed_on}.",
                                code="CONSULTATION_CLOSED", field="code")
        if council in self.views:
            raise RuleViolation(f"{council} already gave its view on {self.views[council]}.",
                                code="ALREADY_RECORDED", field="council")
        if on < self.opened_on:
            raise RuleViolation(f"Consultation {self.code} opened on {self.opened_on}, after {on}.",
                                code="BEFORE_OPENING", field="on")
        self._view_submitted(council=council, on=on, position=position, document=document,
                             late=on > self.respond_by, meta=meta)

    def close(self, on: date, meta: Meta) -> None:
        if self.closed_on is not None:
            raise RuleViolation(f"Consultation {self.code} was already closed on {self.closed_on}.",
                                code="CONSULTATION_CLOSED", field="code")
        if on < self.opened_on:
            raise RuleViolation(f"Consultation {self.code} opened on {self.opened_on}, after {on}.",
                                code="BEFORE_OPENING", field="on")
        self._closed(on=on, views_received=self.views_received_by(on), meta=meta)

    @event("ViewSubmitted")
    def _view_submitted(self, council: str, on: date, position: str, document: Document | None,
                        late: bool, meta: Meta) -> None:
        self.views[council] = on

    @event("Closed")
    def _closed(self, on: date, views_received: list[str], meta: Meta) -> None:
        self.closed_on = on
