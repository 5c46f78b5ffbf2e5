"""How a long-running part of the read side (the projection runner, the projection watch) rides
out database failures: it retries after a capped exponential back-off with jitter, keeps the
failure it is retrying after for whoever asks, and logs an outage twice, when it begins (with
the traceback if it is a fault rather than a lost connection) and when it ends, however many
attempts fail in between."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import psycopg
from psycopg_pool import PoolTimeout

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
"""What asyncpg raises when the database fails or cannot be reached (TimeoutError is an
OSError: a statement past its time limit; InternalClientError: its protocol caught
mid-operation on a connection a failure left behind)."""
LOST_STATES = ("08", "57P01", "57P02", "57P03")
"""SQLSTATEs of a connection that failed or broke: connection exceptions (class 08) and the
server shutting down, crashed or still starting."""

FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 10.0
"""The longest wait between attempts: how long after the database returns recovery may take."""


@dataclass(frozen=True)
class Failure:
    error: str  # the latest attempt's, e.g. "ConnectionDoesNotExistError: connection was closed"
    at: datetime  # of the latest failed attempt
    since: datetime  # of the first failed attempt of the outage
    attempts: int


class Health:
    def __init__(self, what: str, log: logging.Logger) -> None:
        self.what = what  # the activity, as a log line names it: "Projecting"
        self.log = log
        self.failure: Failure | None = None
        """The failure being retried after; None while the last attempt worked."""

    def failed(self, error: Exception) -> Failure:
        """Notes a failed attempt (wait `retry_delay(failure.attempts)` before the next)."""
        now = datetime.now(UTC)
        if self.failure is None:
            # a lost connection is an outage, said in one line; anything else is a fault,
            # whose traceback is worth its lines once
            lost = is_connection_failure(error)
            self.log.log(logging.WARNING if lost else logging.ERROR,
                         "%s failed, retrying until it works again: %s", self.what,
                         describe(error), exc_info=None if lost else error)
            self.failure = Failure(describe(error), now, now, 1)
        else:
            self.failure = Failure(describe(error), now, self.failure.since,
                                   self.failure.attempts + 1)
        return self.failure

    def succeeded(self) -> None:
        if self.failure is not None:
            seconds = (datetime.now(UTC) - self.failure.since).total_seconds()
            self.log.warning("%s works again, after %.1f s and %d failed attempt(s).",
                             self.what, seconds, self.failure.attempts)
            self.failure = None


def is_connection_failure(error: BaseException | None) -> bool:
    """Whether an error, or one it was raised from, says the database could not be reached or
    the connection to it broke; rather than that a statement failed or ran too long (a
    TimeoutError), or that the ledger's pool had no connection free in time."""
    while error is not None:
        if isinstance(error, PoolTimeout | TimeoutError):
            return False
        if isinstance(error, OSError):  # refused, reset, unreachable
            return True
        if isinstance(error, asyncpg.InterfaceError | asyncpg.InternalClientError):
            # asyncpg's connection closed, or its protocol caught mid-operation on a connection
            # a failure left behind
            return True
        if isinstance(error, asyncpg.PostgresError | psycopg.Error):
            sqlstate = error.sqlstate
            if sqlstate is not None:
                return sqlstate.startswith(LOST_STATES)
            # psycopg's own errors without a state are about the connection, not a statement
            return isinstance(error, psycopg.OperationalError)
        error = error.__cause__  # the ledger's store wraps psycopg's errors in its own
    return False


def describe(error: BaseException) -> str:
    """One line naming the error: some (a TimeoutError) have no message of their own."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def retry_delay(attempts: int) -> float:
    """Doubling from the first wait up to the last; the jitter keeps processes that failed
    together (the database restarted under them) from all coming back at the same moment."""
    doublings = min(attempts - 1, 30)  # past the last wait anyway; no huge powers in long outages
    return min(LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2**doublings) * random.uniform(0.5, 1.0)


async def first_of(*events: asyncio.Event, timeout: float) -> None:
    """Returns once one of `events` is set, or after `timeout` seconds."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
