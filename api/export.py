"""The ledger for auditors as JSON Lines: every event of a signed tree as stored (position, record
id and version, topic, the stored state as text), with its chain hash and leaf, in ledger order;
then the signed checkpoint of that tree. The file is checked without Bevoegd's help by
docs/verification.md: the chain from the first event, the tree head, the signature."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ledger.application import Ledger
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import leaf_hash
from projections.checkpoints import SignedCheckpoint

BATCH = 5000


def export_lines(ledger: Ledger, checkpoint: SignedCheckpoint) -> Iterator[str]:
    """The lines of the export of the tree `checkpoint` signed: its events, then itself."""
    exported, after = 0, 0
    while exported < checkpoint.size:
        rows = ledger.store.chain_rows(after, min(BATCH, checkpoint.size - exported))
        if not rows:
            raise RuntimeError(f"The ledger holds {exported} events, fewer than the "
                               f"{checkpoint.size} its checkpoint signed.")
        for row in rows:
            yield json.dumps(_event(row, exported))
            exported += 1
        after = rows[-1]["notification_id"]
    yield json.dumps({"checkpoint": checkpoint.note})


def _event(row: dict[str, Any], index: int) -> dict[str, Any]:
    state = bytes(row["state"])
    leaf = EventLeaf.of_event(row["notification_id"], row["originator_id"],
                              row["originator_version"], row["topic"], state).data()
    return {"position": row["notification_id"], "leaf_index": index,
            "aggregate_id": str(row["originator_id"]), "version": row["originator_version"],
            "topic": row["topic"], "state": state.decode(),
            "event_hash": bytes(row["event_hash"]).hex(), "leaf_hash": leaf_hash(leaf).hex()}
