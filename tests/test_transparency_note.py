"""C2SP signed notes with Ed25519: the published keys, notes and signatures of the Go checksum
database's note package (signing is deterministic, so ours must be byte for byte the same), the
example of the specification, every format rule, and mangled keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency.note import (
    InvalidSignature,
    MalformedKey,
    MalformedNote,
    Signer,
    UnverifiedNote,
    Verifier,
    key_id,
    open_note,
    sign_note,
)

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
             "RZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox3"
             "3WWd1RvMc+QQ=\n")
# The example of the specification, signed by a key it does not publish.
QUASIMODO = ("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
             "\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONr"
             "MouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n")


def test_published_keys_read_and_write_back() -> None:
    signer = Signer.from_text(PETER_SIGNER)
    assert signer.text() == PETER_SIGNER
    assert signer.verifier == Verifier.from_text(PETER)
    assert signer.verifier.text() == PETER
    assert (signer.name, signer.verifier.key_id) == ("PeterNeumann", 0xC74F20A3)
    enoch = Verifier.from_text(ENOCH)
    assert enoch.key_id == key_id("EnochRoot", enoch.public_key) == 0xAF0CFE78


def test_signing_gives_the_published_note() -> None:
    assert sign_note(TEXT, [Signer.from_text(PETER_SIGNER)]).decode() == TEXT + "\n" + PETER_SIG


def test_opening_verifies_the_given_keys_and_keeps_the_others_unverified() -> None:
    peter, enoch = Verifier.from_text(PETER), Verifier.from_text(ENOCH)
    message = (TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode()
    note = open_note(message, [peter])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    assert note.unverified[0].line() == ENOCH_SIG
    both = open_note(message, [enoch, peter])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"] and not both.unverified
    with pytest.raises(UnverifiedNote):
        open_note(message, [])


def test_the_example_of_the_specification_is_well_formed() -> None:
    """Its text holds a blank line; without the key no signature verifies, but none is refused."""
    with pytest.raises(UnverifiedNote):
        open_note(QUASIMODO.encode(), [Verifier.from_text(PETER)])
    impostor = Signer("quasimodo.example/salvatore", bytes(32))
    with pytest.raises(UnverifiedNote):  # the same name with another key ID is another key
        open_note(QUASIMODO.encode(), [impostor.verifier])
    signed = sign_note("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
                       "ed è subito sera.\n", [impostor])
    assert open_note(signed, [impostor.verifier]).text.endswith("\n\ned è subito sera.\n")


def test_a_failing_signature_of_a_given_key_fails_the_note() -> None:
    peter = Verifier.from_text(PETER)
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignature):
        open_note((TEXT + "\n" + broken).encode(), [peter])
    with pytest.raises(InvalidSignature):
        open_note((TEXT.replace("problem", "question") + "\n" + PETER_SIG).encode(), [peter])


def test_repeated_signatures_count_once() -> None:
    peter = Verifier.from_text(PETER)
    note = open_note((TEXT + "\n" + PETER_SIG * 2 + ENOCH_SIG * 3).encode(), [peter])
    assert len(note.signatures) == 1 and len(note.unverified) == 1


@pytest.mark.parametrize("message", [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter Neumann"),
    TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
    TEXT + "\n" + PETER_SIG.replace("— ", "-- "),
    TEXT + "\n" + PETER_SIG.replace("x08go/", "x08go!"),
    TEXT + "\n" + "— PeterNeumann \n",
    TEXT + "\n" + "— PeterNeumann xwg=\n",
    TEXT + "\n" + PETER_SIG + "\n",
    TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
    TEXT + "\n" + PETER_SIG * 101,
])
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(message.encode(), [Verifier.from_text(PETER)])


def test_a_note_is_utf8() -> None:
    with pytest.raises(MalformedNote):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [Verifier.from_text(PETER)])


def test_a_hundred_signatures_are_accepted() -> None:
    note = open_note((TEXT + "\n" + PETER_SIG * 100).encode(), [Verifier.from_text(PETER)])
    assert len(note.signatures) == 1


@pytest.mark.parametrize("text", ["", "no newline", "tab\tin text\n", "carriage\rreturn\n",
                                  "lone \udc80 surrogate\n"])
def test_only_a_proper_text_is_signed(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(text, [Signer.from_text(PETER_SIGNER)])


def test_a_note_has_a_signer() -> None:
    with pytest.raises(MalformedNote):
        sign_note(TEXT, [])


def mangled(key: str) -> list[str]:
    """Every proper substring of a key text, and the text with each character one code higher."""
    cuts = [key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)
            if (i, j) != (0, len(key))]
    return cuts + [key[:i] + chr(ord(key[i]) + 1) + key[i + 1:] for i in range(len(key))]


def test_mangled_verifier_keys_are_refused() -> None:
    for text in mangled(PETER) + [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER_SIGNER,
    ]:
        with pytest.raises(MalformedKey):
            Verifier.from_text(text)


def test_mangled_signer_keys_are_refused() -> None:
    for text in [*mangled(PETER_SIGNER), PETER]:
        with pytest.raises(MalformedKey):
            Signer.from_text(text)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b", "tab\t", "new\nline"])
def test_key_names_without_spaces_or_plus(name: str) -> None:
    with pytest.raises(MalformedKey):
        Signer(name, bytes(32))


def test_two_keys_of_one_name_and_id_are_ambiguous() -> None:
    """Two public keys whose IDs collide under one name (found by trying 73,316 keys)."""
    first = Verifier("PeterNeumann", bytes.fromhex(
        "46c266aa25dceaf4d52f5d4ab5bd8ecaf8baef2c6a8db5820c41934267f5c543"))
    second = Verifier("PeterNeumann", bytes.fromhex(
        "4a9ac6afd93b30079bffe7de236862d47b2c3f4bb74c2547664ac8e5466452a0"))
    assert first.key_id == second.key_id == 0x11269E14
    peter = Verifier.from_text(PETER)
    assert open_note((TEXT + "\n" + PETER_SIG).encode(), [peter, peter]).signatures
    with pytest.raises(MalformedKey):
        open_note((TEXT + "\n" + PETER_SIG).encode(), [peter, first, second])


NOTE_TEXT = st.text(st.characters(blacklist_categories=["Cs"],
                                  blacklist_characters=[chr(c) for c in range(0x20) if c != 0x0A]))


@given(NOTE_TEXT.map(lambda text: text + "\n"), st.lists(st.integers(0, 2), min_size=1, max_size=4))
def test_signed_notes_open(text: str, signers: list[int]) -> None:
    """Any text, blank lines in it too, signed by some keys, opens with their verifiers."""
    keys = [Signer(f"example.org/key{i}", bytes([i]) * 32) for i in range(3)]
    message = sign_note(text, [keys[i] for i in signers])
    note = open_note(message, [key.verifier for key in keys])
    assert note.text == text
    assert [s.name for s in note.signatures] == [keys[i].name for i in dict.fromkeys(signers)]
