"""The transparency log drawn by the read side: its tree holds one leaf per stored event in
ledger order, whatever the batches; its tree heads and proofs, made from a few tile rows, verify
against a tree computed naively from the events table; a rebuild draws the same tiles; and
checkpoints are signed when the tree has grown, each consistent with the one before."""

from __future__ import annotations

import random

import asyncpg
import pytest

from api.schema.transparency import KEPT_TILES
from ledger.application import EVENTS_TABLE, Ledger
from ledger.transparency.checkpoint import open_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.transparency.note import Signer
from ledger.transparency.tiles import TileSet
from projections.checkpoints import all_checkpoints, setup_checkpoints, sign_if_grown
from projections.queries import log
from projections.rebuild import rebuild
from projections.transparency_log import TransparencyLog
from tests.ledger_setup import build_world
from tests.merkle_reference import mth
from tests.read_models import import_history, pool_on, project, read_models, write_fresh_event

pytestmark = pytest.mark.database


async def naive_leaves(pool: asyncpg.Pool) -> list[tuple[int, bytes]]:
    """Every stored event's position and leaf data, straight from the events table."""
    rows = await pool.fetch(f"SELECT notification_id, originator_id, originator_version, topic,"
                            f" state FROM {EVENTS_TABLE} ORDER BY notification_id")
    return [(row["notification_id"], EventLeaf.of_event(*row.values()).data()) for row in rows]


@pytest.mark.parametrize("batch_size", [1, 7, 256, 5000])
async def test_the_tree_has_a_leaf_for_every_event_whatever_the_batches(
    ledger: Ledger, database_url: str, batch_size: int
) -> None:
    build_world(ledger)
    if batch_size > 1:
        import_history(ledger, events=1200)
    async with pool_on(database_url) as pool:
        await project(pool, batch_size)
        leaves = await naive_leaves(pool)
        size, root = await log.tree_head(pool)
        assert size == len(leaves)
        assert root == mth([data for _, data in leaves])
        for smaller in random.Random(batch_size).sample(range(1, size + 1), 20):
            assert (await log.tree_head(pool, smaller))[1] == mth(
                [data for _, data in leaves[:smaller]])


async def test_every_event_is_proved_included(ledger: Ledger, database_url: str) -> None:
    build_world(ledger)
    import_history(ledger, events=1200)
    async with pool_on(database_url) as pool:
        await project(pool, batch_size=300)
        leaves = await naive_leaves(pool)
        kept = TileSet(keep=KEPT_TILES)  # as a serving process keeps them, across trees
        for index, (position, data) in enumerate(leaves):
            size = random.Random(index).randint(index + 1, len(leaves))
            _, root = await log.tree_head(pool, size)
            (located,) = await log.locate(pool, [position])
            proof = await log.inclusion(pool, located, size, tiles=kept)
            assert proof.leaf_index == index and proof.leaf.position == position
            assert proof.leaf_data == data
            verify_inclusion(leaf_hash(data), index, size, proof.hashes, root)


async def test_trees_are_proved_consistent(ledger: Ledger, database_url: str) -> None:
    build_world(ledger)
    import_history(ledger, events=1200)
    async with pool_on(database_url) as pool:
        await project(pool, batch_size=500)
        size, _ = await log.tree_head(pool)
        pick = random.Random(1)
        for _ in range(40):
            old, new = sorted(pick.sample(range(1, size + 1), 2))
            verify_consistency(old, new, (await log.tree_head(pool, old))[1],
                               (await log.tree_head(pool, new))[1],
                               await log.consistency(pool, old, new))


async def test_positions_the_ledger_skipped_are_no_leaves(ledger: Ledger,
                                                          database_url: str) -> None:
    """Notification ids may skip numbers (a transaction rolled back after taking one): leaf
    indexes do not, and the skipped positions are not in the log."""
    build_world(ledger)
    async with pool_on(database_url) as pool:
        await pool.execute(f"SELECT nextval('{EVENTS_TABLE}_notification_id_seq')")
        after_gap = write_fresh_event(ledger)
        write_fresh_event(ledger)
        await project(pool)
        leaves = await naive_leaves(pool)
        assert after_gap - 1 not in [position for position, _ in leaves]
        with pytest.raises(log.NotInLog):
            await log.locate(pool, [after_gap - 1])
        (located,) = await log.locate(pool, [after_gap])
        assert located.leaf == len(leaves) - 2
        _, root = await log.tree_head(pool)
        proof = await log.inclusion(pool, located)
        verify_inclusion(leaf_hash(leaves[-2][1]), len(leaves) - 2, len(leaves), proof.hashes,
                         root)


async def test_a_rebuild_draws_the_same_tiles(ledger: Ledger, database_url: str) -> None:
    build_world(ledger)
    import_history(ledger, events=1200)
    async with pool_on(database_url) as pool:
        await project(pool, batch_size=99)
        drawn = {table: rows for table, rows in (await read_models(pool)).items()
                 if table in TransparencyLog().tables}
        await rebuild(pool, [TransparencyLog()])
        again = {table: rows for table, rows in (await read_models(pool)).items()
                 if table in TransparencyLog().tables}
        assert again == drawn


async def test_checkpoints_are_signed_as_the_tree_grows(ledger: Ledger, database_url: str) -> None:
    signer = Signer.generate("bevoegd.test/log")
    build_world(ledger)
    async with pool_on(database_url) as pool:
        async with pool.acquire() as conn:
            await setup_checkpoints(conn)
        await project(pool)
        first = await sign_if_grown(pool, signer)
        assert first is not None
        assert await sign_if_grown(pool, signer) is None  # the tree has not grown
        write_fresh_event(ledger)
        await project(pool)
        second = await sign_if_grown(pool, signer)
        assert second is not None and second.size == first.size + 1
        assert [c.size for c in await all_checkpoints(pool)] == [first.size, second.size]
        for signed in (first, second):
            checkpoint = open_checkpoint(signed.note.encode(), "bevoegd.test/log",
                                         [signer.verifier])
            assert (checkpoint.size, checkpoint.root_hash) == (signed.size, signed.root_hash)
            assert (await log.tree_head(pool, signed.size))[1] == signed.root_hash
        verify_consistency(first.size, second.size, first.root_hash, second.root_hash,
                           await log.consistency(pool, first.size, second.size))
