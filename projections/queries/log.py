"""The transparency log read from its tiles: tree heads, inclusion and consistency proofs, the
tiles and entry bundles as C2SP tlog-tiles serves them, and the leaf of a ledger position. Every
answer comes from a few rows, whatever the tree's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.transparency.leaf import LEAF_SIZE, EventLeaf
from ledger.transparency.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    LeafRange,
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    tree_hash,
)
from ledger.transparency.tiles import (
    TILE_WIDTH,
    Tile,
    TileSet,
    decode_entry_bundle,
    encode_entry_bundle,
    tile_width,
    tiles_for,
)
from projections.errors import InvalidArgument
from projections.queries.audit import PUBLIC_EVENT
from projections.queries.sql import Db
from projections.tracking import SCHEMA
from projections.transparency_log import (
    leaf_hash_prefix,
    read_tiles,
    tree_size,
    tree_size_query,
)


class NotInLog(InvalidArgument):
    """A position that is no event of the log, or a tree size it has not reached."""

    code = "NOT_IN_LOG"


@dataclass(frozen=True)
class Inclusion:
    """Where an event's leaf is in the tree of `size` leaves, and the proof of it."""

    position: int
    leaf_index: int
    size: int
    leaf: EventLeaf
    leaf_data: bytes
    hashes: list[bytes]
    root_hash: bytes
    visible: bool  # whether the asker may see the event's data


async def current_size(db: Db) -> int:
    return await tree_size(db, SCHEMA)


async def _hold(db: Db, tiles: TileSet, ranges: list[LeafRange], size: int) -> None:
    """Reads into `tiles` those of the tiles these ranges of the tree of `size` leaves need
    that it lacks, or holds narrower than that tree has them."""
    lacking = sorted((level, index) for level, index in tiles_for(ranges)
                     if tiles.width(level, index) < tile_width(level, index, size))
    for tile in await read_tiles(db, SCHEMA, lacking) if lacking else []:
        tiles.add(tile)


async def _checked_size(db: Db, size: int | None, field: str) -> int:
    """The tree size asked for (the current one if None), which the tree must have reached."""
    current = await current_size(db)
    if size is None:
        return current
    if not 0 <= size <= current:
        raise NotInLog(f"The log has {current} leaves; a tree of {size} is not among its "
                       "trees.", field=field)
    return size


async def tree_head(db: Db, size: int | None = None, *, tiles: TileSet | None = None
                    ) -> tuple[int, bytes]:
    """The size and the RFC 9162 root hash of the tree of `size` leaves (the current tree if
    None), from `tiles` (kept across calls) and what it lacks."""
    size = await _checked_size(db, size, "size")
    if size == 0:
        return 0, EMPTY_ROOT
    tiles = tiles if tiles is not None else TileSet()
    await _hold(db, tiles, [LeafRange(0, size)], size)
    return size, tree_hash(size, tiles.subtree_hash)


ENTRY_SIZE = 2 + LEAF_SIZE  # every leaf of the log is of one size, so its place in a bundle is known
_LOCATED = f"""
SELECT p.position, ({tree_size_query(SCHEMA)}) AS size, located.leaf,
       (SELECT substring(entries FROM (located.leaf % {TILE_WIDTH} * {ENTRY_SIZE} + 1)::integer
                         FOR {ENTRY_SIZE})
        FROM {SCHEMA}.log_bundles WHERE index = located.leaf / {TILE_WIDTH}) AS entry,
       (SELECT hashes FROM {SCHEMA}.log_tiles
        WHERE level = 0 AND index = located.leaf / {TILE_WIDTH}) AS leaf_tile,
       CASE WHEN $2 THEN EXISTS (SELECT FROM {SCHEMA}.audit_trail
                                 WHERE audit_trail.position = p.position AND {PUBLIC_EVENT})
            ELSE true END AS visible
FROM unnest($1::bigint[]) WITH ORDINALITY AS p(position, n) LEFT JOIN LATERAL (
    SELECT first_leaf + p.position - first_position AS leaf FROM {SCHEMA}.log_offsets
    WHERE first_position <= p.position ORDER BY first_position DESC LIMIT 1) AS located ON true
ORDER BY p.n"""
"""A proof's first question, for any number of events in one round trip: the tree's size, the
leaf index each position maps to, that leaf's entry in its bundle, the level-0 tile with its
hash and its neighbours', and whether the public ($2) may see the event."""


@dataclass(frozen=True)
class Located:
    """Where the event at `position` is in the tree: what a proof of it starts from."""

    position: int
    size: int  # the tree's, as it was found
    leaf: int
    data: bytes
    tile: Tile  # the level-0 tile with the leaf's hash
    visible: bool  # whether the asker may see the event's data


async def locate(db: Db, positions: Sequence[int], published_only: bool = False
                 ) -> list[Located]:
    """Where the events at these positions are in the tree, in their order; `published_only`:
    whether the public asks."""
    return [_located(*row) for row in await db.fetch(_LOCATED, list(positions), published_only)]


