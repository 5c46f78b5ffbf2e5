"""The log's leaves: one per stored event, in global order (leaf index 0 is the first event).

A leaf's data is 65 bytes that bind the event's position, identity and content::

    offset  size  field
         0     1  format version, 0x01
         1     8  position: the event's notification id, unsigned big-endian
         9    16  aggregate id: the originator UUID's 16 bytes (RFC 4122 order)
        25     8  aggregate version: the originator version, unsigned big-endian
        33    32  content hash: SHA-256( uint32(len(topic)) || topic      UTF-8, length in bytes
                                      || uint32(len(state)) || state )   the stored state bytes

Lengths are 4-byte big-endian, as the event store's hash chain writes topic and state. The leaf
index and the position differ: the position is the store's notification id, which may skip
numbers; the leaf carries it, so an event is found by either. The leaf hash is
SHA-256(0x00 || leaf data), and every leaf fits an entry bundle's 16-bit length.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from ledger.store import encoded_content, encoded_identity
from ledger.transparency import TransparencyError

LEAF_FORMAT = 0x01
LEAF_SIZE = 65
_UINT64 = 1 << 64
_FORMAT_BYTE = bytes([LEAF_FORMAT])


class MalformedLeaf(TransparencyError):
    """Leaf data that is not a leaf of this format."""


def content_hash(topic: str, state: bytes) -> bytes:
    return hashlib.sha256(encoded_content(topic, state)).digest()


@dataclass(frozen=True)
class EventLeaf:
    position: int
    aggregate_id: UUID
    aggregate_version: int
    content_hash: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.position < _UINT64 or not 0 <= self.aggregate_version < _UINT64:
            raise MalformedLeaf("a position and a version are unsigned 64-bit numbers")
        if len(self.content_hash) != 32:
            raise MalformedLeaf("a content hash has 32 bytes")

    @classmethod
    def of_event(cls, position: int, aggregate_id: UUID, aggregate_version: int, topic: str,
                 state: bytes) -> EventLeaf:
        return cls(position, aggregate_id, aggregate_version, content_hash(topic, state))

    def data(self) -> bytes:
        return (_FORMAT_BYTE + encoded_identity(self.position, self.aggregate_id,
                                                self.aggregate_version) + self.content_hash)

    @classmethod
    def parse(cls, data: bytes) -> EventLeaf:
        if len(data) != LEAF_SIZE or data[0] != LEAF_FORMAT:
            raise MalformedLeaf(f"a leaf is {LEAF_SIZE} bytes starting with {LEAF_FORMAT:#04x}")
        return cls(int.from_bytes(data[1:9], "big"), UUID(bytes=data[9:25]),
                   int.from_bytes(data[25:33], "big"), data[33:65])


def leaf_data(position: int, aggregate_id: UUID, aggregate_version: int, topic: str,
              state: bytes) -> bytes:
    """The data of a stored event's leaf, as `EventLeaf.of_event(...).data()` gives it, without
    the object between: the tree's builder makes one per event. Raises OverflowError for a
    position or version outside unsigned 64 bits."""
    return (_FORMAT_BYTE + encoded_identity(position, aggregate_id, aggregate_version)
            + content_hash(topic, state))

