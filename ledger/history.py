"""The event history as an auditor reads it: every event with its metadata, and with what its
hash covers (docs/verification.md): record id, version, stored topic and state bytes, and the
hash it is chained to."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.errors import InvalidCommand, UnknownReference
from ledger.values import record_id

if TYPE_CHECKING:
    from ledger.application import Ledger


def aggregate_id(reference: str) -> UUID:
    """A record named by UUID or by KIND:CODE (jurisdiction, body, competence, decision,
    commission, consultation, dossier, holding with CODE competence@jurisdiction)."""
    try:
        return UUID(reference)
    except ValueError:
        kind, _, code = reference.partition(":")
        if not code:
            raise InvalidCommand(f"'{reference}' is neither a UUID nor KIND:CODE.") from None
        return record_id(kind, code)


def history_entries(ledger: Ledger, aggregate: str | None, after: int, limit: int
                    ) -> list[dict[str, Any]]:
    """The events after a position, of one record if named; a record the ledger has never
    recorded is refused, lest a typo look like a record without events."""
    originator_id = aggregate_id(aggregate) if aggregate is not None else None
    rows = ledger.store.chain_rows(after, limit, originator_id, with_previous_hash=True)
    if originator_id is not None and not rows and not ledger.store.chain_rows(0, 1, originator_id):
        raise UnknownReference(f"The ledger has no record {aggregate}.", field="aggregate")
    entries = []
    for row in rows:
        state = _plain(json.loads(bytes(row["state"])))
        state.pop("originator_topic", None)
        state.pop("timestamp", None)
        entries.append({
            "position": row["notification_id"],
            "record": str(row["originator_id"]),
            "version": row["originator_version"],
            "type": row["topic"].rpartition(":")[2],
            "meta": state.pop("meta", {}),
            "data": state,
            "hash": bytes(row["event_hash"]).hex(),
            # what the hash covers, as stored: the chain can be recomputed from these alone
            "topic": row["topic"],
            "state": base64.b64encode(bytes(row["state"])).decode(),
            "previous_hash": bytes(row["previous_hash"]).hex(),
        })
    return entries


def _plain(value: Any) -> Any:
    """The stored JSON without the transcoder's type wrappers ({"_type_": .., "_data_": ..})."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return _plain(value["_data_"])
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
