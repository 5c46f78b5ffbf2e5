"""The stored events checked in ledger order: each event's hash follows from the hash stored
before it (the chain of ledger/store.py, checked by a process of its own: chain.py), and the
transparency log the read side holds (projections/transparency_log.py: its tiles, entry bundles
and offsets) is the tree of these events, drawn anew in one pass. The tree's head is kept at each
size a checkpoint claims.

Read in one snapshot (a REPEATABLE READ transaction, the caller's, which the chain's process
joins), so that the events, the tiles and the transparency log's position agree whatever is
written meanwhile; the read side's tree is compared at that position, the chain and the heads run
to the last event. The events come
in batches, the stored tiles and bundles for each batch's new full ones: memory stays bounded
but for the offsets (a row where positions skip) and the heads asked for."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from ledger.application import EVENTS_TABLE
from ledger.transparency import TransparencyError
from ledger.transparency.leaf import EventLeaf, leaf_data
from ledger.transparency.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash
from ledger.transparency.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    BundleBuilder,
    EntryBundle,
    Tile,
    TileBuilder,
    decode_entry_bundle,
    tiles_of,
)
from projections.rebuild import Progress
from projections.tracking import SCHEMA
from projections.transparency_log import Offsets, TransparencyLog
from projections.verification.chain import check_chain
from projections.verification.findings import Check, Difference, Findings, short_hash

BATCH = 2_000
"""Events per batch: 2,000 went about 40 % faster than 10,000 (6 MB of rows) on the two-core
benchmark machine, and 500 to 4,000 no faster, probably because the rows of a small batch are
still in the processor's caches when they are hashed."""
_EVENTS = (f"SELECT notification_id, originator_id, originator_version, topic, state"
           f" FROM {EVENTS_TABLE} WHERE notification_id > $1 AND notification_id <= $2"
           f" ORDER BY notification_id LIMIT $3")


@dataclass(frozen=True)
class LogFindings:
    head: int  # the last position
    events: int
    tree_position: int  # the transparency log projection's, where its tree was compared
    tree_size: int  # the leaves of the tree compared: the events up to that position
    tiles: int  # stored tiles compared
    bundles: int  # stored entry bundles compared
    roots: dict[int, bytes]  # the events' tree head at each size asked for
    offsets: list[tuple[int, int]]  # the events' runs of positions: (first position, first leaf)

    def root(self, size: int) -> bytes:
        return EMPTY_ROOT if size == 0 else self.roots[size]

    def position_of(self, leaf: int) -> int | None:
        """The position of the event at this leaf index; None beyond the last event."""
        return _position_of(self.offsets, leaf) if 0 <= leaf < self.events else None


def _position_of(offsets: Sequence[tuple[int, int]], leaf: int) -> int:
    first_position, first_leaf = offsets[bisect.bisect_right(offsets, leaf,
                                                             key=lambda o: o[1]) - 1]
    return first_position + leaf - first_leaf


async def check_log(database_url: str, conn: asyncpg.Connection, sizes: Iterable[int],
                    findings: Findings, progress: Progress | None = None) -> LogFindings:
    """Checks every event's link in the chain (in a process of its own, projections/verification/
    chain.py) and the read side's tree; keeps the tree head at each of `sizes`."""
    head = await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
    chain = asyncio.ensure_future(
        check_chain(database_url, await conn.fetchval("SELECT pg_export_snapshot()"), head))
    try:
        tree = await _check_tree(conn, head, sizes, findings, progress)
    finally:
        broken = await chain
    if broken is not None:
        findings.add(broken)
    return tree


async def _check_tree(conn: asyncpg.Connection, head: int, sizes: Iterable[int],
                      findings: Findings, progress: Progress | None) -> LogFindings:
    stream = _Stream(await _tree_position(conn), sizes, findings)
    rows = await conn.fetch(_EVENTS, 0, head, BATCH)
    while rows:
        await stream.compare(conn)
        # the server reads the next batch while this one is hashed
        following = asyncio.create_task(conn.fetch(_EVENTS, rows[-1][0], head, BATCH))
        await asyncio.sleep(0)
        stream.add(rows)
        if progress is not None:
            progress(rows[-1][0], head)
        rows = await following
    stream.end()
    await stream.compare(conn)
    await stream.compare_offsets(conn)
    await stream.look_beyond(conn)
    return stream.findings(head)


async def _tree_position(conn: asyncpg.Connection) -> int | None:
    """The transparency log projection's position; None if the read side holds no tree."""
    if await conn.fetchval("SELECT to_regclass($1) IS NULL", f"{SCHEMA}.log_tiles"):
        return None
    position = await conn.fetchval(f"SELECT position FROM {SCHEMA}.tracking WHERE projection = $1",
                                   TransparencyLog.name)
    return position or 0


def _hashes(data: bytes) -> list[bytes]:
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _first_difference(ours: Sequence[object], theirs: Sequence[object]) -> int:
    """The first index at which the two differ (where the shorter ends, if it is a prefix)."""
    return next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                min(len(ours), len(theirs)))


