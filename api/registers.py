"""What can be named: the jurisdictions, bodies and competences the read side knows, for
`bevoegd jurisdictions`, `bevoegd bodies` and `bevoegd competences`. Each register is a list of
rows with the same columns, printed as a table or as JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from projections.queries import competences, structure
from projections.queries.audit import ledger_head, projected_position
from projections.queries.pagination import MAX_PAGE, Page, PageRequest
from projections.runner import all_projections

Row = dict[str, Any]


@dataclass(frozen=True)
class Register:
    """A register's rows, and how far the read side they come from lags behind the ledger."""

    columns: tuple[str, ...]
    rows: list[Row]
    projected: int
    head: int


async def _every(read: Callable[[PageRequest], Awaitable[Page[Row]]]) -> list[Row]:
    rows: list[Row] = []
    after: str | None = None
    while True:
        page = await read(PageRequest(MAX_PAGE, after))
        rows += page.items
        if not page.has_next_page:
            return rows
        after = page.end_cursor


async def _register(conn: asyncpg.Connection, columns: tuple[str, ...], rows: list[Row]
                    ) -> Register:
    projected = await projected_position(conn, [p.name for p in all_projections()])
    return Register(columns, [{column: row[column] for column in columns} for row in rows],
                    projected, await ledger_head(conn))


async def jurisdictions(conn: asyncpg.Connection, kind: str | None) -> Register:
    found = await _every(lambda page: structure.jurisdictions(conn, page, kind))
    return await _register(conn, ("code", "kind", "name"), found)


async def bodies(conn: asyncpg.Connection, jurisdiction: str | None, on: date) -> Register:
    listed = await _every(lambda page: structure.bodies(conn, page, jurisdiction))
    by_code = await structure.bodies_by_code(conn, [row["code"] for row in listed], on)
    return await _register(conn, ("code", "kind", "jurisdiction", "name", "active"),
                           [by_code[row["code"]] for row in listed])


async def competences_of(conn: asyncpg.Connection, kind: competences.CompetenceKind | None
                         ) -> Register:
    found = await _every(lambda page: competences.competences(conn, page, kind))
    return await _register(conn, ("code", "kinds", "title"), found)


def as_table(register: Register) -> str:
    """The rows as a plain table: a header, then one line a row, columns padded."""
    cells = [list(register.columns)] + [[_cell(row[c]) for c in register.columns]
                                        for row in register.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(register.columns))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
                     .rstrip() for line in cells)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
