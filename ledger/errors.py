"""Refusals a clerk can read: every rule violation has a stable code and a plain explanation."""

from __future__ import annotations


class LedgerError(Exception):
    """A command the ledger refuses; no event of it is stored."""

    code = "LEDGER_ERROR"
    replayed = False
    """True when this is the refusal recorded for the idempotency key earlier, answered again."""

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


class RecordedRefusal(LedgerError):
    """The refusal given the first time an idempotency key was sent, answered again to a repeat
    of the same command: the command is not checked again, so a refusal stands like an
    acceptance does (a new key tries the command afresh)."""

    replayed = True

    @classmethod
    def from_dict(cls, refusal: dict[str, str | None]) -> RecordedRefusal:
        """The refusal as `as_dict` gave it."""
        return cls(str(refusal["message"]), code=refusal["code"], field=refusal["field"])


class IdempotencyKeyReused(LedgerError):
    """The idempotency key was used before for a command with different content."""

    code = "IDEMPOTENCY_KEY_REUSED"


class ConcurrencyConflict(LedgerError):
    """Other writers kept changing the same records; the command was retried and then given up.
    Unlike the rules' refusals it is not recorded: a retry with the same key may succeed."""

    code = "CONFLICT"
