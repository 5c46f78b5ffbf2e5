"""The Merkle tree of RFC 9162 §2.1 (the tree of RFC 6962), with SHA-256: tree heads, inclusion and
consistency proofs, made and checked.

Hashes::

    leaf_hash(d)    = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    MTH({})         = SHA-256()
    MTH(D[n])       = node_hash(MTH(D[0:k]), MTH(D[k:n]))   k the largest power of two below n

A proof is made from the hashes of complete subtrees (2**level leaves starting at a multiple of
2**level), which is all a tile store holds: `inclusion_path` and `consistency_path` name the leaf
ranges whose tree hashes make up a proof, `LeafRange.subtrees` the complete subtrees each range's hash
is folded from, so a caller can fetch exactly those before it calls `inclusion_proof` or
`consistency_proof` with a function that answers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ledger.transparency import TransparencyError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class OutsideTree(TransparencyError):
    """A proof asked for that the tree cannot give: a leaf index or an older size outside it."""


class ProofFailed(TransparencyError):
    """A proof that does not lead from what it proves to the tree head it is checked against."""


class Subtree(NamedTuple):
    """The complete subtree of 2**level leaves that starts at leaf index * 2**level."""

    level: int
    index: int


class LeafRange(NamedTuple):
    """The leaves start..end-1, as a range whose tree hash a proof holds."""

    start: int
    end: int

    def subtrees(self) -> list[Subtree]:
        """The complete subtrees, largest (leftmost) first, whose hashes fold into this range's
        tree hash. The ranges of a tree head and of proofs all start at a multiple of the power of
        two at or above their length; any other range is no node of the tree."""
        size = self.end - self.start
        if size < 1 or self.start % (1 << (size - 1).bit_length()):
            raise ValueError(f"leaves {self.start}..{self.end - 1} are no node of a Merkle tree")
        subtrees = []
        start = self.start
        while start < self.end:
            level = (self.end - start).bit_length() - 1
            subtrees.append(Subtree(level, start >> level))
            start += 1 << level
        return subtrees


SubtreeHash = Callable[[Subtree], bytes]
"""Answers the hash of a complete subtree of the tree a proof is made for."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH over these hashes taken as the leaf hashes of a tree (at least one). Built level by
    level, a last node without a partner rising as it is: the same tree as MTH's split at the
    largest power of two, without its recursion (a full tile's root is a verifier's hot path)."""
    if not hashes:
        raise ValueError("a tree of no leaves has no root to fold")
    level = list(hashes)
    while len(level) > 1:
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
                  for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def range_hash(leaves: LeafRange, subtree_hash: SubtreeHash) -> bytes:
    """The tree hash of a range: its complete subtrees folded from the right."""
    hashes = [subtree_hash(subtree) for subtree in leaves.subtrees()]
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def tree_hash(size: int, subtree_hash: SubtreeHash) -> bytes:
    """The tree head of the first `size` leaves."""
    if size < 0:
        raise OutsideTree(f"a tree has no {size} leaves")
    return EMPTY_ROOT if size == 0 else range_hash(LeafRange(0, size), subtree_hash)


def _split(size: int) -> int:
    """k of RFC 9162: the largest power of two smaller than size (size > 1)."""
    return 1 << (size - 1).bit_length() - 1


def inclusion_path(index: int, size: int) -> list[LeafRange]:
    """The ranges whose tree hashes are PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf side first."""
    if not 0 <= index < size:
        raise OutsideTree(f"leaf {index} is not in a tree of {size} leaves")
    path: list[LeafRange] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            path.append(LeafRange(middle, end))
            end = middle
        else:
            path.append(LeafRange(start, middle))
            start = middle
    return path[::-1]


def consistency_path(old_size: int, new_size: int) -> list[LeafRange]:
    """The ranges whose tree hashes are PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1, leaf
    side first. Equal sizes need no proof; the empty tree has none (the RFC defines proofs for
    0 < old_size < new_size)."""
    if not 0 < old_size <= new_size:
        raise OutsideTree(f"no consistency proof from {old_size} to {new_size} leaves")
    path: list[LeafRange] = []
    start, end = 0, new_size
    whole = True  # the old tree is this range's left part, not a complete subtree of it
    while old_size < end:
        middle = start + _split(end - start)
        if old_size <= middle:
            path.append(LeafRange(middle, end))
            end = middle
        else:
            path.append(LeafRange(start, middle))
            start = middle
            whole = False
    if not whole:
        path.append(LeafRange(start, end))
    return path[::-1]


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    return [range_hash(leaves, subtree_hash) for leaves in inclusion_path(index, size)]


def consistency_proof(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    return [range_hash(leaves, subtree_hash) for leaves in consistency_path(old_size, new_size)]


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofFailed(f"a hash in the proof or a tree head is not {HASH_SIZE} bytes")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: that the leaf hash `leaf` is leaf `index` of the tree of `size` leaves
    whose head is `root`. Raises ProofFailed if not."""
    _check_hashes(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofFailed(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofFailed("the inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofFailed(f"leaf {index} is not in the tree of {size} leaves with this head")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: that the tree of `old_size` leaves with head `old_root` is a prefix of the
    tree of `new_size` leaves with head `new_root`. Equal sizes are consistent when the heads are
    equal and the proof is empty. Raises ProofFailed if not."""
    _check_hashes(old_root, new_root, *proof)
    if not 0 < old_size <= new_size:
        raise ProofFailed(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size == new_size:
        if proof:
            raise ProofFailed("trees of one size need no consistency proof")
        if old_root != new_root:
            raise ProofFailed(f"two different tree heads for {old_size} leaves")
        return
    if not proof:
        raise ProofFailed("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fr, sr = _consistency_heads(old_size, new_size, path)
    if fr != old_root or sr != new_root:
        raise ProofFailed(f"the tree of {old_size} leaves is not a prefix of the tree of {new_size}")


def _consistency_heads(old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """The old and the new tree head that a consistency path leads to (RFC 9162 §2.1.4.2,
    steps 3 to 6)."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofFailed("the consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the consistency proof is shorter than the path to the root")
    return fr, sr
