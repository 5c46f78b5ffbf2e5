"""How long a client takes to prove an event in the transparency log through the tiles alone,
as a verifier that trusts only the published formats does: fetch the tiles an inclusion proof
needs from `/log/tile/...` (one keep-alive connection, one tile after another, no cache of its
own), make the proof and verify it against the checkpoint's head. Next to it, interleaved, the
same client fetching `/healthz` as many times as that proof fetched tiles: the HTTP round trips
alone. (Through GraphQL the same proof is the `InclusionProof` operation of the GraphQL read
figures.)"""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from bench.graphql_read import serving
from bench.metrics import Metric, Spread, measured, p99
from ledger.transparency.checkpoint import Checkpoint
from ledger.transparency.merkle import inclusion_path, inclusion_proof, verify_inclusion
from ledger.transparency.note import Signer
from ledger.transparency.tiles import Tile, TileSet, tiles_for, tiles_of
from projections.checkpoints import setup_checkpoints, sign_if_grown
from projections.connection import create_pool

PROOFS = 300


async def _sign(url: str) -> None:
    """A checkpoint of the whole tree (the harness rebuilt the projections, the tree with them),
    signed with a key made for the run, as a server with a key would have signed it."""
    pool = await create_pool(url, max_size=1)
    try:
        async with pool.acquire() as conn:
            await setup_checkpoints(conn)
        await sign_if_grown(pool, Signer.generate("bench.bevoegd.example/log"))
    finally:
        await pool.close()


def proof_tiles(url: str, rounds: int) -> Metric:
    asyncio.run(_sign(url))

    def one_round(number: int) -> tuple[float, float]:
        with serving(url, None) as server, httpx.Client() as client:
            base = server.url.removesuffix("/graphql")
            note = client.get(f"{base}/log/checkpoint").text
            checkpoint = Checkpoint.parse(note[:note.index("\n\n") + 1])
            widths = {(level, index): width for level, index, width in tiles_of(checkpoint.size)}
            rng = random.Random(number)
            ours, baseline = [], []
            for _ in range(PROOFS):
                index = rng.randrange(checkpoint.size)
                began = time.perf_counter()
                wanted = sorted(tiles_for(inclusion_path(index, checkpoint.size))
                                | {(0, index // 256)})  # and the tile with the leaf's hash
                tiles = []
                for level, tile in wanted:
                    width = widths[(level, tile)]
                    path = Tile(level, tile, width, bytes(32 * width)).path
                    tiles.append(Tile(level, tile, width, client.get(f"{base}/log/{path}").content))
                proof = inclusion_proof(index, checkpoint.size, TileSet(tiles).subtree_hash)
                verify_inclusion(_leaf_hash(tiles, index), index, checkpoint.size, proof,
                                 checkpoint.root_hash)
                ours.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                for _ in wanted:
                    client.get(f"{base}/healthz")
                baseline.append((time.perf_counter() - began) * 1000)
        return p99(ours), p99(baseline)

    found = [one_round(number) for number in range(rounds)]
    return measured("proof_tiles_p99", "ms", Spread.of_values([o for o, _ in found]),
                    "as many `/healthz` round trips on the same connection",
                    Spread.of_values([b for _, b in found]), digits=2)


def _leaf_hash(tiles: list[Tile], index: int) -> bytes:
    """The leaf's hash, from the level-0 tile that holds it."""
    tile = next(t for t in tiles if t.level == 0 and t.index == index // 256)
    at = index % 256
    return tile.hashes[32 * at:32 * (at + 1)]