def _gone(bundle: str, entry: bytes, leaf: int) -> Difference:
    """A leaf the read side holds beyond the events: the position its data names is gone."""
    try:
        position: int | None = EventLeaf.parse(entry).position
    except TransparencyError:
        position = None
    return Difference("bundles", f"{bundle} holds leaf {leaf}, of position {position}, which no "
                      "event gives any more", position=position, leaf=leaf)


class _Stream:
    def __init__(self, tree_position: int | None, sizes: Iterable[int], findings: Findings) -> None:
        self.stored_tree = tree_position is not None
        self.tree_position = tree_position or 0
        self.found = findings
        self.events = 0
        self.tiles = TileBuilder()
        self.bundles = BundleBuilder()
        self.leaves: list[bytes] = []  # leaf data not yet fed to the builders
        self.offsets = Offsets()
        # the sizes still to reach, the next one last (the empty tree's head is known)
        self.sizes = sorted({size for size in sizes if size > 0}, reverse=True)
        self.roots: dict[int, bytes] = {}
        self.tree_size: int | None = None  # known once the stream passes the tree's position
        self.last_bundle: EntryBundle | None = None
        self.to_compare: list[Tile] = []
        self.bundles_to_compare: list[EntryBundle] = []
        self.compared_tiles = self.compared_bundles = 0

    def add(self, rows: Sequence[asyncpg.Record]) -> None:
        for position, record, version, topic, state in rows:
            if self.tree_size is None and position > self.tree_position:
                self._reach_tree()
            self.offsets.add(position, self.events)
            self.leaves.append(leaf_data(position, record, version, topic, state))
            self.events += 1
            if self.sizes and self.sizes[-1] == self.events:
                self._feed()
                self.roots[self.sizes.pop()] = self.tiles.root_hash()
        self._feed()

    def end(self) -> None:
        if self.tree_size is None:
            self._reach_tree()
        self.sizes.clear()  # sizes beyond the last event have no head

    def _feed(self) -> None:
        if not self.leaves:
            return
        tiles = self.tiles.append([leaf_hash(leaf) for leaf in self.leaves])
        bundles = self.bundles.append(self.leaves)
        self.leaves = []
        if self.tree_size is None and self.stored_tree:  # within the read side's tree
            self.to_compare += [tile for tile in tiles if tile.width == TILE_WIDTH]
            self.bundles_to_compare += [b for b in bundles if b.width == TILE_WIDTH]
            self.last_bundle = bundles[-1]

    def _reach_tree(self) -> None:
        """The events up to the read side's position are in: its partial tiles are these."""
        self._feed()
        self.tree_size = self.events
        if self.stored_tree:
            self.to_compare += self.tiles.edge()
            if self.last_bundle is not None and self.last_bundle.width < TILE_WIDTH:
                self.bundles_to_compare.append(self.last_bundle)

    def _difference(self, check: Check, what: str, leaf: int, leaves: int = 1) -> Difference:
        """A difference in the `leaves` leaves from `leaf` on: at a position if it is one leaf,
        among positions if more (a hash above the leaves covers many)."""
        last = min(leaf + leaves, self.events) - 1
        if not 0 <= leaf <= last:
            return Difference(check, f"{what} (leaf {leaf}, beyond the events)")
        first_position, last_position = (_position_of(self.offsets.rows, at)
                                         for at in (leaf, last))
        if leaf == last:
            return Difference(check, f"{what} (leaf {leaf}, position {first_position})",
                              position=first_position, leaf=leaf)
        return Difference(check, f"{what} (leaves {leaf} to {last}, positions {first_position} "
                          f"to {last_position})", between=(first_position, last_position))

    async def compare(self, conn: asyncpg.Connection) -> None:
        """The read side's tiles and bundles that the events drawn so far made."""
        if self.to_compare:
            rows = await conn.fetch(
                f"SELECT level, index, width, hashes FROM {SCHEMA}.log_tiles WHERE (level, index)"
                " IN (SELECT * FROM unnest($1::integer[], $2::bigint[]))",
                [tile.level for tile in self.to_compare], [tile.index for tile in self.to_compare])
            stored = {(row["level"], row["index"]): row for row in rows}
            for tile in self.to_compare:
                self._compare_tile(tile, stored.get((tile.level, tile.index)))
            self.compared_tiles += len(self.to_compare)
            self.to_compare = []
        if self.bundles_to_compare:
            rows = await conn.fetch(
                f"SELECT index, width, entries FROM {SCHEMA}.log_bundles WHERE index = ANY($1)",
                [bundle.index for bundle in self.bundles_to_compare])
            stored = {row["index"]: row for row in rows}
            for bundle in self.bundles_to_compare:
                self._compare_bundle(bundle, stored.get(bundle.index))
            self.compared_bundles += len(self.bundles_to_compare)
            self.bundles_to_compare = []

    def _compare_tile(self, tile: Tile, row: asyncpg.Record | None) -> None:
        name = f"tile {tile.level}/{tile.index}"
        if row is None:
            first, what = 0, f"{name} is missing from the read side's tree"
        else:
            ours, theirs = _hashes(tile.hashes), _hashes(row["hashes"])
            if row["width"] == tile.width and ours == theirs:
                return
            first = _first_difference(ours, theirs)
            if first < min(len(ours), len(theirs)):
                what = (f"{name}: hash {first} differs from the events' (stored "
                        f"{short_hash(theirs[first])}, recomputed {short_hash(ours[first])})")
            else:
                what = f"{name} holds {row['width']} hashes, the events give {tile.width}"
        leaf = (tile.index * TILE_WIDTH + first) << (TILE_HEIGHT * tile.level)
        self.found.add(self._difference("tiles", what, leaf, 1 << (TILE_HEIGHT * tile.level)))

    def _compare_bundle(self, bundle: EntryBundle, row: asyncpg.Record | None) -> None:
        name = f"entry bundle {bundle.index}"
        if row is not None and row["width"] == bundle.width and row["entries"] == bundle.data:
            return
        ours, theirs = decode_entry_bundle(bundle.data), []
        first = 0
        if row is None:
            what = f"{name} is missing from the read side's tree"
        else:
            try:
                theirs = decode_entry_bundle(row["entries"])
            except TransparencyError as malformed:
                what = f"{name} is malformed: {malformed}"
            else:
                first = _first_difference(ours, theirs)
                if first < min(len(ours), len(theirs)):
                    what = f"{name}: entry {first} is not the event's leaf"
                elif len(ours) < len(theirs):  # the read side has leaves of events now gone
                    self.found.add(_gone(name, theirs[first], bundle.index * TILE_WIDTH + first))
                    return
                elif len(ours) > len(theirs):
                    what = f"{name} holds {len(theirs)} entries, the events give {len(ours)}"
                else:
                    first, what = 0, f"{name} holds {len(theirs)} entries, its width says {row['width']}"
        self.found.add(self._difference("bundles", what, bundle.index * TILE_WIDTH + first))

    async def compare_offsets(self, conn: asyncpg.Connection) -> None:
        """The read side's offsets: a row wherever the positions of its tree's leaves skip."""
        if not self.stored_tree:
            return
        assert self.tree_size is not None
        ours = [offset for offset in self.offsets.rows if offset[1] < self.tree_size]
        theirs = [(row["first_position"], row["first_leaf"]) for row in await conn.fetch(
            f"SELECT first_position, first_leaf FROM {SCHEMA}.log_offsets ORDER BY first_position")]
        if ours == theirs:
            return
        first = _first_difference(ours, theirs)
        stored = theirs[first] if first < len(theirs) else None
        expected = ours[first] if first < len(ours) else None
        position = min(offset[0] for offset in (stored, expected) if offset is not None)
        self.found.add(Difference(
            "offsets", f"the read side maps positions to leaves by {stored or 'no row'}, the "
            f"events by {expected or 'no row'} (first position, first leaf)", position=position))

    async def look_beyond(self, conn: asyncpg.Connection) -> None:
        """Tiles and bundles the read side holds beyond its tree: those of events that are
        not there."""
        if not self.stored_tree:
            return
        assert self.tree_size is not None
        levels: dict[int, int] = {}
        for level, _, _ in tiles_of(self.tree_size):
            levels[level] = levels.get(level, 0) + 1
        tile = await conn.fetchrow(
            f"SELECT level, index FROM {SCHEMA}.log_tiles t WHERE index < 0 OR index >= coalesce("
            " (SELECT n FROM unnest($1::integer[], $2::bigint[]) AS e(level, n)"
            "  WHERE e.level = t.level), 0) ORDER BY level, index LIMIT 1",
            list(levels), list(levels.values()))
        beyond = f"beyond the tree of {self.tree_size} leaves at position {self.tree_position}"
        if tile is not None:
            self.found.add(self._difference(
                "tiles", f"tile {tile['level']}/{tile['index']} lies {beyond}",
                (tile["index"] * TILE_WIDTH) << (TILE_HEIGHT * tile["level"]),
                TILE_WIDTH << (TILE_HEIGHT * tile["level"])))
        bundles = levels.get(0, 0)
        bundle = await conn.fetchval(
            f"SELECT min(index) FROM {SCHEMA}.log_bundles WHERE index < 0 OR index >= $1", bundles)
        if bundle is not None:
            self.found.add(self._difference("bundles", f"entry bundle {bundle} lies {beyond}",
                                            bundle * TILE_WIDTH, TILE_WIDTH))

    def findings(self, head: int) -> LogFindings:
        assert self.tree_size is not None
        return LogFindings(head, self.events, self.tree_position, self.tree_size,
                           self.compared_tiles, self.compared_bundles, self.roots,
                           self.offsets.rows)
