"""Whether the database can be reached, as this server last found out.

Without its database the server can answer nothing but "try again later", and it should say so
at once rather than let every request wait for a connection attempt to time out. The first
connection that fails (a request's, or a pool's own attempt to reconnect) marks the database
unavailable, and the outage is logged, once; from then on requests are refused at the door
with UNAVAILABLE until a probe in the background reaches the database again through both pools
(the read side's and the ledger's), and the end of the outage is logged, once. Nothing needs
restarting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from projections.health import describe, is_connection_failure

if TYPE_CHECKING:  # the ledger's domain is not needed to check a token (bevoegd tokens)
    from ledger.application import Ledger

PROBE_SECONDS = 1.0
"""How often the database is tried while it is unavailable."""
RETRY_AFTER_SECONDS = 2
"""What clients are told to wait: by then the next probe has had its say."""
POOL_LOGGERS = ("asyncpg.pool", "psycopg.pool")
"""The pools report every failed attempt to reconnect (asyncpg with a traceback): once the
outage is logged, they have nothing to add until it ends."""

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    code = "UNAVAILABLE"
    retry_after = RETRY_AFTER_SECONDS

    def __init__(self) -> None:
        super().__init__(f"The database cannot be reached; try again in {self.retry_after} s.")
        self.message = str(self)

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code}


Probe = Callable[[], Awaitable[object]]
T = TypeVar("T")


class DatabaseAvailability:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.available = True
        self._outage = asyncio.Event()
        self._probing: asyncio.Task[None] | None = None
        self._since = 0.0
        for name in POOL_LOGGERS:
            logging.getLogger(name).addFilter(self._quiet_while_down)

    def check(self) -> None:
        """Refuses at once while the database is known to be unavailable."""
        if not self.available:
            raise DatabaseUnavailable()

    def failed(self, error: BaseException) -> DatabaseUnavailable:
        """Takes note that connecting to the database failed, or that a connection broke (see
        `is_connection_failure`); returns what to tell the client."""
        if self.available:
            self.available = False
            self._outage.set()
            self._since = time.monotonic()
            log.warning("database unavailable: %s", describe(error))
            self._probing = asyncio.create_task(self._probe_until_back())
        return DatabaseUnavailable()

    @contextlib.asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Refuses at once while the database is unavailable; turns a connection failure in the
        block into DatabaseUnavailable."""
        self.check()
        try:
            yield
        except Exception as error:
            if is_connection_failure(error):
                raise self.failed(error) from error
            raise

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a worker thread, for the ledger's blocking calls, given up with
        DatabaseUnavailable as soon as the database is known to be gone: the ledger's store
        retries a call that lost its connection, waiting for the pool each time. The thread
        goes on; a write it completes after all is found again by its idempotency key."""
        self.check()
        work = asyncio.ensure_future(asyncio.to_thread(function, *args))
        outage = asyncio.ensure_future(self._outage.wait())
        try:
            await asyncio.wait((work, outage), return_when=asyncio.FIRST_COMPLETED)
        finally:
            outage.cancel()
            if not work.done():
                work.add_done_callback(_outcome_ignored)
        if not work.done():
            raise DatabaseUnavailable()
        return work.result()

    async def close(self) -> None:
        for name in POOL_LOGGERS:
            logging.getLogger(name).removeFilter(self._quiet_while_down)
        if self._probing is not None:
            self._probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probing

    def _quiet_while_down(self, record: logging.LogRecord) -> bool:
        return self.available or record.levelno >= logging.ERROR

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            try:
                await self.probe()
            except Exception:  # still down, whatever it says: the outage is logged already
                continue
            self.available = True
            self._outage.clear()
            log.info("database available again after %.0f s", time.monotonic() - self._since)
            return


async def both_pools_answer(pool: asyncpg.Pool, ledger: Ledger) -> None:
    """The probe of a server: a query through the read side's pool, and one through the
    ledger's, whose connections broken by the outage are replaced first (unlike asyncpg's,
    psycopg's pool finds a broken connection only when it is used)."""
    await pool.fetchval("SELECT 1")
    await asyncio.to_thread(_ledger_answers, ledger)


def _ledger_answers(ledger: Ledger) -> None:
    datastore = ledger.store.datastore  # not through the store, which retries for seconds
    datastore.pool.check()
    with datastore.get_connection() as conn:
        conn.execute("SELECT 1")


def _outcome_ignored(work: asyncio.Future[Any]) -> None:
    if not work.cancelled():
        work.exception()  # retrieved, so that asyncio does not report it as never retrieved