def _located(position: int, size: int | None, index: int | None, entry: bytes | None,
             hashes: bytes | None, visible: bool) -> Located:
    size = size or 0
    if index is None or index >= size or hashes is None:
        raise NotInLog(f"Position {position} is no event in the log (yet).", field="position")
    if entry is None or len(entry) != ENTRY_SIZE or int.from_bytes(entry[:2], "big") != LEAF_SIZE:
        raise NotInLog(f"Leaf {index} is not in the log's bundles.", field="position")
    data = bytes(entry[2:])
    if EventLeaf.parse(data).position != position:
        raise NotInLog(f"Position {position} is no event in the log (yet).", field="position")
    return Located(position, size, index, data,
                   Tile(0, index // TILE_WIDTH, len(hashes) // HASH_SIZE, bytes(hashes)), visible)


_LEAF_POSITIONS = f"""
SELECT o.first_position + l.leaf - o.first_leaf
FROM {SCHEMA}.log_leaf_prefixes l
JOIN {SCHEMA}.log_tiles t ON t.level = 0 AND t.index = l.leaf / {TILE_WIDTH}
CROSS JOIN LATERAL (SELECT first_position, first_leaf FROM {SCHEMA}.log_offsets
                    WHERE first_leaf <= l.leaf ORDER BY first_leaf DESC LIMIT 1) o
WHERE l.prefix = $1
  AND substring(t.hashes FROM (l.leaf % {TILE_WIDTH} * {HASH_SIZE} + 1)::integer FOR {HASH_SIZE}) = $2"""
"""The ledger positions of the leaves whose hash is $2 (its prefix $1, `leaf_hash_prefix`): the
prefix finds the candidates, their level-0 tile holds each one's whole hash."""


async def leaf_positions(db: Db, hash_: bytes) -> list[int]:
    """The ledger position of the event whose leaf has this hash (two, should SHA-256 ever
    collide); none if no leaf has it."""
    return [row[0] for row in await db.fetch(_LEAF_POSITIONS, leaf_hash_prefix(hash_), hash_)]


_LEAVES = f"""
SELECT p.position, ({tree_size_query(SCHEMA)}) AS size, (
    SELECT o.first_leaf + p.position - o.first_position FROM {SCHEMA}.log_offsets o
    WHERE o.first_position <= p.position ORDER BY o.first_position DESC LIMIT 1) AS leaf
FROM unnest($1::bigint[]) AS p(position)"""


async def leaf_indexes(db: Db, positions: Sequence[int]) -> dict[int, int]:
    """The leaf index of each of these events' positions that the tree holds yet, in one
    query. The positions are those of stored events: the offsets map each to its leaf."""
    return {row["position"]: row["leaf"] for row in await db.fetch(_LEAVES, list(positions))
            if row["leaf"] is not None and row["leaf"] < (row["size"] or 0)}


async def inclusion(db: Db, located: Located, size: int | None = None,
                    signed: tuple[int, bytes] | None = None, *, tiles: TileSet | None = None
                    ) -> Inclusion:
    """The proof that the `located` event is in the tree of `size` leaves; without a size, in
    the tree of the `signed` checkpoint (size, root) if that holds the event, else in the tree
    as it was found. The signed tree's root is taken from its checkpoint, so only the tiles of
    the proof's path are read, and of those only the ones `tiles` (kept across proofs) lacks."""
    tiles = tiles if tiles is not None else TileSet()
    current, index = located.size, located.leaf
    if size is None:
        size = signed[0] if signed is not None and index < signed[0] <= current else current
    elif not index < size <= current:
        raise NotInLog(f"Position {located.position} is leaf {index}, which is not in a tree of "
                       f"{size} leaves (the log has {current}).", field="treeSize")
    tiles.add(located.tile)
    path = inclusion_path(index, size)
    root = signed[1] if signed is not None and signed[0] == size else None
    await _hold(db, tiles, path if root is not None else [*path, LeafRange(0, size)], size)
    return Inclusion(located.position, index, size, EventLeaf.parse(located.data), located.data,
                     inclusion_proof(index, size, tiles.subtree_hash),
                     root if root is not None else tree_hash(size, tiles.subtree_hash),
                     located.visible)


async def consistency(db: Db, old_size: int, new_size: int, *, tiles: TileSet | None = None
                      ) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`."""
    new_size = await _checked_size(db, new_size, "to")
    if not 0 < old_size <= new_size:
        raise NotInLog(f"A consistency proof runs from a tree of 1 or more leaves to one at least "
                       f"as large, not from {old_size} to {new_size}.", field="from")
    tiles = tiles if tiles is not None else TileSet()
    await _hold(db, tiles, consistency_path(old_size, new_size), new_size)
    return consistency_proof(old_size, new_size, tiles.subtree_hash)


async def tile(db: Db, level: int, index: int, width: int) -> bytes | None:
    """The hashes of a tile as served at `width` (a prefix of the stored, maybe wider, tile);
    None if the log has not grown that far."""
    hashes = await db.fetchval(
        f"SELECT hashes FROM {SCHEMA}.log_tiles WHERE level = $1 AND index = $2 AND width >= $3",
        level, index, width)
    return None if hashes is None else hashes[:width * HASH_SIZE]


async def bundle(db: Db, index: int, width: int) -> bytes | None:
    """The entry bundle as served at `width`; None if the log has not grown that far."""
    entries = await db.fetchval(
        f"SELECT entries FROM {SCHEMA}.log_bundles WHERE index = $1 AND width >= $2",
        index, width)
    return None if entries is None else encode_entry_bundle(decode_entry_bundle(entries)[:width])
