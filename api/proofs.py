"""Proofs of the transparency log as `bevoegd prove` gives them: the proof, the tree heads it
leads to and the signed checkpoints of those trees, hashes in base64 as checkpoints write them.
A proof is made for a signed tree unless another size is asked for, since a verifier holds the
log to its checkpoints, not to a size."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg

from ledger.transparency.merkle import leaf_hash
from projections.checkpoints import latest_checkpoint, setup_checkpoints
from projections.queries import log


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _signed_size(conn: asyncpg.Connection, size: int | None) -> int:
    """The size asked for, else the latest checkpoint's, else the tree's as it is."""
    await setup_checkpoints(conn)  # none may have been signed on this database yet
    if size is not None:
        return size
    latest = await latest_checkpoint(conn)
    return latest.size if latest is not None else await log.current_size(conn)


async def _checkpoint_note(conn: asyncpg.Connection, size: int) -> str | None:
    signed = await latest_checkpoint(conn, size)
    return signed.note if signed is not None else None


async def inclusion_answer(conn: asyncpg.Connection, position: int,
                           size: int | None) -> dict[str, Any]:
    proof = await log.inclusion(conn, position, await _signed_size(conn, size))
    _, root = await log.tree_head(conn, proof.size)
    return {"position": position, "leafIndex": proof.leaf_index, "treeSize": proof.size,
            "leafData": _b64(proof.leaf_data), "leafHash": _b64(leaf_hash(proof.leaf_data)),
            "rootHash": _b64(root), "proof": [_b64(h) for h in proof.hashes],
            "checkpoint": await _checkpoint_note(conn, proof.size)}


async def consistency_answer(conn: asyncpg.Connection, old_size: int,
                             new_size: int | None) -> dict[str, Any]:
    new_size = await _signed_size(conn, new_size)
    proof = await log.consistency(conn, old_size, new_size)
    _, old_root = await log.tree_head(conn, old_size)
    _, new_root = await log.tree_head(conn, new_size)
    return {"fromSize": old_size, "toSize": new_size, "fromRootHash": _b64(old_root),
            "toRootHash": _b64(new_root), "proof": [_b64(h) for h in proof],
            "fromCheckpoint": await _checkpoint_note(conn, old_size),
            "toCheckpoint": await _checkpoint_note(conn, new_size)}


def as_text(answer: dict[str, Any]) -> str:
    """One line a field; the proof's hashes and a checkpoint's lines indented below it."""
    lines = []
    for key, value in answer.items():
        if isinstance(value, list):
            lines += [f"{key}:", *(f"  {item}" for item in value)]
        elif isinstance(value, str) and "\n" in value:
            lines += [f"{key}:", *(f"  {line}" for line in value.rstrip("\n").split("\n"))]
        else:
            lines.append(f"{key}: {'none signed' if value is None else value}")
    return "\n".join(lines)
