"""The tree as C2SP tlog-tiles: paths as the specification writes them, the tiles of a tree size,
tiles built in batches equal to the tree's definition, proofs made from only the tiles
`tiles_for` names, and entry bundles."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.transparency.merkle import (
    LeafRange,
    Subtree,
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.transparency.tiles import (
    BundleBuilder,
    EntryBundle,
    MalformedTile,
    MissingTile,
    Tile,
    TileBuilder,
    TileSet,
    bundles_of,
    decode_entry_bundle,
    edge_of,
    encode_entry_bundle,
    entry_bundle_path,
    parse_entry_bundle_path,
    parse_tile_path,
    tile_path,
    tile_width,
    tiles_for,
    tiles_of,
)
from tests.merkle_reference import mth

ENTRIES = [f"entry {i}".encode() for i in range(600)]
LEAVES = [leaf_hash(entry) for entry in ENTRIES]


def build(leaves: list[bytes], batches: list[int]) -> dict[tuple[int, int], Tile]:
    """The rows a store keeps: per (level, index) the widest tile handed back."""
    builder = TileBuilder()
    rows: dict[tuple[int, int], Tile] = {}
    at = 0
    for size in [*batches, len(leaves)]:
        for tile in builder.append(leaves[at:at + size]):
            assert (tile.level, tile.index) not in rows or rows[tile.level, tile.index].width < tile.width
            rows[tile.level, tile.index] = tile
        at += size
    assert builder.size == len(leaves) and at >= len(leaves)
    return rows


@pytest.mark.parametrize(("level", "index", "width", "path"), [
    (0, 1234067, 256, "tile/0/x001/x234/067"),
    (5, 123456078, 256, "tile/5/x123/x456/078"),
    (5, 123456078, 2, "tile/5/x123/x456/078.p/2"),
    (0, 3057500, 256, "tile/0/x003/x057/500"),
    (63, 1, 255, "tile/63/001.p/255"),
    (1, 0, 1, "tile/1/000.p/1"),
    (0, 1000, 256, "tile/0/x001/000"),
])
def test_tile_paths(level: int, index: int, width: int, path: str) -> None:
    assert tile_path(level, index, width) == path
    assert parse_tile_path(path) == (level, index, width)


def test_entry_bundle_paths() -> None:
    assert entry_bundle_path(1234067, 5) == "tile/entries/x001/x234/067.p/5"
    assert parse_entry_bundle_path("tile/entries/x001/x234/067.p/5") == (1234067, 5)
    assert parse_entry_bundle_path("tile/entries/000") == (0, 256)


@pytest.mark.parametrize("path", [
    "tile/5/123/456/078", "tile/-1/000", "tile/64/000", "tile/00/000", "tile/data/000",
    "tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/07", "tile/0/000.p/", "tile/0/x000/123",
    "tile/0/1234", "tile/0/12", "tile/0/x123", "tile/0/000/", "/tile/0/000", "tile/entries/000",
    "tile/0/000.p/1000",
])
def test_malformed_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(MalformedTile):
        parse_tile_path(path)


def test_a_hash_tile_path_is_no_entry_bundle_path() -> None:
    with pytest.raises(MalformedTile):
        parse_entry_bundle_path("tile/0/000")


@given(st.integers(0, 63), st.integers(0, 10**15), st.integers(1, 256))
def test_paths_read_back(level: int, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)
    assert parse_entry_bundle_path(entry_bundle_path(index, width)) == (index, width)


def test_the_tiles_of_a_tree_size() -> None:
    """The examples of the specification: 70,000 leaves, and 256."""
    tiles = tiles_of(70_000)
    assert [t for t in tiles if t[0] == 0 and t[2] == 256] == [(0, n, 256) for n in range(273)]
    assert [t for t in tiles if t[2] < 256 or t[0] > 0] == [
        (0, 273, 112), (1, 0, 256), (1, 1, 17), (2, 0, 1)]
    assert edge_of(70_000) == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]
    assert tiles_of(256) == [(0, 0, 256), (1, 0, 1)]
    assert tiles_of(0) == [] and edge_of(512) == [(1, 0, 2)]
    assert bundles_of(70_000)[-2:] == [(272, 256), (273, 112)]


def test_tiles_of_three_levels_hold_the_tree() -> None:
    entries = [i.to_bytes(4, "big") for i in range(70_000)]
    builder = TileBuilder()
    tiles = builder.append([leaf_hash(entry) for entry in entries])
    assert sorted((t.level, t.index, t.width) for t in tiles) == sorted(tiles_of(70_000))
    assert [(t.level, t.index, t.width) for t in tiles[-3:]] == edge_of(70_000)
    by_key = {(t.level, t.index): t for t in tiles}
    assert by_key[1, 0].hashes[32 * 5:32 * 6] == mth(entries[5 * 256:6 * 256])
    assert by_key[2, 0].hashes == mth(entries[:65_536])
    assert builder.root_hash() == mth(entries)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=6))
def test_tiles_built_in_batches_are_the_tree(batches: list[int]) -> None:
    rows = build(LEAVES, batches)
    assert sorted(rows) == sorted((level, index) for level, index, _ in tiles_of(600))
    for (level, index), tile in rows.items():
        span = 256 ** level
        for i in range(tile.width):
            first = (index * 256 + i) * span
            assert tile.hashes[32 * i:32 * (i + 1)] == mth(ENTRIES[first:first + span])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 600), st.lists(st.integers(0, 300), max_size=4))
def test_a_resumed_builder_goes_on_as_if_never_stopped(stop: int, batches: list[int]) -> None:
    first = TileBuilder()
    stored = {(t.level, t.index): t for t in first.append(LEAVES[:stop])}
    resumed = TileBuilder(stop, [stored[level, index] for level, index, _ in edge_of(stop)])
    assert resumed.root_hash() == first.root_hash() == mth(ENTRIES[:stop])
    at = stop
    for size in [*batches, 600]:
        assert resumed.append(LEAVES[at:at + size]) == first.append(LEAVES[at:at + size])
        at += size
    assert resumed.root_hash() == mth(ENTRIES)


def test_a_builder_resumes_only_from_its_edge() -> None:
    builder = TileBuilder()
    builder.append(LEAVES[:300])
    with pytest.raises(MissingTile):
        TileBuilder(300, [])
    with pytest.raises(MissingTile):
        TileBuilder(301, builder.edge())
    with pytest.raises(MalformedTile):
        builder.append([LEAVES[300], b"not a hash"])
    assert builder.size == 300 and builder.root_hash() == mth(ENTRIES[:300])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_proofs_from_the_tiles_a_proof_needs(data: st.DataObject) -> None:
    """A store holding the widest tile per position serves every smaller tree too; each proof
    reads only the rows `tiles_for` names."""
    rows = build(LEAVES, data.draw(st.lists(st.integers(1, 300), max_size=4)))

    def tiles(ranges: list[LeafRange]) -> TileSet:
        return TileSet(rows[key] for key in tiles_for(ranges))

    size = data.draw(st.integers(1, 600))
    root = mth(ENTRIES[:size])
    assert tree_hash(size, tiles([LeafRange(0, size)]).subtree_hash) == root
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, tiles(inclusion_path(index, size)).subtree_hash)
    verify_inclusion(LEAVES[index], index, size, proof, root)
    old = data.draw(st.integers(1, size))
    proof = consistency_proof(old, size, tiles(consistency_path(old, size)).subtree_hash)
    verify_consistency(old, size, mth(ENTRIES[:old]), root, proof)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_tiles_kept_across_proofs_answer_as_the_tree_grows(data: st.DataObject) -> None:
    """A tile set kept across proofs (the least recently used tile going first), given only the
    tiles it lacks or holds narrower than the tree now has them, answers every tree as the
    definition does, however the tree grew in between."""
    kept = TileSet(keep=data.draw(st.integers(4, 6)))
    builder, stored, size = TileBuilder(), {}, 0
    for batch in data.draw(st.lists(st.integers(1, 150), min_size=1, max_size=6)):
        batch = min(batch, len(LEAVES) - size)
        for tile in builder.append(LEAVES[size:size + batch]):
            stored[tile.level, tile.index] = tile
        size += batch
        if size == 0:
            continue
        index = data.draw(st.integers(0, size - 1))
        path = inclusion_path(index, size)
        for level, tile_index in sorted(tiles_for([*path, LeafRange(0, size)])):
            if kept.width(level, tile_index) < tile_width(level, tile_index, size):
                kept.add(stored[level, tile_index])
        root = tree_hash(size, kept.subtree_hash)
        assert root == mth(ENTRIES[:size])
        verify_inclusion(LEAVES[index], index, size,
                         inclusion_proof(index, size, kept.subtree_hash), root)


def test_a_kept_tile_set_lets_the_least_recently_used_tile_go() -> None:
    rows = build(LEAVES[:600], [])
    kept = TileSet(keep=2)
    kept.add(rows[0, 0])
    kept.add(rows[0, 1])
    assert kept.subtree_hash(Subtree(7, 0)) == mth(ENTRIES[:128])  # tile (0, 0) used last
    kept.add(rows[1, 0])
    assert (kept.width(0, 0), kept.width(0, 1), kept.width(1, 0)) == (256, 0, 2)
    kept.add(Tile(0, 0, 1, rows[0, 0].hashes[:32]))  # a narrower version changes nothing
    assert kept.width(0, 0) == 256


def test_a_hash_beyond_the_stored_tiles_is_missing() -> None:
    rows = build(LEAVES[:300], [])
    narrow = TileSet([rows[0, 1]])
    with pytest.raises(MissingTile):
        tree_hash(301, narrow.subtree_hash)
    with pytest.raises(MissingTile):
        tree_hash(300, TileSet([]).subtree_hash)


def test_a_tile_set_reads_the_widest_version_of_a_tile() -> None:
    builder = TileBuilder()
    versions = [tile for leaf in LEAVES[:300] for tile in builder.append([leaf])]
    assert len(versions) > 300
    tiles = TileSet(reversed(versions))
    assert tree_hash(300, tiles.subtree_hash) == mth(ENTRIES[:300])


def test_tiles_of_the_wrong_shape_are_refused() -> None:
    for level, index, width, hashes in [(0, 0, 0, b""), (0, 0, 257, bytes(32 * 257)),
                                        (64, 0, 1, bytes(32)), (0, -1, 1, bytes(32)),
                                        (0, 0, 2, bytes(32))]:
        with pytest.raises(MalformedTile):
            Tile(level, index, width, hashes)


def test_entry_bundles_encode_and_decode() -> None:
    entries = [b"", b"a", bytes(range(256)) * 255 + bytes(255)]
    assert len(entries[-1]) == 0xFFFF
    data = encode_entry_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert decode_entry_bundle(data) == entries
    with pytest.raises(MalformedTile):
        encode_entry_bundle([bytes(0x10000)])
    for broken in [b"\x00", b"\x00\x02a", encode_entry_bundle([b""] * 257)]:
        with pytest.raises(MalformedTile):
            decode_entry_bundle(broken)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 600), st.lists(st.integers(0, 300), max_size=4))
def test_entry_bundles_built_in_batches(stop: int, batches: list[int]) -> None:
    first = BundleBuilder()
    stored = {bundle.index: bundle for bundle in first.append(ENTRIES[:stop])}
    builder = BundleBuilder(stop, stored.get(stop // 256) if stop % 256 else None)
    at = stop
    for size in [*batches, 600]:
        for bundle in builder.append(ENTRIES[at:at + size]):
            stored[bundle.index] = bundle
        at += size
    assert builder.size == 600
    assert [(b.index, b.width) for b in stored.values()] == bundles_of(600)
    assert [e for b in stored.values() for e in decode_entry_bundle(b.data)] == ENTRIES
    assert stored[2].path == "tile/entries/002.p/88"


def test_a_bundle_builder_resumes_only_from_its_partial_bundle() -> None:
    with pytest.raises(MissingTile):
        BundleBuilder(300)
    with pytest.raises(MissingTile):
        BundleBuilder(300, EntryBundle(1, 43, encode_entry_bundle([b"x"] * 43)))
    with pytest.raises(MalformedTile):
        BundleBuilder(300, EntryBundle(1, 44, encode_entry_bundle([b"x"] * 43)))
    builder = BundleBuilder()
    with pytest.raises(MalformedTile):
        builder.append([b"fits", bytes(0x10000)])
    assert builder.size == 0


def test_level_zero_tiles_hash_the_entry_bundles() -> None:
    rows = build(LEAVES, [100])
    bundles = BundleBuilder().append(ENTRIES)
    for bundle in bundles:
        hashes = b"".join(hashlib.sha256(b"\x00" + e).digest() for e in decode_entry_bundle(bundle.data))
        assert rows[0, bundle.index].hashes == hashes
