"""The transparency log's formats: the Merkle tree of RFC 9162 §2.1 over one leaf per stored event,
served as C2SP tlog-tiles and signed as C2SP tlog-checkpoints (C2SP signed notes, Ed25519). Pure
functions over bytes and text: no database, no framework."""

from __future__ import annotations


class TransparencyError(Exception):
    """A log format rule broken, or a proof that does not hold."""
