"""The tree as C2SP tlog-tiles: hash tiles and entry bundles, their paths, and building them as leaves
come.

A tile at level L holds up to 256 consecutive hashes of complete subtrees of 256**L leaves: the
leaf hashes at level 0, at level L the tree hashes of the full tiles of level L-1. Tile N of level L
spans leaves N * 256**(L+1) up to (N+1) * 256**(L+1). Full tiles hold 256 hashes (8,192 bytes); the
rightmost tile of a level is partial while the tree has floor(size / 256**L) mod 256 > 0 hashes
there, and is never hashed into the level above. Paths::

    tile/<L>/<N>[.p/<W>]         hash tile: level L (0..63), index N, width W if partial (1..255)
    tile/entries/<N>[.p/<W>]     entry bundle: the leaf data of level 0 tile N

N is written in 3-digit groups, all but the last with an x: 1234067 is x001/x234/067.

An entry bundle is its entries each as a big-endian uint16 length and then the bytes.

Hashes are append-only: a partial tile is a prefix of every wider version of itself, so a store may
keep one row per (level, index), the widest, and serve a narrower partial tile as its prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.transparency import TransparencyError
from ledger.transparency.merkle import HASH_SIZE, LeafRange, Subtree, node_hash, root_of, tree_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF


class MalformedTile(TransparencyError):
    """A tile path, tile or entry bundle that breaks the tiles' format."""


class MissingTile(TransparencyError):
    """A hash asked of tiles that do not hold it."""


@dataclass(frozen=True)
class Tile:
    """A hash tile: `width` hashes of level `level`, tile `index` of that level."""

    level: int
    index: int
    width: int
    hashes: bytes

    def __post_init__(self) -> None:
        _check_width(self.width)
        if not 0 <= self.level <= MAX_LEVEL or self.index < 0:
            raise MalformedTile(f"no tile at level {self.level}, index {self.index}")
        if len(self.hashes) != self.width * HASH_SIZE:
            raise MalformedTile(f"a tile of width {self.width} has {self.width * HASH_SIZE} bytes, "
                                f"not {len(self.hashes)}")

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


@dataclass(frozen=True)
class EntryBundle:
    """Bundle `index`: the leaf data of level 0 tile `index`, `width` entries encoded."""

    index: int
    width: int
    data: bytes

    def __post_init__(self) -> None:
        _check_width(self.width)
        if self.index < 0:
            raise MalformedTile(f"no entry bundle {self.index}")

    @property
    def path(self) -> str:
        return entry_bundle_path(self.index, self.width)


def _check_width(width: int) -> None:
    if not 1 <= width <= TILE_WIDTH:
        raise MalformedTile(f"a tile holds 1 to {TILE_WIDTH} hashes, not {width}")


def _check_entry(entry: bytes) -> None:
    if len(entry) > MAX_ENTRY_SIZE:
        raise MalformedTile(f"an entry has at most {MAX_ENTRY_SIZE} bytes, not {len(entry)}")


def _hashes(data: bytes) -> list[bytes]:
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _index_path(index: int) -> str:
    if index < 0:
        raise MalformedTile(f"no tile {index}")
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{group}" for group in groups[:-1]] + groups[-1:])


def _width_suffix(width: int) -> str:
    _check_width(width)
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int) -> str:
    return f"tile/{level}/{_index_path(index)}{_width_suffix(width)}"


def entry_bundle_path(index: int, width: int) -> str:
    return f"tile/entries/{_index_path(index)}{_width_suffix(width)}"


_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def _parse(path: str) -> tuple[str, int, int]:
    match = _PATH.fullmatch(path)
    if match is None:
        raise MalformedTile(f"{path!r} is not a tile path")
    level, index_path, width = match.groups()
    index = int(index_path.replace("x", "").replace("/", ""))
    if _index_path(index) != index_path or width is not None and int(width) >= TILE_WIDTH:
        raise MalformedTile(f"{path!r} is not a tile path")  # one path per tile
    return level, index, TILE_WIDTH if width is None else int(width)


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """The level, index and width a hash tile path names (`tile/<L>/<N>[.p/<W>]`)."""
    level, index, width = _parse(path)
    if level == "entries" or int(level) > MAX_LEVEL:
        raise MalformedTile(f"{path!r} is not a hash tile path")
    return int(level), index, width


def parse_entry_bundle_path(path: str) -> tuple[int, int]:
    """The index and width an entry bundle path names (`tile/entries/<N>[.p/<W>]`)."""
    level, index, width = _parse(path)
    if level != "entries":
        raise MalformedTile(f"{path!r} is not an entry bundle path")
    return index, width


