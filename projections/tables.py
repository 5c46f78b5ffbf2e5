"""A projection's table, declared once: its typed columns, key, unique columns and indexes. The
CREATE statements, the rows a batch changes and the copying in of rows that are only ever added
are all drawn from the declaration, so that a column is named in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import asyncpg

from projections.rows import RowSet, append

SqlType = Literal["bigint", "boolean", "bytea", "date", "integer", "jsonb", "text", "text[]", "timestamptz",
                  "uuid"]


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType
    nullable: bool = False

    def definition(self) -> str:
        return f"{self.name} {self.type}" + ("" if self.nullable else " NOT NULL")


@dataclass(frozen=True)
class Index:
    """A secondary index, named `<table>_<name>`. Most are built once a rebuild has loaded the
    rows (building them row by row would be slower); those the projection itself finds its rows
    by are built with the table."""

    name: str
    on: str  # the indexed columns, or an expression
    using: Literal["btree", "gin"] = "btree"
    unique: bool = False
    while_projecting: bool = False

    def create(self, schema: str, table: str) -> str:
        return (f"CREATE {'UNIQUE ' if self.unique else ''}INDEX IF NOT EXISTS {table}_{self.name}"
                f" ON {schema}.{table}{' USING gin' if self.using == 'gin' else ''} ({self.on})")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # the primary key; a table without one is only added to and deleted from
    unique: tuple[str, ...] = ()  # columns whose values together appear once
    indexes: tuple[Index, ...] = ()

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def create(self, schema: str) -> list[str]:
        """The CREATE TABLE statement, and those of the indexes needed while projecting."""
        parts = [column.definition() for column in self.columns]
        if self.key:
            parts.append(f"PRIMARY KEY ({', '.join(self.key)})")
        if self.unique:
            parts.append(f"UNIQUE ({', '.join(self.unique)})")
        return [f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} ({', '.join(parts)})",
                *(index.create(schema, self.name) for index in self.indexes
                  if index.while_projecting)]

    def create_indexes(self, schema: str) -> list[str]:
        """The secondary indexes built once the rows are in."""
        return [index.create(schema, self.name) for index in self.indexes
                if not index.while_projecting]

    def rows(self, schema: str, group: Sequence[str] = ()) -> RowSet:
        """The table's rows that one batch loads, changes and saves (see `RowSet`)."""
        return RowSet(schema, self.name, self.key, self.column_names, group)

    async def append(self, conn: asyncpg.Connection, schema: str,
                     records: list[tuple[Any, ...]]) -> None:
        """Copies in rows that are only ever added, each a tuple in the order of the columns."""
        await append(conn, schema, self.name, self.column_names, records)

    async def upsert(self, conn: asyncpg.Connection, schema: str,
                     records: list[tuple[Any, ...]]) -> None:
        """Writes rows in one statement, each a tuple in the order of the columns; a row whose
        key is stored already replaces it."""
        if not records:
            return
        arrays = ", ".join(f"${n}::{column.type}[]" for n, column in enumerate(self.columns, 1))
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in self.column_names
                            if name not in self.key)
        await conn.execute(
            f"INSERT INTO {schema}.{self.name} ({', '.join(self.column_names)})"
            f" SELECT * FROM unnest({arrays})"
            f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}",
            *(list(values) for values in zip(*records, strict=True)))
