"""Refusals a clerk can read: every rule violation has a stable code and a plain explanation."""

from __future__ import annotations


class LedgerError(Exception):
    """A command the ledger refuses; nothing of it is stored."""

    code = "LEDGER_ERROR"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class RuleViolation(LedgerError):
    """A legitimacy or record rule (L1–L12, or a lifecycle rule) forbids the command."""


class UnknownReference(LedgerError):
    """The command names a jurisdiction, body, competence, grant or record the ledger does not know."""

    code = "UNKNOWN_REFERENCE"


class AlreadyRecorded(LedgerError):
    """The command would create something that already exists under that code."""

    code = "ALREADY_EXISTS"


class InvalidCommand(LedgerError):
    """The command is malformed: a missing field, a wrong type, an impossible date."""

    code = "INVALID_COMMAND"


class IdempotencyKeyReused(LedgerError):
    """The idempotency key was used before for a command with different content."""

    code = "IDEMPOTENCY_KEY_REUSED"


class ConcurrencyConflict(LedgerError):
    """Other writers kept changing the same records; the command was retried and then given up."""

    code = "CONFLICT"
