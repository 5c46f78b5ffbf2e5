"""The transparency log as plain files: the latest signed checkpoint, its hash tiles and its entry
bundles, written into a folder at the paths of C2SP tlog-tiles (`checkpoint`,
`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), so that any web server, object store or CDN
serves the log without Bevoegd: reads of the log then cost the ledger's database nothing.

A file at a tile's path never changes (a partial tile is written under its own `.p/<W>` path), so
a publication writes only the files the folder lacks, and may be repeated at will. Each file is
written whole under a temporary name and then renamed, and the checkpoint last: a reader never
meets a checkpoint whose tiles are not there, nor half a file."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ledger.transparency.merkle import HASH_SIZE
from ledger.transparency.tiles import (
    bundles_of,
    decode_entry_bundle,
    encode_entry_bundle,
    entry_bundle_path,
    tile_path,
    tiles_of,
)
from projections.checkpoints import SignedCheckpoint, latest_checkpoint, setup_checkpoints
from projections.health import Health, first_of, retry_delay
from projections.tracking import SCHEMA
from projections.transparency_log import read_tiles

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
READ_AT_ONCE = 512
"""Tiles or bundles read in one query."""
FOLLOW_SECONDS = 1.0
"""How often a following publisher looks for a newer checkpoint: checkpoints are signed at most
once a second."""

Progress = Callable[[int, int], None]
"""Told (files done, files to do) as a publication goes."""


@dataclass(frozen=True)
class Publication:
    size: int
    """The tree size of the checkpoint published."""
    written: int
    """Files written this time (the checkpoint among them)."""


def _write(folder: Path, path: str, data: bytes) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".", delete=False) as part:
        part.write(data)
    os.replace(part.name, target)


def _write_all(folder: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        _write(folder, path, data)


def _chunks(items: list[tuple[int, int, int]]) -> Iterator[list[tuple[int, int, int]]]:
    for start in range(0, len(items), READ_AT_ONCE):
        yield items[start:start + READ_AT_ONCE]


async def _tiles(pool: asyncpg.Pool, wanted: list[tuple[int, int, int]]) -> dict[str, bytes]:
    """The files of these (level, index, width) hash tiles: each a prefix of the stored tile."""
    stored = {(t.level, t.index): t.hashes
              for t in await read_tiles(pool, SCHEMA, [(level, index) for level, index, _ in wanted])}
    return {tile_path(level, index, width): stored[(level, index)][:width * HASH_SIZE]
            for level, index, width in wanted}


async def _bundles(pool: asyncpg.Pool, wanted: list[tuple[int, int, int]]) -> dict[str, bytes]:
    """The files of these (0, index, width) entry bundles: each the first `width` entries."""
    rows = await pool.fetch(f"SELECT index, entries FROM {SCHEMA}.log_bundles"
                            " WHERE index = ANY($1::bigint[])", [index for _, index, _ in wanted])
    stored = {row["index"]: row["entries"] for row in rows}
    return {entry_bundle_path(index, width):
            encode_entry_bundle(decode_entry_bundle(stored[index])[:width])
            for _, index, width in wanted}


async def publish(pool: asyncpg.Pool, folder: Path, checkpoint: SignedCheckpoint | None = None,
                  progress: Progress = lambda done, total: None) -> Publication | None:
    """Writes the files of the latest signed checkpoint (or of `checkpoint`) that `folder`
    lacks, then the checkpoint itself; None if no checkpoint has been signed yet."""
    checkpoint = checkpoint or await latest_checkpoint(pool)
    if checkpoint is None:
        return None
    tiles = [t for t in tiles_of(checkpoint.size) if not (folder / tile_path(*t)).exists()]
    bundles = [(0, index, width) for index, width in bundles_of(checkpoint.size)
               if not (folder / entry_bundle_path(index, width)).exists()]
    total, done = len(tiles) + len(bundles) + 1, 0
    progress(done, total)
    for read, wanted in ((_tiles, tiles), (_bundles, bundles)):
        for chunk in _chunks(wanted):
            files = await read(pool, chunk)
            await asyncio.to_thread(_write_all, folder, files)
            done += len(files)
            progress(done, total)
    await asyncio.to_thread(_write, folder, CHECKPOINT, checkpoint.note.encode())
    progress(total, total)
    return Publication(checkpoint.size, total)


class TilePublisher:
    """Keeps a folder current: publishes each newer signed checkpoint as it appears; outlives
    failures (the database away, a full disk) as the runner does, and says so."""

    def __init__(self, pool: asyncpg.Pool, folder: Path) -> None:
        self.pool = pool
        self.folder = folder
        self.size = -1
        self.health = Health("Publishing the log's files", log)

    async def run(self, stop: asyncio.Event) -> None:
        set_up = False
        while not stop.is_set():
            try:
                if not set_up:
                    async with self.pool.acquire() as conn:
                        await setup_checkpoints(conn)
                    set_up = True
                latest = await latest_checkpoint(self.pool)
                if latest is not None and latest.size > self.size:
                    await publish(self.pool, self.folder, latest)
                    self.size = latest.size
                self.health.succeeded()
            except Exception as error:  # whatever failed, publishing goes on once it can
                failure = self.health.failed(error)
                await first_of(stop, timeout=retry_delay(failure.attempts))
                continue
            await first_of(stop, timeout=FOLLOW_SECONDS)
