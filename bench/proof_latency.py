"""How long a client takes to get an inclusion proof for an event and check it, one proof after
another on one keep-alive connection, at positions drawn at random (so no answer comes from a
cache):

- `proof_p99`, through GraphQL: the `InclusionProof` operation, the proof checked against the
  root it names. Its baseline is the same request with the same variables whose selection is
  only `__typename`: parsing, validation, the HTTP round trip and the cache lookup, no proof.
- `proof_tiles_p99`, through the tiles alone, as a verifier that trusts only the published
  formats does: read the signed checkpoint once, then per proof fetch the tiles it needs from
  `/log/tile/...` at once (a pool of connections, as tlog clients fetch them), make the proof and
  verify it against the checkpoint's head. A tile's bytes never change (the server says so:
  `Cache-Control: immutable`), so the verifier keeps those it fetched, as tlog clients keep
  them, and fetches only the tiles it lacks: the leaf's own level-0 tile, and the few near the
  top of the tree the first time. Its baseline fetches `/healthz` as many times, the same way:
  the HTTP round trips alone.

Each round measures ours and its baseline alternately, a proof then a baseline request."""

from __future__ import annotations

import asyncio
import random
import time
from base64 import b64decode

import httpx

from bench.graphql_read import serving
from bench.metrics import Metric, Spread, measured, p99
from ledger.transparency.checkpoint import Checkpoint
from ledger.transparency.merkle import Subtree, inclusion_path, inclusion_proof, verify_inclusion
from ledger.transparency.note import Signer
from ledger.transparency.tiles import Tile, TileSet, tile_path, tiles_for, tiles_of
from projections.checkpoints import setup_checkpoints, sign_if_grown
from projections.connection import create_pool

PROOFS = 300
TILE_CONNECTIONS = 8  # more than a proof at a billion leaves needs at once
_PROOF = """query InclusionProof($position: Int!) {
  inclusionProof(position: $position) { leafIndex treeSize leafHash rootHash hashes }
}"""
_BASELINE = "query InclusionProof($position: Int!) { __typename }"


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


def _milliseconds_since(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def proof_graphql(url: str, rounds: int) -> Metric:
    asyncio.run(_sign(url))

    def one_round(number: int) -> tuple[float, float]:
        with serving(url, None) as server, httpx.Client() as client:
            head = client.post(server.url, json={"query": "{ ledger { position } }"}
                               ).json()["data"]["ledger"]["position"]
            rng = random.Random(number)
            ours, baseline = [], []
            for _ in range(PROOFS):
                variables = {"position": rng.randint(1, head)}
                began = time.perf_counter()
                proof = client.post(server.url, json={"query": _PROOF, "variables": variables}
                                    ).json()["data"]["inclusionProof"]
                if proof is not None:  # None: no event at this position (positions may skip)
                    verify_inclusion(b64decode(proof["leafHash"]), proof["leafIndex"],
                                     proof["treeSize"], [b64decode(h) for h in proof["hashes"]],
                                     b64decode(proof["rootHash"]))
                ours.append(_milliseconds_since(began))
                began = time.perf_counter()
                client.post(server.url, json={"query": _BASELINE, "variables": variables}).json()
                baseline.append(_milliseconds_since(began))
        return p99(ours), p99(baseline)

    found = [one_round(number) for number in range(rounds)]
    return measured("proof_p99", "ms", Spread.of_values([o for o, _ in found]),
                    "the same request selecting only `__typename`",
                    Spread.of_values([b for _, b in found]), digits=2)


def proof_tiles(url: str, rounds: int) -> Metric:
    asyncio.run(_sign(url))
    found = [asyncio.run(_tiles_round(url, number)) for number in range(rounds)]
    return measured("proof_tiles_p99", "ms", Spread.of_values([o for o, _ in found]),
                    "as many `/healthz` round trips, fetched the same way",
                    Spread.of_values([b for _, b in found]), digits=2)


async def _tiles_round(url: str, number: int) -> tuple[float, float]:
    with serving(url, None) as server:
        limits = httpx.Limits(max_connections=TILE_CONNECTIONS)
        async with httpx.AsyncClient(limits=limits) as client:
            base = server.url.removesuffix("/graphql")
            note = (await client.get(f"{base}/log/checkpoint")).text
            checkpoint = Checkpoint.parse(note[:note.index("\n\n") + 1])
            widths = {(level, index): width for level, index, width in tiles_of(checkpoint.size)}
            rng = random.Random(number)
            kept = TileSet()  # the tiles fetched so far (immutable), with their folded hashes
            ours, baseline = [], []
            for _ in range(PROOFS):
                index = rng.randrange(checkpoint.size)
                began = time.perf_counter()
                wanted = tiles_for(inclusion_path(index, checkpoint.size)) | {(0, index // 256)}
                lacking = sorted(key for key in wanted if not kept.width(*key))
                answers = await asyncio.gather(*(
                    client.get(f"{base}/log/{tile_path(level, tile, widths[level, tile])}")
                    for level, tile in lacking))
                for (level, tile), answer in zip(lacking, answers, strict=True):
                    answer.raise_for_status()
                    kept.add(Tile(level, tile, widths[level, tile], answer.content))
                proof = inclusion_proof(index, checkpoint.size, kept.subtree_hash)
                verify_inclusion(kept.subtree_hash(Subtree(0, index)), index, checkpoint.size,
                                 proof, checkpoint.root_hash)
                ours.append(_milliseconds_since(began))
                began = time.perf_counter()
                await asyncio.gather(*(client.get(f"{base}/healthz") for _ in lacking))
                baseline.append(_milliseconds_since(began))
    return p99(ours), p99(baseline)
