"""Proofs of the transparency log as `bevoegd prove` prints them: the API's proofs
(api/schema/transparency.py) as JSON, or as text with one field a line."""

from __future__ import annotations

import dataclasses
from typing import Any

import asyncpg

from api.schema import transparency
from ledger.transparency.tiles import TileSet
from projections.checkpoints import setup_checkpoints


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def _plain(found: Any) -> dict[str, Any]:
    """A proof's fields by their GraphQL names; a checkpoint by its signed note."""
    return {_camel(field.name): value.signed_note if isinstance(value, transparency.Checkpoint)
            else value for field in dataclasses.fields(found)
            if (value := getattr(found, field.name)) is not None or field.name == "checkpoint"}


async def inclusion_answer(conn: asyncpg.Connection, position: int,
                           size: int | None) -> dict[str, Any]:
    await setup_checkpoints(conn)  # none may have been signed on this database yet
    (proof,) = await transparency.inclusion_proofs(conn, [position], size, tiles=TileSet(),
                                                   published_only=False)
    return _plain(proof)


async def consistency_answer(conn: asyncpg.Connection, old_size: int,
                             new_size: int | None) -> dict[str, Any]:
    await setup_checkpoints(conn)
    return _plain(await transparency.consistency_proof(conn, old_size, new_size, tiles=TileSet()))


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
