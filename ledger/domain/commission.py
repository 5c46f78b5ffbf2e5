"""Commissions (opdrachten): one body asks another to work something out. L8: a commission
transfers no competence, so nothing in the legitimacy chain ever looks at one."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import RuleViolation
from ledger.values import Meta, record_id

CommissionStatus = Literal["issued", "accepted", "fulfilled", "withdrawn"]


class Commission(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("commission", code)

    @event("Issued")
    def __init__(
        self,
        code: str,
        subject: str,
        issued_by: str,
        issued_to: str,
        dossier: str | None,
        issued_on: date,
        due_on: date | None,
        binding: bool,
        source_decision: str | None,
        meta: Meta,
    ) -> None:
        self.code = code
        self.subject = subject
        self.issued_by = issued_by
        self.issued_to = issued_to
        self.issued_on = issued_on
        self.due_on = due_on
        self.binding = binding
        self.status: CommissionStatus = "issued"
        self.progress_reports = 0

    def accept(self, on: date, meta: Meta) -> None:
        self.check_status("issued", "accepted")
        self.check_not_before_issue(on)
        self._accepted(on=on, meta=meta)

    def report_progress(self, on: date, note: str, meta: Meta) -> None:
        self.check_open("report progress on")
        self.check_not_before_issue(on)
        self._progress_reported(on=on, note=note, meta=meta)

    def fulfil(self, on: date, decision: str | None, meta: Meta) -> None:
        self.check_open("fulfil")
        self.check_not_before_issue(on)
        self._fulfilled(on=on, decision=decision, meta=meta)

    def withdraw(self, on: date, reason: str, meta: Meta) -> None:
        self.check_open("withdraw")
        self.check_not_before_issue(on)
        self._withdrawn(on=on, reason=reason, meta=meta)

    def check_status(self, expected: CommissionStatus, action: str) -> None:
        if self.status != expected:
            raise RuleViolation(f"Commission {self.code} is {self.status}; it cannot be {action}.",
                                code="INVALID_TRANSITION", field="code")

    def check_open(self, action: str) -> None:
        if self.status in ("fulfilled", "withdrawn"):
            raise RuleViolation(
                f"Commission {self.code} is {self.status}; one cannot {action} it any more.",
                code="INVALID_TRANSITION", field="code")

    def check_not_before_issue(self, on: date) -> None:
        if on < self.issued_on:
            raise RuleViolation(f"Commission {self.code} was issued on {self.issued_on}, after {on}.",
                                code="BEFORE_ISSUE", field="on")

    @event("Accepted")
    def _accepted(self, on: date, meta: Meta) -> None:
        self.status = "accepted"

    @event("ProgressReported")
    def _progress_reported(self, on: date, note: str, meta: Meta) -> None:
        self.progress_reports += 1

    @event("Fulfilled")
    def _fulfilled(self, on: date, decision: str | None, meta: Meta) -> None:
        self.status = "fulfilled"

    @event("Withdrawn")
    def _withdrawn(self, on: date, reason: str, meta: Meta) -> None:
        self.status = "withdrawn"
