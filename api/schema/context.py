"""What every resolver gets: the read pool, the ledger, who is asking, the moment a read asks
about, the process's shared tail of the log (for subscriptions), and per-request loaders (one
set query per kind of record, however many of them an answer names: no N+1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.auth import Principal, TrustedTokens
from api.availability import DatabaseAvailability
from api.schema.errors import Forbidden
from api.tail import Tail
from ledger.application import Ledger
from ledger.transparency.tiles import TileSet
from projections.errors import InvalidArgument, UnknownRecord
from projections.queries import audit, log, records
from projections.queries.commissions import commissions_by_code, consultations_by_code
from projections.queries.competences import competences_by_code, grants_by_key
from projections.queries.decisions import decisions_by_code
from projections.queries.pagination import Page, PageRequest
from projections.queries.structure import bodies_by_code, dossiers_by_code, jurisdictions_by_code
from projections.waiting import ProjectionWatch

READ_WAIT_SECONDS = 5.0
"""How long a read with `atLeast` waits for the projections before it gives up."""


def in_utc(moment: datetime | None) -> datetime | None:
    """A moment an argument gives, in UTC when it gives no offset."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class Moment:
    """What a read asks about: the date its answer is valid on (valid time) and the ledger
    position it reads as known at (record time; None: everything known)."""

    on: date
    known_at: int | None = None


Row = dict[str, Any]
RecordLoader = DataLoader[tuple[str, Moment], Row | None]
"""Records by (code, moment): each as it stood at the moment its parent is read at. A grant's
code is its key (`competence@jurisdiction/code`), its own code being unique within its holding
only."""


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


async def _load_stored_events(pool: asyncpg.Pool, positions: Sequence[int]
                              ) -> list[dict[str, Any] | None]:
    found = await audit.stored_events(pool, positions)
    return [found.get(position) for position in positions]


async def _load_leaf_indexes(pool: asyncpg.Pool, positions: Sequence[int]) -> list[int | None]:
    found = await log.leaf_indexes(pool, positions)
    return [found.get(position) for position in positions]


