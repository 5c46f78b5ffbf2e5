"""The ledger for auditors as JSON Lines: every event of a signed tree as stored (position, record
id and version, topic, the stored state as text), with its chain hash and leaf, in ledger order;
then the signed checkpoint of that tree. Such a file can be checked without Bevoegd's help by
docs/verification.md (the chain from the first event, the tree head, the signature), and is
checked here without a database, with a replay through the ledger's own rules on top."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger
from ledger.replay import Doubt, replay
from ledger.store import GENESIS_HASH, event_hash
from ledger.transparency import TransparencyError
from ledger.transparency.checkpoint import open_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import leaf_hash, root_of
from ledger.transparency.note import Verifier
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


@dataclass(frozen=True)
class ExportCheck:
    """What an export was found to be: the size and head it proves, and the first thing that
    does not hold (None when everything does), with the decisions whose chain does not."""

    events: int
    root_hash: bytes | None
    problem: str | None
    position: int | None
    doubts: list[Doubt]

    @property
    def holds(self) -> bool:
        return self.problem is None and not self.doubts

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.holds, "events": self.events,
                "root_hash": self.root_hash.hex() if self.root_hash else None,
                "first_difference": None if self.problem is None else {
                    "position": self.position, "what": self.problem},
                "decisions_in_doubt": [dataclasses.asdict(doubt) for doubt in self.doubts]}


def check_export(lines: Iterable[str], verifiers: list[Verifier]) -> ExportCheck:
    """Checks an export offline: every chain hash from the first event, every leaf, the tree head
    against the signed checkpoint at the end and its signature; then replays the events through
    the ledger's rules (ledger/replay.py)."""
    events: list[tuple[int, StoredEvent]] = []
    previous, hashes, checkpoint_note = GENESIS_HASH, [], None
    for number, line in enumerate(lines, 1):
        item = json.loads(line)
        if "checkpoint" in item:
            checkpoint_note = item["checkpoint"]
            break
        stored = StoredEvent(UUID(item["aggregate_id"]), item["version"], item["topic"],
                             item["state"].encode())
        position = item["position"]
        previous = event_hash(previous, position, stored.originator_id,
                              stored.originator_version, stored.topic, stored.state)
        leaf = leaf_hash(EventLeaf.of_event(position, stored.originator_id,
                                            stored.originator_version, stored.topic,
                                            stored.state).data())
        if previous.hex() != item["event_hash"] or leaf.hex() != item["leaf_hash"] \
                or item["leaf_index"] != len(hashes):
            return ExportCheck(len(hashes), None, f"line {number}: the event's hash or leaf "
                               "is not what its content and the events before it give", position,
                               [])
        hashes.append(leaf)
        events.append((position, stored))
    root = root_of(hashes)
    problem = _checkpoint_problem(checkpoint_note, len(hashes), root, verifiers)
    if problem is not None:
        return ExportCheck(len(hashes), root, problem, None, [])
    _, doubts = replay(events)
    return ExportCheck(len(hashes), root, None, None, doubts)


def _checkpoint_problem(note: str | None, size: int, root: bytes,
                        verifiers: list[Verifier]) -> str | None:
    if note is None:
        return "the export does not end with a signed checkpoint"
    origin = note.split("\n", 1)[0]
    try:
        checkpoint = open_checkpoint(note.encode(), origin, verifiers)
    except TransparencyError as error:
        return f"the checkpoint does not open with the keys given: {error}"
    if (checkpoint.size, checkpoint.root_hash) != (size, root):
        return (f"the checkpoint signs a tree of {checkpoint.size} events, not the tree of the "
                f"{size} events exported")
    return None
