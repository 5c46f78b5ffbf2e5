"""The test vectors of docs/verification.md (docs/vectors/ledger.json): a small ledger of stored
events, their hash chain, leaves, tree heads, proofs and a signed checkpoint. The tests hold the
file to the code, and to the database: the events stored through the ledger's own recorder get
the hashes the file gives, at the positions it gives (one position skipped, as the store's
sequence may skip). A format that changes by accident fails here; one that changes on purpose
regenerates the file (`python -m tests.test_verification_vectors`) and says so in the document."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import EVENTS_TABLE, Ledger
from ledger.transparency.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from ledger.transparency.note import Signer, Verifier
from ledger.transparency.tiles import TileBuilder, TileSet

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "vectors" / "ledger.json"
ORIGIN = "vectors.bevoegd.example/log"
SEED = bytes(range(32))  # a published key: never sign anything real with it
SKIPPED = 4  # the store's sequence skips this position

EVENTS = [  # (aggregate id, version, topic, state) as stored, in ledger order
    (UUID(int=1), 1, "ledger.domain.jurisdiction:Jurisdiction.Established",
     b'{"code":"dordrecht","name":"Dordrecht","kind":"municipality"}'),
    (UUID(int=2), 1, "ledger.domain.jurisdiction:Jurisdiction.Established",
     b'{"code":"drechtsteden","name":"Drechtsteden","kind":"region"}'),
    (UUID(int=2), 2, "ledger.domain.jurisdiction:Jurisdiction.MemberJoined",
     b'{"member":"dordrecht","on":"2013-01-01"}'),
    (UUID(int=3), 1, "ledger.domain.body:Body.Established",
     b'{"code":"raad-dordrecht","name":"Gemeenteraad van Dordrecht","kind":"council"}'),
    (UUID(int=4), 1, "ledger.domain.decision:Decision.Taken",
     b'{"code":"besluit-1","body":"raad-dordrecht","taken_on":"2013-03-05"}'),
    (UUID(int=4), 2, "ledger.domain.decision:Decision.Published",
     b'{"on":"2013-03-12","where":"Gemeenteblad 2013, 12"}'),
    (UUID(int=5), 1, "ledger.domain.body:Body.Established",
     b'{"code":"drechtraad","name":"Drechtraad","kind":"regional_council"}'),
]
POSITIONS = [1, 2, 3, 5, 6, 7, 8]


def _hex(data: bytes) -> str:
    return data.hex()


def chain_hash(previous: bytes, position: int, aggregate_id: UUID, version: int, topic: str,
               state: bytes) -> bytes:
    """The hash chain as docs/verification.md writes it, independently of the database's."""
    encoded = topic.encode()
    return hashlib.sha256(previous + position.to_bytes(8, "big") + aggregate_id.bytes
                          + version.to_bytes(8, "big") + len(encoded).to_bytes(4, "big")
                          + encoded + len(state).to_bytes(4, "big") + state).digest()


def vectors() -> dict[str, Any]:
    signer = Signer(ORIGIN, SEED)
    events, previous, leaves = [], bytes(32), []
    for position, (aggregate_id, version, topic, state) in zip(POSITIONS, EVENTS, strict=True):
        previous = chain_hash(previous, position, aggregate_id, version, topic, state)
        leaf = EventLeaf.of_event(position, aggregate_id, version, topic, state).data()
        leaves.append(leaf)
        events.append({"position": position, "aggregate_id": str(aggregate_id),
                       "version": version, "topic": topic, "state": state.decode(),
                       "event_hash": _hex(previous), "leaf_index": len(leaves) - 1,
                       "leaf_data": _hex(leaf), "leaf_hash": _hex(leaf_hash(leaf))})
    hashes = [leaf_hash(leaf) for leaf in leaves]
    builder = TileBuilder()
    tiles = TileSet(builder.append(hashes))
    size = len(leaves)
    checkpoint = Checkpoint(ORIGIN, size, root_of(hashes))
    return {
        "origin": ORIGIN, "signer_key": signer.text(), "verifier_key": signer.verifier.text(),
        "events": events,
        "tree_heads": {str(n): _hex(root_of(hashes[:n])) for n in range(1, size + 1)},
        "inclusion_proofs": [
            {"leaf_index": i, "tree_size": size,
             "hashes": [_hex(h) for h in inclusion_proof(i, size, tiles.subtree_hash)]}
            for i in range(size)],
        "consistency_proofs": [
            {"from": n, "to": size,
             "hashes": [_hex(h) for h in consistency_proof(n, size, tiles.subtree_hash)]}
            for n in range(1, size)],
        "tile_0": base64.b64encode(b"".join(hashes)).decode(),
        "checkpoint": sign_checkpoint(checkpoint, signer).decode(),
    }


def test_the_vectors_are_what_the_code_computes() -> None:
    assert json.loads(VECTORS.read_text()) == vectors(), (
        f"{VECTORS} differs from the code: regenerate it with "
        "`python -m tests.test_verification_vectors` if the change is meant")


def test_the_vectors_verify_by_their_own_account() -> None:
    """What a third party does with the file alone: proofs against the heads, the checkpoint
    against the key."""
    found = json.loads(VECTORS.read_text())
    size = len(found["events"])
    root = bytes.fromhex(found["tree_heads"][str(size)])
    for proof in found["inclusion_proofs"]:
        event = found["events"][proof["leaf_index"]]
        verify_inclusion(bytes.fromhex(event["leaf_hash"]), proof["leaf_index"], size,
                         [bytes.fromhex(h) for h in proof["hashes"]], root)
    for proof in found["consistency_proofs"]:
        verify_consistency(proof["from"], size, bytes.fromhex(found["tree_heads"][str(proof["from"])]),
                           root, [bytes.fromhex(h) for h in proof["hashes"]])
    checkpoint = open_checkpoint(found["checkpoint"].encode(), found["origin"],
                                 [Verifier.from_text(found["verifier_key"])])
    assert (checkpoint.size, checkpoint.root_hash) == (size, root)


@pytest.mark.database
def test_the_store_chains_the_vectors_as_documented(ledger: Ledger, database_url: str) -> None:
    """The events stored through the ledger's recorder get the documented positions and hashes."""
    stored = [StoredEvent(aggregate_id, version, topic, state)
              for aggregate_id, version, topic, state in EVENTS]
    ledger.store.insert_events(stored[:3])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"SELECT nextval('{EVENTS_TABLE}_notification_id_seq')")  # position 4
    ledger.store.insert_events(stored[3:])
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT notification_id, event_hash FROM {EVENTS_TABLE}"
                            " ORDER BY notification_id").fetchall()
    expected = json.loads(VECTORS.read_text())["events"]
    assert [(position, bytes(hashed).hex()) for position, hashed in rows] == [
        (event["position"], event["event_hash"]) for event in expected]
    assert SKIPPED not in [position for position, _ in rows]


if __name__ == "__main__":
    VECTORS.parent.mkdir(parents=True, exist_ok=True)
    VECTORS.write_text(json.dumps(vectors(), indent=1) + "\n")
