"""The ledger's stored events as the projections read them: decoded once per batch into plain
values (dates as dates, value objects as dicts), whatever projection applies them."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import orjson

from ledger.application import EVENTS_TABLE

RECORD_KINDS = {
    "Jurisdiction": "jurisdiction",
    "Body": "body",
    "Competence": "competence",
    "CompetenceHolding": "holding",
    "Decision": "decision",
    "Commission": "commission",
    "Consultation": "consultation",
    "Dossier": "dossier",
}
"""The aggregate classes by the record kind that names them (as in `KIND:CODE`)."""


class LedgerEvent(NamedTuple):
    """An immutable tuple: millions are made in a rebuild, and a tuple is the cheapest to make."""

    position: int
    record_id: UUID
    version: int
    record: str  # the aggregate class, e.g. "Decision"
    type: str  # the event, e.g. "Taken"
    data: dict[str, Any]
    topic: str  # as stored, with the state's bytes: what the transparency log's leaf hashes
    state: bytes

    @property
    def kind(self) -> str:
        return RECORD_KINDS[self.record]

    @property
    def meta(self) -> dict[str, Any]:
        return self.data["meta"]

    def is_(self, record: str, *types: str) -> bool:
        return self.record == record and self.type in types


def _plain(value: Any) -> Any:
    """The stored JSON without the transcoder's type wrappers ({"_type_": .., "_data_": ..})."""
    if type(value) is dict:
        kind = value.get("_type_")
        if kind is not None:
            data = value["_data_"]
            if kind == "date_iso":
                return date.fromisoformat(data)
            if kind == "datetime_iso":
                return datetime.fromisoformat(data)
            return _plain(data)
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = _plain(item)
        return value
    if type(value) is list:
        return [_plain(item) for item in value]
    return value


def _without_envelope(state: dict[str, Any]) -> dict[str, Any]:
    """The event's own fields: the library's timestamp and topic are not read (meta has the
    recording time), so they are not decoded."""
    state.pop("timestamp", None)
    state.pop("originator_topic", None)  # on the first event of a record only
    return state


@cache
def _record_and_type(topic: str) -> tuple[str, str]:
    """("Decision", "Taken") of "ledger.domain.decision:Decision.Taken"; the topics are few."""
    record, _, event_type = topic.rpartition(":")[2].partition(".")
    return record, event_type


def decode(row: asyncpg.Record) -> LedgerEvent:
    return LedgerEvent(row["notification_id"], row["originator_id"], row["originator_version"],
                       *_record_and_type(row["topic"]),
                       _plain(_without_envelope(orjson.loads(row["state"]))),
                       row["topic"], row["state"])


async def read_events(conn: asyncpg.Connection, after: int, limit: int,
                      until: int | None = None) -> list[LedgerEvent]:
    """The next events after `after` in global order (up to position `until`, if given)."""
    rows = await conn.fetch(
        f"SELECT notification_id, originator_id, originator_version, topic, state"
        f" FROM {EVENTS_TABLE} WHERE notification_id > $1 AND notification_id <= $2"
        f" ORDER BY notification_id LIMIT $3",
        after, until if until is not None else 2**62, limit)
    return [decode(row) for row in rows]

