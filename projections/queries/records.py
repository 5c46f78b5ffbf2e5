"""Which records the ledger knows, by kind and code: what an argument naming one is checked
against, so that a typo fails instead of answering as if nothing were there."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.values import record_id
from projections.queries.decisions import published_or_own
from projections.queries.sql import NEVER, Db, Query
from projections.tracking import SCHEMA

Named = tuple[str, str]
"""A record as an argument names it: its kind (as in ledger.values.record_id) and its code."""


async def known_records(db: Db, named: Iterable[Named], published_only: bool = False,
                        own_bodies: tuple[str, ...] = ()) -> set[Named]:
    """Those of the named records the ledger knows (at any position), in one query. With
    `published_only` a decision counts once it is published, or when one of `own_bodies` took
    or proposed it: to the public an unpublished decision is no different from an unknown one."""
    by_id = {record_id(kind, code): (kind, code) for kind, code in named}
    if not by_id:
        return set()
    q = Query()
    q.where("r.record_id = ANY({})", list(by_id))
    if published_only:
        visible = published_or_own(q.param(NEVER))
        q.where(f"(r.kind <> 'decision' OR EXISTS (SELECT FROM {SCHEMA}.decisions d"
                f" WHERE d.code = r.code AND {visible}))", list(own_bodies), list(own_bodies))
    rows = await db.fetch(f"SELECT r.record_id FROM {SCHEMA}.records r WHERE {q.sql}", *q.args)
    return {by_id[row["record_id"]] for row in rows}
