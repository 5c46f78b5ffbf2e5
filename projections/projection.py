"""What a projection is: tables of its own (created in any schema, so a rebuild can fill shadow
copies) and a function applying a batch of events to them inside the runner's transaction.

Every projection of the ledger has one shape (`DeclaredProjection`): tables declared once, and a
`Batch` per batch of events that loads the rows the events touch, applies each event with the
method its table of handled events names, and saves the rows in a few statements. Whatever event
of the domain a projection does not handle it names as ignored (tests/test_projection_events.py
holds every projection to that)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

import asyncpg

from projections.events import LedgerEvent
from projections.tables import Table


class Projection(Protocol):
    name: str
    version: int
    """Raised when the tables change shape: a runner then rebuilds the projection from the start."""
    tables: tuple[str, ...]

    def create_tables(self, schema: str) -> list[str]:
        """CREATE TABLE statements (with primary keys) for the projection's tables in `schema`."""
        ...

    def create_indexes(self, schema: str) -> list[str]:
        """Secondary indexes, created after a rebuild has loaded the tables."""
        ...

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None: ...


EventName = tuple[str, str]
"""An event of the domain by its record and type, as the ledger stores it: ("Decision", "Taken")."""


def event_names(**types_by_record: Sequence[str]) -> frozenset[EventName]:
    """event_names(Decision=("Taken", "Published")): the events named, record by record."""
    return frozenset((record, event_type) for record, types in types_by_record.items()
                     for event_type in types)


class Batch:
    """One batch of a projection: the rows its events change, kept in memory from `load` to
    `save`, so that a record touched many times in a batch is read and written once."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    async def load(self, conn: asyncpg.Connection, events: Sequence[LedgerEvent]) -> None:
        """Loads the stored rows that the events will change (none, unless overridden)."""

    async def save(self, conn: asyncpg.Connection) -> None:
        raise NotImplementedError


B = TypeVar("B", bound=Batch)


class DeclaredProjection(Generic[B]):
    name: ClassVar[str]
    version: ClassVar[int]
    declared: ClassVar[tuple[Table, ...]]
    batch: Callable[[str], B]  # made with the schema, once per batch
    handles: Mapping[EventName, Callable[[B, LedgerEvent], None]] = {}
    """The method of the batch that applies each event the projection reads."""
    ignores: frozenset[EventName] = frozenset()
    """The events of the domain that change nothing here."""
    handles_every_event: Callable[[B, LedgerEvent], None] | None = None
    """For projections that treat every event alike (the counts, the audit trail): the method
    applying each, instead of the table."""

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.declared)

    def create_tables(self, schema: str) -> list[str]:
        return [statement for table in self.declared for statement in table.create(schema)]

    def create_indexes(self, schema: str) -> list[str]:
        return [statement for table in self.declared for statement in table.create_indexes(schema)]

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        batch = self.batch(schema)
        await batch.load(conn, events)
        # read from the class, where a function is not bound to the projection: the batch is its self
        handles, every_event = type(self).handles, type(self).handles_every_event
        for event in events:
            handle = handles.get((event.record, event.type), every_event)
            if handle is not None:
                handle(batch, event)
        await batch.save(conn)
