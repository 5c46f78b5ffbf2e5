"""What every resolver gets: the read pool, the ledger, who is asking, the moment a read asks
about, and per-request loaders (one set query per kind of record, however many of them an answer
names: no N+1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.auth import Principal, TrustedTokens
from api.availability import DatabaseAvailability
from ledger.application import Ledger
from projections.errors import InvalidArgument
from projections.queries import audit
from projections.queries.competences import competences_by_code
from projections.queries.decisions import decisions_by_code
from projections.queries.pagination import Page, PageRequest
from projections.queries.structure import bodies_by_code, jurisdictions_by_code
from projections.waiting import ProjectionWatch

READ_WAIT_SECONDS = 5.0
"""How long a read with `atLeast` waits for the projections before it gives up."""


@dataclass(frozen=True)
class Moment:
    """What a read asks about: the date its answer is valid on (valid time) and the ledger
    position it reads as known at (record time; None: everything known)."""

    on: date
    known_at: int | None = None


def ledger_position(value: int | None, argument: str) -> int | None:
    """The value of an argument that is a ledger position, or a clear error."""
    if value is not None and value < 0:
        raise InvalidArgument(f"`{argument}` is a ledger position, 0 or more.", field=argument)
    return value


Row = dict[str, Any]
RecordLoader = DataLoader[tuple[str, Moment], Row | None]
"""Records by (code, moment): each as it stood at the moment its parent is read at."""


def _record_loader(fetch: Callable[[Sequence[str], Moment], Awaitable[dict[str, Row]]]
                   ) -> RecordLoader:
    async def load(keys: Sequence[tuple[str, Moment]]) -> list[Row | None]:
        wanted: dict[Moment, set[str]] = defaultdict(set)
        for code, moment in keys:
            wanted[moment].add(code)
        found = {moment: await fetch(sorted(codes), moment) for moment, codes in wanted.items()}
        return [found[moment].get(code) for code, moment in keys]

    return DataLoader(load)


async def _load_histories(pool: asyncpg.Pool, keys: Sequence[tuple[str, PageRequest]]
                          ) -> list[Page[dict[str, Any]]]:
    wanted: dict[PageRequest, list[str]] = defaultdict(list)
    for code, page in keys:
        wanted[page].append(code)
    found = {page: await audit.histories(pool, "decision", codes, page)
             for page, codes in wanted.items()}
    return [found[page][code] for code, page in keys]


@dataclass
class Context:
    pool: asyncpg.Pool
    ledger: Ledger
    principal: Principal
    watch: ProjectionWatch
    tokens: TrustedTokens
    availability: DatabaseAvailability
    authorization: str | None = None  # the bearer token's header, checked again on a WebSocket
    connection_params: dict[str, Any] | None = None  # a WebSocket's connection_init payload
    bodies: RecordLoader = field(init=False)
    jurisdictions: RecordLoader = field(init=False)
    competences: RecordLoader = field(init=False)
    decisions: RecordLoader = field(init=False)
    decision_histories: DataLoader[tuple[str, PageRequest], Page[dict[str, Any]]] = field(
        init=False)

    def __post_init__(self) -> None:
        self.bodies = _record_loader(
            lambda codes, moment: bodies_by_code(self.pool, codes, moment.on, moment.known_at))
        self.jurisdictions = _record_loader(
            lambda codes, moment: jurisdictions_by_code(self.pool, codes, moment.known_at))
        self.competences = _record_loader(
            lambda codes, moment: competences_by_code(self.pool, codes, moment.known_at))
        self.decisions = _record_loader(lambda codes, moment: decisions_by_code(
            self.pool, codes, moment.on, moment.known_at, self.published_only, self.own_bodies))
        self.decision_histories = DataLoader(lambda keys: _load_histories(self.pool, keys))

    @property
    def published_only(self) -> bool:
        """Whether the asker sees published records only: everyone but auditors and admins."""
        return not self.principal.reads_everything

    @property
    def own_bodies(self) -> tuple[str, ...]:
        """The bodies whose unpublished decisions the asker sees all the same (a clerk's)."""
        return tuple(sorted(self.principal.bodies))

    async def moment(self, on: date | None = None, known_at: int | None = None,
                     at_least: int | None = None) -> Moment:
        """The moment a read asks about, once the projections applied `atLeast`: valid on `on`,
        today if left out, as known at `knownAt`."""
        await self.caught_up(at_least)
        return Moment(on or date.today(), ledger_position(known_at, "knownAt"))

    async def caught_up(self, at_least: int | None) -> None:
        """Waits until the projections applied `atLeast`, so a client reads its own writes."""
        if at_least is None:
            return
        if ledger_position(at_least, "atLeast") > await audit.ledger_head(self.pool):
            raise InvalidArgument(f"Position {at_least} is beyond the ledger's last event: it "
                                  "will not be reached by waiting.", field="atLeast")
        await self.watch.wait_for(at_least, READ_WAIT_SECONDS)


ContextInfo = Info[Context, None]
"""What a resolver's `info` is: strawberry's, with the context typed."""
