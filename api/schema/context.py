"""What every resolver gets: the read pool, the ledger, who is asking, and per-request loaders
(one set query per kind of record, however many of them an answer names: no N+1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from strawberry.dataloader import DataLoader

from api.auth import Principal, TrustedTokens
from api.availability import DatabaseAvailability
from ledger.application import Ledger
from projections.queries import audit
from projections.queries.pagination import Page, PageRequest
from projections.queries.structure import bodies_by_code
from projections.waiting import ProjectionWatch

AsOf = tuple[date, int | None]
"""A valid date and the position to read as known at (None: everything known)."""


async def _load_bodies(pool: asyncpg.Pool, keys: Sequence[tuple[str, date, int | None]]
                       ) -> list[dict[str, Any] | None]:
    wanted: dict[AsOf, set[str]] = defaultdict(set)
    for code, on, known_at in keys:
        wanted[(on, known_at)].add(code)
    found = {as_of: await bodies_by_code(pool, sorted(codes), *as_of)
             for as_of, codes in wanted.items()}
    return [found[(on, known_at)].get(code) for code, on, known_at in keys]


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
    bodies: DataLoader[tuple[str, date, int | None], dict[str, Any] | None] = field(init=False)
    decision_histories: DataLoader[tuple[str, PageRequest], Page[dict[str, Any]]] = field(
        init=False)

    def __post_init__(self) -> None:
        self.bodies = DataLoader(lambda keys: _load_bodies(self.pool, keys))
        self.decision_histories = DataLoader(lambda keys: _load_histories(self.pool, keys))
