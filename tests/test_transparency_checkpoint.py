"""C2SP tlog-checkpoints: the specification's example, the Go checksum database's tree note, every
rule of the note text, and signing and opening a checkpoint of an expected log."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.transparency.note import Signer, UnverifiedNote

SPECIFICATION_EXAMPLE = ("example.com/behind-the-sofa\n20852163\n"
                         "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
GO_SUM_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


def test_the_example_of_the_specification() -> None:
    checkpoint = Checkpoint.parse(SPECIFICATION_EXAMPLE)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa", 20852163, ())
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.text() == SPECIFICATION_EXAMPLE


def test_the_tree_note_of_the_go_checksum_database() -> None:
    """Its root is the leaf hash of "hello world", which makes a tree of one leaf."""
    root = hashlib.sha256(b"\x00hello world").digest()
    assert Checkpoint("go.sum database tree", 123456789012, root).text() == GO_SUM_TREE
    assert Checkpoint.parse(GO_SUM_TREE).root_hash == root


@pytest.mark.parametrize("text", [
    "not-a-newline-end\n123\n" + "A" * 43 + "=",
    "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
    "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "go.sum database tree\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "go.sum database tree\n 12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "go.sum database tree\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0\n",
    "go.sum database tree\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb1=\n",
    "go.sum database tree\n12\naGVsbG8=\n",
    "\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "go.sum database tree\n12\n",
    "go.sum database tree\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n\n",
    "go.sum database tree\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\nextension",
    "go.sum database tree\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\na\n\nb\n",
])
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_the_empty_tree_has_size_zero() -> None:
    empty = hashlib.sha256(b"").digest()
    assert Checkpoint.parse(Checkpoint("example.org/log", 0, empty).text()).size == 0


@given(st.from_regex(r"[a-z0-9./-]{1,20}", fullmatch=True), st.integers(0, 2**63),
       st.binary(min_size=32, max_size=32),
       st.lists(st.from_regex(r"[ -~]{1,20}", fullmatch=True), max_size=3))
def test_checkpoints_write_and_read_back(origin: str, size: int, root: bytes,
                                         extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint


def test_checkpoints_of_the_wrong_shape_are_refused() -> None:
    root = bytes(32)
    for origin, size, hash_, extensions in [("", 1, root, ()), ("a\nb", 1, root, ()),
                                            ("log", -1, root, ()), ("log", 1, root[:31], ()),
                                            ("log", 1, root, ("",)), ("log", 1, root, ("a\nb",))]:
        with pytest.raises(MalformedCheckpoint):
            Checkpoint(origin, size, hash_, extensions)


def test_a_signed_checkpoint_opens_for_its_log_only() -> None:
    signer = Signer("example.org/ledger", bytes(range(32)))
    checkpoint = Checkpoint("example.org/ledger", 600, hashlib.sha256(b"root").digest())
    message = sign_checkpoint(checkpoint, signer)
    assert message.decode().startswith(checkpoint.text() + "\n— example.org/ledger ")
    assert open_checkpoint(message, "example.org/ledger", [signer.verifier]) == checkpoint
    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(message, "example.org/other", [signer.verifier])
    with pytest.raises(UnverifiedNote):
        open_checkpoint(message, "example.org/ledger", [Signer("example.org/ledger",
                                                                bytes(32)).verifier])
