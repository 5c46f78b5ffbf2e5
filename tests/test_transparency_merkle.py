"""The Merkle tree of RFC 9162 §2.1: the published tree heads and proofs of the Certificate
Transparency test tree, real proofs of a Certificate Transparency log, and for trees of every shape
up to 600 leaves: heads equal to the RFC's recursive definition, proofs that verify, and proofs,
heads, indexes and sizes that were tampered with failing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency.merkle import (
    EMPTY_ROOT,
    LeafRange,
    OutsideTree,
    ProofFailed,
    Subtree,
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    root_of,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.merkle_reference import mth

# The inputs and tree heads every RFC 6962 implementation is tested with (index = tree size).
CT_ENTRIES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
# (leaf index, tree size, audit path) and (old size, new size, consistency proof) of that tree.
CT_INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

ENTRIES = [f"entry {i}".encode() for i in range(600)]


def subtrees_of(entries: list[bytes]):
    """A subtree hash function over a list of entries, by the recursive definition."""
    def subtree_hash(subtree: Subtree) -> bytes:
        start = subtree.index << subtree.level
        return mth(entries[start:start + (1 << subtree.level)])
    return subtree_hash


def flip(proof: list[bytes], at: int) -> list[bytes]:
    return [bytes([h[0] ^ 1]) + h[1:] if i == at else h for i, h in enumerate(proof)]


def test_tree_heads_of_the_certificate_transparency_test_tree() -> None:
    assert CT_ROOTS[0] == EMPTY_ROOT
    for size, root in enumerate(CT_ROOTS):
        assert tree_hash(size, subtrees_of(CT_ENTRIES)) == root


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_published_inclusion_proofs_are_made_and_verify(index: int, size: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    assert inclusion_proof(index, size, subtrees_of(CT_ENTRIES)) == proof
    verify_inclusion(leaf_hash(CT_ENTRIES[index]), index, size, proof, CT_ROOTS[size])


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_published_consistency_proofs_are_made_and_verify(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    assert consistency_proof(old, new, subtrees_of(CT_ENTRIES)) == proof
    verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


def test_proofs_of_a_certificate_transparency_log_verify() -> None:
    """The answers of a production log of 961,984,013 entries to an inclusion and a consistency
    proof request."""
    log = json.loads((Path(__file__).parent / "vectors" / "ct_argon2020.json").read_text())
    b64 = base64.b64decode
    root = b64(log["sha256_root_hash"])
    leaf = leaf_hash(b64(log["leaf_input"]))
    audit_path = [b64(h) for h in log["audit_path"]]
    verify_inclusion(leaf, log["leaf_index"], log["tree_size"], audit_path, root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, log["leaf_index"] + 1, log["tree_size"], audit_path, root)
    consistency = [b64(h) for h in log["consistency"]]
    verify_consistency(log["first_size"], log["tree_size"], b64(log["first_root_hash"]), root,
                       consistency)
    with pytest.raises(ProofFailed):
        verify_consistency(log["first_size"], log["tree_size"], root, root, consistency)


@given(st.integers(1, 600))
def test_the_tree_head_is_the_recursive_definition(size: int) -> None:
    assert tree_hash(size, subtrees_of(ENTRIES)) == mth(ENTRIES[:size])


@given(st.integers(1, 600))
def test_a_root_folded_level_by_level_is_the_recursive_definition(size: int) -> None:
    assert root_of([leaf_hash(entry) for entry in ENTRIES[:size]]) == mth(ENTRIES[:size])


@given(st.data())
def test_inclusion_proofs_verify_and_tampered_ones_fail(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 600))
    index = data.draw(st.integers(0, size - 1))
    entries = ENTRIES[:size]
    root, leaf = mth(entries), leaf_hash(entries[index])
    proof = inclusion_proof(index, size, subtrees_of(entries))
    verify_inclusion(leaf, index, size, proof, root)

    if proof:
        with pytest.raises(ProofFailed):
            verify_inclusion(leaf, index, size, flip(proof, data.draw(st.integers(0, len(proof) - 1))),
                             root)
        with pytest.raises(ProofFailed):
            verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, index, size, [*proof, root], root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf_hash(b"another entry"), index, size, proof, root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, index, size, proof, flip([root], 0)[0])
    other = data.draw(st.integers(0, size).filter(lambda i: i != index))
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, other, size, proof, root)
    with pytest.raises(ProofFailed):  # the path to the root is longer in a tree twice the size
        verify_inclusion(leaf, index, size * 2, proof, root)


@given(st.data())
def test_consistency_proofs_verify_and_tampered_ones_fail(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, 600))
    old = data.draw(st.integers(1, new))
    old_root, new_root = mth(ENTRIES[:old]), mth(ENTRIES[:new])
    proof = consistency_proof(old, new, subtrees_of(ENTRIES[:new]))
    verify_consistency(old, new, old_root, new_root, proof)
    assert (proof == []) == (old == new)

    if proof:
        with pytest.raises(ProofFailed):
            verify_consistency(old, new, old_root, new_root,
                               flip(proof, data.draw(st.integers(0, len(proof) - 1))))
        with pytest.raises(ProofFailed):
            verify_consistency(old, new, old_root, new_root, proof[:-1])
    with pytest.raises(ProofFailed):
        verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    with pytest.raises(ProofFailed):
        verify_consistency(old, new, flip([old_root], 0)[0], new_root, proof)
    with pytest.raises(ProofFailed):
        verify_consistency(old, new, old_root, flip([new_root], 0)[0], proof)
    if old < new:
        with pytest.raises(ProofFailed):
            verify_consistency(old, new, new_root, old_root, proof)
        other = data.draw(st.integers(1, new).filter(lambda size: size != old))
        with pytest.raises(ProofFailed):
            verify_consistency(other, new, old_root, new_root, proof)


def test_proof_paths_name_nodes_of_the_tree() -> None:
    """Each proof hash is a node: an aligned range, made of aligned complete subtrees."""
    assert inclusion_path(5, 7) == [LeafRange(4, 5), LeafRange(6, 7), LeafRange(0, 4)]
    assert consistency_path(3, 7) == [
        LeafRange(2, 3), LeafRange(3, 4), LeafRange(0, 2), LeafRange(4, 7)]
    assert LeafRange(4, 7).subtrees() == [Subtree(1, 2), Subtree(0, 6)]
    with pytest.raises(ValueError):
        LeafRange(1, 3).subtrees()


def test_proofs_outside_the_tree_are_refused() -> None:
    subtree_hash = subtrees_of(ENTRIES)
    for index, size in [(0, 0), (3, 3), (-1, 3)]:
        with pytest.raises(OutsideTree):
            inclusion_proof(index, size, subtree_hash)
    for old, new in [(0, 3), (4, 3), (0, 0)]:
        with pytest.raises(OutsideTree):
            consistency_proof(old, new, subtree_hash)
    with pytest.raises(OutsideTree):
        tree_hash(-1, subtree_hash)


def test_verification_refuses_what_is_no_proof() -> None:
    root = mth(ENTRIES[:4])
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 4, [b"short"], root)
    with pytest.raises(ProofFailed):
        verify_consistency(0, 4, EMPTY_ROOT, root, [])
    with pytest.raises(ProofFailed):
        verify_consistency(4, 4, root, root, [root])
    with pytest.raises(ProofFailed):
        verify_consistency(4, 4, root, mth(ENTRIES[:3]), [])
    with pytest.raises(ProofFailed):
        verify_consistency(3, 4, mth(ENTRIES[:3]), root, [])
