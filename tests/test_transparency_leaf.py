"""The log's leaf: 65 bytes laid out as its module documents, binding an event's position, identity
and content; its content hash encodes topic and state as the event hash chain does."""

from __future__ import annotations

import hashlib
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency.leaf import LEAF_SIZE, EventLeaf, MalformedLeaf, content_hash, leaf_data
from ledger.transparency.tiles import MAX_ENTRY_SIZE

AGGREGATE = UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")


def test_the_documented_layout() -> None:
    leaf = EventLeaf.of_event(258, AGGREGATE, 3, "ledger.domain.body:Body.Registered", b'{"a":1}')
    expected_content = hashlib.sha256(
        b"\x00\x00\x00\x22ledger.domain.body:Body.Registered" + b"\x00\x00\x00\x07{\"a\":1}").digest()
    assert leaf.data() == (
        b"\x01"
        + b"\x00\x00\x00\x00\x00\x00\x01\x02"
        + bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        + b"\x00\x00\x00\x00\x00\x00\x00\x03"
        + expected_content)
    assert LEAF_SIZE == len(leaf.data()) == 65 <= MAX_ENTRY_SIZE


def test_the_content_hash_counts_topic_length_in_bytes() -> None:
    assert content_hash("é", b"") == hashlib.sha256(b"\x00\x00\x00\x02\xc3\xa9\x00\x00\x00\x00").digest()
    assert content_hash("ab", b"c") != content_hash("a", b"bc")


@given(st.integers(0, 2**64 - 1), st.uuids(), st.integers(0, 2**64 - 1), st.text(), st.binary())
def test_leaves_read_back(position: int, aggregate: UUID, version: int, topic: str,
                          state: bytes) -> None:
    leaf = EventLeaf.of_event(position, aggregate, version, topic, state)
    assert EventLeaf.parse(leaf.data()) == leaf
    assert leaf_data(position, aggregate, version, topic, state) == leaf.data()


@pytest.mark.parametrize("data", [b"", bytes(64), bytes(66), b"\x02" + bytes(64)])
def test_other_bytes_are_no_leaf(data: bytes) -> None:
    with pytest.raises(MalformedLeaf):
        EventLeaf.parse(data)


def test_numbers_fit_the_layout() -> None:
    for position, version in [(-1, 1), (2**64, 1), (1, -1), (1, 2**64)]:
        with pytest.raises(MalformedLeaf):
            EventLeaf(position, AGGREGATE, version, bytes(32))
    with pytest.raises(MalformedLeaf):
        EventLeaf(1, AGGREGATE, 1, bytes(31))
