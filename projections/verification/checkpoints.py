"""Checkpoints held against the ledger: every stored one, and any published elsewhere that someone
kept. A checkpoint counts once its signature verifies with a given verifier key named like its
origin (the log signs with such a key, ledger/transparency/checkpoint.py); without keys the stored
ones are taken as their rows say, their signatures unchecked. Each must be the tree head of the
events at its size, two of one size must agree (else the log forked), and each stored one must be
consistent with the one before it."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ledger.transparency import TransparencyError
from ledger.transparency.checkpoint import Checkpoint, MalformedCheckpoint
from ledger.transparency.merkle import ProofFailed, verify_consistency
from ledger.transparency.note import Verifier, open_note
from projections.checkpoints import CHECKPOINTS_TABLE, SignedCheckpoint, all_checkpoints
from projections.queries.log import consistency
from projections.verification.findings import Difference, Findings
from projections.verification.log import LogFindings


@dataclass(frozen=True)
class Claim:
    """A tree head a checkpoint claims, and where the checkpoint came from."""

    source: str  # as a difference names it
    size: int
    root_hash: bytes
    stored: bool

    @property
    def given(self) -> str | None:
        """Where a checkpoint from elsewhere came from; None for a stored one."""
        return None if self.stored else self.source


def open_signed(message: bytes, verifiers: Sequence[Verifier]) -> Checkpoint:
    """The checkpoint in a signed note that one of the verifier keys, named like its origin,
    signed. Raises TransparencyError if none did, or a signature by one of them fails."""
    note = open_note(message, verifiers)
    checkpoint = Checkpoint.parse(note.text)
    signers = sorted({signature.name for signature in note.signatures})
    if checkpoint.origin not in signers:
        raise MalformedCheckpoint(f"a checkpoint of {checkpoint.origin!r} signed by "
                                  f"{', '.join(signers)}, not by the log's own key")
    return checkpoint


def given_claim(source: str, message: bytes, verifiers: Sequence[Verifier]) -> Claim:
    """A checkpoint published elsewhere (a file's content); raises TransparencyError unless a
    verifier key signed it."""
    checkpoint = open_signed(message, verifiers)
    return Claim(source, checkpoint.size, checkpoint.root_hash, stored=False)


async def stored_checkpoints(conn: asyncpg.Connection) -> list[SignedCheckpoint]:
    """Every stored checkpoint; none if nothing was ever signed here."""
    if await conn.fetchval("SELECT to_regclass($1) IS NULL", CHECKPOINTS_TABLE):
        return []
    return await all_checkpoints(conn)


def stored_claims(checkpoints: Sequence[SignedCheckpoint], verifiers: Sequence[Verifier],
                  findings: Findings) -> list[Claim]:
    """The stored checkpoints whose notes verify and say what their rows say; with no verifier
    keys, all of them as their rows say."""
    claims = []
    for stored in checkpoints:
        source = f"the stored checkpoint of size {stored.size}"
        if verifiers:
            try:
                checkpoint = open_signed(stored.note.encode(), verifiers)
            except TransparencyError as error:
                findings.add(Difference("signature", f"{source}: {error}", size=stored.size))
                continue
            if (checkpoint.size, checkpoint.root_hash) != (stored.size, stored.root_hash):
                findings.add(Difference(
                    "signature", f"{source}: its signed note is of size {checkpoint.size} with "
                    f"root {_text(checkpoint.root_hash)}, its row says root "
                    f"{_text(stored.root_hash)}", size=stored.size))
                continue
        claims.append(Claim(source, stored.size, stored.root_hash, stored=True))
    return claims


def check_claims(claims: Sequence[Claim], log: LogFindings, findings: Findings) -> None:
    """Each claim against the events' tree, and against the other claims of its size."""
    by_size: dict[int, Claim] = {}
    for claim in claims:
        other = by_size.setdefault(claim.size, claim)
        if other.root_hash != claim.root_hash:
            findings.add(Difference(
                "fork", f"the log forked: {other.source} and {claim.source} sign two trees of "
                f"{claim.size} leaves, with roots {_text(other.root_hash)} and "
                f"{_text(claim.root_hash)}", size=claim.size))
    held = sorted(claim.size for claim in claims
                  if claim.size <= log.events and log.root(claim.size) == claim.root_hash)
    for claim in claims:
        if claim.size > log.events:
            findings.add(Difference(
                "checkpoint", f"{claim.source} signs a tree of {claim.size} leaves; the ledger "
                f"holds {log.events} events", size=claim.size, source=claim.given))
        elif log.root(claim.size) != claim.root_hash:
            findings.add(_not_held(claim, log, max((s for s in held if s < claim.size), default=0)))


def _not_held(claim: Claim, log: LogFindings, held: int) -> Difference:
    """A claim the events no longer give. The events up to `held` leaves still give a signed
    head, so one of those after it changed, was added or was taken away."""
    first, last = log.position_of(held), log.position_of(claim.size - 1)
    assert first is not None and last is not None
    what = (f"{claim.source} signs root {_text(claim.root_hash)} for {claim.size} leaves; the "
            f"events give {_text(log.root(claim.size))}: ")
    if first == last:
        return Difference("checkpoint", what + f"the event at position {first} is not the one "
                          "signed", position=first, size=claim.size, leaf=held,
                          source=claim.given)
    return Difference("checkpoint", what + f"an event among positions {first} to {last} is not "
                      "the one signed", size=claim.size, between=(first, last),
                      source=claim.given)


async def check_consistency(conn: asyncpg.Connection, claims: Sequence[Claim], log: LogFindings,
                            findings: Findings) -> None:
    """Each stored checkpoint against the one before it, by a consistency proof made from the read
    side's tiles: call it only once those were found to be the events' tree."""
    stored = sorted((claim for claim in claims if claim.stored), key=lambda claim: claim.size)
    for old, new in zip(stored, stored[1:], strict=False):
        if old.size == 0 or new.size > log.tree_size:
            continue
        try:
            verify_consistency(old.size, new.size, old.root_hash, new.root_hash,
                               await consistency(conn, old.size, new.size))
        except ProofFailed as failed:
            findings.add(Difference(
                "consistency", f"the events' tree proves no consistency from {old.source} to "
                f"{new.source}: {failed}", size=new.size))


def _text(root: bytes) -> str:
    return base64.b64encode(root).decode()
