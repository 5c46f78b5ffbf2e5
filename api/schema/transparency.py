"""The transparency log in the API: signed checkpoints and the proofs that hold the ledger to
them (RFC 9162, hashes in base64 as checkpoints write them). A proof is made for the latest
signed tree unless another size is asked for. The public sees the leaves of what it may see, and
only the leaf hashes of the rest (events of decisions not published)."""

from __future__ import annotations

import base64
from datetime import datetime

import strawberry

from ledger.transparency.merkle import leaf_hash
from ledger.transparency.tiles import TileSet
from projections.checkpoints import SignedCheckpoint, latest_checkpoint, recent_checkpoints
from projections.queries import log
from projections.queries.pagination import PageRequest
from projections.queries.sql import Db, both

KEPT_TILES = 256
"""How many tiles a process keeps for its proofs, with the hashes folded inside them (some 40 kB
each at most): the few near the top of the tree serve every proof."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@strawberry.type(description="A signed checkpoint of the transparency log (C2SP tlog-checkpoint "
                             "in a signed note): the tree's size and root hash, signed with the "
                             "log's key. Keep one, and the ledger can be held to it later.")
class Checkpoint:
    origin: str = strawberry.field(description="The log's name, the note's first line.")
    size: int = strawberry.field(description="How many events (leaves) the tree holds.")
    root_hash: str = strawberry.field(description="The tree's RFC 9162 root hash, base64.")
    signed_note: str = strawberry.field(
        description="The checkpoint as signed, to verify with the log's verifier key "
                    "(served at /log/verifier-key, and published elsewhere).")
    signed_at: datetime = strawberry.field(description="When it was signed.")

    @staticmethod
    def of(signed: SignedCheckpoint) -> Checkpoint:
        return Checkpoint(origin=signed.note.split("\n", 1)[0], size=signed.size,
                          root_hash=_b64(signed.root_hash), signed_note=signed.note,
                          signed_at=signed.signed_at)


@strawberry.type(description="The proof that an event is in the log: its leaf, and the hashes "
                             "that lead from it to the tree's root (RFC 9162 §2.1.3).")
class InclusionProof:
    position: int = strawberry.field(description="The event's ledger position.")
    leaf_index: int = strawberry.field(description="Its leaf's index in the tree (from 0).")
    tree_size: int = strawberry.field(description="The size of the tree it is proved in.")
    leaf_hash: str = strawberry.field(description="SHA-256(0x00 ‖ leaf data), base64.")
    leaf_data: str | None = strawberry.field(
        description="The leaf's 65 bytes (position, record id and version, hash of the stored "
                    "event), base64; null where the asker may not see the event.")
    root_hash: str = strawberry.field(description="The root hash of the tree, base64.")
    hashes: list[str] = strawberry.field(description="The proof's hashes, base64, in order.")
    checkpoint: Checkpoint | None = strawberry.field(
        description="The signed checkpoint of this tree size; null if none was signed for it.")


@strawberry.type(description="The proof that one tree of the log is a prefix of a later one: "
                             "history was only added to (RFC 9162 §2.1.4).")
class ConsistencyProof:
    from_size: int = strawberry.field(description="The size of the earlier tree.")
    to_size: int = strawberry.field(description="The size of the later tree.")
    from_root_hash: str = strawberry.field(description="The earlier tree's root hash, base64.")
    to_root_hash: str = strawberry.field(description="The later tree's root hash, base64.")
    hashes: list[str] = strawberry.field(description="The proof's hashes, base64, in order.")


async def _signed_size(db: Db, size: int | None, at_least: int) -> int:
    """The size asked for, else the latest checkpoint's if its tree has `at_least` leaves, else
    the tree's as it is."""
    if size is not None:
        return size
    latest = await latest_checkpoint(db)
    return latest.size if latest is not None and latest.size >= at_least \
        else await log.current_size(db)


async def inclusion_proofs(db: Db, positions: list[int], size: int | None, *, tiles: TileSet,
                           published_only: bool) -> list[InclusionProof]:
    """The proofs of these events, in the tree of `size` leaves or, without one, each in the
    latest signed tree if it holds the event; from `tiles` (kept across requests) and the rows
    it lacks."""
    reading = log.locate(db, positions, published_only)
    if size is None:
        latest, found = await both(db, latest_checkpoint(db), reading)
    else:
        latest, found = None, await reading
    signed = (latest.size, latest.root_hash) if latest is not None else None
    proofs = []
    for located in found:
        proof = await log.inclusion(db, located, size, signed, tiles=tiles)
        checkpoint = latest if latest is not None and latest.size == proof.size \
            else await latest_checkpoint(db, proof.size)
        proofs.append(InclusionProof(
            position=proof.position, leaf_index=proof.leaf_index, tree_size=proof.size,
            leaf_hash=_b64(leaf_hash(proof.leaf_data)),
            leaf_data=_b64(proof.leaf_data) if proof.visible else None,
            root_hash=_b64(proof.root_hash), hashes=[_b64(h) for h in proof.hashes],
            checkpoint=Checkpoint.of(checkpoint) if checkpoint is not None else None))
    return proofs


async def consistency_proof(db: Db, old_size: int, new_size: int | None, *, tiles: TileSet
                            ) -> ConsistencyProof:
    new_size = await _signed_size(db, new_size, old_size)
    hashes = await log.consistency(db, old_size, new_size, tiles=tiles)
    _, old_root = await log.tree_head(db, old_size, tiles=tiles)
    _, new_root = await log.tree_head(db, new_size, tiles=tiles)
    return ConsistencyProof(from_size=old_size, to_size=new_size, from_root_hash=_b64(old_root),
                            to_root_hash=_b64(new_root), hashes=[_b64(h) for h in hashes])


async def latest(db: Db) -> Checkpoint | None:
    signed = await latest_checkpoint(db)
    return Checkpoint.of(signed) if signed is not None else None


async def recent(db: Db, first: int) -> list[Checkpoint]:
    limit = PageRequest(first).first  # a list's bounds: 1 to 100
    return [Checkpoint.of(signed) for signed in await recent_checkpoints(db, limit)]