def tiles_of(size: int) -> list[tuple[int, int, int]]:
    """The (level, index, width) of every hash tile of a tree of `size` leaves, full and partial."""
    tiles = []
    level = 0
    while hashes := size >> (TILE_HEIGHT * level):
        tiles += [(level, index, TILE_WIDTH) for index in range(hashes // TILE_WIDTH)]
        if hashes % TILE_WIDTH:
            tiles.append((level, hashes // TILE_WIDTH, hashes % TILE_WIDTH))
        level += 1
    return tiles


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes the tile at (level, index) holds in a tree of `size` leaves (0: none)."""
    return max(0, min(TILE_WIDTH, (size >> TILE_HEIGHT * level) - index * TILE_WIDTH))


def edge_of(size: int) -> list[tuple[int, int, int]]:
    """The (level, index, width) of the partial hash tiles of a tree of `size` leaves: its right
    edge, which all later tiles grow from."""
    edge = []
    level = 0
    while hashes := size >> (TILE_HEIGHT * level):
        if hashes % TILE_WIDTH:
            edge.append((level, hashes // TILE_WIDTH, hashes % TILE_WIDTH))
        level += 1
    return edge


def bundles_of(size: int) -> list[tuple[int, int]]:
    """The (index, width) of every entry bundle of a tree of `size` leaves."""
    return [(index, width) for level, index, width in tiles_of(size) if level == 0]


def locate(subtree: Subtree) -> tuple[int, int, int, int]:
    """Where a complete subtree's hash lies: the level and index of its tile, and the first and
    count of the tile's hashes that fold into it (a subtree between two tile levels is the root
    of 2, 4, ... 128 hashes of the level below it)."""
    level, within = divmod(subtree.level, TILE_HEIGHT)
    first = subtree.index << within
    return level, first // TILE_WIDTH, first % TILE_WIDTH, 1 << within


def tiles_for(ranges: Iterable[LeafRange]) -> set[tuple[int, int]]:
    """The (level, index) of the tiles that hold the hashes of these ranges (of a tree head, or of
    `inclusion_path` or `consistency_path`): the rows to read before making a proof."""
    return {locate(subtree)[:2] for leaves in ranges for subtree in leaves.subtrees()}


class TileSet:
    """Tiles read from a store, answering the hash of any complete subtree they hold. The hashes
    inside a tile are folded once, as far as asked, and kept with it: a set kept across proofs
    (`keep`, the most tiles it holds, the least recently used going first) hashes the tiles near
    the top of the tree, which every proof passes through, only once.

    Tiles from elsewhere are not trusted by being read: a proof made from them and verified
    against a signed tree head is what shows they were right."""

    def __init__(self, tiles: Iterable[Tile] = (), keep: int | None = None) -> None:
        self._keep = keep
        self._tiles: dict[tuple[int, int], Tile] = {}
        self._folded: dict[tuple[int, int], list[list[bytes]]] = {}
        for tile in tiles:
            self.add(tile)

    def add(self, tile: Tile) -> None:
        """Holds the tile, unless a version of it at least as wide is held."""
        key = (tile.level, tile.index)
        held = self._tiles.get(key)
        if held is not None and held.width >= tile.width:
            return
        self._tiles[key] = tile
        self._folded.pop(key, None)
        if self._keep is not None and len(self._tiles) > self._keep:
            oldest = next(iter(self._tiles))
            del self._tiles[oldest]
            self._folded.pop(oldest, None)

    def width(self, level: int, index: int) -> int:
        """How many hashes the tile held at (level, index) has; 0 if none is held."""
        held = self._tiles.get((level, index))
        return 0 if held is None else held.width

    def subtree_hash(self, subtree: Subtree) -> bytes:
        level, index, first, count = locate(subtree)
        tile = self._tiles.get((level, index))
        if tile is None or tile.width < first + count:
            raise MissingTile(f"no tile holds the hash of {count} hash(es) at level {level}, "
                              f"tile {index}, from {first}")
        if self._keep is not None:  # the most recently used goes last
            self._tiles[level, index] = self._tiles.pop((level, index))
        return self._fold(tile, count.bit_length() - 1)[first >> count.bit_length() - 1]

    def _fold(self, tile: Tile, height: int) -> list[bytes]:
        """The hashes of the tile's complete subtrees of 2**height hashes, left to right."""
        folded = self._folded.get((tile.level, tile.index))
        if folded is None:
            folded = self._folded[tile.level, tile.index] = [_hashes(tile.hashes)]
        while len(folded) <= height:
            below = folded[-1]
            folded.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        return folded[height]


class TileBuilder:
    """Grows the hash tiles of a tree leaf by leaf. A store feeds it the leaf hashes of each batch
    and keeps the tiles it hands back: every tile that became full in the batch, and the partial
    tiles the batch changed (the new right edge). A tree's partial tiles are served for its
    checkpoints, so sign one for the size after each batch."""

    def __init__(self, size: int = 0, edge: Iterable[Tile] = ()) -> None:
        """Resumes the tree of `size` leaves from its edge tiles (`edge_of(size)`), as stored."""
        stored = {(tile.level, tile.index, tile.width): tile for tile in edge}
        self._size = size
        self._levels: list[list[bytes]] = []
        for level, index, width in edge_of(size):
            tile = stored.get((level, index, width))
            if tile is None:
                raise MissingTile(f"the tree of {size} leaves has a partial tile at level {level}, "
                                  f"index {index}, of width {width}")
            self._levels += [[] for _ in range(level + 1 - len(self._levels))]
            self._levels[level] = _hashes(tile.hashes)

    @property
    def size(self) -> int:
        return self._size

    def edge(self) -> list[Tile]:
        """The partial tiles of the tree as it now is."""
        return [Tile(level, self._size >> TILE_HEIGHT * (level + 1), len(hashes), b"".join(hashes))
                for level, hashes in enumerate(self._levels) if hashes]

    def root_hash(self) -> bytes:
        """The tree head: its complete subtrees all lie in the edge."""
        return tree_hash(self._size, TileSet(self.edge()).subtree_hash)

    def append(self, leaf_hashes: Sequence[bytes]) -> list[Tile]:
        """Adds leaves; returns the tiles that became full, then the partial tiles that changed."""
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                raise MalformedTile(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
        full: list[Tile] = []
        grown: set[int] = set()
        for leaf in leaf_hashes:
            self._size += 1
            node, level = leaf, 0
            while True:
                if level == len(self._levels):
                    self._levels.append([])
                hashes = self._levels[level]
                hashes.append(node)
                grown.add(level)
                if len(hashes) < TILE_WIDTH:
                    break
                index = (self._size >> TILE_HEIGHT * (level + 1)) - 1
                full.append(Tile(level, index, TILE_WIDTH, b"".join(hashes)))
                node = root_of(hashes)
                hashes.clear()
                level += 1
        return full + [tile for tile in self.edge() if tile.level in grown]


def encode_entry_bundle(entries: Iterable[bytes]) -> bytes:
    encoded = bytearray()
    for entry in entries:
        _check_entry(entry)
        encoded += len(entry).to_bytes(2, "big") + entry
    return bytes(encoded)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    entries = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise MalformedTile("an entry bundle ends inside an entry's length")
        length = int.from_bytes(data[at:at + 2], "big")
        at += 2
        if at + length > len(data):
            raise MalformedTile("an entry bundle ends inside an entry")
        entries.append(data[at:at + length])
        at += length
    if len(entries) > TILE_WIDTH:
        raise MalformedTile(f"an entry bundle holds at most {TILE_WIDTH} entries")
    return entries


class BundleBuilder:
    """Grows the entry bundles as leaves come, alongside a TileBuilder: hands back the bundles
    that became full and the partial bundle, if the batch changed it."""

    def __init__(self, size: int = 0, edge: EntryBundle | None = None) -> None:
        """Resumes the log of `size` entries from its partial bundle, as stored (none if `size`
        is a multiple of 256)."""
        self._size = size
        self._entries: list[bytes] = []
        width = size % TILE_WIDTH
        if width:
            if edge is None or (edge.index, edge.width) != (size // TILE_WIDTH, width):
                raise MissingTile(f"a log of {size} entries has a partial bundle "
                                  f"{size // TILE_WIDTH} of width {width}")
            self._entries = decode_entry_bundle(edge.data)
            if len(self._entries) != width:
                raise MalformedTile(f"bundle {edge.index} holds {len(self._entries)} entries, "
                                    f"not {width}")

    @property
    def size(self) -> int:
        return self._size

    def append(self, entries: Sequence[bytes]) -> list[EntryBundle]:
        for entry in entries:
            _check_entry(entry)
        bundles: list[EntryBundle] = []
        for entry in entries:
            self._entries.append(entry)
            self._size += 1
            if len(self._entries) == TILE_WIDTH:
                bundles.append(self._bundle())
                self._entries = []
        if self._entries and entries:
            bundles.append(self._bundle())
        return bundles

    def _bundle(self) -> EntryBundle:
        index = (self._size - 1) // TILE_WIDTH
        return EntryBundle(index, len(self._entries), encode_entry_bundle(self._entries))
