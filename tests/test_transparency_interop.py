"""The log's formats checked by an independent implementation: tests/interop/tlogcheck.go, built on
golang.org/x/mod/sumdb/tlog and .../note (the Go checksum database's), opens our signed
checkpoints, proves every entry of our entry bundles from our tiles, proves our trees consistent,
and finds our proofs equal to its own; and its signed notes and keys open with ours.

Needs Go and golang.org/x/mod in a GOPATH (Debian: golang-go, golang-golang-x-mod-dev); skipped
without them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID

import pytest

from ledger.transparency.checkpoint import Checkpoint, sign_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import consistency_proof, inclusion_proof, leaf_hash
from ledger.transparency.note import Signer, Verifier, open_note, sign_note
from ledger.transparency.tiles import BundleBuilder, Tile, TileBuilder, TileSet
from tests.tlogcheck import built_tlogcheck, run

ORIGIN = "example.org/bevoegd"
BATCHES = [1, 2, 5, 120, 128, 1, 255, 88]  # tree sizes 1, 3, 8, 128, 256, 257, 512, 600


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_tlogcheck(tmp_path_factory.mktemp("tlogcheck"))


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def encoded(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in proof]


def publish_log(directory: Path, signer: Signer) -> list[Path]:
    """Events in batches, each batch's tiles and bundles written as a log serves them and a
    checkpoint signed for the size after it; then our proofs for the last tree. The checkpoint
    files, smallest first."""
    tiles, bundles = TileBuilder(), BundleBuilder()
    rows: dict[tuple[int, int], Tile] = {}
    checkpoints = []
    position = 0
    for batch in BATCHES:
        entries = [EventLeaf.of_event(position + i + 7, UUID(int=position + i), i + 1, "ledger:Event",
                                      bytes(position % 50)).data() for i in range(batch)]
        position += batch
        for tile in tiles.append([leaf_hash(entry) for entry in entries]):
            write(directory / tile.path, tile.hashes)
            rows[tile.level, tile.index] = tile
        for bundle in bundles.append(entries):
            write(directory / bundle.path, bundle.data)
        checkpoint = Checkpoint(ORIGIN, tiles.size, tiles.root_hash())
        checkpoints.append(directory / "checkpoints" / str(tiles.size))
        write(checkpoints[-1], sign_checkpoint(checkpoint, signer))

    size, stored = tiles.size, TileSet(rows.values()).subtree_hash
    proofs = {
        "inclusion": {index: encoded(inclusion_proof(index, size, stored))
                      for index in range(0, size, 7)},
        "consistency": {old: encoded(consistency_proof(old, size, stored))
                        for old in range(1, size + 1, 5)},
    }
    write(directory / "proofs.json", json.dumps(proofs).encode())
    return checkpoints


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    signer = Signer(ORIGIN, bytes(range(32)))
    (tmp_path / "vkey").write_text(signer.verifier.text())
    return tmp_path, tmp_path / "vkey", publish_log(tmp_path, signer)


def test_go_proves_our_tiles_checkpoints_and_proofs(tlogcheck: Path,
                                                    log: tuple[Path, Path, list[Path]]) -> None:
    directory, vkey, checkpoints = log
    result = run(tlogcheck, "verify", directory, vkey, *checkpoints)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "8 checkpoints, 600 entries, 206 proofs of ours checked\n"


def test_go_refuses_a_tampered_tile(tlogcheck: Path, log: tuple[Path, Path, list[Path]]) -> None:
    directory, vkey, checkpoints = log
    tile = directory / "tile" / "0" / "001"
    data = bytearray(tile.read_bytes())
    data[100] ^= 1
    tile.write_bytes(bytes(data))
    result = run(tlogcheck, "verify", directory, vkey, *checkpoints)
    assert result.returncode == 1, result.stdout.decode()


def test_go_refuses_a_checkpoint_of_another_key(tlogcheck: Path,
                                                log: tuple[Path, Path, list[Path]]) -> None:
    directory, vkey, checkpoints = log
    vkey.write_text(Signer(ORIGIN, bytes(32)).verifier.text())
    result = run(tlogcheck, "verify", directory, vkey, *checkpoints)
    assert result.returncode == 1 and b"no verifiable signatures" in result.stderr


def test_notes_go_signs_with_our_key_are_ours(tlogcheck: Path, tmp_path: Path) -> None:
    signer = Signer(ORIGIN, bytes(range(32, 64)))
    (tmp_path / "skey").write_text(signer.text())
    text = "example.org/bevoegd\n600\n" + base64.b64encode(bytes(32)).decode() + "\n"
    result = run(tlogcheck, "sign", tmp_path / "skey", stdin=text.encode())
    assert result.returncode == 0, result.stderr.decode()
    assert open_note(result.stdout, [signer.verifier]).text == text
    assert result.stdout == sign_note(text, [signer])


def test_keys_go_generates_read_as_ours(tlogcheck: Path) -> None:
    result = run(tlogcheck, "keygen", ORIGIN)
    assert result.returncode == 0, result.stderr.decode()
    signer_text, verifier_text = result.stdout.decode().splitlines()
    signer = Signer.from_text(signer_text)
    assert signer.text() == signer_text
    assert signer.verifier == Verifier.from_text(verifier_text)
    assert signer.verifier.text() == verifier_text
