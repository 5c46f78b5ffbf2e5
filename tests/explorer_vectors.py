"""The test vectors of the explorer's proof check (docs/vectors/explorer/): a log of 300 leaves,
served as the browser reads it, once as it is and once for each way a server may lie.

The log is the one of docs/vectors/ledger.json grown to 300 events (its seven events, then
decisions taken and published at positions 9 to 301), signed with that file's published key:
two levels of tiles, a partial tile at each, and a leaf index that is not its position. Each
case is a folder holding exactly the files the browser fetches under /log/ (`checkpoint`,
`verifier-key`, `tile/...`, `tile/entries/...`) and a `case.json` naming the checks to run on
them (the events of a decision page, or a checkpoint kept from earlier for /controle), each
with the verdict it must give and a fragment of its reason, as the explorer words it (never a
line's first word, which the page capitalizes). The tests hold the folder to this module; a
change on purpose rewrites it with `python -m tests.explorer_vectors`."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.transparency.checkpoint import Checkpoint, sign_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import leaf_hash, root_of
from ledger.transparency.note import Signer
from ledger.transparency.tiles import BundleBuilder, Tile, TileBuilder
from tests.test_verification_vectors import EVENTS, ORIGIN, POSITIONS, SEED

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "vectors" / "explorer"
CASE_FILE = "case.json"
SIZE = 300
"""Leaves in the log: more than one tile, so proofs fold hashes of tile level 1 as well."""
REWRITTEN = 4
"""The leaf a dishonest server rewrites: the event at position 6 (position 4 is skipped), the
council's first decision, made to have been taken by another body."""
EARLIER = 257
"""The size of the checkpoints kept from earlier: just past the first full tile."""
CHECKED = (0, REWRITTEN, 255, 256, SIZE - 1)
"""The leaves of the valid case's decision: the first, the rewritten one, both sides of the
first tile's edge, and the last."""
SIGNER = Signer(ORIGIN, SEED)
OTHER_SIGNER = Signer(ORIGIN, bytes(32))
"""Another key under the log's name: a checkpoint it signs is not the log's."""

Event = tuple[UUID, int, str, bytes]


def _events() -> Iterator[tuple[int, Event]]:
    """The log's events and their positions: docs/vectors/ledger.json's seven, then decisions
    of the council, each taken and then published."""
    yield from zip(POSITIONS, EVENTS, strict=True)
    position = POSITIONS[-1]
    for number in range(2, SIZE):
        decision = UUID(int=100 + number)
        taken = (decision, 1, "ledger.domain.decision:Decision.Taken",
                 f'{{"code":"besluit-{number}","body":"raad-dordrecht",'
                 f'"taken_on":"2014-01-{number % 28 + 1:02d}"}}'.encode())
        published = (decision, 2, "ledger.domain.decision:Decision.Published",
                     f'{{"on":"2014-02-{number % 28 + 1:02d}","where":"Gemeenteblad 2014, '
                     f'{number}"}}'.encode())
        for event in (taken, published):
            position += 1
            yield position, event


def _leaves(rewritten: bool = False) -> list[tuple[int, bytes]]:
    """Each leaf's position and data; `rewritten`: with leaf REWRITTEN's decision taken by
    another body, as a server rewriting history would have it."""
    leaves = []
    for position, (aggregate_id, version, topic, state) in _events():
        if rewritten and len(leaves) == REWRITTEN:
            state = state.replace(b"raad-dordrecht", b"drechtraad")
        leaves.append((position, EventLeaf.of_event(position, aggregate_id, version, topic,
                                                    state).data()))
        if len(leaves) == SIZE:
            return leaves
    raise AssertionError(f"fewer than {SIZE} events")


@dataclass(frozen=True)
class Served:
    """The files of a log under /log/, by path: what a server gives the browser."""

    checkpoint: bytes
    verifier_key: bytes
    tiles: dict[str, bytes]

    def files(self) -> dict[str, bytes]:
        return {"checkpoint": self.checkpoint, "verifier-key": self.verifier_key, **self.tiles}


