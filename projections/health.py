"""How a long-running part of the read side (the projection runner, the projection watch) rides
out failures: it retries after a capped exponential back-off with jitter, keeps the failure it
is retrying after for whoever asks, and logs an outage twice, when it begins and when it ends,
however many attempts fail in between (with a traceback only for what is not the database's)."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
"""What asyncpg raises when the database fails or cannot be reached (TimeoutError is an
OSError: a statement past its time limit; InternalClientError: its protocol caught
mid-operation on a connection a failure left behind)."""
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
            # The database failing is not a bug, and its traceback tells nothing; anything else's
            # does, once.
            bug = not isinstance(error, DATABASE_ERRORS)
            self.log.log(logging.ERROR if bug else logging.WARNING,
                         "%s failed, retrying until it works again: %s", self.what,
                         describe(error), exc_info=error if bug else None)
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


def describe(error: BaseException) -> str:
    """One line naming the error: some (a TimeoutError) have no message of their own."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def retry_delay(attempts: int) -> float:
    """Doubling from the first wait up to the last; the jitter keeps processes that failed
    together (the database restarted under them) from all coming back at the same moment."""
    doublings = min(attempts - 1, 30)  # past the last wait anyway; no huge powers in long outages
    return min(LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2**doublings) * random.uniform(0.5, 1.0)
