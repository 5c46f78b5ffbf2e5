"""C2SP tlog-checkpoints: the log's signed tree head, as the text of a signed note::

    <origin>                    the log's identity, non-empty
    <tree size>                 decimal, no leading zeroes (0 for the empty tree)
    <root hash>                 base64 of the 32-byte RFC 9162 tree head at that size
    [<extension line>...]       optional, each non-empty

each line ending in a newline. The log signs with a key named like its origin, and never signs two
checkpoints no consistency proof joins.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.transparency import TransparencyError
from ledger.transparency.merkle import HASH_SIZE
from ledger.transparency.note import Signer, Verifier, open_note, sign_note

_SIZE = re.compile(r"0|[1-9][0-9]*")


class MalformedCheckpoint(TransparencyError):
    """A checkpoint text that breaks the format, or from another log than the one expected."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint("the origin is one non-empty line")
        if self.size < 0:
            raise MalformedCheckpoint(f"a tree has no {self.size} leaves")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpoint(f"a root hash has {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise MalformedCheckpoint("an extension is one non-empty line")

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(),
                 *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise MalformedCheckpoint("a checkpoint's lines end in newlines")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise MalformedCheckpoint("a checkpoint is at least three lines, none empty")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise MalformedCheckpoint(f"the tree size {size!r} is not a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise MalformedCheckpoint(f"the root hash {root!r} is not base64") from None
        if base64.b64encode(root_hash).decode() != root:
            raise MalformedCheckpoint(f"the root hash {root!r} is not canonical base64")
        return cls(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> bytes:
    return sign_note(checkpoint.text(), [signer])


def open_checkpoint(message: bytes, origin: str, verifiers: Iterable[Verifier]) -> Checkpoint:
    """The checkpoint of the log `origin` in a signed note one of the verifiers signed."""
    checkpoint = Checkpoint.parse(open_note(message, verifiers).text)
    if checkpoint.origin != origin:
        raise MalformedCheckpoint(f"a checkpoint of {checkpoint.origin!r}, not of {origin!r}")
    return checkpoint