def _served(leaves: list[bytes]) -> Served:
    """The honest server's files for these leaves, as the repository's tile builders make them."""
    tiles = TileBuilder().append([leaf_hash(leaf) for leaf in leaves])
    bundles = BundleBuilder().append(leaves)
    return Served(_signed(len(leaves), root_of([leaf_hash(leaf) for leaf in leaves])),
                  f"{SIGNER.verifier.text()}\n".encode(),
                  {item.path: item.hashes if isinstance(item, Tile) else item.data
                   for item in [*tiles, *bundles]})


def _signed(size: int, root: bytes, signer: Signer = SIGNER) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, size, root), signer)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def _bad_signature(note: bytes) -> bytes:
    """The note with one bit of its (only) signature flipped: past the 4-byte key ID, so that
    the signature is the key's and wrong."""
    text, _, line = note.decode().rstrip("\n").rpartition(" ")
    return f"{text} {_b64(_flip(base64.b64decode(line), 10))}\n".encode()


def _inclusion(leaves: list[tuple[int, bytes]], indexes: tuple[int, ...], verdict: str,
               reason: str) -> dict[str, Any]:
    return {"check": "inclusion",
            "events": [{"position": leaves[i][0], "leafIndex": i} for i in indexes],
            "verdict": verdict, "reason": reason}


def _consistency(earlier: bytes, verdict: str, reason: str) -> dict[str, Any]:
    return {"check": "consistency", "earlier": earlier.decode(), "verdict": verdict,
            "reason": reason}


