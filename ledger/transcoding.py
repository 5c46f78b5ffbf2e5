"""How the ledger's value objects are written into stored events (JSON)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from ledger.personal_data import SealedPersonalData
from ledger.values import ChainLink, Document, MemberVote, Meta, Votes


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ValueObjectAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; nested values are transcoded in turn."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__
        # the names once: asking the dataclass for its fields took longer than the copy
        self.fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_ledger_transcodings(transcoder: JSONTranscoder) -> None:
    """The library's own (UUIDs, decimals, datetimes) and the ledger's value objects."""
    for library in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(library)
    transcoder.register(DateAsISO())
    for cls in (Meta, ChainLink, Document, MemberVote, Votes, SealedPersonalData):
        transcoder.register(ValueObjectAsDict(cls))


def ledger_mapper() -> Mapper:
    """Stored events to domain events and back, as the ledger maps them, without a database."""
    transcoder = JSONTranscoder()
    register_ledger_transcodings(transcoder)
    return Mapper(transcoder=transcoder)
