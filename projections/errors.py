"""Reads that cannot be answered, with stable codes like the ledger's refusals."""

from __future__ import annotations


class ReadError(Exception):
    code = "READ_ERROR"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def extensions(self) -> dict[str, str]:
        """The code next to the message, and the argument it concerns, as an API reports it."""
        return {"code": self.code} | ({"argument": self.field} if self.field else {})


class InvalidArgument(ReadError):
    code = "INVALID_ARGUMENT"


class NotProjectedYet(ReadError):
    """The projections did not reach the asked position within the time allowed."""

    code = "NOT_PROJECTED_YET"


class UnknownRecord(ReadError):
    """An argument names a record the ledger does not know (or the asker may not know of)."""

    code = "UNKNOWN_REFERENCE"
