"""The Merkle tree hash of RFC 9162 §2.1.1 written straight from its recursive definition, to check
the ledger's tree heads, tiles and proofs against (slow, and independent of ledger.transparency)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def mth(entries: Sequence[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:])).digest()
