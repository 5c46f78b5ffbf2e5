"""C2SP signed notes, with Ed25519 keys: a text signed by one or more keys.

A signed note is its text (valid UTF-8, ending in a newline), a blank line, and one or more
signature lines::

    — <key name> base64(key ID || signature)

(em dash U+2014, a space, the key name, a space, the base64 of the 4-byte big-endian key ID and
the signature of the text). No ASCII control characters but the newline appear anywhere; the text
may hold blank lines, and ends at the last one. Key names are non-empty and hold no Unicode space
and no plus. An Ed25519 key's ID is the first four bytes of

    SHA-256(key name || 0x0A || 0x01 || 32-byte public key)

Keys are written as text, the verifier key public, the signer key secret::

    <name>+<key ID, 8 hex digits>+base64(0x01 || 32-byte public key)
    PRIVATE+KEY+<name>+<key ID, 8 hex digits>+base64(0x01 || 32-byte private key seed)

Opening a note verifies the signatures of the keys it is given and ignores those of other keys
(a key is its name and ID together); one of the given keys must have signed, and a signature by a
given key that fails makes the whole note fail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _BadEd25519Signature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.transparency import TransparencyError

ED25519 = 0x01
"""The signature type of Ed25519 signatures, in key IDs and key texts."""

MAX_SIGNATURES = 100
"""More signature lines than this make a note malformed (C2SP asks verifiers to accept 16)."""

SIGNATURE_PREFIX = "— "
_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


class MalformedNote(TransparencyError):
    """A note, or a text to sign, that breaks the signed-note format."""


class MalformedKey(TransparencyError):
    """A key text, or a key name, that breaks the format, or whose key ID does not match."""


class UnverifiedNote(TransparencyError):
    """A note none of the given keys signed."""


class InvalidSignature(TransparencyError):
    """A signature, by one of the given keys, that does not verify."""


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name) or _has_control(name):
        raise MalformedKey(f"a key name is non-empty, without spaces or plus: {name!r}")


def key_id(name: str, public_key: bytes) -> int:
    """The key ID of an Ed25519 key (the public key's 32 bytes) under a name."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 and ch != "\n" for ch in text)


def _base64(text: str) -> bytes | None:
    """The bytes standard base64 text encodes, or None if it is no base64."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def _key_text(text: str, fields: int) -> tuple[list[str], str, int, bytes]:
    """Splits `fields` +-separated fields, a name, a key ID and the key data off a key text."""
    parts = text.split("+", fields + 2)
    if len(parts) != fields + 3 or not _KEY_ID.fullmatch(parts[-2]):
        raise MalformedKey("not a key text")
    *prefix, name, hex_id, data = parts
    check_key_name(name)
    key = _base64(data)
    if key is None or len(key) != 33 or key[0] != ED25519:
        raise MalformedKey("not an Ed25519 key")
    return prefix, name, int(hex_id, 16), key[1:]


@dataclass(frozen=True)
class Verifier:
    """A public Ed25519 key under a name."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise MalformedKey("an Ed25519 public key has 32 bytes")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        _, name, given_id, public_key = _key_text(text, 0)
        verifier = cls(name, public_key)
        if verifier.key_id != given_id:
            raise MalformedKey(f"the key ID of {name} is {verifier.key_id:08x}, not {given_id:08x}")
        return verifier

    def text(self) -> str:
        data = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{data}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except _BadEd25519Signature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A secret Ed25519 key (its 32-byte seed) under a name. Keep its text secret."""

    name: str
    seed: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != 32:
            raise MalformedKey("an Ed25519 seed has 32 bytes")

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_text(cls, text: str) -> Signer:
        prefix, name, given_id, seed = _key_text(text, 2)
        if prefix != ["PRIVATE", "KEY"]:
            raise MalformedKey("a signer key text starts with PRIVATE+KEY+")
        signer = cls(name, seed)
        if signer.verifier.key_id != given_id:
            raise MalformedKey(f"the key ID of {name} is {signer.verifier.key_id:08x}, "
                               f"not {given_id:08x}")
        return signer

    def text(self) -> str:
        data = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{data}"

    @property
    def verifier(self) -> Verifier:
        public_key = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return Verifier(self.name, public_key)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        data = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {data}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures of the given keys (all verified), and the other
    signature lines, not checked."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """The signed note: the text, a blank line, a signature line for each signer."""
    if not text.endswith("\n"):
        raise MalformedNote("a note's text ends in a newline")
    if _has_control(text):
        raise MalformedNote("a note holds no control characters but newlines")
    if not signers:
        raise MalformedNote("a signed note has at least one signature")
    try:
        message = text.encode()
    except UnicodeEncodeError:
        raise MalformedNote("a note is UTF-8") from None
    lines = [Signature(s.name, s.verifier.key_id, s.sign(message)).line() for s in signers]
    return message + b"\n" + "".join(lines).encode()


def _parse_signature(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote("a signature line starts with an em dash and a space")
    name, _, data = line[len(SIGNATURE_PREFIX):].partition(" ")
    try:
        check_key_name(name)
    except MalformedKey:
        raise MalformedNote(f"malformed key name in signature line {line!r}") from None
    raw = _base64(data)
    if raw is None or len(raw) < 5:
        raise MalformedNote(f"a signature is a key ID and at least one byte: {line!r}")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _split_note(message: bytes) -> tuple[str, list[str]]:
    """The note's text (with its final newline) and its signature lines."""
    try:
        decoded = message.decode()
    except UnicodeDecodeError:
        raise MalformedNote("a note is UTF-8") from None
    if _has_control(decoded):
        raise MalformedNote("a note holds no control characters but newlines")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise MalformedNote("a note's signatures follow a blank line")
    text, block = decoded[:split + 1], decoded[split + 2:]
    if not block.endswith("\n"):
        raise MalformedNote("a note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"a note has at most {MAX_SIGNATURES} signatures")
    return text, lines


def open_note(message: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parses a signed note and verifies the signatures of the given keys. Raises MalformedNote,
    InvalidSignature (a given key's signature fails), or UnverifiedNote (no given key signed)."""
    text, lines = _split_note(message)
    known = _by_key(verifiers)
    signatures: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for line in lines:
        signature = _parse_signature(line)
        key = (signature.name, signature.key_id)
        verifier = known.get(key)
        if verifier is None:
            unverified.setdefault(signature)
        elif key not in signatures:
            if not verifier.verify(text.encode(), signature.signature):
                raise InvalidSignature(f"the signature of {signature.name}+{signature.key_id:08x} "
                                       "does not verify")
            signatures[key] = signature
    if not signatures:
        raise UnverifiedNote("none of the given keys signed the note")
    return Note(text, tuple(signatures.values()), tuple(unverified))


def _by_key(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if known.setdefault(key, verifier) != verifier:
            raise MalformedKey(f"two keys named {verifier.name} share the ID {verifier.key_id:08x}")
    return known
