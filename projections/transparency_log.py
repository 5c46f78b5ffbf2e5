"""The transparency log: a Merkle tree (RFC 9162) with one leaf per stored event in ledger order,
the leaf's bytes as ledger/transparency/leaf.py lays them out, kept as C2SP tlog-tiles.

A row holds the widest version of a hash tile or an entry bundle: a tile that is not full yet
grows in place as the log grows, and a narrower version of it (the partial tile of an older tree
size) is a prefix of its bytes. Positions (notification ids) map to leaf indexes through the
offsets, one row where the ids skip numbers, so the position of any leaf is found in one row.

The tree is drawn by the read side, like every projection, so that a command's transaction does
not grow: a rebuild draws the same tiles again from the same events."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ledger.transparency.leaf import leaf_data
from ledger.transparency.merkle import leaf_hash
from ledger.transparency.tiles import (
    TILE_WIDTH,
    BundleBuilder,
    EntryBundle,
    Tile,
    TileBuilder,
    edge_of,
)
from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection
from projections.tables import Column, Index, Table

LOG_TILES = Table("log_tiles", key=("level", "index"), columns=(
    Column("level", "integer"), Column("index", "bigint"), Column("width", "integer"),
    Column("hashes", "bytea")))
LOG_BUNDLES = Table("log_bundles", key=("index",), columns=(
    Column("index", "bigint"), Column("width", "integer"), Column("entries", "bytea")))
LOG_OFFSETS = Table("log_offsets", key=("first_position",), columns=(
    Column("first_position", "bigint"), Column("first_leaf", "bigint")))
LOG_LEAF_PREFIXES = Table("log_leaf_prefixes", columns=(
    Column("prefix", "bigint"), Column("leaf", "bigint")), indexes=(Index("prefix", "prefix"),))
"""Where to find a leaf by its hash: the hash's first eight bytes, as a signed number, beside the
leaf's index; the whole hash is in the level-0 tile, so a quarter of it suffices here."""


def leaf_hash_prefix(hash_: bytes) -> int:
    return int.from_bytes(hash_[:8], "big", signed=True)


def tree_size_query(schema: str) -> str:
    """How many leaves the tree has: the last level-0 tile says (no row: none)."""
    return (f"SELECT index * {TILE_WIDTH} + width FROM {schema}.log_tiles"
            " WHERE level = 0 ORDER BY index DESC LIMIT 1")


async def tree_size(conn: asyncpg.Connection | asyncpg.Pool, schema: str) -> int:
    return await conn.fetchval(tree_size_query(schema)) or 0


async def read_tiles(conn: asyncpg.Connection | asyncpg.Pool, schema: str,
                     wanted: Sequence[tuple[int, int]]) -> list[Tile]:
    """The stored tiles at these (level, index), as wide as they are."""
    rows = await conn.fetch(
        f"SELECT level, index, width, hashes FROM {schema}.log_tiles"
        " WHERE (level, index) IN (SELECT * FROM unnest($1::integer[], $2::bigint[]))",
        [level for level, _ in wanted], [index for _, index in wanted])
    return [Tile(row["level"], row["index"], row["width"], row["hashes"]) for row in rows]


class Offsets:
    """The offsets of leaves as they come: a row (first position, first leaf) wherever a leaf's
    position does not follow the one before it."""

    def __init__(self, next_position: int = 0) -> None:
        self.rows: list[tuple[int, int]] = []
        self.next_position = next_position  # the position that continues the last run

    def add(self, position: int, leaf: int) -> None:
        if position != self.next_position:
            self.rows.append((position, leaf))
        self.next_position = position + 1


class _Tree(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.leaves: list[bytes] = []
        self.offsets = Offsets()
        self.tiles = TileBuilder()
        self.bundles = BundleBuilder()

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """The tree's right edge, from which this batch grows it."""
        size = await tree_size(conn, self.schema)
        edge = [(level, index) for level, index, _ in edge_of(size)]
        self.tiles = TileBuilder(size, await read_tiles(conn, self.schema, edge))
        partial = await conn.fetchrow(
            f"SELECT index, width, entries FROM {self.schema}.log_bundles WHERE index = $1"
            f" AND width < {TILE_WIDTH}", size // TILE_WIDTH)
        self.bundles = BundleBuilder(size, partial and EntryBundle(*partial))
        last = await conn.fetchrow(f"SELECT first_position, first_leaf FROM {self.schema}"
                                   ".log_offsets ORDER BY first_position DESC LIMIT 1")
        if last is not None:
            self.offsets = Offsets(last["first_position"] + size - last["first_leaf"])

    def add_leaf(self, e: LedgerEvent) -> None:
        self.offsets.add(e.position, self.tiles.size + len(self.leaves))
        self.leaves.append(leaf_data(e.position, e.record_id, e.version, e.topic, e.state))

    async def save(self, conn: asyncpg.Connection) -> None:
        first_leaf = self.tiles.size
        hashes = [leaf_hash(leaf) for leaf in self.leaves]
        tiles = self.tiles.append(hashes)
        bundles = self.bundles.append(self.leaves)
        # the widest version of each tile is the one kept
        await LOG_TILES.upsert(conn, self.schema,
                               [(t.level, t.index, t.width, t.hashes) for t in tiles])
        await LOG_BUNDLES.upsert(conn, self.schema, [(b.index, b.width, b.data) for b in bundles])
        await LOG_OFFSETS.append(conn, self.schema, self.offsets.rows)
        await LOG_LEAF_PREFIXES.append(conn, self.schema, [
            (leaf_hash_prefix(hash_), leaf) for leaf, hash_ in enumerate(hashes, first_leaf)])


class TransparencyLog(DeclaredProjection[_Tree]):
    name = "transparency_log"
    version = 2
    declared = (LOG_TILES, LOG_BUNDLES, LOG_OFFSETS, LOG_LEAF_PREFIXES)
    batch = _Tree
    handles_every_event = _Tree.add_leaf
