"""Verifying a ledger: everything derived from the stored events is derived again and compared
with what is stored, step by step, not only at the ends.

1. The hash chain: each event's hash from its content and the hash stored before it
   (`log.py`).
2. The transparency log: every tile, entry bundle and offset the read side holds against the
   tree of the events, drawn anew in the same pass (`log.py`).
3. Checkpoints: each stored one's signature, its tree head against the events' at its size,
   and its consistency with the one before it; checkpoints published elsewhere likewise; two
   of one size must agree (`checkpoints.py`).
4. The projections: replayed into scratch tables and compared with the live ones
   (`read_models.py`).

What it cannot show: that the events are the ones first recorded, where nothing signed or kept
elsewhere covers them. Whoever can write the database can rewrite an event and recompute the
chain and the tiles after it; only a checkpoint signed before, or kept by someone else, still
holds the old tree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ledger.transparency.note import Verifier
from projections.connection import create_pool
from projections.rebuild import connections_needed
from projections.runner import all_projections
from projections.verification.checkpoints import (
    Claim,
    check_claims,
    check_consistency,
    stored_checkpoints,
    stored_claims,
)
from projections.verification.findings import Difference, Findings
from projections.verification.log import LogFindings, check_log
from projections.verification.read_models import ReadModelFindings, check_read_models

CHECKING_LOG = "Checking the chain and the tree"
REPLAYING = "Replaying the projections"
StageProgress = Callable[[str, int, int], None]
"""Called with (stage, position reached, head of the log) as each stage goes on."""


@dataclass(frozen=True)
class Report:
    log: LogFindings
    stored_checkpoints: int
    given_checkpoints: int
    signatures_checked: bool
    read_models: ReadModelFindings | None  # None: not compared
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.log.events,
            "head": self.log.head,
            "tree": {"position": self.log.tree_position, "size": self.log.tree_size,
                     "tiles": self.log.tiles, "bundles": self.log.bundles},
            "checkpoints": {"stored": self.stored_checkpoints, "given": self.given_checkpoints,
                            "signatures_checked": self.signatures_checked},
            "projections": None if self.read_models is None else {
                "position": self.read_models.position, "tables": self.read_models.tables},
            "first_difference": self.differences[0].as_json() if self.differences else None,
            "differences": [difference.as_json() for difference in self.differences],
        }


async def verify(database_url: str, *, verifiers: Sequence[Verifier] = (),
                 given: Sequence[Claim] = (), read_models: bool = True,
                 progress: StageProgress | None = None) -> Report:
    """Verifies the ledger at `database_url`. The stored checkpoints' signatures are checked
    with `verifiers` (not at all if there are none); `given` are checkpoints from elsewhere,
    opened already (`checkpoints.given_claim`)."""
    projections = all_projections()
    pool = await create_pool(database_url, max_size=connections_needed(len(projections)))
    try:
        findings = Findings()
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                            readonly=True):
            stored = await stored_checkpoints(conn)
            claims = stored_claims(stored, verifiers, findings) + list(given)
            log = await check_log(database_url, conn, {claim.size for claim in claims}, findings,
                                  progress and partial(progress, CHECKING_LOG))
            check_claims(claims, log, findings)
            if not findings.found("tiles"):  # then the read side's tiles are the events' tree
                await check_consistency(conn, claims, log, findings)
        compared = None
        if read_models:
            compared = await check_read_models(pool, projections, findings,
                                               progress and partial(progress, REPLAYING))
        return Report(log, len(stored), len(given), bool(verifiers), compared,
                      findings.differences())
    finally:
        await pool.close()
