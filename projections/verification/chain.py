"""The hash chain checked in a process of its own, beside the tree: each event's hash must follow
from the hash stored before it and its content (ledger/store.py). The two checks read the same
events and share nothing but their order, so on a machine with two cores they take the time of
the slower one, not of both.

The process reads in the snapshot the caller exported (`pg_export_snapshot()`), so that it sees
exactly the events the tree is drawn from."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from asyncio.subprocess import PIPE

import asyncpg

from ledger.application import EVENTS_TABLE
from ledger.store import GENESIS_HASH, event_hash
from projections.connection import connect_kwargs
from projections.verification.findings import Difference, short_hash

BATCH = 2_000
_EVENTS = (f"SELECT notification_id, originator_id, originator_version, topic, state, event_hash"
           f" FROM {EVENTS_TABLE} WHERE notification_id > $1 AND notification_id <= $2"
           f" ORDER BY notification_id LIMIT $3")
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


class ChainCheckFailed(RuntimeError):
    """The chain's process ended without an answer."""


async def check_chain(database_url: str, snapshot: str, head: int) -> Difference | None:
    """The chain's first broken link up to position `head`, if any, checked by a new Python
    process (`python -m projections.verification.chain`, asked on its standard input, so that
    the database URL with its password stays out of the process list)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", __name__, stdin=PIPE, stdout=PIPE, stderr=PIPE)
    asked = json.dumps({"database_url": database_url, "snapshot": snapshot, "head": head})
    answer, errors = await process.communicate(asked.encode())
    if process.returncode != 0:
        raise ChainCheckFailed(f"The chain's check ended with exit code {process.returncode}: "
                               f"{errors.decode(errors='replace')[-2000:]}")
    found = json.loads(answer)
    return None if found is None else Difference(**found)


async def first_broken_link(database_url: str, snapshot: str, head: int) -> Difference | None:
    """Each link is checked on its own: after a break the chain goes on from what is stored."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"{snapshot!r} is no snapshot id of pg_export_snapshot()")
    conn = await asyncpg.connect(**connect_kwargs(database_url))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            previous, leaf, after = GENESIS_HASH, 0, 0
            while rows := await conn.fetch(_EVENTS, after, head, BATCH):
                for position, record, version, topic, state, stored in rows:
                    recomputed = event_hash(previous, position, record, version, topic, state)
                    if stored != recomputed:
                        return Difference(
                            "chain", f"the event's hash differs from the one its content and the "
                            f"hash before it give (stored {short_hash(stored) if stored else 'none'}"
                            f", recomputed {short_hash(recomputed)})", position=position, leaf=leaf)
                    previous = stored
                    leaf += 1
                after = rows[-1][0]
    finally:
        await conn.close()
    return None

def main() -> None:
    asked = json.load(sys.stdin)
    found = asyncio.run(first_broken_link(asked["database_url"], asked["snapshot"], asked["head"]))
    json.dump(None if found is None else found.as_json(), sys.stdout)


if __name__ == "__main__":
    main()