def cases() -> dict[str, dict[str, bytes]]:
    """Every case's files by path within its folder, `case.json` among them."""
    honest = _leaves()
    forked = _leaves(rewritten=True)
    hashes = [leaf_hash(leaf) for _, leaf in honest]
    forked_hashes = [leaf_hash(leaf) for _, leaf in forked]
    root, forked_root = root_of(hashes), root_of(forked_hashes)
    served = _served([leaf for _, leaf in honest])
    event = honest[REWRITTEN][0]
    level_1 = "tile/1/000.p/1"  # the hash of leaves 0 to 255: the left half of every proof past 255
    changed_level_1 = _flip(served.tiles[level_1], 0)
    # the root the browser folds leaf SIZE-1 to when the level-1 tile is changed
    past_changed_tile = root_of([changed_level_1, root_of(hashes[256:])])

    about_and_checks: dict[str, tuple[str, Served, list[dict[str, Any]]]] = {
        "valid": (
            "The log as the server keeps it. A decision's events at both edges of the first "
            "tile check out against the signed checkpoint; so do the log's checkpoint of size 7 "
            "(the one of docs/vectors/ledger.json) and one of size 257 kept from earlier.",
            served,
            [_inclusion(honest, CHECKED, "geverifieerd",
                        f"zitten in de boom van {SIZE} gebeurtenissen met wortel {_b64(root)}"),
             _consistency(_signed(7, root_of(hashes[:7])), "geverifieerd",
                          f"begint met de bewaarde boom van 7 gebeurtenissen "
                          f"(wortel {_b64(root_of(hashes[:7]))})"),
             _consistency(_signed(EARLIER, root_of(hashes[:EARLIER])), "geverifieerd",
                          f"begint met de bewaarde boom van {EARLIER} gebeurtenissen")]),
        "changed-leaf": (
            f"Leaf {REWRITTEN} (position {event}) rewritten in its entry bundle: its decision "
            "taken by another body. The tiles and the checkpoint are the log's, so the leaf "
            "folds to another root.",
            replace(served, tiles=served.tiles | {"tile/entries/000": _served(
                [leaf for _, leaf in forked]).tiles["tile/entries/000"]}),
            [_inclusion(honest, (REWRITTEN,), "ongeldig",
                        f"leidt met de tegels naar wortel {_b64(forked_root)}, niet naar de "
                        f"ondertekende wortel {_b64(root)}: het blad of de tegels zijn "
                        "veranderd")]),
        "changed-tile": (
            "The level-1 tile (the hash of leaves 0 to 255) with one bit flipped: the last "
            "leaf's proof folds it in, and leads to another root.",
            replace(served, tiles=served.tiles | {level_1: changed_level_1}),
            [_inclusion(honest, (SIZE - 1,), "ongeldig",
                        f"(blad {SIZE - 1}) leidt met de tegels naar wortel "
                        f"{_b64(past_changed_tile)}, niet naar de ondertekende wortel")]),
        "changed-root": (
            f"A checkpoint of the same size signed with the log's key over the root of the "
            f"rewritten log (leaf {REWRITTEN} changed), served with the log's own tiles.",
            replace(served, checkpoint=_signed(SIZE, forked_root)),
            [_inclusion(honest, (REWRITTEN,), "ongeldig",
                        f"leidt met de tegels naar wortel {_b64(root)}, niet naar de "
                        f"ondertekende wortel {_b64(forked_root)}")]),
        "bad-signature": (
            "The log's checkpoint with one bit of its signature flipped.",
            replace(served, checkpoint=_bad_signature(served.checkpoint)),
            [_inclusion(honest, (0,), "ongeldig",
                        f"handtekening op de huidige stand klopt niet met sleutel "
                        f"{SIGNER.verifier.text()}")]),
        "other-key": (
            "The log's checkpoint signed by another key under the log's name (and that key "
            "served as the verifier key): the visitor checks with the log's own key.",
            replace(served, checkpoint=_signed(SIZE, root, OTHER_SIGNER),
                    verifier_key=f"{OTHER_SIGNER.verifier.text()}\n".encode()),
            [_inclusion(honest, (0,), "ongeldig",
                        f"huidige stand is niet ondertekend met sleutel "
                        f"{SIGNER.verifier.text()}")]),
        "forked-checkpoint": (
            f"The log as the server keeps it, and checkpoints kept from earlier that the log's "
            f"key signed over the rewritten log (leaf {REWRITTEN} changed): one of size "
            f"{EARLIER}, whose tree is no prefix of the current one, and one of the current "
            "size with another root.",
            served,
            [_consistency(_signed(EARLIER, root_of(forked_hashes[:EARLIER])), "ongeldig",
                          f"eerste {EARLIER} gebeurtenissen van de huidige boom hebben "
                          f"wortel {_b64(root_of(hashes[:EARLIER]))}, niet "
                          f"{_b64(root_of(forked_hashes[:EARLIER]))}: de geschiedenis is "
                          "herschreven of het logboek is gevorkt"),
             _consistency(_signed(SIZE, forked_root), "ongeldig",
                          f"ondertekende standen van {SIZE} gebeurtenissen met verschillende "
                          "wortels: het logboek is gevorkt")]),
    }
    return {name: {**files.files(), CASE_FILE: (json.dumps(
                {"about": about, "key": SIGNER.verifier.text(), "checks": checks},
                indent=1, ensure_ascii=False) + "\n").encode()}
            for name, (about, files, checks) in about_and_checks.items()}


def written(folder: Path = FOLDER) -> dict[str, dict[str, bytes]]:
    """The cases as the folder holds them."""
    return {case.name: {str(path.relative_to(case)): path.read_bytes()
                        for path in sorted(case.rglob("*")) if path.is_file()}
            for case in sorted(folder.iterdir()) if case.is_dir()}


def write(folder: Path = FOLDER) -> None:
    """Rewrites every case's folder (and leaves the folder's own files, .gitattributes, be)."""
    folder.mkdir(parents=True, exist_ok=True)
    for case in folder.iterdir():
        if case.is_dir():
            shutil.rmtree(case)
    for name, files in cases().items():
        for path, data in files.items():
            (folder / name / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / name / path).write_bytes(data)


if __name__ == "__main__":
    write()
