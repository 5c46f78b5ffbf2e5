"""Every projection says what it does with each event of the domain: it handles it, or it ignores it
on purpose. An event added to ledger/domain fails here until every projection has named it, and
a projection that names an event the domain does not define (a typo, a renamed event) fails too.

The domain's events are read from the aggregates themselves: the event classes nested in each
aggregate of ledger/domain, as the ledger stores them (record and type, "Decision.Taken")."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from eventsourcing.domain import Aggregate

from ledger import domain
from ledger.application import Ledger
from projections.connection import create_pool
from projections.events import RECORD_KINDS, read_events
from projections.projection import DeclaredProjection, EventName
from projections.runner import all_projections
from tests.read_models import import_history

LIBRARY_EVENTS = ("Event", "Created")
"""The library's bases nested in every aggregate, never recorded here: each aggregate names the
event that creates it (`@event("Registered")` on `__init__`)."""


def aggregates() -> list[type[Aggregate]]:
    """The aggregates defined in the modules of ledger/domain."""
    found = []
    for module_info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"{domain.__name__}.{module_info.name}")
        found.extend(value for value in vars(module).values()
                     if isinstance(value, type) and issubclass(value, Aggregate)
                     and value.__module__ == module.__name__)
    return found


def events_of(aggregate: type[Aggregate]) -> dict[EventName, type]:
    return {(aggregate.__name__, name): value for name, value in vars(aggregate).items()
            if isinstance(value, type) and issubclass(value, aggregate.Event)
            and name not in LIBRARY_EVENTS}


def domain_events() -> set[EventName]:
    return {name for aggregate in aggregates() for name in events_of(aggregate)}


def projections() -> list[DeclaredProjection]:
    found = all_projections()
    assert all(isinstance(p, DeclaredProjection) for p in found)
    return found  # type: ignore[return-value]


def test_the_domain_events_are_found_in_every_aggregate() -> None:
    found = aggregates()
    assert {a.__name__ for a in found} == set(RECORD_KINDS)
    for aggregate in found:
        created = [name for name, event in events_of(aggregate).items()
                   if issubclass(event, Aggregate.Created)]
        assert len(created) == 1, f"{aggregate.__name__} names no event of its own that creates it"
    assert ("Decision", "Taken") in domain_events()
    assert ("Decision", "Created") not in domain_events()


@pytest.mark.parametrize("projection", projections(), ids=lambda p: p.name)
def test_a_projection_handles_or_ignores_every_event_of_the_domain(
        projection: DeclaredProjection) -> None:
    if projection.handles_every_event is not None:
        assert not projection.handles and not projection.ignores, "one way: all, or a table"
        return
    named = projection.handles.keys() | projection.ignores
    assert sorted(domain_events() - named) == [], "neither handled nor ignored"
    assert sorted(named - domain_events()) == [], "not an event of the domain"
    assert sorted(projection.handles.keys() & projection.ignores) == [], "handled and ignored"


@pytest.mark.database
async def test_the_events_the_ledger_stores_are_the_domain_events_found(
        ledger: Ledger, database_url: str) -> None:
    """The names read from the aggregates are those of the stored events the projections read."""
    import_history(ledger)
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            stored = {(e.record, e.type) for e in await read_events(conn, 0, ledger.position())}
    finally:
        await pool.close()
    assert sorted(stored - domain_events()) == []
    assert len(stored) > len(domain_events()) / 2  # the history holds most kinds of event