@dataclass
class Context:
    pool: asyncpg.Pool
    ledger: Ledger
    principal: Principal
    watch: ProjectionWatch
    tokens: TrustedTokens
    availability: DatabaseAvailability
    tail: Tail
    tiles: TileSet  # the log's tiles the process keeps for proofs
    authorization: str | None = None  # the bearer token's header, checked again on a WebSocket
    connection_params: dict[str, Any] | None = None  # a WebSocket's connection_init payload
    bodies: RecordLoader = field(init=False)
    jurisdictions: RecordLoader = field(init=False)
    competences: RecordLoader = field(init=False)
    decisions: RecordLoader = field(init=False)
    grants: RecordLoader = field(init=False)
    commissions: RecordLoader = field(init=False)
    consultations: RecordLoader = field(init=False)
    dossiers: RecordLoader = field(init=False)
    decision_histories: DataLoader[tuple[str, PageRequest], Page[dict[str, Any]]] = field(
        init=False)
    known_records: DataLoader[records.Named, bool] = field(init=False)
    stored_events: DataLoader[int, dict[str, Any] | None] = field(init=False)
    leaf_indexes: DataLoader[int, int | None] = field(init=False)
    head: int = field(default=0, init=False)
    """The ledger's last position as last looked up (it only grows)."""
    projected: int = field(default=0, init=False)
    """The position the projections were last seen to have applied (it only grows)."""

    def __post_init__(self) -> None:
        self.bodies = _record_loader(
            lambda codes, moment: bodies_by_code(self.pool, codes, moment.on, moment.known_at))
        self.jurisdictions = _record_loader(
            lambda codes, moment: jurisdictions_by_code(self.pool, codes, moment.known_at))
        self.competences = _record_loader(
            lambda codes, moment: competences_by_code(self.pool, codes, moment.known_at))
        self.decisions = _record_loader(lambda codes, moment: decisions_by_code(
            self.pool, codes, moment.on, moment.known_at, self.published_only, self.own_bodies))
        self.grants = _record_loader(
            lambda keys, moment: grants_by_key(self.pool, keys, moment.on, moment.known_at))
        self.commissions = _record_loader(lambda codes, moment: commissions_by_code(
            self.pool, codes, moment.on, moment.known_at))
        self.consultations = _record_loader(lambda codes, moment: consultations_by_code(
            self.pool, codes, moment.on, moment.known_at))
        self.dossiers = _record_loader(
            lambda codes, moment: dossiers_by_code(self.pool, codes, moment.known_at))
        self.decision_histories = DataLoader(lambda keys: _load_histories(self.pool, keys))
        # not kept: a WebSocket's context outlives a request, and records come into being
        self.known_records = DataLoader(self._load_known_records, cache=False)
        self.stored_events = DataLoader(lambda keys: _load_stored_events(self.pool, keys))
        # not kept: on a WebSocket the tree grows to take in an event the context saw before
        self.leaf_indexes = DataLoader(lambda keys: _load_leaf_indexes(self.pool, keys),
                                       cache=False)

    def forget_records(self) -> None:
        """Drops the records and histories loaded so far: a subscription's context outlives the
        answer about one event, and records change between events."""
        for loader in (self.bodies, self.jurisdictions, self.competences, self.decisions,
                       self.grants, self.commissions, self.consultations, self.dossiers,
                       self.decision_histories):
            loader.clear_all()

    async def _load_known_records(self, keys: Sequence[records.Named]) -> list[bool]:
        known = await records.known_records(self.pool, keys, self.published_only,
                                            self.own_bodies)
        return [key in known for key in keys]

    @property
    def published_only(self) -> bool:
        """Whether the asker sees published records only: everyone but auditors and admins."""
        return not self.principal.reads_everything

    @property
    def own_bodies(self) -> tuple[str, ...]:
        """The bodies whose unpublished decisions the asker sees all the same (a clerk's)."""
        return tuple(sorted(self.principal.bodies))

    async def moment(self, on: date | None = None, known_at: int | None = None,
                     at_least: int | None = None, known_at_time: datetime | None = None
                     ) -> Moment:
        """The moment a read asks about, once the projections applied `atLeast`: valid on `on`,
        today if left out, as known at `knownAt` or `knownAtTime`."""
        await self.caught_up(at_least)
        return Moment(on or date.today(), await self.known_at(known_at, known_at_time))

    async def known_at(self, position: int | None, time: datetime | None) -> int | None:
        """The position a read is known at: `knownAt`, or the last recorded by `knownAtTime`."""
        if time is None:
            return await self.ledger_position(position, "knownAt")
        if position is not None:
            raise InvalidArgument("Give `knownAt` or `knownAtTime`, not both.",
                                  field="knownAtTime")
        if not self.principal.reads_everything:
            raise Forbidden("Only auditors may read as known at a time: when events were "
                            "recorded is metadata.")
        return await audit.recorded_by(self.pool, in_utc(time))

    async def ledger_position(self, value: int | None, argument: str, *,
                              written: bool = False) -> int | None:
        """The value of an argument that is a ledger position, or a clear error: positions run
        from 0 to the ledger's last event, as the database read has it, or, if `written`, as
        the database written has it (a standby read from may not have replayed the latest)."""
        if value is None:
            return None
        if value < 0:
            raise InvalidArgument(f"`{argument}` is a ledger position, 0 or more.",
                                  field=argument)
        if value > self.head:
            head = await audit.ledger_head(self.watch.primary if written else self.pool)
            if not written:
                self.head = head
            if value > head:
                raise InvalidArgument(f"Position {value} is beyond the ledger's last event "
                                      f"({head}).", field=argument)
        return value

    async def caught_up(self, at_least: int | None) -> None:
        """Waits until the projections applied `atLeast`, so a client reads its own writes:
        a position the write database has, which the standby read from may still lack."""
        position = await self.ledger_position(at_least, "atLeast", written=True)
        if position is not None and position > self.projected:
            self.projected = await self.watch.wait_for(position, READ_WAIT_SECONDS)

    async def check_references(self, named: Mapping[str, records.Named]) -> None:
        """Fails with UNKNOWN_REFERENCE, naming the argument, when an argument names a record
        the ledger does not know, or one the asker may not know of (an unpublished decision,
        to the public): every argument of every field of a request in one query."""
        known = await self.known_records.load_many(list(named.values()))
        for (argument, (kind, _)), found in zip(named.items(), known, strict=True):
            if not found:
                # the code is not repeated: the message stays free of what a client sent
                raise UnknownRecord(f"`{argument}` names no {kind} the ledger knows.",
                                    field=argument)


ContextInfo = Info[Context, None]
"""What a resolver's `info` is: strawberry's, with the context typed."""
